package ops

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/destkey"
	"github.com/linkd/linkd/store"
)

// Trust and safety operations (issue 14): blocklists, takedowns, appeals.
// The rules themselves (what matches, what a blocked link may do) are in
// the fsm, so that every node decides the same; here are the admin checks,
// the normalisation of entries and the views.

// maxReason bounds a reason or an appeal note.
const maxReason = 500

// NewBlock is a blocklist entry as an admin submits it.
type NewBlock struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	Reason string `json:"reason,omitempty"`
}

// Block is a blocklist entry as the API shows it.
type Block struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Value     string `json:"value"`
	Reason    string `json:"reason"`
	Source    string `json:"source,omitempty"`
	CreatedBy uint64 `json:"createdBy"`
	CreatedAt string `json:"createdAt"`
}

// BlockView shows b.
func BlockView(b *store.BlockEntry) Block {
	return Block{ID: strconv.FormatUint(b.ID, 10), Kind: b.Kind.String(), Value: b.Value, Reason: b.Reason,
		Source: b.Source, CreatedBy: b.CreatedBy, CreatedAt: MsTime(b.CreatedAt)}
}

// NormalizeBlock checks an entry and returns its stored form: a URL as its
// host and path (any scheme, query or fragment matches), a host lower case,
// a domain as its registrable domain (public suffix list), which blocks it
// and every subdomain.
func NormalizeBlock(kind, value string) (store.BlockKind, string, error) {
	value = strings.TrimSpace(value)
	if value == "" || len(value) > 2048 {
		return 0, "", errors.New("must be 1 to 2048 characters")
	}
	switch kind {
	case "url":
		p, ok := destkey.Of(value)
		if !ok {
			return 0, "", errors.New("must be an absolute URL")
		}
		return store.BlockURL, p.Key, nil
	case "host", "domain":
		h := value
		if p, ok := destkey.Of(value); ok {
			h = p.Host // a URL given for a host: take its host
		}
		h = destkey.Host(h)
		if h == "" || strings.ContainsAny(h, "/?#@ ") {
			return 0, "", errors.New("must be a host name")
		}
		if kind == "host" {
			return store.BlockHost, h, nil
		}
		return store.BlockDomain, destkey.Registrable(h), nil
	}
	return 0, "", errors.New(`kind must be "url", "host" or "domain"`)
}

// AddBlock adds a blocklist entry; the fsm blocks every matching link in
// the same commit.
func (o *Ops) AddBlock(p Principal, req NewBlock) (Block, error) {
	if !p.IsAdmin() {
		return Block{}, Fail(KindForbidden, "Only admins manage the blocklist.")
	}
	var errs Fields
	kind, value, err := NormalizeBlock(req.Kind, req.Value)
	if err != nil && strings.HasPrefix(err.Error(), "kind") {
		errs.Add("kind", err)
	} else {
		errs.Add("value", err)
	}
	reason, err := boundedText(req.Reason, maxReason, false)
	errs.Add("reason", err)
	if err := Invalid("The entry was not added.", errs); err != nil {
		return Block{}, err
	}
	c := &fsm.AddBlock{Now: time.Now().UnixMilli(), ID: newBlockID(), Kind: uint8(kind), Value: value,
		Reason: reason, Actor: p.Owner()}
	if _, err := o.propose(c); err != nil {
		return Block{}, err
	}
	return BlockView(&store.BlockEntry{ID: c.ID, Kind: kind, Value: value, Reason: reason, CreatedBy: c.Actor,
		CreatedAt: c.Now}), nil
}

// newBlockID is a random id in [1, 2^53), so JSON clients keep it exact.
func newBlockID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])>>11 | 1
}

// Blocks lists the blocklist.
func (o *Ops) Blocks() ([]Block, error) {
	bs, err := o.st.Blocks()
	out := make([]Block, 0, len(bs))
	for _, b := range bs {
		out = append(out, BlockView(b))
	}
	return out, err
}

// DeleteBlock removes an entry and lifts the takedowns it made.
func (o *Ops) DeleteBlock(p Principal, id string) error {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return Fail(KindNotFound, "No such blocklist entry.")
	}
	_, err = o.propose(&fsm.DeleteBlock{Now: time.Now().UnixMilli(), ID: n, Actor: p.Owner()})
	return err
}

// TakedownReq is an admin's block or unblock of one link.
type TakedownReq struct {
	Reason string `json:"reason,omitempty"`
}

// SetTakedown blocks (block) or unblocks one link, audited. Admins only.
func (o *Ops) SetTakedown(p Principal, code string, block bool, reason string) (*store.Link, error) {
	if !p.IsAdmin() {
		return nil, Fail(KindNotFound, "No such link.")
	}
	reason, err := boundedText(reason, maxReason, false)
	if err != nil {
		return nil, Fail(KindValidation, "The link was not changed.", FieldError{Field: "reason", Message: err.Error()})
	}
	if err := o.writableLink(p, code); err != nil {
		return nil, err
	}
	res, err := o.propose(&fsm.Takedown{Now: time.Now().UnixMilli(), Code: code, Actor: p.Owner(), Block: block, Reason: reason})
	if err != nil {
		return nil, err
	}
	return res.Link, nil
}

// TakedownInfo is why a link is blocked, as its owner and admins see it.
type TakedownInfo struct {
	Code     string  `json:"code"`
	Status   string  `json:"status"`
	Reason   string  `json:"reason"`
	At       string  `json:"blockedAt"`
	Appeal   string  `json:"appeal,omitempty"`
	AppealAt *string `json:"appealedAt,omitempty"`
}

