package fsm

import (
	"errors"
	"strconv"
	"strings"

	"github.com/linkd/linkd/internal/destkey"
	"github.com/linkd/linkd/store"
)

// Trust and safety commands (issue 14): blocklists, takedowns, appeals.
// Types 60–69 belong to this file.
const (
	TypeAddBlock    Type = 60
	TypeDeleteBlock Type = 61
	TypeTakedown    Type = 62
	TypeAppeal      Type = 63
)

// Domain errors of moderation.
var (
	// ErrBlockedDestination means the destination is on a blocklist or is
	// the destination of a taken-down link.
	ErrBlockedDestination = errors.New("destination is blocked")
	// ErrLinkBlocked means the link was taken down: its owner can neither
	// change nor delete it (they may appeal).
	ErrLinkBlocked = errors.New("link is blocked")
	// ErrNotBlocked means an appeal was sent for a link that is not blocked.
	ErrNotBlocked = errors.New("link is not blocked")
	// ErrBlockNotFound means no blocklist entry has that id.
	ErrBlockNotFound = errors.New("no such blocklist entry")
	// ErrBlockExists means an entry of that kind and value (or that id)
	// exists already.
	ErrBlockExists = errors.New("blocklist entry exists")
)

// AddBlock adds a blocklist entry and, in the same Apply, blocks every live
// link whose destination matches it (profile links included), so every
// node answers 451 for them from the commit on. Value is normalised by the
// proposer (see store.BlockEntry).
type AddBlock struct {
	Header
	Now    int64  `codec:"now"`
	ID     uint64 `codec:"id"`
	Kind   uint8  `codec:"kind"`
	Value  string `codec:"val"`
	Reason string `codec:"why,omitempty"`
	Actor  uint64 `codec:"actor"`
	Source string `codec:"src,omitempty"`
}

// DeleteBlock removes a blocklist entry and lifts the takedowns it made
// (links blocked by hand, or by another entry, stay blocked).
type DeleteBlock struct {
	Header
	Now   int64  `codec:"now"`
	ID    uint64 `codec:"id"`
	Actor uint64 `codec:"actor"`
}

// Takedown blocks (Block) or unblocks a link by hand. Only admins propose
// it; the reason is shown to the owner and on the 451 page.
type Takedown struct {
	Header
	Now    int64  `codec:"now"`
	Code   string `codec:"code"`
	Actor  uint64 `codec:"actor"`
	Block  bool   `codec:"block,omitempty"`
	Reason string `codec:"why,omitempty"`
}

// Appeal records the owner's note to admins on a blocked link.
type Appeal struct {
	Header
	Now   int64  `codec:"now"`
	Code  string `codec:"code"`
	Actor uint64 `codec:"actor"`
	Note  string `codec:"note"`
}

func (*AddBlock) Type() Type    { return TypeAddBlock }
func (*DeleteBlock) Type() Type { return TypeDeleteBlock }
func (*Takedown) Type() Type    { return TypeTakedown }
func (*Appeal) Type() Type      { return TypeAppeal }

func init() {
	for t, v := range map[Type]uint8{TypeAddBlock: 1, TypeDeleteBlock: 1, TypeTakedown: 1, TypeAppeal: 1} {
		versions[t] = v
	}
	// Wire names of the moderation errors, so that a follower that
	// forwarded a command classifies them as the leader did.
	for name, e := range map[string]error{"blocked-destination": ErrBlockedDestination, "link-blocked": ErrLinkBlocked,
		"not-blocked": ErrNotBlocked, "block-not-found": ErrBlockNotFound, "block-exists": ErrBlockExists,
		"reports-full": ErrReportsFull, "report-not-found": ErrReportNotFound} {
		domainErrors[name] = e
	}
}

// newModeration returns an empty moderation command, or nil.
func newModeration(t Type) Command {
	if c := newFeedCommand(t); c != nil {
		return c
	}
	switch t {
	case TypeAddBlock:
		return &AddBlock{}
	case TypeDeleteBlock:
		return &DeleteBlock{}
	case TypeTakedown:
		return &Takedown{}
	case TypeAppeal:
		return &Appeal{}
	case TypeReport:
		return &Report{}
	case TypeResolveReport:
		return &ResolveReport{}
	}
	return nil
}

