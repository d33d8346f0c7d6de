package ops

import (
	"context"
	"errors"
	"log/slog"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/node"
)

// Kind is what went wrong, in terms a client can act on. Front ends map
// each Kind to their wire form once (see httpd/httpx's problem catalogue).
type Kind uint8

// Kinds of failure.
const (
	KindInternal       Kind = iota // the server failed; retrying may help
	KindBadRequest                 // the request could not be parsed
	KindBadJSON                    // the body is not valid JSON
	KindUnauthorized               // no or a bad credential
	KindForbidden                  // the credential lacks a scope
	KindNotFound                   // no such resource, or not one the principal may see
	KindMethod                     // the resource does not support the method
	KindAliasTaken                 // the custom alias is in use
	KindGone                       // the link was deleted
	KindTooLarge                   // the body or image is too large
	KindMediaType                  // the body is not JSON
	KindValidation                 // fields are invalid; see Fields
	KindIdemMismatch               // an Idempotency-Key was reused with another body
	KindUnavailable                // no leader, or the write's commit was not seen
	KindRateLimited                // a budget is spent
	KindEmailTaken                 // another account has the email
	KindProtected                  // the bootstrap admin cannot be changed so
	KindInvalidInvite              // the invite is unknown, expired or used
	KindHandleTaken                // another profile has the handle
	KindRegistration               // sign-ups are closed
	KindNotApplied                 // the write certainly was not applied: retry freely
	KindUnknownOutcome             // the write may have been applied: retry with the same Idempotency-Key
	KindBlockedDest                // the destination is on a blocklist or was taken down
	KindLinkBlocked                // the link was taken down: frozen for its owner
	KindBlockExists                // the blocklist has the entry already
	KindDomainExists               // the domain is configured already
	KindDomainLimit                // the cluster holds the most domains it may
	KindDailyQuota                 // the user's daily link quota is spent
	kindCount
)

// Kinds lists every Kind, for catalogues that must cover them all.
func Kinds() []Kind {
	out := make([]Kind, kindCount)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// FieldError is one invalid field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Fields collects the invalid fields of one request.
type Fields []FieldError

// Add records err for field; a nil err adds nothing.
func (f *Fields) Add(field string, err error) {
	if err != nil {
		*f = append(*f, FieldError{Field: field, Message: err.Error()})
	}
}

// Error is the one failure shape of the HTTP side: a Kind, a sentence for
// people and the invalid fields, if any.
type Error struct {
	Kind   Kind
	Detail string
	Fields Fields
}

func (e *Error) Error() string { return e.Detail }

// Fail returns an *Error.
func Fail(k Kind, detail string, fields ...FieldError) *Error {
	return &Error{Kind: k, Detail: detail, Fields: fields}
}

// Invalid returns a validation *Error for fields, or nil when there are none.
func Invalid(detail string, fields Fields) error {
	if fields == nil {
		return nil
	}
	return Fail(KindValidation, detail, fields...)
}

// Classify maps any error from validation, the fsm, the node or the
// cluster to the *Error that explains it; unknown errors are logged here,
// once, and become KindInternal with a detail that leaks nothing. It is
// the one place that knows those packages' error values.
//
// Write errors fall in three groups: domain refusals (the fsm's, certain
// and final); KindNotApplied, "certainly not applied" (node.ErrNotApplied:
// no leader to hand it to, not initialised, refused before sending: retry
// freely); and KindUnknownOutcome (node.ErrUnknownOutcome or a deadline:
// the proposal may have committed; retry with the same Idempotency-Key).
// node and cluster mark every write error with exactly one of the two.
func Classify(log *slog.Logger, err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, fsm.ErrExists):
		return Fail(KindAliasTaken, "Choose another alias.", FieldError{Field: "alias", Message: "already in use"})
	case errors.Is(err, fsm.ErrNotFound):
		return Fail(KindNotFound, "No such link.")
	case errors.Is(err, fsm.ErrGone):
		return Fail(KindGone, "The link was deleted.")
	case errors.Is(err, fsm.ErrIdempotencyMismatch):
		return Fail(KindIdemMismatch, "Use a new Idempotency-Key for a different request.")
	case errors.Is(err, fsm.ErrEmailTaken):
		return Fail(KindEmailTaken, "Another account uses this email address.", FieldError{Field: "email", Message: "already registered"})
	case errors.Is(err, fsm.ErrUserNotFound):
		return Fail(KindNotFound, "No such user, or the account is disabled.")
	case errors.Is(err, fsm.ErrKeyNotFound):
		return Fail(KindNotFound, "No such API key.")
	case errors.Is(err, fsm.ErrInviteNotFound):
		return Fail(KindNotFound, "No such invite.")
	case errors.Is(err, fsm.ErrInvalidInvite):
		return Fail(KindInvalidInvite, "The invite does not exist, has expired or was used already.")
	case errors.Is(err, fsm.ErrHandleTaken):
		return Fail(KindHandleTaken, "Another profile uses this handle.", FieldError{Field: "handle", Message: "already taken"})
	case errors.Is(err, fsm.ErrProfileLink):
		return Fail(KindForbidden, "This short link is a link of your profile: change or remove it in the profile "+
			"(PUT /api/v1/profile, scope profile:write), so the page and the redirect stay the same.")
	case errors.Is(err, fsm.ErrProtectedUser):
		return Fail(KindProtected, "The bootstrap admin cannot be disabled, demoted or deleted.")
	case classifyModeration(err) != nil:
		return classifyModeration(err)
	case classifyDomain(err) != nil:
		return classifyDomain(err)
	case errors.Is(err, node.ErrUnknownPeer):
		return Fail(KindNotFound, "No such cluster member.")
	case errors.Is(err, node.ErrUnknownOutcome), errors.Is(err, context.DeadlineExceeded):
		return Fail(KindUnknownOutcome, "The write may or may not have been applied: its commit was not confirmed "+
			"(leadership changed, the node stopped, or the deadline passed after it was sent). Retry with the same Idempotency-Key.")
	case errors.Is(err, node.ErrNotApplied), errors.Is(err, node.ErrNotInitialized):
		return Fail(KindNotApplied, "The write was not applied: no leader could take it right now. Retry it.")
	case errors.Is(err, node.ErrNotLeader), errors.Is(err, node.ErrNoLeader), errors.Is(err, node.ErrShutdown),
		errors.Is(err, cluster.ErrNoLeader):
		return Fail(KindUnavailable, "The cluster cannot answer now: it has no reachable leader. Retry shortly.")
	}
	log.Error("request failed", "err", err)
	return Fail(KindInternal, "The request failed.")
}
