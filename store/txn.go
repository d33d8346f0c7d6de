package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// keyLiveLinks counts links that are not deleted, for start-up reporting and
// metrics without a scan.
var keyLiveLinks = []byte("mlivelinks")

// Txn is one raft batch's worth of changes. Reads see the Txn's own writes,
// so two commands in one batch that race for the same alias are decided
// correctly. Only the fsm uses Txn, from raft's single apply goroutine.
type Txn struct {
	s            *Store
	b            *pebble.Batch
	evict        [][]byte
	liveAdd      int64
	domains      bool     // a domain record changed: rebuild the DomainSet on commit
	certs        bool     // the certificate table changed: wake its readers after Commit
	changes      Changes  // link and profile writes since the last TakeChanges
	feedsChanged bool     // the Txn changed a feed record (see FeedsChanged)
	destDeleted  destList // indexes the Txn deleted from (derived.go)
	purgeFloor   []byte   // every purge key below it is deleted (derived.go)
	accounts     bool     // an API key or user record changed (AccountsGen)
	erased       bool     // the Txn erased a user: Options.OnErase before writing
}

// Begin starts a Txn.
func (s *Store) Begin() *Txn {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return &Txn{s: s, b: s.db.NewIndexedBatch()}
}

// Abort discards the Txn.
func (t *Txn) Abort() { _ = t.b.Close() }

// Commit writes the Txn and the applied raft index in one batch, without
// syncing (raft's log is the durable record until SyncWAL), then evicts
// every code the Txn touched from the hot set on this node.
func (t *Txn) Commit(applied uint64) error {
	defer t.b.Close()
	if t.liveAdd != 0 {
		n, err := getUint64(t.b, keyLiveLinks)
		if err != nil {
			return err
		}
		t.setUint64(keyLiveLinks, uint64(int64(n)+t.liveAdd))
	}
	t.setUint64(keyApplied, applied)
	if t.erased {
		t.s.eraseHook(applied)
	}
	if err := t.b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if err := t.commitDerived(); err != nil {
		return err
	}
	for _, code := range t.evict {
		t.s.hot.evict(code)
	}
	if t.certs {
		t.s.certs.notify()
	}
	if t.feedsChanged {
		t.s.feeds.notify()
	}
	if t.domains {
		return t.s.loadDomains()
	}
	return nil
}

func (t *Txn) set(k, v []byte) {
	if err := t.b.Set(k, v, nil); err != nil {
		panic(fmt.Sprintf("store: batch set: %v", err)) // only fails on a closed batch
	}
	t.noteWrite(k, false)
}

func (t *Txn) del(k []byte) {
	if err := t.b.Delete(k, nil); err != nil {
		panic(fmt.Sprintf("store: batch delete: %v", err))
	}
	t.noteWrite(k, true)
}

func (t *Txn) setUint64(k []byte, v uint64) { t.set(k, binary.BigEndian.AppendUint64(nil, v)) }

// Link returns the record for code, or ErrNotFound.
func (t *Txn) Link(code string) (*Link, error) { return getLink(t.b, code) }

// CreateLink stores a new link and indexes it.
func (t *Txn) CreateLink(l *Link) { t.createLink(t.oldLink(l.Code), l) }

// CreateUnusedLink is CreateLink for a code the caller has just read in
// this Txn and found unused, so it is not read again: at millions of links
// that second point read (a miss, through every level's bloom filter) was
// a third of a bulk load's CPU (bench/scale).
func (t *Txn) CreateUnusedLink(l *Link) { t.createLink(nil, l) }

func (t *Txn) createLink(old, l *Link) {
	t.writeLink(old, l)
	t.set(createdKey(l.CreatedAt, l.Code), nil)
	t.set(ownerKey(l.Owner, l.CreatedAt, l.Code), nil)
	if l.Status == StatusHeld {
		t.set(heldKey(l.Code), nil)
	}
	t.liveAdd++
}

// UpdateLink rewrites an existing link. Owner and CreatedAt must not change.
func (t *Txn) UpdateLink(l *Link) { t.putLink(l) }

