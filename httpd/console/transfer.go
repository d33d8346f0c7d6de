package console

import (
	"bytes"
	"fmt"
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
	// Streaming: the page is sent in parts while the import runs; the
	// template marks where the progress lines and the report go.
	Streaming bool
	// Failure is why a streamed import stopped early (the page's own
	// error box is already sent by then).
	Failure string
}

// importRow is one row of the report as the page shows it.
type importRow struct {
	ops.ImportRow
	Message string
}

// progressMark is where, in the streamed page, the import's progress and
// report go (transfer.html writes it when Streaming).
const progressMark = `<template id="import-progress"></template>`

// importFile serves the upload form. The file is imported in batches of
// 1,000 rows (one raft entry each) while the answer streams: the page up
// to the report goes out first, then a progress line after each batch
// (rows done of the file's total; created, unchanged, renamed, skipped,
// failed; CSS shows the newest only), then every row's outcome. No script
// is needed and nothing is kept on the server between requests.
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
	opt := ops.ImportOptions{Source: v.Form["from"], Collisions: v.Form["collisions"]}
	if err := ops.CheckImport(opt); err != nil {
		v.Error = c.formError(err).msg
		c.renderForm(ctx, rq.se, "transfer", "Import and export", v)
		return
	}
	f, err := mf.File["file"][0].Open()
	if err != nil {
		v.Error = "The file could not be read."
		c.renderForm(ctx, rq.se, "transfer", "Import and export", v)
		return
	}
	total := 0 // a first pass counts the rows, for "done of total"
	importer.Read(opt.Source, f, nil, func(importer.Row) error { total++; return nil })
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		v.Error = "The file could not be read."
		c.renderForm(ctx, rq.se, "transfer", "Import and export", v)
		return
	}
	data.Streaming, data.Total = true, total
	c.renderForm(ctx, rq.se, "transfer", "Import and export", v)
	head, tail, _ := bytes.Cut(ctx.Response.Body(), []byte(progressMark))
	head, tail = bytes.Clone(head), bytes.Clone(tail)
	ctx.Response.ResetBody()
	p := rq.se.p
	httpx.StreamPage(ctx, func(w io.Writer, flush func()) error {
		defer f.Close()
		w.Write(head)
		fmt.Fprintf(w, `<section class="import-progress" aria-live="polite"><h3>Importing %d rows</h3><ol class="plines">`, total)
		flush()
		rows, err := c.ops.Import(p, opt, f, func(report []ops.ImportRow) {
			w.Write(progressLine(report, total))
			flush()
		})
		w.Write([]byte("</ol></section>"))
		data.Streaming = false
		if err != nil {
			data.Failure = c.formError(err).msg
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
		if err := c.pages["transfer"].ExecuteTemplate(w, "import-report", v); err != nil {
			return err
		}
		_, err = w.Write(tail)
		return err
	}, func(err error) { c.log.Error("console import", "err", err) })
}

// progressLine is one progress line of a running import.
func progressLine(report []ops.ImportRow, total int) []byte {
	n := map[string]int{}
	for _, r := range report {
		n[r.Status]++
	}
	return fmt.Appendf(nil, `<li><progress max="%d" value="%d"></progress> %d of %d rows: %d created, %d unchanged, %d renamed, %d skipped, %d failed</li>`,
		max(total, len(report)), len(report), len(report), max(total, len(report)), n[ops.ImportCreated], n[ops.ImportUnchanged],
		n[ops.ImportRenamed], n[ops.ImportSkipped], n[ops.ImportFailed])
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
