package console

import (
	"io"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/importer"
	"github.com/linkd/linkd/httpd/ops"
)

// transferPage shows the exports and the import form.
func (c *Console) transferPage(ctx *fasthttp.RequestCtx, rq request) {
	c.renderForm(ctx, rq.se, "transfer", "Import and export", view{Data: &transferPage{Sources: importer.Sources}})
}

// transferPage is the import/export page's data: the sources to choose
// from and, after an import, its report.
type transferPage struct {
	Sources []string
	Report  []importRow
	Counts  map[string]int
	Total   int
}

// importRow is one row of the report as the page shows it.
type importRow struct {
	ops.ImportRow
	Message string
}

// importFile serves the upload form: the file is imported at once, in
// batches of 1,000 rows; the page then shows every row's outcome and the
// counts. (Progress is reported when the import ends, not while it runs.)
func (c *Console) importFile(ctx *fasthttp.RequestCtx, rq request) {
	mf, err := ctx.MultipartForm()
	data := &transferPage{Sources: importer.Sources, Counts: map[string]int{}}
	v := view{Data: data, Form: map[string]string{}}
	if err != nil || len(mf.File["file"]) == 0 {
		v.Error = "Choose a file to import."
		c.renderForm(ctx, rq.se, "transfer", "Import and export", v)
		return
	}
	first := func(k string) string {
		if vs := mf.Value[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	v.Form["from"], v.Form["collisions"] = first("from"), first("collisions")
	f, err := mf.File["file"][0].Open()
	if err != nil {
		v.Error = "The file could not be read."
		c.renderForm(ctx, rq.se, "transfer", "Import and export", v)
		return
	}
	defer f.Close()
	rows, err := c.ops.Import(rq.se.p, ops.ImportOptions{Source: v.Form["from"], Collisions: v.Form["collisions"]}, f, nil)
	if err != nil {
		v.Error = c.formError(err).msg
	}
	for _, r := range rows {
		row := importRow{ImportRow: r}
		if r.Err != nil {
			row.Message = c.ops.Classify(r.Err).Detail
		}
		data.Report = append(data.Report, row)
		data.Counts[r.Status]++
	}
	data.Total = len(rows)
	c.renderForm(ctx, rq.se, "transfer", "Import and export", v)
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