// DeleteLink turns l into a tombstone: the code stays taken (and answers
// 410) but its destination, title and tags are gone and it leaves the
// listings.
func (t *Txn) DeleteLink(l *Link, now int64) {
	if l.Status == StatusHeld {
		t.Unhold(l.Code)
	}
	t.del(createdKey(l.CreatedAt, l.Code))
	t.del(ownerKey(l.Owner, l.CreatedAt, l.Code))
	tomb := &Link{Code: l.Code, Owner: l.Owner, CreatedAt: l.CreatedAt, UpdatedAt: now,
		Status: StatusDeleted, Custom: l.Custom}
	t.putLink(tomb)
	t.deleteAnalytics(l.Code)
	t.liveAdd--
}

func (t *Txn) putLink(l *Link) { t.writeLink(t.oldLink(l.Code), l) }

// oldLink reads the record a write replaces (nil: none).
func (t *Txn) oldLink(code string) *Link {
	old, err := getLink(t.b, code)
	if err != nil && !errors.Is(err, ErrNotFound) {
		panic(fmt.Sprintf("store: read link %q before writing it: %v", code, err))
	}
	return old
}

// writeLink writes l over old (nil: the code is free).
func (t *Txn) writeLink(old, l *Link) {
	t.noteLink(old, l)
	t.set(linkKey(l.Code), MarshalLink(l))
	t.evict = append(t.evict, []byte(l.Code))
}

// Idem returns the live idempotency record id at now, or ErrNotFound.
func (t *Txn) Idem(id []byte, now int64) (*Idem, error) {
	v, err := get(t.b, idemKey(id))
	if err != nil {
		return nil, err
	}
	r, err := unmarshalIdem(v)
	if err != nil {
		return nil, err
	}
	if now >= r.ExpiresAt {
		return nil, ErrNotFound
	}
	return r, nil
}

// PutIdem stores an idempotency record and queues it for expiry.
func (t *Txn) PutIdem(id []byte, r *Idem) {
	t.set(idemKey(id), marshalIdem(r))
	t.set(idemExpKey(r.ExpiresAt, id), nil)
}

// PruneIdem deletes up to max idempotency records that expired before now.
// Bounding the work keeps every apply cheap; expired records that remain are
// already invisible to Idem.
func (t *Txn) PruneIdem(now int64, max int) error {
	lo := []byte{tIdemExp}
	hi := idemExpKey(now, nil)
	it, err := t.b.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	var dead [][]byte
	for ok := it.First(); ok && len(dead) < max; ok = it.Next() {
		dead = append(dead, append([]byte(nil), it.Key()...))
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	for _, k := range dead {
		t.del(k)
		// The key may have been used again after this entry's record
		// expired; only delete a record that is itself expired.
		_, err := t.Idem(k[9:], now)
		if errors.Is(err, ErrNotFound) {
			t.del(idemKey(k[9:]))
		} else if err != nil {
			return err
		}
	}
	return nil
}

// AllocRange hands nodeID the next size ids. Ranges come from one
// replicated counter, so no id is ever handed out twice.
func (t *Txn) AllocRange(nodeID string, size uint64) (Range, error) {
	next, err := getUint64(t.b, keyNextID)
	if err != nil {
		return Range{}, err
	}
	r := Range{Start: next, End: next + size}
	t.setUint64(keyNextID, r.End)
	t.set(rangeKey(nodeID), marshalRange(r))
	return r, nil
}

// Initialized reports whether Init has been applied.
func (t *Txn) Initialized() (bool, error) {
	_, err := get(t.b, keyInit)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Init records the cluster's permutation key and an init marker.
func (t *Txn) Init(permKey []byte, marker []byte) {
	t.set(keyPerm, permKey)
	t.set(keyInit, marker)
}

// PutAPIKey stores an API key under the hash of its token.
func (t *Txn) PutAPIKey(hash []byte, k *APIKey) { t.set(apiKeyKey(hash), marshalAPIKey(k)) }

// PutMember records a member's addresses.
func (t *Txn) PutMember(m *Member) { t.set(memberKey(m.ID), marshalMember(m)) }

// DeleteMember forgets a member.
func (t *Txn) DeleteMember(id string) { t.del(memberKey(id)) }
