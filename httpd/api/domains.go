package api

import (
	"sort"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

// Domain endpoints (issue 16).

// listDomains serves GET /domains: every domain for admins, the ones
// delegated to the caller otherwise.
func (a *API) listDomains(ctx *fasthttp.RequestCtx, rq request) {
	out := struct {
		Default string       `json:"default"`
		Items   []ops.Domain `json:"items"`
	}{Default: a.ops.DefaultHost(), Items: []ops.Domain{}}
	for _, d := range a.ops.Domains(rq.p) {
		out.Items = append(out.Items, ops.DomainView(d))
	}
	a.answer(ctx, fasthttp.StatusOK, out, nil)
}

// createDomain serves POST /domains (admins).
func (a *API) createDomain(ctx *fasthttp.RequestCtx, rq request) {
	var in ops.DomainInput
	if !readJSON(ctx, &in) {
		return
	}
	d, err := a.ops.CreateDomain(rq.p, in)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	ctx.Response.Header.Set("Location", "/api/v1/domains/"+d.Host)
	a.answer(ctx, fasthttp.StatusCreated, ops.DomainView(d), nil)
}

// getDomain serves GET /domains/{host} (admins).
func (a *API) getDomain(ctx *fasthttp.RequestCtx, rq request) {
	d, err := a.ops.GetDomain(rq.ID)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	a.answer(ctx, fasthttp.StatusOK, ops.DomainView(d), nil)
}

// patchDomain serves PATCH /domains/{host} (admins): only the fields
// present change; "delegate": 0 takes a delegation back.
func (a *API) patchDomain(ctx *fasthttp.RequestCtx, rq request) {
	var in ops.DomainInput
	if !readJSON(ctx, &in) {
		return
	}
	d, err := a.ops.UpdateDomain(rq.p, rq.ID, in)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	a.answer(ctx, fasthttp.StatusOK, ops.DomainView(d), nil)
}

// deleteDomain serves DELETE /domains/{host} (admins).
func (a *API) deleteDomain(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.DeleteDomain(rq.p, rq.ID))
}

// domainAnalytics serves GET /analytics/domains (admins): total clicks of
// all links, grouped by domain.
func (a *API) domainAnalytics(ctx *fasthttp.RequestCtx, _ request) {
	totals, err := a.ops.ClicksByDomain()
	if err != nil {
		a.fail(ctx, err)
		return
	}
	type row struct {
		Domain string `json:"domain"`
		Clicks uint64 `json:"clicks"`
	}
	out := struct {
		Items []row `json:"items"`
	}{Items: []row{}}
	for host, n := range totals {
		out.Items = append(out.Items, row{host, n})
	}
	sort.Slice(out.Items, func(i, j int) bool { return out.Items[i].Domain < out.Items[j].Domain })
	a.answer(ctx, fasthttp.StatusOK, out, nil)
}
