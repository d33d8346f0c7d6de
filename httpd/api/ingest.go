package api

import (
	"time"

	"github.com/valyala/fasthttp"
)

// ingestBody is the body limit of POST /analytics/ingest: a CDN log
// batch. Logpush and Fastly split larger batches into several objects.
const ingestBody = 8 << 20

// ingestCDNLog serves POST /analytics/ingest?format=cloudflare|fastly&batchId=…
// (or the header Linkd-Batch-Id): the redirects a CDN served from its
// cache, counted once per batch id.
func (a *API) ingestCDNLog(ctx *fasthttp.RequestCtx, _ request) {
	args := ctx.QueryArgs()
	id := string(args.Peek("batchId"))
	if id == "" {
		id = string(ctx.Request.Header.Peek("Linkd-Batch-Id"))
	}
	res, err := a.ops.IngestCDNLog(string(args.Peek("format")), id, ctx.PostBody(), time.Now())
	if err != nil {
		a.fail(ctx, err)
		return
	}
	a.answer(ctx, fasthttp.StatusOK, res, nil)
}
