package api

import (
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

// Trust and safety endpoints (issue 14).

// addBlock serves POST /blocklist.
func (a *API) addBlock(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.NewBlock
	if !readJSON(ctx, &req) {
		return
	}
	b, err := a.ops.AddBlock(rq.p, req)
	if err == nil {
		ctx.Response.Header.Set("Location", "/api/v1/blocklist/"+b.ID)
	}
	a.answer(ctx, fasthttp.StatusCreated, b, err)
}

// listBlocks serves GET /blocklist.
func (a *API) listBlocks(ctx *fasthttp.RequestCtx, _ request) {
	bs, err := a.ops.Blocks()
	a.answer(ctx, fasthttp.StatusOK, struct {
		Items []ops.Block `json:"items"`
	}{bs}, err)
}

// deleteBlock serves DELETE /blocklist/{id}.
func (a *API) deleteBlock(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.DeleteBlock(rq.p, rq.ID))
}

// takedown serves GET /links/{code}/takedown: why the link is blocked.
func (a *API) takedown(ctx *fasthttp.RequestCtx, rq request) {
	td, err := a.ops.Takedown(rq.p, rq.Code)
	a.answer(ctx, fasthttp.StatusOK, td, err)
}

// block serves PUT /links/{code}/takedown (admins): take the link down.
func (a *API) block(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.TakedownReq
	if !readJSON(ctx, &req) {
		return
	}
	_, err := a.ops.SetTakedown(rq.p, rq.Code, true, req.Reason)
	if err == nil {
		// The answer reads the takedown back: on a follower, wait until
		// it has applied the write.
		err = a.ops.Consistent()
	}
	if err != nil {
		a.fail(ctx, err)
		return
	}
	a.takedown(ctx, rq)
}

// unblock serves DELETE /links/{code}/takedown (admins).
func (a *API) unblock(ctx *fasthttp.RequestCtx, rq request) {
	_, err := a.ops.SetTakedown(rq.p, rq.Code, false, "")
	a.answer(ctx, fasthttp.StatusNoContent, nil, err)
}

// appeal serves POST /links/{code}/appeal: the owner's note to admins.
func (a *API) appeal(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.AppealReq
	if !readJSON(ctx, &req) {
		return
	}
	a.answer(ctx, fasthttp.StatusAccepted, nil, a.ops.Appeal(rq.p, rq.Code, req.Note))
}

// audit serves GET /audit (admins): the newest moderation actions.
func (a *API) audit(ctx *fasthttp.RequestCtx, _ request) {
	as, err := a.ops.Audit(200)
	a.answer(ctx, fasthttp.StatusOK, struct {
		Items []ops.AuditRecord `json:"items"`
	}{as}, err)
}

// export serves GET /me/export: all the caller's data as one JSON download.
func (a *API) export(ctx *fasthttp.RequestCtx, rq request) {
	e, err := a.ops.Export(rq.p)
	if err == nil {
		ctx.Response.Header.Set("Content-Disposition", `attachment; filename="linkd-export.json"`)
	}
	a.answer(ctx, fasthttp.StatusOK, e, err)
}
