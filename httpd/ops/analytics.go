package ops

import (
	"errors"
	"fmt"
	"time"

	"github.com/linkd/linkd/store"
)

// Analytics query limits.
const (
	defaultAnalyticsRange = 30 * 24 * time.Hour
	maxSeriesPoints       = 10000
)

type Point struct {
	T      string `json:"t"`
	Clicks uint64 `json:"clicks"`
}

// Report is a link's report. total counts clicks (humans + bots);
// previews (unfurlers, HEAD) are not clicks; scans are the clicks that came
// from a QR code; counts cover the UTC days overlapping [from, to).
type Report struct {
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
	Series         []Point          `json:"series"`
	Referrers      []store.KeyCount `json:"referrers"`
	Countries      []store.KeyCount `json:"countries"`
	Devices        []store.KeyCount `json:"devices"`
	Browsers       []store.KeyCount `json:"browsers"`
	OS             []store.KeyCount `json:"os"`
	Variants       []VariantCount   `json:"variants"`
}

var intervals = map[string]struct {
	iv   store.Interval
	unit time.Duration
}{
	"minute": {store.ByMinute, time.Minute},
	"hour":   {store.ByHour, time.Hour},
	"day":    {store.ByDay, 24 * time.Hour},
}

// AnalyticsQuery is a parsed ?from=&to=&interval=&tz=.
type AnalyticsQuery struct {
	From, To time.Time
	Interval string
	Loc      *time.Location
}

func ParseAnalyticsQuery(get func(name string) string, now time.Time) (AnalyticsQuery, Fields) {
	q := AnalyticsQuery{To: now, Interval: "day", Loc: time.UTC}
	var errs Fields
	parseTime := func(name string, dst *time.Time) {
		if v := get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				errs.Add(name, errors.New("must be an RFC 3339 timestamp"))
			}
			*dst = t
		}
	}
	parseTime("to", &q.To)
	q.From = q.To.Add(-defaultAnalyticsRange)
	parseTime("from", &q.From)
	if v := get("interval"); v != "" {
		q.Interval = v
	}
	if v := get("tz"); v != "" {
		loc, err := time.LoadLocation(v)
		if err != nil {
			errs.Add("tz", errors.New("must be an IANA time zone such as Europe/Berlin"))
		} else {
			q.Loc = loc
		}
	}
	iv, ok := intervals[q.Interval]
	switch {
	case !ok:
		errs.Add("interval", errors.New(`must be "minute", "hour" or "day"`))
	case !q.From.Before(q.To):
		errs.Add("from", errors.New("must be before to"))
	case q.To.Sub(q.From)/iv.unit > maxSeriesPoints:
		errs.Add("interval", fmt.Errorf("gives more than %d points for this range; use a coarser interval", maxSeriesPoints))
	}
	return q, errs
}

// Report reads a link's analytics for a validated query (API and console).
func (o *Ops) Report(code string, q AnalyticsQuery) (Report, error) {
	iv := intervals[q.Interval]
	from, to := q.From.UnixMilli(), q.To.UnixMilli()
	src := iv.iv
	if src == store.ByDay && q.Loc != time.UTC {
		src = store.ByHour // local days are built from hours
	}
	a, err := o.st.LinkAnalytics(code, from, to, src)
	if err != nil {
		return Report{}, err
	}
	return Report{
		Code: code, From: q.From.UTC().Format(time.RFC3339), To: q.To.UTC().Format(time.RFC3339),
		Interval: q.Interval, TZ: q.Loc.String(),
		Total: a.Humans + a.Bots, Humans: a.Humans, Bots: a.Bots, Previews: a.Previews, Scans: a.Scans,
		UniqueVisitors: a.Visitors, Series: series(a.Series, q, iv.unit),
		Referrers: nonNil(a.Dims[store.DimReferrer]), Countries: nonNil(a.Dims[store.DimCountry]),
		Devices: nonNil(a.Dims[store.DimDevice]), Browsers: nonNil(a.Dims[store.DimBrowser]), OS: nonNil(a.Dims[store.DimOS]),
		Variants: variantCounts(a.Dims[store.DimVariant]),
	}, nil
}

// series zero-fills buckets of unit over [from, to) in q.Loc (days start
// at local midnight) and adds the stored points into them.
func series(points []store.Point, q AnalyticsQuery, unit time.Duration) []Point {
	start := q.From.In(q.Loc).Truncate(unit)
	if unit == 24*time.Hour {
		y, m, d := q.From.In(q.Loc).Date()
		start = time.Date(y, m, d, 0, 0, 0, 0, q.Loc)
	}
	var out []Point
	idx := map[int64]int{}
	for t := start; t.Before(q.To); t = next(t, unit) {
		idx[t.UnixMilli()] = len(out)
		out = append(out, Point{T: t.Format(time.RFC3339)})
	}
	for _, p := range points {
		t := time.UnixMilli(p.T).In(q.Loc)
		if unit == 24*time.Hour {
			y, m, d := t.Date()
			t = time.Date(y, m, d, 0, 0, 0, 0, q.Loc)
		} else {
			t = t.Truncate(unit)
		}
		if i, ok := idx[t.UnixMilli()]; ok {
			out[i].Clicks += p.Clicks
		}
	}
	if out == nil {
		out = []Point{}
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

// Orphans counts requests for unknown codes per host over the UTC days
// overlapping the query's range (admins): where scanners show up.
func (o *Ops) Orphans(q AnalyticsQuery) (uint64, []store.KeyCount, error) {
	total, hosts, err := o.st.Orphans(q.From.UnixMilli()/store.DayMs, q.To.UnixMilli()/store.DayMs+1)
	return total, nonNil(hosts), err
}
