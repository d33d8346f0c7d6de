package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/internal/patch"
	"github.com/linkd/linkd/store"
)

// Domain errors returned in Result.Err.
var (
	// ErrExists means the code (an alias, or rarely a minted code that a
	// custom alias already took) is in use, including by a deleted link.
	ErrExists = errors.New("code already in use")
	// ErrNotFound means no such link, or not one the actor may see.
	ErrNotFound = errors.New("link not found")
	// ErrGone means the link was deleted.
	ErrGone = errors.New("link deleted")
	// ErrIdempotencyMismatch means an Idempotency-Key was reused with a
	// different request body.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrInitialized means the cluster was already initialised.
	ErrInitialized = errors.New("cluster already initialised")
)

// idemPrunePerCommand bounds how many expired idempotency records one create
// deletes, so that apply cost stays flat however many keys expire at once.
const idemPrunePerCommand = 16

// Result is what applying a command produced.
type Result struct {
	Link     *store.Link
	User     *store.User
	Profile  *store.Profile
	Domain   *store.Domain
	Range    store.Range
	Replayed bool // an idempotent retry: Link is the original result
	Err      error
	Items    []*Result        // a batch command's per-item results, in order
	Trust    *store.UserTrust // SetUserTrust: the settings after it
}

// FSM applies committed commands to the store.
type FSM struct {
	st      *store.Store
	log     *slog.Logger
	applied atomic.Uint64
	halted  atomic.Pointer[error] // why applying stopped; nil while applying
}

// New returns an FSM over st, resuming from the store's applied index.
func New(st *store.Store, log *slog.Logger) (*FSM, error) {
	n, err := st.AppliedIndex()
	if err != nil {
		return nil, err
	}
	f := &FSM{st: st, log: log}
	f.applied.Store(n)
	return f, nil
}

// Applied returns the raft index of the last applied entry.
func (f *FSM) Applied() uint64 { return f.applied.Load() }

// Apply applies one entry; raft uses ApplyBatch instead.
func (f *FSM) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies a raft batch as one store transaction.
//
// An entry written by a newer linkd (ErrTooNew) halts the fsm instead of
// panicking: a panic would only repeat on every restart under a supervisor,
// a crash loop. The whole batch is discarded, so the store's applied index
// stays below the refused entry and a restart with a newer binary applies
// it; from then on every batch is refused, snapshots fail (so raft keeps the
// log the upgraded binary will need), and Halted makes the node report not
// ready. The node keeps replicating and voting, so the cluster keeps its
// quorum while the operator upgrades it.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	if err := f.Halted(); err != nil {
		return refuseAll(out, err)
	}
	last := f.applied.Load()
	txn := f.st.Begin()
	var newest uint64
	for i, l := range logs {
		if l.Index <= last {
			continue // already applied before a restart
		}
		newest = l.Index
		if l.Type != raft.LogCommand {
			continue
		}
		r, err := f.applyOne(txn, l.Data)
		if err == nil {
			err = emit(txn, l.Index)
		}
		if err != nil {
			txn.Abort()
			return refuseAll(out, f.halt(l.Index, err))
		}
		out[i] = r
	}
	if newest == 0 {
		txn.Abort()
		return out
	}
	if err := txn.Commit(newest); err != nil {
		panic(fmt.Sprintf("fsm: commit at index %d: %v", newest, err))
	}
	f.applied.Store(newest)
	return out
}

// ErrHalted means the fsm stopped applying at an entry this binary is too
// old for. It wraps ErrTooNew.
var ErrHalted = errors.New("fsm: halted")

// Halted returns why the fsm stopped applying, or nil while it applies.
func (f *FSM) Halted() error {
	if p := f.halted.Load(); p != nil {
		return *p
	}
	return nil
}

func (f *FSM) halt(index uint64, cause error) error {
	err := fmt.Errorf("%w at raft index %d: %w; upgrade this node's linkd binary", ErrHalted, index, cause)
	f.halted.Store(&err)
	f.log.Error("REFUSING a raft entry written by a newer linkd: this node stops applying and reports not ready "+
		"(it keeps its log and its vote); start a newer linkd binary on the same data directory to resume",
		"index", index, "appliedIndex", f.applied.Load(), "err", cause)
	return err
}

func refuseAll(out []any, err error) []any {
	for i := range out {
		out[i] = &Result{Err: err}
	}
	return out
}