// Takedown returns why one of the principal's links is blocked
// (KindNotFound when it is not blocked).
func (o *Ops) Takedown(p Principal, code string) (TakedownInfo, error) {
	l, err := o.VisibleLink(p, code)
	if err != nil {
		return TakedownInfo{}, err
	}
	td, err := o.st.Takedown(code)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.Status != store.StatusBlocked) {
		return TakedownInfo{}, Fail(KindNotFound, "The link is not blocked.")
	} else if err != nil {
		return TakedownInfo{}, err
	}
	return TakedownInfo{Code: code, Status: l.Status.String(), Reason: td.Reason, At: MsTime(td.At),
		Appeal: td.Appeal, AppealAt: optTime(td.AppealAt)}, nil
}

// AppealReq is an owner's note to admins about a blocked link.
type AppealReq struct {
	Note string `json:"note"`
}

// Appeal records the owner's note on their blocked link, audited.
func (o *Ops) Appeal(p Principal, code string, note string) error {
	note, err := boundedText(note, maxReason, true)
	if err == nil && strings.TrimSpace(note) == "" {
		err = errors.New("must not be empty")
	}
	if err != nil {
		return Fail(KindValidation, "The appeal was not sent.", FieldError{Field: "note", Message: err.Error()})
	}
	if err := o.writableLink(p, code); err != nil {
		return err
	}
	_, err = o.propose(&fsm.Appeal{Now: time.Now().UnixMilli(), Code: code, Actor: p.Owner(), Note: note})
	return err
}

// AuditRecord is one audit trail entry.
type AuditRecord struct {
	Seq    uint64 `json:"seq"`
	At     string `json:"at"`
	Actor  uint64 `json:"actor"`
	Action string `json:"action"`
	Target string `json:"target"`
	Detail string `json:"detail"`
}

// Audit returns the newest limit audit records.
func (o *Ops) Audit(limit int) ([]AuditRecord, error) {
	as, err := o.st.AuditLog(limit)
	out := make([]AuditRecord, 0, len(as))
	for _, a := range as {
		out = append(out, AuditRecord{Seq: a.Seq, At: MsTime(a.At), Actor: a.Actor, Action: a.Action,
			Target: a.Target, Detail: a.Detail})
	}
	return out, err
}

// WithoutBlocked returns p without its blocked links and those held for
// review (for the public page and API), and a fingerprint of which were
// dropped (for page caches, since neither a takedown nor an approval
// changes the profile record). It reads the hot
// set, so it costs no disk on a warm node.
func (o *Ops) WithoutBlocked(p *store.Profile) (*store.Profile, string) {
	var dropped []byte
	var keep []store.ProfileLink
	for i, l := range p.Links {
		e, _, err := o.st.Resolve(nil, []byte(l.Code))
		if err == nil && (e.Kind == store.HotBlocked || e.Kind == store.HotHeld) {
			if keep == nil {
				keep = append([]store.ProfileLink{}, p.Links[:i]...)
			}
			dropped = strconv.AppendInt(append(dropped, ','), int64(i), 10)
			continue
		}
		if keep != nil {
			keep = append(keep, l)
		}
	}
	if keep == nil {
		return p, ""
	}
	cp := *p
	cp.Links = keep
	return &cp, string(dropped)
}

// classifyModeration maps the fsm's moderation errors.
func classifyModeration(err error) *Error {
	switch {
	case errors.Is(err, fsm.ErrBlockedDestination):
		return Fail(KindBlockedDest, "This destination is blocked on this instance.",
			FieldError{Field: "url", Message: "is blocked"})
	case errors.Is(err, fsm.ErrLinkBlocked):
		return Fail(KindLinkBlocked, "The link was taken down: it cannot be changed or deleted. "+
			"Read why with GET /api/v1/links/{code}/takedown and appeal with POST /api/v1/links/{code}/appeal.")
	case errors.Is(err, fsm.ErrNotBlocked):
		return Fail(KindNotFound, "The link is not blocked.")
	case errors.Is(err, fsm.ErrBlockNotFound):
		return Fail(KindNotFound, "No such blocklist entry.")
	case errors.Is(err, fsm.ErrReportNotFound):
		return Fail(KindNotFound, "No such report.")
	case errors.Is(err, fsm.ErrReportsFull):
		return Fail(KindRateLimited, "The report queue is full; please try again later.")
	case errors.Is(err, fsm.ErrDailyQuota):
		return Fail(KindDailyQuota, "You have created as many links today as this instance allows; "+
			"retry after midnight UTC (see Retry-After).")
	case errors.Is(err, fsm.ErrTrustInvalid):
		return Fail(KindValidation, "Nothing was changed.", FieldError{Field: "dailyLinks", Message: "is not a quota"})
	case errors.Is(err, fsm.ErrNotHeld):
		return Fail(KindNotFound, "The link is not waiting for review.")
	case errors.Is(err, fsm.ErrFeedNotFound):
		return Fail(KindNotFound, "No such feed.")
	case errors.Is(err, fsm.ErrBlockExists):
		return Fail(KindBlockExists, "The blocklist has this entry already.")
	}
	return nil
}

// dailyQuota is the daily link quota that p's creates carry (0: none).
// Admins are exempt.
func (o *Ops) dailyQuota(p Principal) uint32 {
	if p.IsAdmin() {
		return 0
	}
	return o.dailyLinks
}

// AbuseContact is the reporting policy the 451 page links to, as an href
// ("" for none): a URL as given, an email address as a mailto: link.
func (o *Ops) AbuseContact() string {
	switch {
	case o.abuse == "":
		return ""
	case strings.Contains(o.abuse, "@") && !strings.Contains(o.abuse, "/"):
		return "mailto:" + o.abuse
	}
	return o.abuse
}