// applyModeration applies the moderation commands; ok is false for others.
func applyModeration(txn *store.Txn, c Command) (r *Result, ok bool, err error) {
	switch c := c.(type) {
	case *AddBlock:
		r, err = applyAddBlock(txn, c)
	case *DeleteBlock:
		r, err = applyDeleteBlock(txn, c)
	case *Takedown:
		r, err = applyTakedown(txn, c)
	case *Appeal:
		r, err = applyAppeal(txn, c)
	case *Report:
		r, err = applyReport(txn, c)
	case *ResolveReport:
		r, err = applyResolveReport(txn, c)
	default:
		return applyFeedCommand(txn, c)
	}
	return r, true, err
}

func applyAddBlock(txn *store.Txn, c *AddBlock) (*Result, error) {
	if _, err := txn.Block(c.ID); err == nil {
		return &Result{Err: ErrBlockExists}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if _, err := txn.BlockByValue(store.BlockKind(c.Kind), c.Value); err == nil {
		return &Result{Err: ErrBlockExists}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	b := &store.BlockEntry{ID: c.ID, Kind: store.BlockKind(c.Kind), Value: c.Value, Reason: c.Reason,
		CreatedBy: c.Actor, CreatedAt: c.Now, Source: c.Source}
	txn.PutBlock(b)
	n, err := rescan(txn, b)
	if err != nil {
		return nil, err
	}
	return &Result{}, txn.Audit(&store.AuditEntry{At: c.Now, Actor: c.Actor,
		Action: "blocklist.add", Target: b.Kind.String() + ":" + b.Value, Detail: blockDetail(b, n)})
}

func blockDetail(b *store.BlockEntry, n uint64) string {
	s := "blocked " + strconv.FormatUint(n, 10) + " links"
	if b.Reason != "" {
		s += "; reason: " + b.Reason
	}
	return s
}

// rescan blocks every live link that b matches and returns how many.
func rescan(txn *store.Txn, b *store.BlockEntry) (uint64, error) {
	var hits []*store.Link
	err := txn.EachLink(func(l *store.Link) error {
		if reviewable(l) && matches(b, l.URL) {
			hits = append(hits, l)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, l := range hits {
		block(txn, l, &store.Takedown{Reason: blockReason(b), By: b.CreatedBy, At: b.CreatedAt, BlockID: b.ID})
	}
	return uint64(len(hits)), nil
}

// blockReason is what the owner and the 451 page read for a takedown by
// blocklist entry b.
func blockReason(b *store.BlockEntry) string {
	reason := "Its destination is on the blocklist"
	if b.Reason != "" {
		reason += ": " + b.Reason
	}
	return reason
}

// matches reports whether entry b matches destination raw.
func matches(b *store.BlockEntry, raw string) bool {
	p, ok := destkey.Of(raw)
	if !ok {
		return false
	}
	switch b.Kind {
	case store.BlockURL:
		return p.Key == b.Value
	case store.BlockHost:
		return p.Host == b.Value
	case store.BlockDomain:
		return p.Host == b.Value || strings.HasSuffix(p.Host, "."+b.Value)
	}
	return false
}

// destBlocked reports whether raw is on a blocklist or a threat feed, or
// is (by host and path) the destination of a taken-down link.
func destBlocked(txn *store.Txn, raw string) (bool, error) {
	p, ok := destkey.Of(raw)
	if !ok {
		return false, nil
	}
	if taken, err := txn.DestTakenDown(p.Key); taken || err != nil {
		return taken, err
	}
	if b, err := blockListing(txn, raw); b != nil || err != nil {
		return b != nil, err
	}
	// No feed exists before a type-100 command, which older binaries
	// refuse: this lookup changes nothing for the clusters they run.
	id, err := feedListing(txn, raw)
	return id != 0, err
}

// blockListing returns the blocklist entry that matches raw (a url entry,
// a host entry, then a domain entry for the host or a parent), or nil.
func blockListing(txn *store.Txn, raw string) (*store.BlockEntry, error) {
	var b *store.BlockEntry
	_, err := listed(raw, func(k store.BlockKind, v string) (bool, error) {
		var err error
		b, err = txn.BlockByValue(k, v)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	return b, err
}

// listed asks has about raw's keys in the order every list is matched:
// its host and path (url entries), its host (host entries), then its host
// and each parent domain (domain entries), until has answers true or fails.
func listed(raw string, has func(k store.BlockKind, v string) (bool, error)) (bool, error) {
	p, ok := destkey.Of(raw)
	if !ok {
		return false, nil
	}
	if hit, err := has(store.BlockURL, p.Key); hit || err != nil {
		return hit, err
	}
	if hit, err := has(store.BlockHost, p.Host); hit || err != nil {
		return hit, err
	}
	var hit bool
	var err error
	destkey.Suffixes(p.Host, func(d string) bool {
		hit, err = has(store.BlockDomain, d)
		return !hit && err == nil
	})
	return hit, err
}

// block takes l down: status blocked (451 on every node once committed),
// the takedown record, and its destination key indexed so the destination
// cannot come back under another code.
func block(txn *store.Txn, l *store.Link, td *store.Takedown) {
	td.Code = l.Code
	if p, ok := destkey.Of(l.URL); ok {
		td.DestKey = p.Key
	}
	if l.Status == store.StatusHeld {
		txn.Unhold(l.Code)
	}
	l.Status = store.StatusBlocked
	l.UpdatedAt = td.At
	txn.UpdateLink(l)
	txn.PutTakedown(td)
}

// unblock lifts l's takedown (l must not be deleted).
func unblock(txn *store.Txn, l *store.Link, now int64) error {
	td, err := txn.Takedown(l.Code)
	if err == nil {
		txn.DeleteTakedown(td)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if l.Status == store.StatusBlocked {
		l.Status = store.StatusActive
		l.UpdatedAt = now
		txn.UpdateLink(l)
	}
	return nil
}

func applyDeleteBlock(txn *store.Txn, c *DeleteBlock) (*Result, error) {
	b, err := txn.Block(c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return &Result{Err: ErrBlockNotFound}, nil
	} else if err != nil {
		return nil, err
	}
	txn.DeleteBlock(b)
	var lift []*store.Takedown
	err = txn.Takedowns(func(td *store.Takedown) error {
		if td.BlockID == b.ID {
			lift = append(lift, td)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, td := range lift {
		// A link a threat feed lists stays blocked by the feed (no feed
		// exists on a cluster an older binary could be part of).
		if _, err := relist(txn, td, c.Now, false); err != nil {
			return nil, err
		}
	}
	return &Result{}, txn.Audit(&store.AuditEntry{At: c.Now, Actor: c.Actor, Action: "blocklist.delete",
		Target: b.Kind.String() + ":" + b.Value, Detail: "unblocked " + strconv.Itoa(len(lift)) + " links"})
}

func applyTakedown(txn *store.Txn, c *Takedown) (*Result, error) {
	l, res, err := visible(txn, c.Code, c.Actor, true)
	if l == nil {
		return res, err
	}
	if err := setBlocked(txn, l, c.Block, c.Actor, c.Reason, c.Now); err != nil {
		return nil, err
	}
	return &Result{Link: l}, nil
}

// setBlocked blocks or unblocks l by an admin's hand, with an audit record.
// Blocking a blocked link only updates the reason.
func setBlocked(txn *store.Txn, l *store.Link, blocked bool, actor uint64, reason string, now int64) error {
	action := "link.unblock"
	if blocked {
		action = "link.block"
		if prev, err := txn.Takedown(l.Code); err == nil {
			txn.DeleteTakedown(prev)
		}
		if reason == "" {
			reason = "Taken down by an administrator"
		}
		block(txn, l, &store.Takedown{Reason: reason, By: actor, At: now})
	} else if err := unblock(txn, l, now); err != nil {
		return err
	}
	return txn.Audit(&store.AuditEntry{At: now, Actor: actor, Action: action, Target: l.Code, Detail: reason})
}

func applyAppeal(txn *store.Txn, c *Appeal) (*Result, error) {
	l, res, err := visible(txn, c.Code, c.Actor, false)
	if l == nil {
		return res, err
	}
	td, err := txn.Takedown(c.Code)
	if errors.Is(err, store.ErrNotFound) || l.Status != store.StatusBlocked {
		return &Result{Err: ErrNotBlocked}, nil
	} else if err != nil {
		return nil, err
	}
	td.Appeal, td.AppealAt = c.Note, c.Now
	txn.PutTakedown(td)
	return &Result{Link: l}, txn.Audit(&store.AuditEntry{At: c.Now, Actor: c.Actor, Action: "link.appeal",
		Target: c.Code, Detail: c.Note})
}

// frozen is the check link create/update/delete make: a blocked link is
// frozen for everyone but admins.
func frozen(l *store.Link, admin bool) bool { return l.Status == store.StatusBlocked && !admin }
