package api

import (
	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/imaging"
	"github.com/linkd/linkd/httpd/ops"
)

// uploadBody is the body limit of image uploads: the largest image the
// imaging package accepts, plus room so that it, not the transport, says
// an image is too large.
const uploadBody = imaging.MaxUpload + 64<<10

// table is the API: every endpoint, with its policy. Paths are relative to
// /api/v1/. Writes spend the write budget and accept a JSON body of
// httpx.DefaultBodyLimit; reads accept no body; only image uploads take
// more.
func (a *API) table() httpx.Table[handler] {
	const (
		read  = httpx.NoBudget
		write = httpx.Writes
		json  = httpx.DefaultBodyLimit
	)
	return httpx.Table[handler]{
		{Method: "GET", Pattern: "openapi.json", Public: true, Budget: read, Handle: a.openAPI},

		{Method: "GET", Pattern: "links", Scope: ops.ScopeLinksRead, Handle: a.listLinks},
		{Method: "POST", Pattern: "links", Scope: ops.ScopeLinksWrite, Budget: write, Body: json, Handle: a.createLink},
		{Method: "POST", Pattern: "links/bulk", Scope: ops.ScopeLinksWrite, Budget: write, Body: bulkBody, Handle: a.createLinks},
		{Method: "PATCH", Pattern: "links/bulk", Scope: ops.ScopeLinksWrite, Budget: write, Body: bulkBody, Handle: a.patchLinks},
		{Method: "DELETE", Pattern: "links/bulk", Scope: ops.ScopeLinksWrite, Budget: write, Body: bulkBody, Handle: a.deleteLinks},
		{Method: "POST", Pattern: "imports", Scope: ops.ScopeLinksWrite, Budget: write, Body: importBody, Handle: a.importLinks},
		{Method: "GET", Pattern: "links/export", Scope: ops.ScopeLinksRead, Handle: a.exportLinks},
		{Method: "GET", Pattern: "analytics/export", Scope: ops.ScopeAnalyticsRead, Handle: a.exportAnalytics},
		{Method: "GET", Pattern: "links/{code}/analytics", Scope: ops.ScopeAnalyticsRead, Handle: a.linkAnalytics},
		{Method: "GET", Pattern: "links/{code}", Scope: ops.ScopeLinksRead, Handle: a.getLink},
		{Method: "PATCH", Pattern: "links/{code}", Scope: ops.ScopeLinksWrite, Budget: write, Body: json, Handle: a.patchLink},
		{Method: "DELETE", Pattern: "links/{code}", Scope: ops.ScopeLinksWrite, Budget: write, Body: json, Handle: a.deleteLink},
		{Method: "POST", Pattern: "links/{code}/promote", Scope: ops.ScopeLinksWrite, Budget: write, Body: json, Handle: a.promoteVariant},
		{Method: "GET", Pattern: "analytics/domains", Scope: ops.ScopeAdmin, Handle: a.domainAnalytics},
		{Method: "POST", Pattern: "analytics/ingest", Scope: ops.ScopeAdmin, Budget: write, Body: ingestBody, Handle: a.ingestCDNLog},
		{Method: "GET", Pattern: "domains", Scope: ops.ScopeLinksRead, Handle: a.listDomains},
		{Method: "POST", Pattern: "domains", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.createDomain},
		{Method: "GET", Pattern: "domains/{id}", Scope: ops.ScopeAdmin, Handle: a.getDomain},
		{Method: "PATCH", Pattern: "domains/{id}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.patchDomain},
		{Method: "DELETE", Pattern: "domains/{id}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.deleteDomain},
		{Method: "GET", Pattern: "analytics/orphans", Scope: ops.ScopeAdmin, Handle: a.orphans},
		{Method: "GET", Pattern: "backup", Scope: ops.ScopeAdmin, Handle: a.backup},
		{Method: "GET", Pattern: "cluster", Scope: ops.ScopeAdmin, Handle: a.cluster},
		{Method: "DELETE", Pattern: "cluster/members/{id}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.removeMember},

		{Method: "GET", Pattern: "profile", Scope: ops.ScopeSignedIn, Handle: a.ownProfile},
		{Method: "PUT", Pattern: "profile", Scope: ops.ScopeProfileWrite, Budget: write, Body: json, Handle: a.putProfile},
		{Method: "POST", Pattern: "images", Scope: ops.ScopeProfileWrite, Budget: write, Body: uploadBody, Handle: a.uploadImage},
		{Method: "GET", Pattern: "profiles/{handle}", Public: true, Budget: read, Handle: a.publicProfile},

		{Method: "GET", Pattern: "webhooks", Scope: ops.ScopeLinksRead, Handle: a.listWebhooks},
		{Method: "POST", Pattern: "webhooks", Scope: ops.ScopeLinksWrite, Budget: write, Body: json, Handle: a.createWebhook},
		{Method: "GET", Pattern: "webhooks/{id}", Scope: ops.ScopeLinksRead, Handle: a.getWebhook},
		{Method: "PATCH", Pattern: "webhooks/{id}", Scope: ops.ScopeLinksWrite, Budget: write, Body: json, Handle: a.patchWebhook},
		{Method: "DELETE", Pattern: "webhooks/{id}", Scope: ops.ScopeLinksWrite, Budget: write, Body: json, Handle: a.deleteWebhook},
		{Method: "GET", Pattern: "webhooks/{id}/deliveries", Scope: ops.ScopeLinksRead, Handle: a.webhookDeliveries},
		{Method: "POST", Pattern: "webhooks/{id}/deliveries/{sub}/resend", Scope: ops.ScopeLinksWrite, Budget: write, Body: json, Handle: a.resendDelivery},

		{Method: "GET", Pattern: "me", Scope: ops.ScopeSignedIn, Handle: a.me},
		{Method: "DELETE", Pattern: "me", Scope: ops.ScopeSignedIn, Budget: write, Body: json, Handle: a.eraseMe},
		{Method: "GET", Pattern: "me/export", Scope: ops.ScopeSignedIn, Handle: a.export},
		{Method: "GET", Pattern: "keys", Scope: ops.ScopeSignedIn, Handle: a.listKeys},
		{Method: "POST", Pattern: "keys", Scope: ops.ScopeKeysWrite, Budget: write, Body: json, Handle: a.createKey},
		{Method: "DELETE", Pattern: "keys/{id}", Scope: ops.ScopeKeysWrite, Budget: write, Body: json, Handle: a.deleteKey},
		{Method: "GET", Pattern: "users", Scope: ops.ScopeAdmin, Handle: a.listUsers},
		{Method: "POST", Pattern: "users", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.createUser},
		{Method: "GET", Pattern: "users/{uid}", Scope: ops.ScopeAdmin, Handle: a.getUser},
		{Method: "PATCH", Pattern: "users/{uid}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.patchUser},
		{Method: "DELETE", Pattern: "users/{uid}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.deleteUser},
		{Method: "GET", Pattern: "users/{uid}/trust", Scope: ops.ScopeAdmin, Handle: a.userTrust},
		{Method: "PATCH", Pattern: "users/{uid}/trust", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.patchUserTrust},
		{Method: "GET", Pattern: "invites", Scope: ops.ScopeAdmin, Handle: a.listInvites},
		{Method: "POST", Pattern: "invites", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.createInvite},
		{Method: "DELETE", Pattern: "invites/{id}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.deleteInvite},

		{Method: "GET", Pattern: "blocklist", Scope: ops.ScopeAdmin, Handle: a.listBlocks},
		{Method: "POST", Pattern: "blocklist", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.addBlock},
		{Method: "DELETE", Pattern: "blocklist/{id}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.deleteBlock},
		{Method: "GET", Pattern: "feeds", Scope: ops.ScopeAdmin, Handle: a.listFeeds},
		{Method: "POST", Pattern: "feeds", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.addFeed},
		{Method: "DELETE", Pattern: "feeds/{id}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.deleteFeed},
		{Method: "GET", Pattern: "review", Scope: ops.ScopeAdmin, Handle: a.reviewQueue},
		{Method: "POST", Pattern: "review/{code}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.review},
		{Method: "GET", Pattern: "audit", Scope: ops.ScopeAdmin, Handle: a.audit},
		{Method: "GET", Pattern: "links/{code}/takedown", Scope: ops.ScopeLinksRead, Handle: a.takedown},
		{Method: "PUT", Pattern: "links/{code}/takedown", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.block},
		{Method: "DELETE", Pattern: "links/{code}/takedown", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.unblock},
		{Method: "POST", Pattern: "reports", Public: true, Budget: write, Body: json, Handle: a.fileReport},
		{Method: "GET", Pattern: "reports", Scope: ops.ScopeAdmin, Handle: a.listReports},
		{Method: "POST", Pattern: "reports/{id}", Scope: ops.ScopeAdmin, Budget: write, Body: json, Handle: a.resolveReport},
		{Method: "POST", Pattern: "links/{code}/appeal", Scope: ops.ScopeLinksWrite, Budget: write, Body: json, Handle: a.appeal},
	}
}
