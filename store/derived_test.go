package store

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The destination indexes' summary answers exactly what the reads would:
// a Txn sees its own blocklist, takedown and feed writes at once, a delete
// that empties an index clears its bit after the commit, an aborted Txn
// leaves nothing wrong behind, and Restore and Open rebuild the summary.
func TestDestListsFollowWrites(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, fs, "a")
	defer s.Close()
	if s.destLists.bits.Load() != 0 {
		t.Fatalf("a new store's summary is %b, want empty", s.destLists.bits.Load())
	}
	blocked := func(txn *Txn) bool {
		b, err := txn.BlockByValue(BlockHost, "evil.test")
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		td, err := txn.DestTakenDown("evil.test/x")
		if err != nil {
			t.Fatal(err)
		}
		f, err := txn.FeedListed(BlockDomain, "evil.test")
		if err != nil {
			t.Fatal(err)
		}
		return b != nil && td && f == 7
	}
	entry := &BlockEntry{ID: 1, Kind: BlockHost, Value: "evil.test"}
	td := &Takedown{Code: "abc", DestKey: "evil.test/x"}
	txn := s.Begin()
	txn.PutBlock(entry)
	txn.PutTakedown(td)
	txn.IndexFeedEntry(7, BlockDomain, "evil.test")
	txn.set(heldKey("held"), nil) // the held queue shares table y but is no feed entry
	if !blocked(txn) {
		t.Fatal("a Txn does not see its own writes through the summary")
	}
	mustCommit(t, txn, 1)
	if !blocked(s.Begin()) {
		t.Fatal("the committed entries are not seen")
	}
	snap := snapshotBytes(t, s)

	txn = s.Begin()
	txn.DeleteBlock(entry)
	txn.DeleteTakedown(td)
	txn.UnindexFeedEntry(7, BlockDomain, "evil.test")
	mustCommit(t, txn, 2)
	if b := s.destLists.bits.Load(); b != 0 {
		t.Fatalf("after every entry was deleted the summary is %b, want empty (the held queue is not a feed index)", b)
	}
	txn = s.Begin()
	txn.PutBlock(entry)
	txn.Abort()
	if _, err := s.Begin().BlockByValue(BlockHost, "evil.test"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an aborted Txn's entry is found: %v", err)
	}
	if err := s.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if !blocked(s.Begin()) {
		t.Fatal("after Restore the snapshot's entries are not seen")
	}
	s.Close()
	s = mustOpen(t, fs, "a")
	if !blocked(s.Begin()) {
		t.Fatal("after reopening the entries are not seen")
	}
}

// The purge queue past its cap drops its oldest entry per append and an
// ack drops a prefix; with the floor the survivors are exactly those a
// store without it (a restarted node) keeps, across Txns and a reopen.
func TestPurgeFloorKeepsTheQueue(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, fs, "a")
	const max = 5
	h := &OutboxHead{}
	enqueue := func(from, to uint64) {
		txn := s.Begin()
		for i := from; i < to; i++ {
			if err := txn.EnqueuePurge(h, Pos{Index: i}, &Change{Code: "c"}, max); err != nil {
				t.Fatal(err)
			}
		}
		txn.PutOutboxHead(h)
		mustCommit(t, txn, to)
	}
	queued := func() []uint64 {
		ps, _, err := s.Purges(100)
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, p := range ps {
			out = append(out, p.Index)
		}
		return out
	}
	enqueue(10, 30)
	enqueue(30, 33)
	if q := queued(); len(q) != max || q[0] != 28 || s.purgeFloor == nil {
		t.Fatalf("queue %v (floor %x), want 28..32 with a floor", q, s.purgeFloor)
	}
	txn := s.Begin()
	if err := txn.AckPurges(h, Pos{Index: 29}); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn, 34)
	s.Close()
	s = mustOpen(t, fs, "a") // no floor: scans from the table's start
	defer s.Close()
	enqueue(40, 44)
	if q, want := queued(), []uint64{32, 40, 41, 42, 43}; !slices.Equal(q, want) {
		t.Fatalf("queue %v, want %v", q, want)
	}
	if h.Purges != max || h.PurgesDropped != 18+2 {
		t.Fatalf("head %+v, want %d queued and 20 dropped", h, max)
	}
}
