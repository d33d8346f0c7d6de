package console

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// moderationPage is the admins' trust and safety page: the report review
// queue, the blocklist, the threat feeds and the audit trail.
type moderationPage struct {
	Reports []ops.ReportView
	Blocks  []ops.Block
	Feeds   []ops.Feed
	Held    []ops.HeldLink
	Audit   []ops.AuditRecord
}

func (c *Console) moderation(ctx *fasthttp.RequestCtx, rq request) {
	c.renderModeration(ctx, rq, view{})
}

func (c *Console) renderModeration(ctx *fasthttp.RequestCtx, rq request, v view) {
	rs, err1 := c.ops.Reports(false)
	bs, err2 := c.ops.Blocks()
	as, err3 := c.ops.Audit(50)
	fs, err4 := c.ops.Feeds(rq.se.p)
	hs, err5 := c.ops.ReviewQueue(rq.se.p)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		c.log.Error("reading moderation state", "err", err)
	}
	v.Data = &moderationPage{Reports: rs, Blocks: bs, Feeds: fs, Held: hs, Audit: as}
	c.renderForm(ctx, rq.se, "moderation", "Trust and safety", v)
}

func (c *Console) afterModeration(ctx *fasthttp.RequestCtx, rq request, err error) {
	if err != nil {
		v := view{}
		c.show(&v, err)
		c.renderModeration(ctx, rq, v)
		return
	}
	seeOther(ctx, "/app/admin/moderation")
}

func (c *Console) addBlock(ctx *fasthttp.RequestCtx, rq request) {
	f := formValues(ctx, "kind", "value", "reason")
	_, err := c.ops.AddBlock(rq.se.p, ops.NewBlock{Kind: f["kind"], Value: f["value"], Reason: f["reason"]})
	c.afterModeration(ctx, rq, err)
}

func (c *Console) deleteBlock(ctx *fasthttp.RequestCtx, rq request) {
	c.afterModeration(ctx, rq, c.ops.DeleteBlock(rq.se.p, rq.ID))
}

func (c *Console) addFeed(ctx *fasthttp.RequestCtx, rq request) {
	f := formValues(ctx, "name", "url", "format", "interval", "reason")
	minutes, err := strconv.ParseInt(f["interval"], 10, 64)
	if err != nil {
		minutes = 60
	}
	_, err = c.ops.AddFeed(rq.se.p, ops.NewFeed{Name: f["name"], URL: f["url"], Format: f["format"],
		IntervalSeconds: minutes * 60, Reason: f["reason"]})
	c.afterModeration(ctx, rq, err)
}

func (c *Console) deleteFeed(ctx *fasthttp.RequestCtx, rq request) {
	c.afterModeration(ctx, rq, c.ops.DeleteFeed(rq.se.p, rq.ID))
}

func (c *Console) review(ctx *fasthttp.RequestCtx, rq request) {
	f := formValues(ctx, "action", "reason")
	c.afterModeration(ctx, rq, c.ops.Review(rq.se.p, rq.Code, ops.ReviewReq{Action: f["action"], Reason: f["reason"]}))
}

// eraseAccount serves POST /app/account/delete: the signed-in user erases
// their account (typing their email to confirm), then is logged out.
func (c *Console) eraseAccount(ctx *fasthttp.RequestCtx, rq request) {
	if err := c.ops.EraseSelf(rq.se.p, string(ctx.PostArgs().Peek("confirm"))); err != nil {
		c.failPage(ctx, rq.se, "Account not deleted", err)
		return
	}
	c.setCookie(ctx, c.cookies.session, "", 0)
	seeOther(ctx, "/app/login")
}

func (c *Console) resolveReport(ctx *fasthttp.RequestCtx, rq request) {
	c.afterModeration(ctx, rq, c.ops.ResolveReport(rq.se.p, rq.ID, string(ctx.PostArgs().Peek("action"))))
}

// export serves GET /app/export: the signed-in user's data as one JSON
// download (the same document as GET /api/v1/me/export).
func (c *Console) export(ctx *fasthttp.RequestCtx, rq request) {
	e, err := c.ops.Export(rq.se.p)
	if err != nil {
		c.errorPage(ctx, rq.se, httpx.StatusOf(c.ops.Classify(err).Kind), "Export failed", "Please try again in a moment.")
		return
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		c.errorPage(ctx, rq.se, fasthttp.StatusInternalServerError, "Export failed", "Please try again in a moment.")
		return
	}
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="linkd-export.json"`)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
