package httpd

import (
	"encoding/json"
	"strconv"

	"github.com/valyala/fasthttp"
)

// problemKind is one entry of the catalogue of API errors. Its slug is the
// stable part of the problem type URI (/_/problems/{slug}); clients may
// switch on it.
type problemKind struct {
	slug   string
	status int
	title  string
	about  string
}

// The problem catalogue. Slugs are API: never rename one.
var (
	probBadJSON       = problemKind{"malformed-json", 400, "Malformed JSON", "The request body is not valid JSON."}
	probUnauthorized  = problemKind{"unauthorized", 401, "Missing or invalid API token", "Send `Authorization: Bearer <token>` with a valid, unexpired API token."}
	probForbidden     = problemKind{"forbidden", 403, "Not allowed", "The API token lacks the scope this request needs."}
	probNotFound      = problemKind{"not-found", 404, "Not found", "No such resource, or not one this token may see."}
	probMethod        = problemKind{"method-not-allowed", 405, "Method not allowed", "The resource does not support this HTTP method."}
	probConflict      = problemKind{"alias-taken", 409, "Alias already in use", "The requested alias is taken (deleted links keep their codes forever)."}
	probGone          = problemKind{"gone", 410, "Link deleted", "The link was deleted; its code is never reissued."}
	probTooLarge      = problemKind{"body-too-large", 413, "Request body too large", "The request body exceeds the limit for this endpoint."}
	probMediaType     = problemKind{"unsupported-media-type", 415, "Unsupported media type", "Send the body as `Content-Type: application/json`."}
	probValidation    = problemKind{"validation", 422, "Invalid request", "One or more fields are invalid; see `errors`."}
	probIdemMismatch  = problemKind{"idempotency-key-reused", 422, "Idempotency key reused", "The Idempotency-Key was already used with a different request body in the last 24 hours."}
	probInternal      = problemKind{"internal", 500, "Internal error", "The server failed; the request may be retried."}
	probUnavailable   = problemKind{"unavailable", 503, "Service unavailable", "The cluster has no leader or is starting; retry after the indicated delay."}
	probRequestHeader = problemKind{"bad-request", 400, "Bad request", "The request could not be parsed."}
	probRateLimited   = problemKind{"rate-limited", 429, "Too many requests", "A rate limit was reached; wait for the number of seconds in `Retry-After`. `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` describe the budget."}
	probEmailTaken    = problemKind{"email-taken", 409, "Email already registered", "Another account uses this email address."}
	probProtected     = problemKind{"protected-user", 409, "Protected account", "The bootstrap admin always stays an enabled admin, so the cluster always has one."}
	probInvalidInvite = problemKind{"invalid-invite", 403, "Invite not valid", "The invite does not exist, has expired or was used already."}
	probHandleTaken   = problemKind{"handle-taken", 409, "Handle taken", "Another profile uses this handle; choose another."}
	probRegistration  = problemKind{"registration-closed", 403, "Registration closed", "This instance does not accept sign-ups without an invite."}
	probNotApplied    = problemKind{"not-applied", 503, "Write not applied", "The write certainly was not applied (no leader, or it could not be handed to one); retry it freely after the delay in `Retry-After`."}
	probUnknown       = problemKind{"outcome-unknown", 504, "Write outcome unknown", "The write may or may not have been applied (leadership changed, the node stopped, or the deadline passed after it was sent). Retry it with the same `Idempotency-Key` to learn the outcome; a write without one may be applied twice."}
)

var problemKinds = []problemKind{probBadJSON, probUnauthorized, probForbidden, probNotFound, probMethod,
	probConflict, probGone, probTooLarge, probMediaType, probValidation, probIdemMismatch, probInternal,
	probUnavailable, probRequestHeader, probRateLimited, probEmailTaken, probProtected, probInvalidInvite,
	probRegistration, probHandleTaken, probNotApplied, probUnknown}

// failure is an error that is the client's to fix, with the problem that
// answers it. Handlers shared by the API and the console return failures;
// the API writes them as problem+json, the console shows them on the form.
type failure struct {
	kind   problemKind
	detail string
	errs   []fieldError
}

func (f *failure) Error() string { return f.detail }

func fail(k problemKind, detail string, errs ...fieldError) *failure {
	return &failure{kind: k, detail: detail, errs: errs}
}

// fieldError is one invalid field in a validation problem.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []fieldError `json:"errors,omitempty"`
}

// writeProblem answers with an application/problem+json body.
func writeProblem(ctx *fasthttp.RequestCtx, k problemKind, detail string, errs ...fieldError) {
	b, _ := json.Marshal(problem{Type: "/_/problems/" + k.slug, Title: k.title, Status: k.status, Detail: detail, Errors: errs})
	ctx.Response.Reset()
	ctx.SetStatusCode(k.status)
	ctx.SetContentType("application/problem+json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if k.status == fasthttp.StatusServiceUnavailable {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	ctx.SetBody(b)
}

// retryAfterSeconds is what 503s ask clients to wait: about one election.
const retryAfterSeconds = 1

// problemDocs serves /_/problems/{slug}: the human description of each type.
func problemDocs(ctx *fasthttp.RequestCtx, slug string) {
	for _, k := range problemKinds {
		if k.slug == slug {
			writePage(ctx, fasthttp.StatusOK, pageData{Title: k.title, Message: k.about,
				Detail: "HTTP status " + strconv.Itoa(k.status) + " · type /_/problems/" + k.slug})
			return
		}
	}
	writePage(ctx, fasthttp.StatusNotFound, pageData{Title: "Not found", Message: "No such problem type."})
}
