package fsm

import (
	"errors"
	"strconv"

	"github.com/linkd/linkd/store"
)

// User trust settings (issue 14): an admin's per-user daily quota override
// and approval. Type 106 belongs to this file; 107 is allocated to it and
// unused.
const TypeSetUserTrust Type = 106

// ErrTrustInvalid means a SetUserTrust carries an unknown quota mode.
var ErrTrustInvalid = errors.New("invalid trust settings")

// SetUserTrust changes what an admin decided about one user. Only the
// parts it sets change: the quota override (SetQuota: Quota is one of
// store.QuotaDefault, QuotaLimit, QuotaUnlimited, DailyLinks the limit)
// and the approval (SetApproved). Approving with Release also releases
// every link of the user held for review at that point (short links and
// profile links alike), each audited as approved; without it they stay in
// the queue for a decision each. Only an admin's action proposes it.
type SetUserTrust struct {
	Header
	Now         int64  `codec:"now"`
	Actor       uint64 `codec:"actor"`
	User        uint64 `codec:"user"`
	SetQuota    bool   `codec:"sq,omitempty"`
	Quota       uint8  `codec:"q,omitempty"`
	DailyLinks  uint32 `codec:"n,omitempty"`
	SetApproved bool   `codec:"sa,omitempty"`
	Approved    bool   `codec:"ok,omitempty"`
	Release     bool   `codec:"rel,omitempty"`
}

func (*SetUserTrust) Type() Type { return TypeSetUserTrust }

func init() {
	versions[TypeSetUserTrust] = 1
	domainErrors["trust-invalid"] = ErrTrustInvalid
}

func applySetUserTrust(txn *store.Txn, c *SetUserTrust) (*Result, error) {
	if c.SetQuota && c.Quota > store.QuotaUnlimited {
		return &Result{Err: ErrTrustInvalid}, nil
	}
	u, res, err := enabledUser(txn, c.User)
	if res != nil || err != nil {
		return res, err
	}
	t, err := txn.UserTrust(c.User)
	if err != nil {
		return nil, err
	}
	if t == nil {
		t = &store.UserTrust{User: c.User}
	}
	before := *t
	if c.SetQuota {
		t.Quota, t.DailyLinks = c.Quota, 0
		if c.Quota == store.QuotaLimit {
			t.DailyLinks = c.DailyLinks
		}
	}
	if c.SetApproved {
		t.Approved = c.Approved
	}
	t.By, t.At = c.Actor, c.Now
	txn.PutUserTrust(t)
	if err := auditTrust(txn, c, &before, t); err != nil {
		return nil, err
	}
	if c.SetApproved && c.Approved && c.Release {
		if err := releaseHeld(txn, c.User, c.Actor, c.Now); err != nil {
			return nil, err
		}
	}
	return &Result{User: u, Trust: t}, nil
}

// auditTrust records each part of the settings that changed.
func auditTrust(txn *store.Txn, c *SetUserTrust, before, after *store.UserTrust) error {
	target := "user:" + strconv.FormatUint(c.User, 10)
	if before.Quota != after.Quota || before.DailyLinks != after.DailyLinks {
		detail := "daily links: default"
		switch after.Quota {
		case store.QuotaLimit:
			detail = "daily links: " + strconv.FormatUint(uint64(after.DailyLinks), 10)
		case store.QuotaUnlimited:
			detail = "daily links: unlimited"
		}
		if err := txn.Audit(&store.AuditEntry{At: c.Now, Actor: c.Actor, Action: "user.quota", Target: target,
			Detail: detail}); err != nil {
			return err
		}
	}
	if before.Approved != after.Approved {
		action := "user.approve"
		if !after.Approved {
			action = "user.unapprove"
		}
		return txn.Audit(&store.AuditEntry{At: c.Now, Actor: c.Actor, Action: action, Target: target})
	}
	return nil
}

// releaseHeld approves every held link of user.
func releaseHeld(txn *store.Txn, user, actor uint64, now int64) error {
	codes, err := txn.HeldCodes()
	if err != nil {
		return err
	}
	var released []string
	for _, code := range codes {
		l, err := txn.Link(code)
		if err != nil {
			return err
		}
		if l.Owner != user {
			continue
		}
		release(txn, l, now)
		released = append(released, code)
		if err := txn.Audit(&store.AuditEntry{At: now, Actor: actor, Action: "review.approve", Target: code,
			Detail: "approved with its owner"}); err != nil {
			return err
		}
	}
	return profileShows(txn, user, now, released...)
}

// release makes a held link active.
func release(txn *store.Txn, l *store.Link, now int64) {
	txn.Unhold(l.Code)
	l.Status, l.UpdatedAt = store.StatusActive, now
	txn.UpdateLink(l)
}

// profileShows notes a profile change (a purge of its page, a
// profile.updated event) when one of codes is a link on user's profile:
// a held profile link is missing from the public page until released, so
// releasing one changes the page although the profile record did not.
func profileShows(txn *store.Txn, user uint64, now int64, codes ...string) error {
	if len(codes) == 0 {
		return nil
	}
	p, err := txn.Profile(user)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	for _, pl := range p.Links {
		for _, code := range codes {
			if pl.Code == code {
				txn.NoteChange(store.Change{Kind: store.ChangeProfile, At: now, Owner: user, Handle: p.Handle})
				return nil
			}
		}
	}
	return nil
}

// createTrust returns the daily limit and hold of a create by owner that
// carries quota (the proposer's default) and hold, after the owner's trust
// settings: an override replaces the default, approval lifts the hold.
// Decided here, in Apply, so an admin's change holds across nodes from
// its commit on, whatever the proposer of a racing create believed.
func createTrust(txn *store.Txn, owner uint64, quota uint32, hold bool) (limit uint64, limited, held bool, err error) {
	t, err := txn.UserTrust(owner)
	if err != nil {
		return 0, false, false, err
	}
	limit, limited = store.DailyLimit(t, quota)
	return limit, limited, hold && (t == nil || !t.Approved), nil
}

// countCreate counts a create of owner at now against limit, or fails it
// with ErrDailyQuota.
func countCreate(txn *store.Txn, owner uint64, now int64, limit uint64) (*Result, error) {
	day := now / store.DayMs
	n, err := txn.DailyLinks(owner, day)
	if err != nil {
		return nil, err
	}
	if n >= limit {
		return &Result{Err: ErrDailyQuota}, nil
	}
	return nil, txn.SetDailyLinks(owner, day, n+1)
}
