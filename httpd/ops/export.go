package ops

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/linkd/linkd/store"
)

// Exports stream a principal's links (admins: every link) and their
// analytics from one store snapshot into a writer, one record at a time:
// memory stays flat however many links there are, and the export is one
// consistent state while writes continue. The front end checks the query
// first (ParseLinkExport, ParseAnalyticsExport), because once the stream
// has started its status can no longer change; a failure mid-stream ends
// the stream early (an incomplete CSV or JSON-lines file, not a wrong one).

// Export formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json" // JSON lines: one link view per line
)

// LinkExportColumns is the header row of a CSV link export: every field
// of the link view, in this order. Tags are joined with ",", times are
// RFC 3339 (UTC), expiresAt and startsAt are empty when unset.
// importedClicks and importedFrom are the click total an import brought
// from another shortener (empty when none): apart from clicks, linkd's own.
// The link options follow (linkOptionColumns); rules and variants are
// JSON, empty when there are none.
var LinkExportColumns = append([]string{"code", "shortUrl", "url", "title", "tags", "createdAt", "updatedAt",
	"expiresAt", "redirectStatus", "status", "custom", "clicks", "importedClicks", "importedFrom", "domain"}, linkOptionColumns...)

// linkOptionColumns are the CSV columns of LinkOptionsView, in its order.
var linkOptionColumns = []string{"passwordProtected", "startsAt", "fallbackUrl", "maxVisits", "exhausted", "visits",
	"forwardQuery", "forwardPath", "queryPrecedence", "rules", "variants"}

// LinkExport is a checked link export request.
type LinkExport struct {
	Format string
	Q, Tag string // the same filters as the link list
	Domain string // only the links on this domain; "" for all
}

// ParseLinkExport checks ?format=&q=&tag= (format defaults to csv).
func ParseLinkExport(get func(string) string) (LinkExport, error) {
	e := LinkExport{Format: get("format"), Q: strings.TrimSpace(get("q")), Tag: strings.TrimSpace(get("tag")),
		Domain: strings.TrimSpace(get("domain"))}
	switch e.Format {
	case "":
		e.Format = FormatCSV
	case FormatCSV, FormatJSON:
	default:
		return e, Fail(KindValidation, "Unknown export format.", FieldError{Field: "format", Message: `must be "csv" or "json"`})
	}
	return e, nil
}

// ExportLinks writes the principal's live links (deleted ones are not
// links any more) newest first.
func (o *Ops) ExportLinks(p Principal, e LinkExport, w io.Writer) error {
	sn := o.st.Snapshot()
	defer sn.Close()
	now := time.Now().UnixMilli()
	match := o.domainFilter(e.Domain, linkFilter(e.Q, e.Tag))
	var write func(Link) error
	var flush func() error
	if e.Format == FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		write = func(v Link) error { return enc.Encode(v) }
		flush = func() error { return nil }
	} else {
		cw := csv.NewWriter(w)
		if err := cw.Write(LinkExportColumns); err != nil {
			return err
		}
		row := make([]string, len(LinkExportColumns))
		write = func(v Link) error { return cw.Write(linkRow(row, v)) }
		flush = func() error { cw.Flush(); return cw.Error() }
	}
	err := sn.EachLink(p.Owner(), p.IsAdmin(), func(l *store.Link) error {
		if l.Status == store.StatusDeleted || (match != nil && !match(l)) {
			return nil
		}
		v := o.LinkView(l, now)
		v.Clicks, _ = sn.Clicks(l.Code)
		return write(v)
	})
	if err != nil {
		return err
	}
	return flush()
}

// linkRow fills row (reused between rows) with v in LinkExportColumns order.
func linkRow(row []string, v Link) []string {
	exp := ""
	if v.ExpiresAt != nil {
		exp = *v.ExpiresAt
	}
	imported, from := "", ""
	if v.ImportedClicks != nil {
		imported, from = strconv.FormatUint(v.ImportedClicks.Clicks, 10), v.ImportedClicks.Source
	}
	o := v.LinkOptionsView
	starts := ""
	if o.StartsAt != nil {
		starts = *o.StartsAt
	}
	copy(row, []string{v.Code, v.ShortURL, v.URL, v.Title, strings.Join(v.Tags, ","), v.CreatedAt, v.UpdatedAt,
		exp, strconv.Itoa(v.RedirectStatus), v.Status, strconv.FormatBool(v.Custom), strconv.FormatUint(v.Clicks, 10),
		imported, from, v.Domain,
		strconv.FormatBool(o.PasswordProtected), starts, o.FallbackURL, strconv.FormatUint(o.MaxVisits, 10),
		strconv.FormatBool(o.Exhausted), strconv.FormatUint(o.Visits, 10), strconv.FormatBool(o.ForwardQuery),
		strconv.FormatBool(o.ForwardPath), o.QueryPrecedence, jsonList(o.Rules), jsonList(o.Variants)})
	return row
}

