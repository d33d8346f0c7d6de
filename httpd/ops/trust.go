package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/store"
)

// User trust settings (issue 14): an admin's per-user daily link quota
// override and approval (fsm.SetUserTrust). The fsm decides both in Apply
// from the replicated record, so they hold on every node from the commit
// on; this file validates and shows them.

// MaxDailyLinks bounds a quota override (a larger limit is "unlimited").
const MaxDailyLinks = 1_000_000

// Unlimited is the JSON and form value of a quota override without limit.
const Unlimited = "unlimited"

// Trust is a user's trust settings as the API shows them. DailyLinks is
// the override: a number, "unlimited", or null for the server default
// (--user-daily-links, DefaultDailyLinks; 0 there means none).
type Trust struct {
	User              uint64  `json:"user"`
	DailyLinks        any     `json:"dailyLinks"`
	DefaultDailyLinks uint32  `json:"defaultDailyLinks"`
	Approved          bool    `json:"approved"`
	UpdatedBy         *uint64 `json:"updatedBy,omitempty"`
	UpdatedAt         *string `json:"updatedAt,omitempty"`
}

// TrustPatch changes a user's settings; absent fields stay. DailyLinks is
// raw so that null (back to the default) differs from absent. ReleaseHeld,
// with approved true, also approves every link of the user held for review
// at that moment (short and profile links) in the same command; without
// it they stay in the queue.
type TrustPatch struct {
	DailyLinks  json.RawMessage `json:"dailyLinks,omitempty"`
	Approved    *bool           `json:"approved,omitempty"`
	ReleaseHeld bool            `json:"releaseHeld,omitempty"`
}

// trustView shows t (nil: the defaults) of user.
func (o *Ops) trustView(user uint64, t *store.UserTrust) Trust {
	v := Trust{User: user, DefaultDailyLinks: o.dailyLinks}
	if t == nil {
		return v
	}
	switch t.Quota {
	case store.QuotaLimit:
		v.DailyLinks = t.DailyLinks
	case store.QuotaUnlimited:
		v.DailyLinks = Unlimited
	}
	v.Approved = t.Approved
	if t.By != 0 {
		by := t.By
		v.UpdatedBy, v.UpdatedAt = &by, optTime(t.At)
	}
	return v
}

// UserTrust reads a user's trust settings (admins).
func (o *Ops) UserTrust(p Principal, id uint64) (Trust, error) {
	if !p.IsAdmin() {
		return Trust{}, Fail(KindNotFound, "No such resource.")
	}
	if _, err := o.User(id); err != nil {
		return Trust{}, err
	}
	t, err := o.st.UserTrust(id)
	return o.trustView(id, t), err
}

// SetUserTrust changes a user's trust settings (admins; audited).
func (o *Ops) SetUserTrust(p Principal, id uint64, req TrustPatch) (Trust, error) {
	if !p.IsAdmin() {
		return Trust{}, Fail(KindNotFound, "No such resource.")
	}
	c := &fsm.SetUserTrust{Now: time.Now().UnixMilli(), Actor: p.Owner(), User: id}
	var errs Fields
	if len(req.DailyLinks) > 0 {
		c.SetQuota = true
		var err error
		c.Quota, c.DailyLinks, err = parseDailyLinks(req.DailyLinks)
		errs.Add("dailyLinks", err)
	}
	if req.Approved != nil {
		c.SetApproved, c.Approved = true, *req.Approved
	}
	if req.ReleaseHeld && !c.Approved {
		errs.Add("releaseHeld", errors.New(`needs "approved": true`))
	}
	c.Release = req.ReleaseHeld
	if !c.SetQuota && !c.SetApproved && errs == nil {
		errs.Add("dailyLinks", errors.New(`give "dailyLinks" or "approved"`))
	}
	if err := Invalid("Nothing was changed.", errs); err != nil {
		return Trust{}, err
	}
	res, err := o.propose(c)
	if err != nil {
		return Trust{}, err
	}
	if res.Trust == nil || res.Trust.IsDefault() {
		return o.trustView(id, nil), nil
	}
	return o.trustView(id, res.Trust), nil
}

// parseDailyLinks reads a quota override: null (the server default),
// "unlimited", or a whole number 0..MaxDailyLinks.
func parseDailyLinks(raw json.RawMessage) (mode uint8, n uint32, err error) {
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "null", `"default"`:
		return store.QuotaDefault, 0, nil
	case `"` + Unlimited + `"`:
		return store.QuotaUnlimited, 0, nil
	}
	v, perr := strconv.ParseUint(string(raw), 10, 32)
	if perr != nil || v > MaxDailyLinks {
		return 0, 0, errors.New(`must be a whole number from 0 to 1000000, "unlimited", or null (the server default)`)
	}
	return store.QuotaLimit, uint32(v), nil
}

// DailyLinksField turns a form value ("", "default", "unlimited" or a
// number) into TrustPatch.DailyLinks: "" leaves the override as it is.
func DailyLinksField(s string) json.RawMessage {
	switch s {
	case "":
		return nil
	case "default":
		return json.RawMessage("null")
	case Unlimited:
		return json.RawMessage(`"` + Unlimited + `"`)
	}
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return json.RawMessage(strconv.Quote(s)) // refused by parseDailyLinks with the field's message
	}
	return json.RawMessage(s)
}