// applyOne applies one command to txn. It returns an error only for an
// entry this binary is too old for (ErrTooNew, or a record in the store
// that a newer version wrote); anything else that fails is corruption and
// panics.
func (f *FSM) applyOne(txn *store.Txn, data []byte) (*Result, error) {
	c, err := Decode(data)
	if errors.Is(err, ErrTooNew) {
		return nil, err
	}
	if err != nil {
		panic(fmt.Sprintf("fsm: %v", err))
	}
	if g, ok := c.(*Group); ok {
		return f.applyGroup(txn, g)
	}
	var r *Result
	switch c := c.(type) {
	case *Init:
		r, err = applyInit(txn, c)
	case *AllocRange:
		var rg store.Range
		rg, err = txn.AllocRange(c.NodeID, c.Size)
		r = &Result{Range: rg}
	case *CreateLink:
		r, err = applyCreate(txn, c)
	case *UpdateLink:
		if r, err = profileLinkRefusal(txn, c.Code, c.Admin && c.onlyBlocks()); r == nil && err == nil {
			r, err = applyUpdate(txn, c)
		}
	case *DeleteLink:
		if r, err = profileLinkRefusal(txn, c.Code, false); r == nil && err == nil {
			r, err = applyDelete(txn, c)
		}
	case *SetMember:
		txn.PutMember(&store.Member{ID: c.NodeID, HTTPAddr: c.HTTPAddr})
		r = &Result{}
	case *DelMember:
		txn.DeleteMember(c.NodeID)
		r = &Result{}
	case *Clicks:
		r, err = applyClicks(txn, c)
	case *SetSalt:
		r, err = &Result{}, txn.SetSalt(c.Day, c.Salt)
	default:
		r, err = applyFamily(txn, c)
	}
	if errors.Is(err, store.ErrNewerRecord) {
		return nil, err
	}
	if err != nil {
		panic(fmt.Sprintf("fsm: apply %T: %v", c, err))
	}
	return r, nil
}

// applyFamily applies a command of one of the families: the first whose
// apply claims it.
func applyFamily(txn *store.Txn, c Command) (*Result, error) {
	for _, f := range families {
		if r, ok, err := f.apply(txn, c); ok {
			return r, err
		}
	}
	panic(fmt.Sprintf("fsm: no apply for %T", c))
}

func applyInit(txn *store.Txn, c *Init) (*Result, error) {
	done, err := txn.Initialized()
	if err != nil || done {
		return &Result{Err: ErrInitialized}, err
	}
	txn.Init(c.PermKey, []byte(c.ClusterID))
	txn.PutUser(nil, &store.User{ID: AdminUser, Role: store.RoleAdmin, CreatedAt: c.Now, UpdatedAt: c.Now})
	txn.CreateAPIKey(c.AdminKeyHash, &store.APIKey{
		ID: c.AdminKeyID, Name: "bootstrap admin", Owner: AdminUser,
		Scopes: []string{"admin"}, CreatedAt: c.Now,
	})
	if c.AdminInviteHash != nil {
		txn.PutInvite(c.AdminInviteHash, &store.Invite{ID: c.AdminInviteID, Role: store.RoleAdmin,
			CreatedBy: AdminUser, CreatedAt: c.Now, Claims: AdminUser})
	}
	return &Result{}, nil
}

// AdminUser is the id of the bootstrap admin.
const AdminUser uint64 = 1

