package console

import (
	"io"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// transferPage shows the exports (and the import form).
func (c *Console) transferPage(ctx *fasthttp.RequestCtx, rq request) {
	c.renderForm(ctx, rq.se, "transfer", "Import and export", view{})
}

// exportLinks downloads the signed-in user's links (links.csv or
// links.jsonl), streamed like the API's export.
func (c *Console) exportLinks(format, filename, ctype string) handler {
	return func(ctx *fasthttp.RequestCtx, rq request) {
		c.download(ctx, ctype, filename, func(w io.Writer) error {
			return c.ops.ExportLinks(rq.se.p, ops.LinkExport{Format: format}, w)
		})
	}
}

// exportAnalytics downloads the daily analytics of the user's links.
func (c *Console) exportAnalytics(ctx *fasthttp.RequestCtx, rq request) {
	e, err := ops.ParseAnalyticsExport(func(string) string { return "" }, time.Now())
	if err != nil {
		c.errorPage(ctx, rq.se, fasthttp.StatusInternalServerError, "Something went wrong", "The export could not start.")
		return
	}
	c.download(ctx, "text/csv; charset=utf-8", "analytics.csv", func(w io.Writer) error {
		return c.ops.ExportAnalytics(rq.se.p, e, w)
	})
}

func (c *Console) download(ctx *fasthttp.RequestCtx, ctype, filename string, fill func(io.Writer) error) {
	httpx.StreamDownload(ctx, ctype, filename, fill, func(err error) { c.log.Error("console export", "file", filename, "err", err) })
}
