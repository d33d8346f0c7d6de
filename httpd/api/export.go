package api

import (
	"io"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// exportLinks serves GET /links/export?format=csv|json&q=&tag=: the
// caller's links (admins: all), streamed from one store snapshot.
func (a *API) exportLinks(ctx *fasthttp.RequestCtx, rq request) {
	e, err := ops.ParseLinkExport(queryArg(ctx))
	if err != nil {
		a.fail(ctx, err)
		return
	}
	ctype, ext := "text/csv; charset=utf-8", "csv"
	if e.Format == ops.FormatJSON {
		ctype, ext = "application/x-ndjson", "jsonl"
	}
	a.stream(ctx, ctype, "links."+ext, func(w io.Writer) error { return a.ops.ExportLinks(rq.p, e, w) })
}

// exportAnalytics serves GET /analytics/export?code=&from=&to=: daily
// counts and dimensions as CSV.
func (a *API) exportAnalytics(ctx *fasthttp.RequestCtx, rq request) {
	e, err := ops.ParseAnalyticsExport(queryArg(ctx), time.Now())
	if err == nil {
		err = a.ops.CheckAnalyticsExport(rq.p, e)
	}
	if err != nil {
		a.fail(ctx, err)
		return
	}
	a.stream(ctx, "text/csv; charset=utf-8", "analytics.csv", func(w io.Writer) error { return a.ops.ExportAnalytics(rq.p, e, w) })
}

// stream answers 200 with an attachment written by fill
// (httpx.StreamDownload); a failure mid-stream is logged and truncates it.
func (a *API) stream(ctx *fasthttp.RequestCtx, ctype, filename string, fill func(io.Writer) error) {
	httpx.StreamDownload(ctx, ctype, filename, fill, func(err error) { a.ops.Classify(err) })
}
