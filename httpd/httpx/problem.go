package httpx

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

// Problem is one entry of the catalogue of API errors. Its slug is the
// stable part of the problem type URI (/_/problems/{slug}); clients may
// switch on it.
type Problem struct {
	Slug   string
	Status int
	Title  string
	About  string
}

// problems maps every ops.Kind to its problem. Slugs are API: never rename
// one. This is the one mapping from failures to HTTP statuses; the API
// writes the problem, the console shows the status with its own page.
var problems = [...]Problem{
	ops.KindBadJSON:        {"malformed-json", 400, "Malformed JSON", "The request body is not valid JSON."},
	ops.KindUnauthorized:   {"unauthorized", 401, "Missing or invalid API token", "Send `Authorization: Bearer <token>` with a valid, unexpired API token."},
	ops.KindForbidden:      {"forbidden", 403, "Not allowed", "The API token lacks the scope this request needs."},
	ops.KindNotFound:       {"not-found", 404, "Not found", "No such resource, or not one this token may see."},
	ops.KindMethod:         {"method-not-allowed", 405, "Method not allowed", "The resource does not support this HTTP method."},
	ops.KindAliasTaken:     {"alias-taken", 409, "Alias already in use", "The requested alias is taken (deleted links keep their codes forever)."},
	ops.KindGone:           {"gone", 410, "Link deleted", "The link was deleted; its code is never reissued."},
	ops.KindTooLarge:       {"body-too-large", 413, "Request body too large", "The request body exceeds the limit for this endpoint."},
	ops.KindMediaType:      {"unsupported-media-type", 415, "Unsupported media type", "Send the body as `Content-Type: application/json`."},
	ops.KindValidation:     {"validation", 422, "Invalid request", "One or more fields are invalid; see `errors`."},
	ops.KindIdemMismatch:   {"idempotency-key-reused", 422, "Idempotency key reused", "The Idempotency-Key was already used with a different request body in the last 24 hours."},
	ops.KindInternal:       {"internal", 500, "Internal error", "The server failed; the request may be retried."},
	ops.KindUnavailable:    {"unavailable", 503, "Service unavailable", "The cluster has no leader or is starting; retry after the indicated delay."},
	ops.KindBadRequest:     {"bad-request", 400, "Bad request", "The request could not be parsed."},
	ops.KindRateLimited:    {"rate-limited", 429, "Too many requests", "A rate limit was reached; wait for the number of seconds in `Retry-After`. `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` describe the budget."},
	ops.KindEmailTaken:     {"email-taken", 409, "Email already registered", "Another account uses this email address."},
	ops.KindProtected:      {"protected-user", 409, "Protected account", "The bootstrap admin always stays an enabled admin, so the cluster always has one."},
	ops.KindInvalidInvite:  {"invalid-invite", 403, "Invite not valid", "The invite does not exist, has expired or was used already."},
	ops.KindHandleTaken:    {"handle-taken", 409, "Handle taken", "Another profile uses this handle; choose another."},
	ops.KindRegistration:   {"registration-closed", 403, "Registration closed", "This instance does not accept sign-ups without an invite."},
	ops.KindNotApplied:     {"not-applied", 503, "Write not applied", "The write certainly was not applied (no leader, or it could not be handed to one); retry it freely after the delay in `Retry-After`."},
	ops.KindUnknownOutcome: {"outcome-unknown", 504, "Write outcome unknown", "The write may or may not have been applied (leadership changed, the node stopped, or the deadline passed after it was sent). Retry it with the same `Idempotency-Key` to learn the outcome; a write without one may be applied twice."},
	ops.KindBlockedDest:    {"blocked-destination", 422, "Destination blocked", "The destination is on this instance's blocklist, or a link to it was taken down; it cannot be shortened here."},
	ops.KindLinkBlocked:    {"link-blocked", 409, "Link taken down", "An administrator blocked this link: its owner can no longer change or delete it, only read why and send an appeal."},
	ops.KindBlockExists:    {"blocklist-entry-exists", 409, "Blocklist entry exists", "The blocklist already has an entry of this kind and value."},
	ops.KindDomainExists:   {"domain-exists", 409, "Domain exists", "A domain with this host is configured already; change it with PATCH /api/v1/domains/{host}."},
	ops.KindDomainLimit:    {"domain-limit", 409, "Too many domains", "The cluster holds the most domains it may (100); delete one before adding another."},
	ops.KindDailyQuota:     {"daily-link-quota", 429, "Daily link quota reached", "The account created as many links today (UTC) as this instance allows (`--user-daily-links`); `Retry-After` says when the next UTC day starts. Bulk creates and imports count each item."},
}

// ProblemOf is the problem for a Kind.
func ProblemOf(k ops.Kind) Problem { return problems[k] }

// StatusOf is the HTTP status for a Kind.
func StatusOf(k ops.Kind) int { return problems[k].Status }

// ProblemBySlug finds a problem by its slug, for /_/problems/{slug}.
func ProblemBySlug(slug string) (Problem, bool) {
	for _, p := range problems {
		if p.Slug == slug {
			return p, true
		}
	}
	return Problem{}, false
}

// problemBody is an RFC 9457 problem details object.
type problemBody struct {
	Type   string           `json:"type"`
	Title  string           `json:"title"`
	Status int              `json:"status"`
	Detail string           `json:"detail,omitempty"`
	Errors []ops.FieldError `json:"errors,omitempty"`
}

// UntilNextUTCDay is the whole seconds from now to the next UTC midnight
// (at least 1), when daily quotas start again.
func UntilNextUTCDay(now time.Time) int {
	next := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	return max(1, int((next.Sub(now)+time.Second-1)/time.Second))
}

// RetryAfterSeconds is what 503s ask clients to wait: about one election.
const RetryAfterSeconds = 1

// WriteProblem answers with an application/problem+json body.
func WriteProblem(ctx *fasthttp.RequestCtx, k ops.Kind, detail string, errs ...ops.FieldError) {
	p := problems[k]
	b, _ := json.Marshal(problemBody{Type: "/_/problems/" + p.Slug, Title: p.Title, Status: p.Status, Detail: detail, Errors: errs})
	ctx.Response.Reset()
	ctx.SetStatusCode(p.Status)
	ctx.SetContentType("application/problem+json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if p.Status == fasthttp.StatusServiceUnavailable {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	if k == ops.KindDailyQuota {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(UntilNextUTCDay(time.Now())))
	}
	ctx.SetBody(b)
}

// WriteError answers with the problem for e.
func WriteError(ctx *fasthttp.RequestCtx, e *ops.Error) {
	WriteProblem(ctx, e.Kind, e.Detail, e.Fields...)
}

// WriteJSON answers with v as JSON.
func WriteJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteProblem(ctx, ops.KindInternal, "Encoding the response failed.")
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(append(b, '\n'))
}
