package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Erasure (issue 14): a user's erasure must leave no copy of their data on
// this node's disk. Pebble keeps deleted values in three places after the
// Txn that deletes them commits: the memtable's WAL, older WAL files that
// Pebble recycles (reused for new writes, so their tails keep old bytes),
// and SSTables, where a value stays under its tombstone until a compaction
// drops both. Scrub flushes and compacts everything, and WAL recycling is
// off (noRecycleCleaner), so obsolete WALs are deleted, never reused.

// noRecycleCleaner deletes obsolete files, as Pebble's DeleteCleaner does,
// and turns WAL recycling off: Pebble never recycles a WAL when its
// Cleaner needs file contents (an unexported marker interface that
// ArchiveCleaner implements; embedding it one level deeper promotes only
// that marker, while the shallower DeleteCleaner's Clean and String win).
// Recycling only saves a file-metadata sync per WAL, one every
// memTableBytes of writes.
type noRecycleCleaner struct {
	pebble.DeleteCleaner
	contentsMarker
}

type contentsMarker struct{ pebble.ArchiveCleaner }

// scrubKey is outside every table (doc.go): Scrub deletes it to make a
// flush, which is a version edit; nothing ever sets it.
var scrubKey = []byte{0xfe, 's', 'c', 'r', 'u', 'b'}

// manifestRotations is how many version edits Scrub makes after its
// compaction (see Scrub).
const manifestRotations = 3

// ScrubStats says what one Scrub did.
type ScrubStats struct {
	Flush, Compact, Clean time.Duration
}

// Scrub makes this node's Pebble files hold no deleted value: it flushes
// the memtable (so its WAL becomes obsolete and is deleted), compacts the
// whole key space to the bottom level (dropping every value shadowed by a
// newer write or a tombstone, and the tombstones), and waits until the
// files this made obsolete are deleted. It runs beside the fsm's writes;
// what they add afterwards is new state. Files an open iterator still
// reads are deleted when it closes.
func (s *Store) Scrub(ctx context.Context) (ScrubStats, error) {
	s.mu.RLock() // a restore does not swap the database under it
	defer s.mu.RUnlock()
	var st ScrubStats
	if s.db == nil {
		return st, fmt.Errorf("store: closed")
	}
	t := time.Now()
	if err := s.db.Flush(); err != nil {
		return st, fmt.Errorf("store: scrub: flush: %w", err)
	}
	st.Flush = time.Since(t)
	t = time.Now()
	// Every key starts with an ASCII table letter (doc.go).
	if err := s.db.Compact(ctx, []byte{0}, []byte{0xff}, true); err != nil {
		return st, fmt.Errorf("store: scrub: compact: %w", err)
	}
	st.Compact = time.Since(t)
	// The MANIFEST names every SSTable's first and last key: an erased
	// email or handle that bounded a file before the compaction is still
	// there. With MaxManifestFileSize 1 each version edit starts a new
	// manifest from the live files, and Pebble keeps one previous one:
	// three flushes (of one tombstone for a key no table uses) leave none
	// that predates the compaction.
	for range manifestRotations {
		if err := s.db.Delete(scrubKey, pebble.NoSync); err != nil {
			return st, fmt.Errorf("store: scrub: %w", err)
		}
		if err := s.db.Flush(); err != nil {
			return st, fmt.Errorf("store: scrub: flush: %w", err)
		}
	}
	t = time.Now()
	// Obsolete files are deleted by Pebble's cleanup goroutine; this is the
	// one call that waits for the deletions queued so far (a wait on a
	// condition variable, despite its name).
	s.db.TestOnlyWaitForCleaning()
	st.Clean = time.Since(t)
	return st, nil
}

// eraseHook is called before a Txn that erases a user is written (index:
// the Txn's applied index), and before a restore replaces the state
// (index 0). See Options.OnErase.
func (s *Store) eraseHook(index uint64) {
	if s.onErase != nil {
		s.onErase(index)
	}
}
