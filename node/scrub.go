package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Erasure off the disk (issue 14). Deleting a user (fsm.DeleteUser, the
// self-service erasure and an admin's delete alike) removes their data
// from the state, but copies stay on this node's disk: in older raft log
// entries (raft.db, whose freed pages bbolt never zeroes), in retained
// snapshots taken before the erase, and in Pebble's WALs and SSTables. On
// every node, applying the erase (or restoring a snapshot, which may
// replace state the snapshot's erasures removed) triggers a scrub:
//
//  1. a raft snapshot, which covers the erase entry;
//  2. every older snapshot is removed;
//  3. the raft log is deleted through the erasing entry (raft itself
//     keeps TrailingLogs entries before its snapshots), and raft.db is
//     rewritten with its live pages only (boltLog.Compact);
//  4. Pebble is flushed and fully compacted (store.Scrub).
//
// The store calls markErase from the fsm's goroutine before it writes the
// erasing batch; it writes the SCRUB marker (synced) first, so a node that
// crashes before its scrub finished scrubs when it next starts. Requests
// coalesce: one scrub covers every erase applied before it started.
// Nothing is proposed: the scrub is local work on each node.

// scrubMarker, in the data directory, says a scrub is owed.
const scrubMarker = "SCRUB"

// scrubRetry is how long a failed scrub waits before trying again.
const scrubRetry = 10 * time.Second

type scrubber struct {
	marker string
	kick   chan struct{}
	mu     sync.Mutex
	gen    uint64 // requests so far
	marked bool   // the marker file exists
	// through is how far the raft log must go: the highest index of a
	// batch that erased, or everything up to the snapshot (all: a restore,
	// or a scrub owed from before this start). Entries after the erase
	// hold none of the erased data and stay, so a follower a few entries
	// behind still gets them rather than a whole snapshot.
	through uint64
	all     bool

	runs, failures atomic.Uint64
	last           atomic.Int64 // duration of the last scrub, ns
}

func newScrubber(dataDir string) *scrubber {
	return &scrubber{marker: filepath.Join(dataDir, scrubMarker), kick: make(chan struct{}, 1)}
}

// pending reports whether a scrub is owed from before this start.
func (s *scrubber) pending() bool {
	_, err := os.Stat(s.marker)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marked = err == nil
	s.all = s.all || s.marked
	return s.marked
}

// request wakes the scrub goroutine; a pending wake covers this one.
func (s *scrubber) request() { wake(s.kick) }

// markErase records (durably) that a scrub is owed and wakes the scrubber.
// It runs on the fsm's goroutine, before the erasing batch is written.
func (n *Node) markErase(index uint64) {
	s := n.scrub
	s.mu.Lock()
	s.gen++
	s.through = max(s.through, index)
	s.all = s.all || index == 0
	if !s.marked {
		if err := writeFileSync(s.marker, []byte("an erasure is applied; scrub owed\n")); err != nil {
			n.log.Error("could not record the scrub owed to an erasure; it still runs now", "err", err)
		} else {
			s.marked = true
		}
	}
	s.mu.Unlock()
	s.request()
}

// ScrubStats says how many scrubs this node ran, how many failed, and how
// long the last successful one took.
type ScrubStats struct {
	Runs, Failures uint64
	Last           time.Duration
}

// ScrubStats returns the scrub counters (metrics, tests).
func (n *Node) ScrubStats() ScrubStats {
	s := n.scrub
	return ScrubStats{Runs: s.runs.Load(), Failures: s.failures.Load(), Last: time.Duration(s.last.Load())}
}

// runScrubs is the scrub goroutine: it waits for markErase (or a marker
// left by the previous run of the process) and scrubs.
func (n *Node) runScrubs() {
	defer n.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-n.stop; cancel() }()
	s := n.scrub
	n.runOnKick(s.kick, scrubRetry, "erasure scrub", func() error {
		err := n.scrubOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.failures.Add(1)
		}
		return err
	})
}

func (n *Node) scrubOnce(ctx context.Context) error {
	s := n.scrub
	s.mu.Lock()
	gen, through := s.gen, s.through
	if s.all {
		through = ^uint64(0)
	}
	s.mu.Unlock()
	start := time.Now()
	// The snapshot request is served by the fsm goroutine after the batch
	// that asked for the scrub, so the snapshot covers the erase.
	if err := n.await(n.raft.Snapshot()); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return fmt.Errorf("snapshot: %w", err)
	}
	snapTook := time.Since(start)
	list, err := n.snaps.List()
	if err != nil || len(list) == 0 {
		return fmt.Errorf("list snapshots: %v (%d)", err, len(list))
	}
	for _, old := range list[1:] {
		if err := os.RemoveAll(filepath.Join(n.cfg.DataDir, "raft", "snapshots", old.ID)); err != nil {
			return fmt.Errorf("remove snapshot %s: %w", old.ID, err)
		}
	}
	if err := n.st.SyncWAL(); err != nil { // the state the deleted entries made is durable
		return err
	}
	// Through the erase, within the snapshot, and never past the fsm's own
	// applied index: Applied reads the entries after it (no-ops and
	// barriers) to decide readiness.
	upto := min(list[0].Index, n.fsm.Applied(), through)
	if err := n.truncateLog(upto); err != nil {
		return err
	}
	t := time.Now()
	before, after, err := n.bolt.Compact()
	if err != nil {
		return err
	}
	boltTook := time.Since(t)
	ps, err := n.st.Scrub(ctx)
	if err != nil {
		return err
	}
	took := time.Since(start)
	s.mu.Lock()
	if s.gen == gen {
		s.through, s.all = 0, false
		if s.marked {
			if err := os.Remove(s.marker); err == nil || errors.Is(err, os.ErrNotExist) {
				s.marked = false
			}
		}
	}
	s.mu.Unlock()
	s.runs.Add(1)
	s.last.Store(int64(took))
	n.log.Info("erasure scrub done: raft log, snapshots and store rewritten without erased data",
		"snapshotIndex", list[0].Index, "logDeletedThrough", upto, "removedSnapshots", len(list)-1,
		"raftDBBytes", before, "raftDBBytesAfter", after,
		"took", took.Round(time.Millisecond), "snapshot", snapTook.Round(time.Millisecond),
		"raftDB", boltTook.Round(time.Millisecond), "pebbleFlush", ps.Flush.Round(time.Millisecond),
		"pebbleCompact", ps.Compact.Round(time.Millisecond), "pebbleClean", ps.Clean.Round(time.Millisecond))
	return nil
}