func applyCreate(txn *store.Txn, c *CreateLink) (*Result, error) {
	var idemID []byte
	if c.IdemKey != "" {
		if err := txn.PruneIdem(c.Now, idemPrunePerCommand); err != nil {
			return nil, err
		}
		idemID = store.IdemID(c.Owner, c.IdemKey)
		prev, err := txn.Idem(idemID, c.Now)
		switch {
		case err == nil && !bytes.Equal(prev.BodyHash, c.BodyHash):
			return &Result{Err: ErrIdempotencyMismatch}, nil
		case err == nil:
			l, err := txn.Link(prev.Code)
			if errors.Is(err, store.ErrNotFound) {
				return &Result{Err: ErrGone}, nil
			}
			return &Result{Link: l, Replayed: true}, err
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	code, res, err := linkDomain(txn, c)
	if res != nil || err != nil {
		return res, err
	}
	if prev, err := txn.Link(code); err == nil {
		if prev.Owner == c.Owner && prev.CreatedAt == c.Now && prev.URL == c.URL && prev.Status == store.StatusActive {
			// This very command, applied before: minted codes are never
			// reissued, so only a retry can match code, owner and time.
			return &Result{Link: prev, Replayed: true}, nil
		}
		return &Result{Err: ErrExists}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if blocked, err := destBlocked(txn, c.URL); blocked || err != nil {
		return &Result{Err: ErrBlockedDestination}, err
	}
	limit, limited, hold, err := createTrust(txn, c.Owner, c.DailyQuota, c.Hold)
	if err != nil {
		return nil, err
	}
	if limited {
		if res, err := countCreate(txn, c.Owner, c.Now, limit); res != nil || err != nil {
			return res, err
		}
	}
	l := &store.Link{
		Code: code, URL: c.URL, Owner: c.Owner, CreatedAt: c.Now, UpdatedAt: c.Now,
		ExpiresAt: c.ExpiresAt, RedirectStatus: c.RedirectStatus, Status: store.StatusActive,
		Custom: c.Custom, Title: c.Title, Tags: c.Tags, LinkOptions: c.options(),
	}
	if hold {
		l.Status = store.StatusHeld
	}
	txn.CreateUnusedLink(l) // txn.Link(code) found nothing above
	if idemID != nil {
		txn.PutIdem(idemID, &store.Idem{BodyHash: c.BodyHash, Code: code,
			ExpiresAt: c.Now + store.IdemTTL.Milliseconds()})
	}
	return &Result{Link: l}, nil
}

// applyClicks merges a click segment unless it was applied before.
func applyClicks(txn *store.Txn, c *Clicks) (*Result, error) {
	last, err := txn.ClickSegment(c.Source)
	if err != nil || c.Segment <= last {
		return &Result{Replayed: true}, err
	}
	// A segment in progress (Clicks v3 parts): skip what is applied.
	links := c.Links
	partSeg, upTo, err := txn.ClickPart(c.Source)
	if err != nil {
		return nil, err
	}
	if partSeg == c.Segment {
		links = slices.DeleteFunc(slices.Clone(links), func(l store.LinkClicks) bool { return l.Code <= upTo })
	}
	if c.More && len(links) == 0 {
		return &Result{Replayed: true}, nil
	}
	if err := txn.ApplyClicks(links, c.Now, c.Retention, c.layout(), countVisits(txn)); err != nil {
		return nil, err
	}
	if err := addDigests(txn, links); err != nil {
		return nil, err
	}
	if c.More { // links holds codes above upTo only
		txn.SetClickPart(c.Source, c.Segment, slices.MaxFunc(links, byCode).Code)
		return &Result{}, nil
	}
	if err := txn.AddOrphans(c.Orphans); err != nil {
		return nil, err
	}
	if partSeg != 0 {
		txn.ClearClickPart(c.Source)
	}
	txn.SetClickSegment(c.Source, c.Segment)
	return &Result{}, nil
}

func byCode(a, b store.LinkClicks) int { return strings.Compare(a.Code, b.Code) }

// countVisits adds a rollup's human clicks to the visit count of each
// link with a visit limit, and marks the link exhausted when the count
// reaches it: the update evicts it from every node's hot set as this entry
// is applied, so redirects stop (or go to the fallback) from then on.
// Bots and previews never count. Because clicks arrive through the
// analytics pipeline, a link may overshoot its limit by the human clicks
// that arrive, on all nodes, within the analytics lag. It is called with
// the link record the click apply has read already.
func countVisits(txn *store.Txn) func(*store.Link, *store.LinkClicks) error {
	return func(l *store.Link, d *store.LinkClicks) error {
		var humans uint64
		for _, day := range d.Days {
			humans += day.Humans
		}
		if humans == 0 || l.MaxVisits == 0 || l.Exhausted || l.Status != store.StatusActive {
			return nil
		}
		n, err := txn.AddVisits(l.Code, humans)
		if err != nil {
			return err
		}
		if n >= l.MaxVisits {
			l.Exhausted = true
			txn.UpdateLink(l)
		}
		return nil
	}
}

// visible returns the link the actor may change, or a domain error.
func visible(txn *store.Txn, code string, actor uint64, admin bool) (*store.Link, *Result, error) {
	l, err := txn.Link(code)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !admin && l.Owner != actor) {
		return nil, &Result{Err: ErrNotFound}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if l.Status == store.StatusDeleted {
		return nil, &Result{Err: ErrGone}, nil
	}
	return l, nil, nil
}

func applyUpdate(txn *store.Txn, c *UpdateLink) (*Result, error) {
	l, res, err := visible(txn, c.Code, c.Actor, c.Admin)
	if l == nil {
		return res, err
	}
	if frozen(l, c.Admin) {
		return &Result{Err: ErrLinkBlocked}, nil
	}
	if c.URL != nil && *c.URL != l.URL {
		if blocked, err := destBlocked(txn, *c.URL); blocked || err != nil {
			return &Result{Err: ErrBlockedDestination}, err
		}
	}
	wasBlocked := l.Status == store.StatusBlocked
	if c.URL != nil {
		l.URL = *c.URL
	}
	if c.Title != nil {
		l.Title = *c.Title
	}
	if c.Tags != nil {
		l.Tags = *c.Tags
	}
	if c.ExpiresAt != nil {
		l.ExpiresAt = *c.ExpiresAt
	}
	if c.RedirectStatus != nil {
		l.RedirectStatus = *c.RedirectStatus
	}
	if c.MaxVisits != nil {
		txn.ResetVisits(l.Code) // a new limit counts from now
	}
	updateOptions(&l.LinkOptions, c)
	l.UpdatedAt = c.Now
	txn.UpdateLink(l)
	if c.Blocked != nil && c.Admin && *c.Blocked != wasBlocked {
		if err := setBlocked(txn, l, *c.Blocked, c.Actor, "", c.Now); err != nil {
			return nil, err
		}
	}
	return &Result{Link: l}, nil
}

// updateOptions applies an update's option fields. A new visit limit
// starts unexhausted; the next click rollup decides again (see
// applyClicks).
func updateOptions(o *store.LinkOptions, c *UpdateLink) {
	patch.Set(&o.Program, c.Program)
	patch.Set(&o.PasswordHash, c.PasswordHash)
	patch.Set(&o.StartsAt, c.StartsAt)
	patch.Set(&o.FallbackURL, c.FallbackURL)
	patch.Set(&o.DropQuery, c.DropQuery)
	patch.Set(&o.ForwardPath, c.ForwardPath)
	patch.Set(&o.QueryPrecedence, c.QueryPrecedence)
	if c.MaxVisits != nil {
		o.MaxVisits, o.Exhausted = *c.MaxVisits, false
	}
	if len(o.Program) == 0 {
		o.Program = nil
	}
}

func applyDelete(txn *store.Txn, c *DeleteLink) (*Result, error) {
	l, res, err := visible(txn, c.Code, c.Actor, c.Admin)
	if errors.Is(res.errOrNil(), ErrGone) {
		return &Result{}, nil // deleting twice is deleting once
	}
	if l == nil {
		return res, err
	}
	if frozen(l, c.Admin) {
		return &Result{Err: ErrLinkBlocked}, nil
	}
	txn.DeleteLink(l, c.Now)
	return &Result{}, nil
}

func (r *Result) errOrNil() error {
	if r == nil {
		return nil
	}
	return r.Err
}

// Idempotent reports whether applying c twice has the effect of applying it
// once, so that a proposal whose outcome is unknown (leadership was lost
// while it was in flight) may be proposed again. Updates are not: a late
// duplicate could undo a later update.
func Idempotent(c Command) bool {
	switch c.(type) {
	case *CreateLink, *DeleteLink, *AllocRange, *SetMember, *DelMember, *Clicks, *SetSalt,
		*CreateUser, *CreateAPIKey, *CreateSession, *DeleteSession, *CreateInvite, *SetProfile, *PutImage,
		*CreateChildKey, *UploadImage,
		*CreateLinks, *DeleteLinks, *SetImportedClicks,
		*CreateWebhook, *DeleteWebhook, *OutboxTick, *PurgeAck, *ResendDelivery:
		return true
	}
	return false
}

// Snapshot captures the state for raft. It is cheap: the stream is written
// later by Persist, concurrently with further applies.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	if err := f.Halted(); err != nil {
		// raft compacts its log up to a snapshot's index; the entries
		// this node has not applied must stay for the upgraded binary.
		return nil, err
	}
	return &snapshot{st: f.st, snap: f.st.Snapshot()}, nil
}

// Restore replaces the state with a snapshot stream.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.st.Restore(rc); err != nil {
		return err
	}
	n, err := f.st.AppliedIndex()
	if err != nil {
		return err
	}
	f.applied.Store(n)
	f.log.Info("restored state from snapshot", "appliedIndex", n)
	return nil
}

type snapshot struct {
	st   *store.Store
	snap *store.Snapshot
}

// Persist writes the snapshot. It first syncs Pebble's WAL: raft truncates
// its log once the snapshot is stored, and entries applied with NoSync must
// be durable in Pebble before the log that could replay them is gone.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	err := s.st.SyncWAL()
	if err == nil {
		_, err = s.snap.WriteTo(sink)
	}
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("fsm: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) Release() { s.snap.Close() }
