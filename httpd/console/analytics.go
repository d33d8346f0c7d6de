package console

import (
	"html/template"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/httpd/svgchart"
	"github.com/linkd/linkd/store"
)

// analyticsRange is one choice of the analytics page's period select.
type analyticsRange struct {
	Key, Label string
	span       time.Duration
	interval   string
	label      string // time layout of the x axis
}

var analyticsRanges = []analyticsRange{
	{"24h", "Last 24 hours", 24 * time.Hour, "hour", "15:04"},
	{"7d", "Last 7 days", 7 * 24 * time.Hour, "day", "Jan 2"},
	{"30d", "Last 30 days", 30 * 24 * time.Hour, "day", "Jan 2"},
	{"90d", "Last 90 days", 90 * 24 * time.Hour, "day", "Jan 2"},
}

// Chart sizes (viewBox units; the SVGs scale to their card). The wide
// charts are also drawn at phoneWidth, shown instead below 600 px (CSS
// only), so their 11-unit text is never scaled below 11 px: a 720-unit
// chart in a 340 px card would print it at 5 px.
const (
	chartWidth   = 720
	phoneWidth   = 320
	seriesHeight = 220
	barsWidth    = 300 // the grid cells are 300-340 px wide on desktop and phone
	barsMax      = 8
)

func (c *Console) analyticsPage(ctx *fasthttp.RequestCtx, rq request, l *store.Link) {
	se := rq.se
	r := analyticsRanges[2]
	for _, ar := range analyticsRanges {
		if ar.Key == string(ctx.QueryArgs().Peek("range")) {
			r = ar
		}
	}
	now := time.Now().UTC()
	to := now.Truncate(time.Hour).Add(time.Hour)
	if r.interval == "day" {
		to = now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	}
	q := ops.AnalyticsQuery{From: to.Add(-r.span), To: to, Interval: r.interval, Loc: time.UTC}
	rep, err := c.ops.Report(l.Code, q)
	if err != nil {
		c.log.Error("reading analytics", "code", l.Code, "err", err)
		c.errorPage(ctx, se, fasthttp.StatusInternalServerError, "Something went wrong", "The analytics could not be read.")
		return
	}
	pts := make([]svgchart.Point, len(rep.Series))
	for i, p := range rep.Series {
		t, _ := time.Parse(time.RFC3339, p.T)
		pts[i] = svgchart.Point{Label: t.Format(r.label), Value: float64(p.Clicks)}
	}
	// The class bar's parts are disjoint and add up to every request:
	// QR scans are clicks of either class, so they are a stat, not a part.
	classes := []svgchart.Bar{{Label: "Humans", Value: rep.Humans}, {Label: "Bots", Value: rep.Bots},
		{Label: "Link previews", Value: rep.Previews}}
	series := "Clicks per " + r.interval
	data := &analyticsPage{
		Code: linkCode(l.Code), DomainQuery: c.ops.DomainQuery(l.Code), Range: r.Key, Ranges: analyticsRanges, R: rep,
		Requests:    rep.Humans + rep.Bots + rep.Previews,
		LagSeconds:  lagSeconds(c.lag),
		Imported:    c.ops.ImportedClicks(l.Code),
		SeriesChart: svgchart.Series(series, pts, chartWidth, seriesHeight),
		SeriesPhone: svgchart.Series(series, pts, phoneWidth, seriesHeight),
		ClassChart:  svgchart.Share("Requests by kind", classes, chartWidth),
		ClassPhone:  svgchart.Share("Requests by kind", classes, phoneWidth),
		Referrers:   bars("Top referrers", rep.Referrers),
		Countries:   bars("Countries", rep.Countries),
		Devices:     bars("Devices", rep.Devices),
		Browsers:    bars("Browsers", rep.Browsers),
		OS:          bars("Operating systems", rep.OS),
	}
	c.render(ctx, se, fasthttp.StatusOK, "analytics", view{Title: "Analytics " + l.Code, Nav: "links", Data: data})
}

// lagSeconds is the analytics lag in whole seconds, rounded up (0: not
// known, e.g. analytics off).
func lagSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

func bars(title string, kc []store.KeyCount) template.HTML {
	bs := make([]svgchart.Bar, len(kc))
	for i, k := range kc {
		bs[i] = svgchart.Bar{Label: k.Key, Value: k.Count}
	}
	return svgchart.Bars(title, bs, barsWidth, barsMax)
}
