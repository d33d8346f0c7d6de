package api

import (
	"mime"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// fileReport serves POST /reports: anonymous, rate limited by address.
// Besides JSON it takes the "Report this link" form of the public pages
// (application/x-www-form-urlencoded) and then answers with a page.
func (a *API) fileReport(ctx *fasthttp.RequestCtx, _ request) {
	mt, _, _ := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	if mt == "application/x-www-form-urlencoded" {
		args := ctx.PostArgs()
		req := ops.NewReport{Code: string(args.Peek("code")), Reason: string(args.Peek("reason")), Note: string(args.Peek("note"))}
		if err := a.ops.FileReport(req, a.lim.Client(ctx)); err != nil {
			e := a.ops.Classify(err)
			httpx.WritePage(ctx, httpx.StatusOf(e.Kind), httpx.Page{Title: "Report not sent", Message: e.Detail})
			return
		}
		httpx.WritePage(ctx, fasthttp.StatusAccepted, httpx.Page{Title: "Thank you",
			Message: "Your report was received. Administrators review every report."})
		return
	}
	var req ops.NewReport
	if !readJSON(ctx, &req) {
		return
	}
	err := a.ops.FileReport(req, a.lim.Client(ctx))
	a.answer(ctx, fasthttp.StatusAccepted, struct {
		Status string `json:"status"`
	}{"received"}, err)
}

// listReports serves GET /reports?status=all (admins; open ones by default).
func (a *API) listReports(ctx *fasthttp.RequestCtx, _ request) {
	rs, err := a.ops.Reports(string(ctx.QueryArgs().Peek("status")) == "all")
	a.answer(ctx, fasthttp.StatusOK, struct {
		Items []ops.ReportView `json:"items"`
	}{rs}, err)
}

// resolveReport serves POST /reports/{id} {"action": "dismiss"|"block-link"|"block-domain"}.
func (a *API) resolveReport(ctx *fasthttp.RequestCtx, rq request) {
	var req struct {
		Action string `json:"action"`
	}
	if !readJSON(ctx, &req) {
		return
	}
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.ResolveReport(rq.p, rq.ID, req.Action))
}