// jsonList is a list as JSON, or "" when it is empty.
func jsonList[T any](l []T) string {
	if len(l) == 0 {
		return ""
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// AnalyticsExportColumns is the header row of an analytics export: one
// row per link, day and measure. dimension is humans, bots, previews or
// scans (value empty: that day's counts) or referrer, country, device,
// browser or os (value: the referrer host, country code, ...).
var AnalyticsExportColumns = []string{"code", "date", "dimension", "value", "clicks"}

// dimNames names the stored dimensions in exports.
var dimNames = map[uint8]string{store.DimReferrer: "referrer", store.DimCountry: "country",
	store.DimDevice: "device", store.DimBrowser: "browser", store.DimOS: "os"}

// AnalyticsExport is a checked analytics export request: UTC days
// [FromDay, ToDay), one link (Code) or all the principal's.
type AnalyticsExport struct {
	Code           string
	FromDay, ToDay int64
}

// ParseAnalyticsExport checks ?from=&to=&code= (dates YYYY-MM-DD or RFC
// 3339; from defaults to the first day, to to today, both inclusive).
func ParseAnalyticsExport(get func(string) string, now time.Time) (AnalyticsExport, error) {
	e := AnalyticsExport{Code: get("code"), ToDay: now.UnixMilli()/store.DayMs + 1}
	var errs Fields
	day := func(name string, dst *int64, add int64) {
		v := get(name)
		if v == "" {
			return
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			t, err = time.Parse(time.RFC3339, v)
		}
		if err != nil {
			errs.Add(name, errors.New("must be a date (YYYY-MM-DD) or an RFC 3339 time"))
			return
		}
		*dst = t.UnixMilli()/store.DayMs + add
	}
	day("from", &e.FromDay, 0)
	day("to", &e.ToDay, 1)
	if e.Code != "" && !ValidCode([]byte(e.Code)) {
		errs.Add("code", errors.New("is not a link code"))
	}
	if errs == nil && e.FromDay >= e.ToDay {
		errs.Add("from", errors.New("must not be after to"))
	}
	if errs != nil {
		return e, Fail(KindValidation, "Invalid export query.", errs...)
	}
	return e, nil
}

// CheckAnalyticsExport answers an export of one link the principal may
// not see as that link's lookup does (404), before the stream starts.
func (o *Ops) CheckAnalyticsExport(p Principal, e AnalyticsExport) error {
	if e.Code == "" {
		return nil
	}
	_, err := o.VisibleLink(p, e.Code)
	return err
}

// ExportAnalytics writes the daily counts and dimensions of one link, or
// of every link the principal may see, as CSV.
func (o *Ops) ExportAnalytics(p Principal, e AnalyticsExport, w io.Writer) error {
	sn := o.st.Snapshot()
	defer sn.Close()
	cw := csv.NewWriter(w)
	if err := cw.Write(AnalyticsExportColumns); err != nil {
		return err
	}
	row := make([]string, len(AnalyticsExportColumns))
	emit := func(code string, day int64, dim, value string, n uint64) error {
		if n == 0 {
			return nil
		}
		copy(row, []string{code, time.UnixMilli(day * store.DayMs).UTC().Format(time.DateOnly), dim, value, strconv.FormatUint(n, 10)})
		return cw.Write(row)
	}
	one := func(code string) error {
		err := sn.EachDay(code, e.FromDay, e.ToDay, func(day int64, c store.DayCounts) error {
			return errors.Join(emit(code, day, "humans", "", c.Humans), emit(code, day, "bots", "", c.Bots),
				emit(code, day, "previews", "", c.Previews), emit(code, day, "scans", "", c.Scans))
		})
		if err != nil {
			return err
		}
		return sn.EachDim(code, e.FromDay, e.ToDay, func(day int64, dim uint8, value string, n uint64) error {
			name, ok := dimNames[dim]
			if !ok {
				name = "dim" + strconv.Itoa(int(dim))
			}
			return emit(code, day, name, value, n)
		})
	}
	var err error
	if e.Code != "" {
		err = one(e.Code)
	} else {
		err = sn.EachLink(p.Owner(), p.IsAdmin(), func(l *store.Link) error {
			if l.Status == store.StatusDeleted {
				return nil
			}
			return one(l.Code)
		})
	}
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
