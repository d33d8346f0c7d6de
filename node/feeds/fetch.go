package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/linkd/linkd/store"
)

// Limits bound what one fetch may cost the leader.
type Limits struct {
	// MaxBytes bounds a feed's body; a longer body fails the fetch.
	MaxBytes int64
	// MaxEntries bounds a feed's distinct entries; more fail the fetch.
	MaxEntries int
	// Timeout bounds one fetch, from dialling to the end of the body.
	Timeout time.Duration
	// AllowPrivate lets feeds be fetched from loopback, private, link-local
	// and other non-public addresses (tests, feeds on an internal network).
	AllowPrivate bool
}

// Default limits: a full URLhaus dump of recent URLs is a few MB and tens
// of thousands of lines.
const (
	DefaultMaxBytes   = 32 << 20
	DefaultMaxEntries = 200_000
	DefaultTimeout    = 60 * time.Second
	maxRedirects      = 3
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	return l
}

// errPrivate is a dial refused because its address is not public.
var errPrivate = errors.New("refusing a non-public address (start with --feed-allow-private to allow)")

// fetcher fetches and parses feeds within its limits.
type fetcher struct {
	lim    Limits
	client *http.Client
}

func newFetcher(l Limits) *fetcher {
	l = l.withDefaults()
	d := &net.Dialer{Timeout: l.Timeout}
	if !l.AllowPrivate {
		// Checked on the address actually dialled, after DNS, so a name
		// that resolves to (or rebinds to) a private address is refused
		// too, and so is every redirect target.
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !public(ap.Addr()) {
				return errPrivate
			}
			return nil
		}
	}
	tr := &http.Transport{DialContext: d.DialContext, Proxy: nil, TLSHandshakeTimeout: l.Timeout,
		ResponseHeaderTimeout: l.Timeout, MaxIdleConns: 4, IdleConnTimeout: time.Minute}
	return &fetcher{lim: l, client: &http.Client{Transport: tr, Timeout: l.Timeout,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			return nil
		}}}
}

// public reports whether a is a globally routable unicast address.
func public(a netip.Addr) bool {
	a = a.Unmap()
	cgnat := netip.MustParsePrefix("100.64.0.0/10")
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}

// fetch gets url and parses its body as format f.
func (fe *fetcher) fetch(ctx context.Context, url string, f store.FeedFormat) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, fe.lim.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "linkd-feed-fetcher")
	resp, err := fe.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > fe.lim.MaxBytes {
		return nil, fmt.Errorf("the body is longer than %d bytes", fe.lim.MaxBytes)
	}
	body := &capped{r: resp.Body, left: fe.lim.MaxBytes}
	entries, err := Parse(f, body, fe.lim.MaxEntries)
	if body.over {
		return nil, fmt.Errorf("the body is longer than %d bytes", fe.lim.MaxBytes)
	}
	return entries, err
}

// capped reads at most left bytes and then fails.
type capped struct {
	r    io.Reader
	left int64
	over bool
}

var errTooLong = errors.New("body too long")

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more would be past the limit: look for it.
		var b [1]byte
		if n, _ := io.ReadFull(c.r, b[:]); n > 0 {
			c.over = true
			return 0, errTooLong
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
