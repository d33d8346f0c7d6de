package ops

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/linkd/linkd/httpd/cdnlog"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// CDN log ingest (issue 16): redirects a CDN answered from its cache never
// reach linkd, so the CDN's access log brings them. Only those count: a
// request the CDN passed to the origin was counted by the origin.

// ClickFolder starts batches of events that fold into one Clicks command
// (clicks.Compactor).
type ClickFolder interface {
	NewBatch() *clicks.Batch
}

// Ingest limits.
const (
	// MaxBatchIDLen bounds a batch id: each applied batch leaves one
	// record (its source, "cdn:<id>", and a segment number) in the
	// replicated store for good, which is what makes a re-sent batch
	// count nothing.
	MaxBatchIDLen = 64
	// IngestMaxAge and IngestMaxAhead bound a line's time: older lines
	// (or from further in the future) are rejected.
	IngestMaxAge   = 7 * 24 * time.Hour
	IngestMaxAhead = time.Hour
)

// IngestResult is what one batch did. Accepted lines were counted (or,
// as Duplicates, were counted when the same batch id was first sent);
// Rejected lines are not records of the format or carry an unusable time;
// Skipped lines are records that do not count (not a redirect served
// from the cache, an unknown host or code).
type IngestResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates,omitempty"`
	Rejected   int `json:"rejected"`
	Skipped    int `json:"skipped"`
}

// IngestCDNLog counts the cached redirects in a CDN log batch as clicks,
// through the same fold and replicated command as the node's own click
// log, under the source "cdn:<batchID>", applied at most once.
func (o *Ops) IngestCDNLog(format, batchID string, body []byte, now time.Time) (*IngestResult, error) {
	var f Fields
	if format != cdnlog.Cloudflare && format != cdnlog.Fastly {
		f.Add("format", errors.New("must be cloudflare or fastly"))
	}
	f.Add("batchId", validBatchID(batchID))
	if err := Invalid("The batch cannot be ingested.", f); err != nil {
		return nil, err
	}
	if o.folder == nil {
		return nil, Fail(KindUnavailable, "Analytics are off on this node; nothing can be ingested.")
	}
	var res IngestResult
	batch := o.folder.NewBatch()
	known := map[string]bool{}
	var lookupErr error
	err := cdnlog.Read(format, body, func(l cdnlog.Line, ok bool) {
		if !ok || l.Time.Before(now.Add(-IngestMaxAge)) || l.Time.After(now.Add(IngestMaxAhead)) {
			res.Rejected++
			return
		}
		key, kind, counts := o.cachedRedirect(&l)
		if counts {
			k, seen := known[key]
			if !seen {
				_, err := o.st.Link(key)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					lookupErr = err
				}
				k = err == nil
				known[key] = k
			}
			counts = k
		}
		if !counts {
			res.Skipped++
			return
		}
		var e clicks.Event
		e.TimeMs, e.Kind = l.Time.UnixMilli(), kind
		e.SetCode([]byte(key))
		e.SetUserAgent([]byte(l.UserAgent))
		e.SetReferer([]byte(l.Referer))
		if a, err := netip.ParseAddr(l.IP); err == nil {
			e.IP = a.As16()
		}
		batch.Add(&e)
		res.Accepted++
	})
	switch {
	case errors.Is(err, cdnlog.ErrLineTooLong):
		return nil, Fail(KindBadRequest, fmt.Sprintf("A line is longer than %d bytes: the body is not a %s log.", cdnlog.MaxLineBytes, format))
	case err != nil:
		return nil, err
	case lookupErr != nil:
		return nil, lookupErr
	case res.Accepted+res.Skipped == 0:
		return nil, Fail(KindBadRequest, "No line of the body is a "+format+" log record; nothing was counted.")
	case batch.Len() == 0:
		return &res, nil
	}
	cmd, err := batch.Command("cdn:" + batchID)
	if err != nil {
		return nil, err
	}
	r, err := o.propose(cmd)
	if err != nil {
		return nil, err
	}
	if r.Replayed {
		res.Duplicates, res.Accepted = res.Accepted, 0
	}
	return &res, nil
}

// validBatchID allows 1 to MaxBatchIDLen of A-Z a-z 0-9 . _ - (a Logpush
// or Fastly object name, without its path).
func validBatchID(id string) error {
	if id == "" || len(id) > MaxBatchIDLen {
		return fmt.Errorf("must be 1 to %d characters", MaxBatchIDLen)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errors.New("may contain only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

// cachedRedirect reports whether l is a redirect the CDN served from its
// cache on a host whose links linkd serves, and the link key and click
// kind it counts as (the code is checked by the caller).
func (o *Ops) cachedRedirect(l *cdnlog.Line) (key string, kind uint8, ok bool) {
	if !l.Hit || l.Method != "GET" && l.Method != "HEAD" || l.Status < 301 || l.Status > 308 || l.Status == 304 {
		return "", 0, false
	}
	path, query, _ := strings.Cut(l.URI, "?")
	code, found := strings.CutPrefix(path, "/")
	if !found || code == "" || strings.ContainsAny(code, "/+") || strings.HasPrefix(code, "@") || strings.HasPrefix(code, "_") {
		return "", 0, false
	}
	host := strings.ToLower(strings.TrimSuffix(stripPort(l.Host), "."))
	switch d, isDomain := o.st.DomainFor(host); {
	case isDomain && d.Kind.Links():
		key = store.DomainCode(host, code)
	case isDomain:
		return "", 0, false
	case host == o.defaultHost || o.st.Domains().Len() == 0:
		key = code
	default:
		return "", 0, false
	}
	kind = clicks.KindClick
	if l.Method == "HEAD" {
		kind = clicks.KindPreview
	} else if q := "&" + query + "&"; strings.Contains(q, "&qr&") || strings.Contains(q, "&qr=") {
		kind = clicks.KindScan
	}
	return key, kind, true
}
