package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// Page sizes of GET /links.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// listLinks serves GET /links?limit=&cursor=&q=&tag=.
func (a *API) listLinks(ctx *fasthttp.RequestCtx, rq request) {
	args := ctx.QueryArgs()
	q := ops.LinkQuery{Limit: defaultPageSize, All: true,
		Q: strings.TrimSpace(string(args.Peek("q"))), Tag: strings.TrimSpace(string(args.Peek("tag"))),
		Domain: strings.TrimSpace(string(args.Peek("domain")))}
	var errs ops.Fields
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > maxPageSize {
			errs = append(errs, ops.FieldError{Field: "limit", Message: fmt.Sprintf("must be a whole number from 1 to %d", maxPageSize)})
		}
		q.Limit = n
	}
	if v := args.Peek("cursor"); len(v) > 0 {
		c, err := base64.RawURLEncoding.DecodeString(string(v))
		if err != nil || len(c) <= 8 {
			errs = append(errs, ops.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
		q.After = c
	}
	if errs != nil {
		httpx.WriteProblem(ctx, ops.KindValidation, "Invalid query parameters.", errs...)
		return
	}
	if !a.consistent(ctx) {
		return
	}
	page, err := a.ops.Links(rq.p, q)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	out := struct {
		Items      []ops.Link `json:"items"`
		NextCursor *string    `json:"nextCursor"`
	}{Items: page.Links}
	if page.Next != nil {
		c := base64.RawURLEncoding.EncodeToString(page.Next)
		out.NextCursor = &c
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, out)
}

// getLink serves GET /links/{code}.
func (a *API) getLink(ctx *fasthttp.RequestCtx, rq request) {
	if !a.consistent(ctx) {
		return
	}
	l, err := a.ops.VisibleLink(rq.p, rq.Code)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, a.ops.LinkView(l, time.Now().UnixMilli()))
}

// createLink serves POST /links.
func (a *API) createLink(ctx *fasthttp.RequestCtx, rq request) {
	body, ok := jsonBody(ctx)
	if !ok {
		return
	}
	var req ops.NewLink
	if !decodeStrict(ctx, body, &req) {
		return
	}
	l, replayed, err := a.ops.CreateLink(rq.p, req, ops.Idempotency{Key: string(ctx.Request.Header.Peek("Idempotency-Key")), Body: body})
	if err != nil {
		a.fail(ctx, err)
		return
	}
	v := a.ops.CreatedLinkView(l, time.Now().UnixMilli())
	if replayed {
		ctx.Response.Header.Set("Idempotent-Replayed", "true")
		v = a.ops.LinkView(l, time.Now().UnixMilli())
	}
	ctx.Response.Header.Set("Location", linkLocation(a.ops, v))
	httpx.WriteJSON(ctx, fasthttp.StatusCreated, v)
}

// linkLocation is the API address of a link: ?domain= names a link that is
// not on the default domain.
func linkLocation(o *ops.Ops, v ops.Link) string {
	if v.Domain == o.DefaultHost() {
		return "/api/v1/links/" + v.Code
	}
	return "/api/v1/links/" + v.Code + "?domain=" + v.Domain
}

// patchLink serves PATCH /links/{code}. Only the fields present in the
// body change; "expiresAt": null removes the expiry.
func (a *API) patchLink(ctx *fasthttp.RequestCtx, rq request) {
	body, ok := jsonBody(ctx)
	if !ok {
		return
	}
	var raw map[string]json.RawMessage
	if !decodeStrict(ctx, body, &raw) {
		return
	}
	l, err := a.ops.UpdateLink(rq.p, rq.Code, linkPatch(raw))
	if err != nil {
		a.fail(ctx, err)
		return
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, a.ops.LinkView(l, time.Now().UnixMilli()))
}

// linkPatch reads the present fields; a field of the wrong type or one
// that cannot be changed is reported with the patch's other errors.
func linkPatch(raw map[string]json.RawMessage) ops.LinkPatch {
	var patch ops.LinkPatch
	for name, v := range raw {
		var err error
		switch name {
		case "url":
			patch.URL, err = decodeField[string](v)
		case "title":
			patch.Title, err = decodeField[string](v)
		case "tags":
			patch.Tags, err = decodeField[[]string](v)
		case "expiresAt":
			var e *string
			if err = json.Unmarshal(v, &e); err == nil {
				if e == nil {
					e = new(string) // null: no expiry
				}
				patch.ExpiresAt = e
			}
		case "redirectStatus":
			patch.RedirectStatus, err = decodeField[int](v)
		case "status":
			patch.Status, err = decodeField[string](v)
		default:
			var known bool
			if known, err = optionField(&patch.Options, name, v); !known {
				err = errors.New("unknown field, or not one that can be changed")
			}
		}
		if err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) || errors.As(err, new(*json.SyntaxError)) {
				err = errors.New("has the wrong type")
			}
			patch.Invalid.Add(name, err)
		}
	}
	return patch
}

func decodeField[T any](v json.RawMessage) (*T, error) {
	var t T
	err := json.Unmarshal(v, &t)
	return &t, err
}

// deleteLink serves DELETE /links/{code}.
func (a *API) deleteLink(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.DeleteLink(rq.p, rq.Code))
}

// linkAnalytics serves GET /links/{code}/analytics.
func (a *API) linkAnalytics(ctx *fasthttp.RequestCtx, rq request) {
	q, errs := ops.ParseAnalyticsQuery(queryArg(ctx), time.Now())
	if errs != nil {
		httpx.WriteProblem(ctx, ops.KindValidation, "Invalid analytics query.", errs...)
		return
	}
	if !a.consistent(ctx) {
		return
	}
	if _, err := a.ops.VisibleLink(rq.p, rq.Code); err != nil {
		a.fail(ctx, err)
		return
	}
	out, err := a.ops.Report(rq.Code, q)
	a.answer(ctx, fasthttp.StatusOK, out, err)
}

// orphans serves GET /analytics/orphans (admins): requests for unknown
// codes per host, which is where scanners show up.
func (a *API) orphans(ctx *fasthttp.RequestCtx, _ request) {
	q, errs := ops.ParseAnalyticsQuery(queryArg(ctx), time.Now())
	if errs != nil {
		httpx.WriteProblem(ctx, ops.KindValidation, "Invalid query.", errs...)
		return
	}
	total, hosts, err := a.ops.Orphans(q)
	a.answer(ctx, fasthttp.StatusOK, map[string]any{"total": total, "hosts": hosts}, err)
}

func queryArg(ctx *fasthttp.RequestCtx) func(string) string {
	return func(name string) string { return string(ctx.QueryArgs().Peek(name)) }
}

// cluster serves GET /cluster (admins).
func (a *API) cluster(ctx *fasthttp.RequestCtx, _ request) {
	httpx.WriteJSON(ctx, fasthttp.StatusOK, a.ops.FullStatus())
}

// removeMember serves DELETE /cluster/members/{id} (admins).
func (a *API) removeMember(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.RemoveMember(rq.ID))
}
