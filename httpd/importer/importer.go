// Package importer reads links exported from other shorteners (Bitly,
// YOURLS, Shlink, Kutt), from a generic CSV with a header row, and from
// linkd's own exports, into one Row shape. It only parses: what a row
// becomes (created, unchanged, renamed, skipped) is decided by httpd/ops.
// It reads one record at a time, so a large file costs little memory.
package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Row is one link read from a source. Zero values mean "not in the
// source". Clicks is the source's own click total, which linkd keeps as a
// historical figure apart from its analytics.
type Row struct {
	N         int    // record number in the source, from 1 (the report names rows by it)
	Code      string // the short code or alias (last path segment of a short URL)
	URL       string
	Title     string
	Tags      []string
	CreatedAt time.Time
	ExpiresAt time.Time
	Clicks    *uint64
	// Imported is, in linkd's own export, the clicks the link had brought
	// in by an earlier import: part of its history at the source.
	Imported *uint64
	// RedirectStatus is linkd's own field (301, 302, 307, 308); 0: the default.
	RedirectStatus int
	Custom         *bool // linkd's own exports say whether the code was chosen
	// Options are linkd's own link options (its exports' columns and
	// keys: startsAt, fallbackUrl, maxVisits, ...) as the JSON values of
	// the API's link options.
	Options map[string]json.RawMessage
	// Domain is the host the link is on at the source (linkd's export,
	// Shlink's multi-domain exports); "" when the source does not say.
	Domain string
	// Protected means a password guards the link at the source (linkd's
	// passwordProtected, Kutt's password): no export carries the password.
	Protected bool
	Err       error // the record could not be read; the other fields may be partial
}

// SourceClicks is the row's click total at its source: its clicks, plus,
// from linkd's own export, the clicks that link had itself imported. Nil
// when the source gives neither.
func (r Row) SourceClicks() *uint64 {
	if r.Clicks == nil && r.Imported == nil {
		return nil
	}
	var n uint64
	for _, c := range []*uint64{r.Clicks, r.Imported} {
		if c != nil {
			n += *c
		}
	}
	return &n
}

// LinkdJSON is the row as a line of linkd's JSON-lines export, which
// Read("linkd") reads back as the same row (linkd import sends rows so):
// its clicks are SourceClicks, the whole history at the source.
func (r Row) LinkdJSON() map[string]any {
	m := map[string]any{"url": r.URL}
	for k, v := range r.Options {
		m[k] = v
	}
	for k, v := range map[string]string{"code": r.Code, "title": r.Title, "domain": r.Domain} {
		if v != "" {
			m[k] = v
		}
	}
	if len(r.Tags) > 0 {
		m["tags"] = r.Tags
	}
	if !r.CreatedAt.IsZero() {
		m["createdAt"] = r.CreatedAt.Format(time.RFC3339Nano)
	}
	if !r.ExpiresAt.IsZero() {
		m["expiresAt"] = r.ExpiresAt.Format(time.RFC3339Nano)
	}
	if r.RedirectStatus != 0 {
		m["redirectStatus"] = r.RedirectStatus
	}
	if r.Custom != nil {
		m["custom"] = *r.Custom
	}
	if c := r.SourceClicks(); c != nil {
		m["clicks"] = *c
	}
	if r.Protected {
		m["passwordProtected"] = true
	}
	return m
}

// Sources are the accepted --from values.
var Sources = []string{"bitly", "yourls", "shlink", "kutt", "csv", "linkd"}

// ErrSource means an unknown source name.
var ErrSource = errors.New("importer: unknown source; use bitly, yourls, shlink, kutt, csv or linkd")

// Read parses r as source and calls fn with every row, in order. mapping
// renames columns of a CSV (linkd field -> the file's header), for
// generic files whose headers are not recognised. A file-level failure
// (not the format said, unreadable) is returned; a bad record is a Row
// with Err.
func Read(source string, r io.Reader, mapping map[string]string, fn func(Row) error) error {
	switch source {
	case "bitly", "shlink", "csv":
		return readCSV(r, mapping, fn)
	case "yourls":
		return readYOURLS(r, mapping, fn)
	case "kutt", "linkd", "shlink-api":
		return readJSON(r, fn)
	}
	return ErrSource
}

// field names a Row field; headers of every source map onto these.
type field int

const (
	fNone field = iota
	fCode
	fShort // a short URL: its last path segment is the code
	fURL
	fTitle
	fTags
	fCreated
	fExpires
	fClicks
	fRedirect
	fCustom
	fImported  // linkd's export: clicks the link had brought in by an earlier import
	fProtected // a password guards the link at the source
	fDomain
	fOption // linkOptions[f-fOption]
)

// linkOptions are the link options of linkd's exports, by their API
// names; text ones are JSON strings, the others JSON as written (numbers,
// booleans, and the rules and variants lists).
var linkOptions = []struct {
	name string
	text bool
}{{"startsAt", true}, {"fallbackUrl", true}, {"maxVisits", false}, {"forwardQuery", false}, {"forwardPath", false},
	{"queryPrecedence", true}, {"rules", false}, {"variants", false}}

func init() {
	for i, o := range linkOptions {
		headers[normalise(o.name)] = fOption + field(i)
	}
}

