package store

import (
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// In-memory summaries of replicated state that let the fsm skip reads whose
// answer is already known. They are derived from the store alone (rebuilt
// on Open and Restore, kept in step by Txn), and they only ever skip reads
// that would find nothing, so Apply decides exactly as it would without
// them, on every node: they are not state, and nothing is replicated.

// destList is one index a create's destination is checked against
// (fsm.destBlocked): a bit in Store.destLists, set while the index may
// hold an entry.
type destList uint32

const (
	listTakenDest destList = 1 << iota // f: destinations of taken-down links
	listBlock                          // b: the blocklist's value index
	listFeed                           // y<kind>: the feeds' value index (y\x00 is the held queue)
)

// destListOf returns the index a key belongs to, or 0.
func destListOf(k []byte) destList {
	switch {
	case len(k) == 0:
		return 0
	case k[0] == tTakenDest:
		return listTakenDest
	case k[0] == tBlockIdx:
		return listBlock
	case k[0] == tFeedIdx && len(k) > 1 && k[1] != 0:
		return listFeed
	}
	return 0
}

// bounds returns the key range of l.
func (l destList) bounds() (lo, hi []byte) {
	switch l {
	case listTakenDest:
		return []byte{tTakenDest}, []byte{tTakenDest + 1}
	case listBlock:
		return []byte{tBlockIdx}, []byte{tBlockIdx + 1}
	}
	return []byte{tFeedIdx, 1}, []byte{tFeedIdx + 1}
}

// destListSet is the bit set of indexes that may hold entries. A Txn sets
// a bit as soon as it writes into the index (its own later reads must see
// the write; a bit left set by an aborted Txn only costs reads), and a
// Txn that deleted from an index has the bit recomputed after it commits.
type destListSet struct{ bits atomic.Uint32 }

func (d *destListSet) may(l destList) bool { return d.bits.Load()&uint32(l) != 0 }
func (d *destListSet) mark(l destList)     { d.bits.Or(uint32(l)) }

// recompute sets each bit of which to whether its index holds a key in db.
func (d *destListSet) recompute(db pebble.Reader, which destList) error {
	for l := listTakenDest; l <= listFeed; l <<= 1 {
		if which&l == 0 {
			continue
		}
		lo, hi := l.bounds()
		found := false
		if err := scan(db, lo, hi, func(_, _ []byte) error { found = true; return errStopScan }); err != nil {
			return err
		}
		if found {
			d.bits.Or(uint32(l))
		} else {
			d.bits.And(^uint32(l))
		}
	}
	return nil
}

// loadDerived rebuilds every summary from the database (Open, Restore).
func (s *Store) loadDerived() error {
	s.purgeFloor = nil
	s.accountsGen.Add(1)
	if err := s.view(func(db *pebble.DB) error {
		return s.destLists.recompute(db, listTakenDest|listBlock|listFeed)
	}); err != nil {
		return err
	}
	return s.loadDomains()
}

// AccountsGen changes after every committed Txn that wrote an API key or a
// user record, and after a restore: a cache of credentials checked at one
// generation is good while the generation is unchanged (httpd/ops caches
// API tokens by it). It is local to this node, not replicated.
func (s *Store) AccountsGen() uint64 { return s.accountsGen.Load() }

// noteWrite keeps the summaries in step with one Txn write or delete.
func (t *Txn) noteWrite(k []byte, del bool) {
	if len(k) > 0 && (k[0] == tKey || k[0] == tUser) {
		t.accounts = true
	}
	l := destListOf(k)
	switch {
	case l == 0:
	case del:
		t.destDeleted |= l
	default:
		t.s.destLists.mark(l)
	}
}

// commitDerived publishes what a committed Txn changed in the summaries.
func (t *Txn) commitDerived() error {
	if t.accounts {
		t.s.accountsGen.Add(1)
	}
	if t.purgeFloor != nil {
		t.s.purgeFloor = t.purgeFloor
	}
	if t.destDeleted == 0 {
		return nil
	}
	return t.s.view(func(db *pebble.DB) error { return t.s.destLists.recompute(db, t.destDeleted) })
}

// The purge queue (table q) is appended at increasing positions and
// emptied from its oldest entry (EnqueuePurge past the cap, AckPurges), so
// every key below the last one deleted is deleted too. Its deletions stay
// as tombstones until Pebble compacts them away; a scan from the start of
// the table walks all of them, which once the queue is full is every
// create's cost growing with the count of creates (11% of a node's CPU
// after 2,000 creates over the cap). purgeFloor is the lowest key that may
// still be live: scans start there. Only the fsm's goroutine (Txn, Commit,
// Restore) reads or writes it.

// purgeScanFrom returns where a scan of the purge queue starts.
func (t *Txn) purgeScanFrom() []byte {
	if t.purgeFloor != nil {
		return t.purgeFloor
	}
	if t.s.purgeFloor != nil {
		return t.s.purgeFloor
	}
	return []byte{tPurge}
}

// raisePurgeFloor records that every purge key below k is deleted.
func (t *Txn) raisePurgeFloor(k []byte) {
	t.purgeFloor = append([]byte(nil), k...)
}
