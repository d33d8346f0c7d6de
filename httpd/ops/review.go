package ops

import (
	"errors"
	"strings"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/store"
)

// The review queue (issue 14, --review-new-users): links of new users are
// held until an admin approves or rejects them.

// maxQueue bounds one listing of the review queue.
const maxQueue = 500

// held reports whether p's new links are held for review: the option is
// on, p is not an admin, and p's account is younger than the window.
func (o *Ops) held(p Principal, now time.Time) bool {
	return o.review > 0 && !p.IsAdmin() && now.Sub(time.UnixMilli(p.User.CreatedAt)) < o.review
}

// IsHeld reports whether the link code waits for review (it reads the hot
// set: no disk on a warm node). The owner's profile views mark such links.
func (o *Ops) IsHeld(code string) bool {
	e, _, err := o.st.Resolve(nil, []byte(code))
	return err == nil && e.Kind == store.HotHeld
}

// HeldLink is a link in the review queue.
type HeldLink struct {
	Code      string `json:"code"`
	URL       string `json:"url"`
	Title     string `json:"title"`
	Owner     uint64 `json:"owner"`
	CreatedAt string `json:"createdAt"`
}

// ReviewQueue lists the held links, oldest code first (admins only).
func (o *Ops) ReviewQueue(p Principal) ([]HeldLink, error) {
	if !p.IsAdmin() {
		return nil, Fail(KindNotFound, "No such resource.")
	}
	ls, err := o.st.HeldLinks(maxQueue)
	out := make([]HeldLink, 0, len(ls))
	for _, l := range ls {
		out = append(out, HeldLink{Code: l.Code, URL: l.URL, Title: l.Title, Owner: l.Owner, CreatedAt: MsTime(l.CreatedAt)})
	}
	return out, err
}

// ReviewReq is an admin's decision on a held link.
type ReviewReq struct {
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
}

// Review approves a held link (it redirects from the commit on) or
// rejects it (taken down, 451 with the reason), audited.
func (o *Ops) Review(p Principal, code string, req ReviewReq) error {
	if !p.IsAdmin() {
		return Fail(KindNotFound, "No such link.")
	}
	var errs Fields
	if req.Action != "approve" && req.Action != "reject" {
		errs.Add("action", errors.New(`must be "approve" or "reject"`))
	}
	reason, err := boundedText(req.Reason, maxReason, false)
	errs.Add("reason", err)
	if err := Invalid("Nothing was decided.", errs); err != nil {
		return err
	}
	_, err = o.propose(&fsm.ReviewLink{Now: time.Now().UnixMilli(), Code: code, Actor: p.Owner(),
		Approve: req.Action == "approve", Reason: reason})
	return err
}

// EraseSelf deletes p's own account and everything it owns (links become
// tombstones without destinations or analytics; profile, images, keys and
// sessions go). confirm must be the account's email. An API key needs
// keys:write (a narrow key cannot erase its user). Takedown records and
// the audit trail stay (legal hold: they hold a taken-down link's code,
// reason and destination host and path, never the user's email).
func (o *Ops) EraseSelf(p Principal, confirm string) error {
	if p.Key != nil && !p.Can(ScopeKeysWrite) {
		return Fail(KindForbidden, "Erasing the account needs a console session or a key with keys:write.")
	}
	if p.User.Email == "" || !strings.EqualFold(strings.TrimSpace(confirm), p.User.Email) {
		return Fail(KindValidation, "The account was not deleted.",
			FieldError{Field: "confirm", Message: "must be this account's email address"})
	}
	return o.DeleteUser(p.Owner())
}
