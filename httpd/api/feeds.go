package api

import (
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

// addFeed serves POST /feeds (admins).
func (a *API) addFeed(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.NewFeed
	if !readJSON(ctx, &req) {
		return
	}
	f, err := a.ops.AddFeed(rq.p, req)
	if err == nil {
		ctx.Response.Header.Set("Location", "/api/v1/feeds/"+f.ID)
	}
	a.answer(ctx, fasthttp.StatusCreated, f, err)
}

// listFeeds serves GET /feeds (admins): each feed with its last good
// version and its last fetch's time and error.
func (a *API) listFeeds(ctx *fasthttp.RequestCtx, rq request) {
	fs, err := a.ops.Feeds(rq.p)
	a.answer(ctx, fasthttp.StatusOK, struct {
		Items []ops.Feed `json:"items"`
	}{fs}, err)
}

// deleteFeed serves DELETE /feeds/{id} (admins).
func (a *API) deleteFeed(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.DeleteFeed(rq.p, rq.ID))
}
