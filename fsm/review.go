package fsm

import (
	"errors"

	"github.com/linkd/linkd/store"
)

// The review queue (issue 14, --review-new-users). Type 105 belongs to
// this file.
const TypeReviewLink Type = 105

// ErrNotHeld means a review decision names a link that is not held.
var ErrNotHeld = errors.New("link is not held for review")

// ReviewLink is an admin's decision on a held link: approve (it redirects
// from this commit on) or reject (it is taken down with Reason: 451, and
// its destination cannot come back, as any takedown).
type ReviewLink struct {
	Header
	Now     int64  `codec:"now"`
	Code    string `codec:"code"`
	Actor   uint64 `codec:"actor"`
	Approve bool   `codec:"ok,omitempty"`
	Reason  string `codec:"why,omitempty"`
}

func (*ReviewLink) Type() Type { return TypeReviewLink }

func init() {
	versions[TypeReviewLink] = 1
	domainErrors["not-held"] = ErrNotHeld
}

// reviewable reports whether a blocklist or feed rescan may block l: an
// active link, or one held for review (so approving can never release a
// listed destination).
func reviewable(l *store.Link) bool {
	return l.Status == store.StatusActive || l.Status == store.StatusHeld
}

func applyReviewLink(txn *store.Txn, c *ReviewLink) (*Result, error) {
	l, res, err := visible(txn, c.Code, c.Actor, true)
	if l == nil {
		return res, err
	}
	if l.Status != store.StatusHeld {
		return &Result{Err: ErrNotHeld}, nil
	}
	action, detail := "review.approve", "approved"
	if c.Approve {
		release(txn, l, c.Now)
		if err := profileShows(txn, l.Owner, c.Now, l.Code); err != nil {
			return nil, err
		}
	} else {
		action, detail = "review.reject", "Rejected in review"
		if c.Reason != "" {
			detail += ": " + c.Reason
		}
		block(txn, l, &store.Takedown{Reason: detail, By: c.Actor, At: c.Now})
	}
	return &Result{Link: l}, txn.Audit(&store.AuditEntry{At: c.Now, Actor: c.Actor, Action: action, Target: l.Code,
		Detail: detail})
}