// headers maps normalised header names (lower case, without spaces, '_'
// and '-') of every supported source to fields: Bitly (link, long_url,
// custom_bitlinks, title, tags, created_at, total_clicks), YOURLS
// (keyword, url, title, timestamp, clicks), Shlink (shortCode, shortUrl,
// longUrl, title, tags, dateCreated, validUntil, visitsCount / "Visits
// count"), Kutt (address, target, description, created_at, expire_in,
// visit_count) and linkd (code, shortUrl, url, title, tags, createdAt,
// expiresAt, clicks).
var headers = map[string]field{
	"code": fCode, "alias": fCode, "keyword": fCode, "shortcode": fCode, "address": fCode, "custombitlinks": fCode, "slug": fCode,
	"link": fShort, "bitlink": fShort, "shorturl": fShort, "shortlink": fShort,
	"url": fURL, "longurl": fURL, "target": fURL, "destination": fURL, "originalurl": fURL,
	"title": fTitle, "description": fTitle, "name": fTitle,
	"tags": fTags, "tag": fTags,
	"createdat": fCreated, "created": fCreated, "timestamp": fCreated, "datecreated": fCreated, "date": fCreated,
	"expiresat": fExpires, "expirein": fExpires, "validuntil": fExpires, "expires": fExpires,
	"redirectstatus": fRedirect, "custom": fCustom, "importedclicks": fImported, "importedclicksclicks": fImported,
	"visitssummarytotal": fClicks, "metavaliduntil": fExpires,
	"clicks": fClicks, "totalclicks": fClicks, "visits": fClicks, "visitscount": fClicks, "visitcount": fClicks, "userclicks": fClicks,
	"passwordprotected": fProtected, "password": fProtected, "domain": fDomain,
}

// linkdFields are the names a --map may use.
var linkdFields = map[string]field{"code": fCode, "shortUrl": fShort, "url": fURL, "title": fTitle, "tags": fTags,
	"createdAt": fCreated, "expiresAt": fExpires, "clicks": fClicks, "redirectStatus": fRedirect}

func normalise(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	return strings.NewReplacer(" ", "", "_", "", "-", "").Replace(h)
}

// columns maps header cells to fields: an explicit mapping first, then
// the known names. The first column of a field wins.
func columns(header []string, mapping map[string]string) ([]field, error) {
	out := make([]field, len(header))
	seen := map[field]bool{}
	byHeader := map[string]field{}
	for name, col := range mapping {
		f, ok := linkdFields[name]
		if !ok {
			return nil, fmt.Errorf("importer: --map %s=...: not a linkd field (code, shortUrl, url, title, tags, createdAt, expiresAt, clicks)", name)
		}
		byHeader[normalise(col)] = f
	}
	for i, h := range header {
		f, ok := byHeader[normalise(h)]
		if !ok {
			f = headers[normalise(h)]
		}
		if f != fNone && !seen[f] {
			out[i], seen[f] = f, true
		}
	}
	if !seen[fURL] {
		return nil, fmt.Errorf("importer: no destination URL column in the header %q (map one with --map url=COLUMN)", header)
	}
	return out, nil
}

// set stores one cell into row.
func set(row *Row, f field, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	var err error
	switch f {
	case fCode:
		if row.Code == "" {
			row.Code = strings.TrimSpace(strings.Split(v, ",")[0]) // Bitly lists custom back-halves
			row.Code = lastSegment(row.Code)
		}
	case fShort:
		if row.Code == "" {
			row.Code = lastSegment(v)
		}
	case fURL:
		row.URL = v
	case fTitle:
		row.Title = v
	case fTags:
		row.Tags = splitTags(v)
	case fCreated:
		row.CreatedAt, err = parseTime(v)
	case fExpires:
		row.ExpiresAt, err = parseTime(v)
	case fCustom:
		var b bool
		b, err = strconv.ParseBool(v)
		row.Custom = &b
	case fRedirect:
		row.RedirectStatus, err = strconv.Atoi(v)
	case fDomain:
		row.Domain = v
	case fProtected: // never an error: the value may be a password itself, kept out of reports
		row.Protected = v != "false" && v != "0"
	case fClicks, fImported:
		var n uint64
		n, err = strconv.ParseUint(v, 10, 64)
		if f == fClicks {
			row.Clicks = &n
		} else {
			row.Imported = &n
		}
	default:
		if f >= fOption {
			o := linkOptions[f-fOption]
			if row.Options == nil {
				row.Options = map[string]json.RawMessage{}
			}
			if row.Options[o.name] = json.RawMessage(v); o.text {
				row.Options[o.name], _ = json.Marshal(v)
			}
		}
	}
	if err != nil && row.Err == nil {
		row.Err = fmt.Errorf("%q: %w", v, err)
	}
}

// lastSegment is the code of a short URL ("https://bit.ly/abc" -> "abc"),
// or v itself when it is no URL.
func lastSegment(v string) string {
	if !strings.Contains(v, "/") {
		return v
	}
	if u, err := url.Parse(v); err == nil && u.Path != "" {
		v = u.Path
	}
	v = strings.TrimRight(v, "/")
	return v[strings.LastIndex(v, "/")+1:]
}

// splitTags reads "a,b", "a|b", "a b" and JSON-ish "[a, b]".
func splitTags(v string) []string {
	v = strings.Trim(v, "[]")
	var out []string
	for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '|' || r == ';' || r == ' ' }) {
		if t = strings.Trim(t, `"' `); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// timeLayouts are the time formats the sources write; times without a
// zone are UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02 15:04:05", "2006-01-02T15:04:05",
	"2006-01-02 15:04", "2006-01-02"}

func parseTime(v string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		if n > 1e11 { // milliseconds
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, errors.New("not a time this importer reads")
}
