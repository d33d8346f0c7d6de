package console

import (
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/imaging"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/store"
)

// uploadForm bounds the profile editor's multipart form: an image plus the
// form's fields (50 links).
const uploadForm = imaging.MaxUpload + httpx.DefaultBodyLimit

// importForm bounds the import form: a source file of up to 16 MiB (as
// POST /api/v1/imports) plus the form's fields.
const importForm = 16<<20 + httpx.DefaultBodyLimit

// table is the console: every page and action, with its policy. Paths are
// relative to /app/. Pages are GETs without a body; every POST spends a
// budget (Logins for the forms that check a password, Writes for the
// rest) and accepts a form of httpx.DefaultBodyLimit, except the profile
// editor, which uploads images. Public routes work logged out; a missing
// scope answers "not found".
func (c *Console) table() httpx.Table[handler] {
	const (
		form  = httpx.DefaultBodyLimit
		write = httpx.Writes
		login = httpx.Logins
	)
	read, links, linksW := ops.ScopeSignedIn, ops.ScopeLinksRead, ops.ScopeLinksWrite
	return httpx.Table[handler]{
		{Method: "GET", Pattern: "", Public: true, Handle: toLinks},
		{Method: "GET", Pattern: "login", Public: true, Handle: c.loginPage},
		{Method: "POST", Pattern: "login", Public: true, Budget: login, Body: form, Handle: c.loginPost},
		{Method: "GET", Pattern: "signup", Public: true, Handle: c.signupPage},
		{Method: "POST", Pattern: "signup", Public: true, Budget: login, Body: form, Handle: c.signupPost},
		{Method: "GET", Pattern: "logout", Public: true, Handle: c.logoutGet},
		{Method: "POST", Pattern: "logout", Public: true, Budget: write, Body: form, Handle: c.logout},

		{Method: "GET", Pattern: "links", Scope: links, Handle: c.linksPage},
		{Method: "POST", Pattern: "links", Scope: linksW, Budget: write, Body: form, Handle: c.createLink},
		{Method: "GET", Pattern: "links/{code}", Scope: links, Handle: c.withLink(c.linkPage)},
		{Method: "POST", Pattern: "links/{code}", Scope: linksW, Budget: write, Body: form, Handle: c.withLink(c.updateLink)},
		{Method: "GET", Pattern: "links/{code}/delete", Scope: links, Handle: c.withLink(c.deletePage)},
		{Method: "POST", Pattern: "links/{code}/delete", Scope: linksW, Budget: write, Body: form, Handle: c.withLink(c.deleteLink)},
		{Method: "GET", Pattern: "links/{code}/analytics", Scope: ops.ScopeAnalyticsRead, Handle: c.withLink(c.analyticsPage)},
		{Method: "POST", Pattern: "links/{code}/promote", Scope: linksW, Budget: write, Body: form, Handle: c.withLink(c.promoteVariant)},
		{Method: "GET", Pattern: "links/{code}/qr.svg", Scope: links, Handle: c.withLink(c.qrSVG)},
		{Method: "GET", Pattern: "links/{code}/qr.png", Scope: links, Handle: c.withLink(c.qrPNG)},

		{Method: "GET", Pattern: "transfer", Scope: links, Handle: c.transferPage},
		{Method: "POST", Pattern: "transfer/import", Scope: linksW, Budget: write, Body: importForm, Handle: c.importFile},
		{Method: "GET", Pattern: "transfer/links.csv", Scope: links, Handle: c.exportLinks(ops.FormatCSV, "links.csv", "text/csv; charset=utf-8")},
		{Method: "GET", Pattern: "transfer/links.jsonl", Scope: links, Handle: c.exportLinks(ops.FormatJSON, "links.jsonl", "application/x-ndjson")},
		{Method: "GET", Pattern: "transfer/analytics.csv", Scope: ops.ScopeAnalyticsRead, Handle: c.exportAnalytics},

		{Method: "GET", Pattern: "profile", Scope: read, Handle: c.profileEditor},
		{Method: "POST", Pattern: "profile", Scope: ops.ScopeProfileWrite, Budget: write, Body: uploadForm, Handle: c.saveProfile},
		{Method: "GET", Pattern: "profile/preview", Scope: read, Handle: c.previewSaved},
		// The preview saves nothing but renders a page for each keystroke
		// pause: it spends the write budget, like any POST.
		{Method: "POST", Pattern: "profile/preview", Scope: ops.ScopeProfileWrite, Budget: write, Body: uploadForm, Handle: c.previewDraft},

		{Method: "GET", Pattern: "keys", Scope: read, Handle: c.keysPage},
		{Method: "GET", Pattern: "export", Scope: read, Handle: c.export},
		{Method: "POST", Pattern: "keys", Scope: ops.ScopeKeysWrite, Budget: write, Body: form, Handle: c.createKey},
		{Method: "POST", Pattern: "keys/{id}/delete", Scope: ops.ScopeKeysWrite, Budget: write, Body: form, Handle: c.deleteKey},

		{Method: "GET", Pattern: "webhooks", Scope: links, Handle: c.webhooksPage},
		{Method: "POST", Pattern: "webhooks", Scope: linksW, Budget: write, Body: form, Handle: c.createWebhook},
		{Method: "GET", Pattern: "webhooks/{id}", Scope: links, Handle: c.webhookPage},
		{Method: "POST", Pattern: "webhooks/{id}/enabled", Scope: linksW, Budget: write, Body: form, Handle: c.toggleWebhook},
		{Method: "POST", Pattern: "webhooks/{id}/delete", Scope: linksW, Budget: write, Body: form, Handle: c.deleteWebhook},
		{Method: "POST", Pattern: "webhooks/{id}/deliveries/{sub}/resend", Scope: linksW, Budget: write, Body: form, Handle: c.webhookAction(c.resendDelivery)},

		{Method: "GET", Pattern: "admin/users", Scope: ops.ScopeAdmin, Handle: c.usersPage},
		{Method: "POST", Pattern: "admin/users", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.createUser},
		{Method: "POST", Pattern: "admin/users/{uid}", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.changeUser},
		{Method: "POST", Pattern: "admin/users/{uid}/trust", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.setTrust},
		{Method: "POST", Pattern: "admin/users/{uid}/delete", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.deleteUser},
		{Method: "POST", Pattern: "admin/invites", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.createInvite},
		{Method: "POST", Pattern: "admin/invites/{id}/delete", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.deleteInvite},
		{Method: "GET", Pattern: "admin/cluster", Scope: ops.ScopeAdmin, Handle: c.clusterPage},
		{Method: "GET", Pattern: "admin/domains", Scope: ops.ScopeAdmin, Handle: c.domainsPage},
		{Method: "POST", Pattern: "admin/domains", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.addDomain},
		{Method: "POST", Pattern: "admin/domains/{id}", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.changeDomain},
		{Method: "POST", Pattern: "admin/domains/{id}/delete", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.deleteDomain},
		{Method: "GET", Pattern: "admin/moderation", Scope: ops.ScopeAdmin, Handle: c.moderation},
		{Method: "POST", Pattern: "admin/blocklist", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.addBlock},
		{Method: "POST", Pattern: "admin/blocklist/{id}/delete", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.deleteBlock},
		{Method: "POST", Pattern: "account/delete", Scope: ops.ScopeSignedIn, Budget: write, Body: form, Handle: c.eraseAccount},
		{Method: "POST", Pattern: "admin/review/{code}", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.review},
		{Method: "POST", Pattern: "admin/feeds", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.addFeed},
		{Method: "POST", Pattern: "admin/feeds/{id}/delete", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.deleteFeed},
		{Method: "POST", Pattern: "admin/reports/{id}", Scope: ops.ScopeAdmin, Budget: write, Body: form, Handle: c.resolveReport},
	}
}

func toLinks(ctx *fasthttp.RequestCtx, _ request) { ctx.Redirect("/app/links", fasthttp.StatusFound) }

// withLink loads the route's link for handlers of one link; other users'
// and deleted links are "not found", never "forbidden".
func (c *Console) withLink(h func(*fasthttp.RequestCtx, request, *store.Link)) handler {
	return func(ctx *fasthttp.RequestCtx, rq request) {
		l, err := c.ops.VisibleLink(rq.se.p, rq.Code)
		if err != nil {
			c.errorPage(ctx, rq.se, fasthttp.StatusNotFound, "Not found", "There is no such page, or it is not yours.")
			return
		}
		h(ctx, rq, l)
	}
}
