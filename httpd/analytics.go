package httpd

import (
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/store"
)

// Analytics query limits.
const (
	defaultAnalyticsRange = 30 * 24 * time.Hour
	maxSeriesPoints       = 10000
)

type pointJSON struct {
	T      string `json:"t"`
	Clicks uint64 `json:"clicks"`
}

// analyticsJSON is a link's report. total counts clicks (humans + bots);
// previews (unfurlers, HEAD) are not clicks; scans are the clicks that came
// from a QR code; counts cover the UTC days overlapping [from, to).
type analyticsJSON struct {
	Code           string           `json:"code"`
	From           string           `json:"from"`
	To             string           `json:"to"`
	Interval       string           `json:"interval"`
	TZ             string           `json:"tz"`
	Total          uint64           `json:"total"`
	Humans         uint64           `json:"humans"`
	Bots           uint64           `json:"bots"`
	Previews       uint64           `json:"previews"`
	Scans          uint64           `json:"scans"`
	UniqueVisitors uint64           `json:"uniqueVisitors"`
	Series         []pointJSON      `json:"series"`
	Referrers      []store.KeyCount `json:"referrers"`
	Countries      []store.KeyCount `json:"countries"`
	Devices        []store.KeyCount `json:"devices"`
	Browsers       []store.KeyCount `json:"browsers"`
	OS             []store.KeyCount `json:"os"`
}

var intervals = map[string]struct {
	iv   store.Interval
	unit time.Duration
}{
	"minute": {store.ByMinute, time.Minute},
	"hour":   {store.ByHour, time.Hour},
	"day":    {store.ByDay, 24 * time.Hour},
}

// analyticsQuery is a parsed ?from=&to=&interval=&tz=.
type analyticsQuery struct {
	from, to time.Time
	interval string
	loc      *time.Location
}

func parseAnalyticsQuery(args *fasthttp.Args, now time.Time) (analyticsQuery, fields) {
	q := analyticsQuery{to: now, interval: "day", loc: time.UTC}
	var errs fields
	parseTime := func(name string, dst *time.Time) {
		if v := args.Peek(name); len(v) > 0 {
			t, err := time.Parse(time.RFC3339, string(v))
			if err != nil {
				errs.add(name, errors.New("must be an RFC 3339 timestamp"))
			}
			*dst = t
		}
	}
	parseTime("to", &q.to)
	q.from = q.to.Add(-defaultAnalyticsRange)
	parseTime("from", &q.from)
	if v := string(args.Peek("interval")); v != "" {
		q.interval = v
	}
	if v := string(args.Peek("tz")); v != "" {
		loc, err := time.LoadLocation(v)
		if err != nil {
			errs.add("tz", errors.New("must be an IANA time zone such as Europe/Berlin"))
		} else {
			q.loc = loc
		}
	}
	iv, ok := intervals[q.interval]
	switch {
	case !ok:
		errs.add("interval", errors.New(`must be "minute", "hour" or "day"`))
	case !q.from.Before(q.to):
		errs.add("from", errors.New("must be before to"))
	case q.to.Sub(q.from)/iv.unit > maxSeriesPoints:
		errs.add("interval", fmt.Errorf("gives more than %d points for this range; use a coarser interval", maxSeriesPoints))
	}
	return q, errs
}

// linkAnalytics serves GET /api/v1/links/{code}/analytics.
func (s *Server) linkAnalytics(ctx *fasthttp.RequestCtx, p principal, code string) {
	q, errs := parseAnalyticsQuery(ctx.QueryArgs(), time.Now())
	if errs != nil {
		writeProblem(ctx, probValidation, "Invalid analytics query.", errs...)
		return
	}
	if !s.consistent(ctx) {
		return
	}
	if _, ok := s.visibleLink(ctx, p, code); !ok {
		return
	}
	out, err := s.report(code, q)
	if err != nil {
		s.log.Error("reading analytics", "code", code, "err", err)
		writeProblem(ctx, probInternal, "Reading analytics failed.")
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// report reads a link's analytics for a validated query (API and console).
func (s *Server) report(code string, q analyticsQuery) (analyticsJSON, error) {
	iv := intervals[q.interval]
	from, to := q.from.UnixMilli(), q.to.UnixMilli()
	src := iv.iv
	if src == store.ByDay && q.loc != time.UTC {
		src = store.ByHour // local days are built from hours
	}
	a, err := s.st.LinkAnalytics(code, from, to, src)
	if err != nil {
		return analyticsJSON{}, err
	}
	return analyticsJSON{
		Code: code, From: q.from.UTC().Format(time.RFC3339), To: q.to.UTC().Format(time.RFC3339),
		Interval: q.interval, TZ: q.loc.String(),
		Total: a.Humans + a.Bots, Humans: a.Humans, Bots: a.Bots, Previews: a.Previews, Scans: a.Scans,
		UniqueVisitors: a.Visitors, Series: series(a.Series, q, iv.unit),
		Referrers: nonNil(a.Dims[store.DimReferrer]), Countries: nonNil(a.Dims[store.DimCountry]),
		Devices: nonNil(a.Dims[store.DimDevice]), Browsers: nonNil(a.Dims[store.DimBrowser]), OS: nonNil(a.Dims[store.DimOS]),
	}, nil
}

// series zero-fills buckets of unit over [from, to) in q.loc (days start
// at local midnight) and adds the stored points into them.
func series(points []store.Point, q analyticsQuery, unit time.Duration) []pointJSON {
	start := q.from.In(q.loc).Truncate(unit)
	if unit == 24*time.Hour {
		y, m, d := q.from.In(q.loc).Date()
		start = time.Date(y, m, d, 0, 0, 0, 0, q.loc)
	}
	var out []pointJSON
	idx := map[int64]int{}
	for t := start; t.Before(q.to); t = next(t, unit) {
		idx[t.UnixMilli()] = len(out)
		out = append(out, pointJSON{T: t.Format(time.RFC3339)})
	}
	for _, p := range points {
		t := time.UnixMilli(p.T).In(q.loc)
		if unit == 24*time.Hour {
			y, m, d := t.Date()
			t = time.Date(y, m, d, 0, 0, 0, 0, q.loc)
		} else {
			t = t.Truncate(unit)
		}
		if i, ok := idx[t.UnixMilli()]; ok {
			out[i].Clicks += p.Clicks
		}
	}
	if out == nil {
		out = []pointJSON{}
	}
	return out
}

// next steps one bucket; days step by calendar day (23 or 25 hours across
// daylight-saving changes).
func next(t time.Time, unit time.Duration) time.Time {
	if unit == 24*time.Hour {
		return t.AddDate(0, 0, 1)
	}
	return t.Add(unit)
}

func nonNil(kc []store.KeyCount) []store.KeyCount {
	if kc == nil {
		return []store.KeyCount{}
	}
	return kc
}

// orphans serves GET /api/v1/analytics/orphans (admins): requests for
// unknown codes per host, which is where scanners show up.
func (s *Server) orphans(ctx *fasthttp.RequestCtx) {
	q, errs := parseAnalyticsQuery(ctx.QueryArgs(), time.Now())
	if errs != nil {
		writeProblem(ctx, probValidation, "Invalid query.", errs...)
		return
	}
	total, hosts, err := s.st.Orphans(q.from.UnixMilli()/store.DayMs, q.to.UnixMilli()/store.DayMs+1)
	if err != nil {
		writeProblem(ctx, probInternal, "Reading orphan visits failed.")
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"total": total, "hosts": nonNil(hosts)})
}
