package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// bulkBody is the body limit of the bulk routes: 1,000 items of up to
// 4 KiB each (a long URL, a title, tags), plus the envelope.
const bulkBody = ops.MaxBulk*4<<10 + httpx.DefaultBodyLimit

// bulkItem is one entry of a bulk answer, in request order.
type bulkItem struct {
	Status  int       `json:"status"`
	Code    string    `json:"code,omitempty"`
	Link    *ops.Link `json:"link,omitempty"`
	Problem any       `json:"problem,omitempty"`
}

// createLinks serves POST /links/bulk {"links": [NewLink, ...]}.
func (a *API) createLinks(ctx *fasthttp.RequestCtx, rq request) {
	body, ok := jsonBody(ctx)
	if !ok {
		return
	}
	var req struct {
		Links []json.RawMessage `json:"links"`
	}
	if !decodeStrict(ctx, body, &req) {
		return
	}
	links := make([]ops.NewLink, len(req.Links))
	for i, raw := range req.Links {
		links[i].Invalid = decodeItem(raw, &links[i])
	}
	res, err := a.ops.CreateLinks(rq.p, links, ops.Idempotency{Key: string(ctx.Request.Header.Peek("Idempotency-Key")), Body: body})
	a.bulkAnswer(ctx, res, err, fasthttp.StatusCreated)
}

// patchLinks serves PATCH /links/bulk {"codes": [...] | "tag": T, "set": {patch}}.
func (a *API) patchLinks(ctx *fasthttp.RequestCtx, rq request) {
	var req struct {
		ops.BulkTarget
		Set map[string]json.RawMessage `json:"set"`
	}
	if !readJSON(ctx, &req) {
		return
	}
	if len(req.Set) == 0 {
		httpx.WriteProblem(ctx, ops.KindValidation, "Nothing to change.", ops.FieldError{Field: "set", Message: "must name at least one field"})
		return
	}
	res, err := a.ops.UpdateLinks(rq.p, req.BulkTarget, linkPatch(req.Set))
	a.bulkAnswer(ctx, res, err, fasthttp.StatusOK)
}

// deleteLinks serves DELETE /links/bulk {"codes": [...] | "tag": T}.
func (a *API) deleteLinks(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.BulkTarget
	if !readJSON(ctx, &req) {
		return
	}
	res, err := a.ops.DeleteLinks(rq.p, req)
	a.bulkAnswer(ctx, res, err, fasthttp.StatusNoContent)
}

// bulkAnswer writes {"items": [...]}: each item's status is what its
// single request would have answered.
func (a *API) bulkAnswer(ctx *fasthttp.RequestCtx, res []ops.BulkResult, err error, ok int) {
	if err != nil {
		a.fail(ctx, err)
		return
	}
	now := time.Now().UnixMilli()
	items := make([]bulkItem, len(res))
	for i, r := range res {
		items[i].Code = r.Code
		if r.Err != nil {
			e := a.ops.Classify(r.Err)
			items[i].Status, items[i].Problem = httpx.StatusOf(e.Kind), httpx.ProblemValue(e)
			continue
		}
		items[i].Status = ok
		if r.Link != nil {
			view := a.ops.LinkView
			if r.Created {
				view = a.ops.CreatedLinkView
			}
			v := view(r.Link, now)
			items[i].Link, items[i].Code = &v, v.Code
		}
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, struct {
		Items []bulkItem `json:"items"`
	}{items})
}

// decodeItem decodes one item strictly; what is wrong with it is reported
// with the item's validation errors, as decodeStrict would answer it.
func decodeItem(raw json.RawMessage, v any) ops.Fields {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		return ops.Fields{{Field: typeErr.Field, Message: "must be a " + jsonTypeName(typeErr.Type.Kind().String())}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return ops.Fields{{Field: strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), Message: "unknown field"}}
	default:
		return ops.Fields{{Field: "", Message: err.Error()}}
	}
}
