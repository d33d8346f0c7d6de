package node

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// The raft log's byte budget (Config.RaftLogBytes). raft snapshots and
// truncates its log by entry counts (SnapshotThreshold, TrailingLogs),
// which bound nothing when one entry can be a bulk batch of a thousand
// links (logsizes.go). The budget adds two rules by bytes, on every node
// for its own log:
//
//   - once the entries after the last snapshot take half the budget, the
//     node asks raft for a snapshot;
//   - after that (and whenever the log is checked), entries the snapshot
//     covers are deleted beyond a quarter of the budget, oldest first,
//     never past the fsm's applied index (as the scrub does).
//
// So the log holds at most about three quarters of the budget, plus what
// arrives while a snapshot is being taken. A follower further behind than
// the entries kept gets a snapshot instead, as with TrailingLogs.
//
// Checks are driven by the log, not a ticker: boltLog reports every write,
// and a check runs when the log has grown by half the budget since the
// entries the last check kept.

// DefaultRaftLogBytes is the default budget: on a 10M-link node a snapshot
// takes ~11 s, so a bulk load snapshots every 128 MiB of entries (every
// ~1M links) instead of holding the whole load in raft.db.
const DefaultRaftLogBytes = 256 << 20

// logBudgetRetry is how long a failed check waits before the next.
const logBudgetRetry = 10 * time.Second

type logBudget struct {
	limit int64
	next  atomic.Int64 // the log's total at which to check again
	kick  chan struct{}
	runs  atomic.Uint64 // snapshots the budget asked for
}

func newLogBudget(limit int64) *logBudget {
	b := &logBudget{limit: limit, kick: make(chan struct{}, 1)}
	b.next.Store(limit / 2)
	return b
}

// grew is boltLog's hook after every write.
func (b *logBudget) grew(total int64) {
	if total >= b.next.Load() {
		wake(b.kick)
	}
}

// runLogBudget is the budget's goroutine.
func (n *Node) runLogBudget() {
	defer n.wg.Done()
	n.runOnKick(n.budget.kick, logBudgetRetry, "keeping the raft log within its budget", n.keepLogInBudget)
}

func (n *Node) keepLogInBudget() error {
	b, sizes := n.budget, &n.bolt.sizes
	snap, err := n.lastSnapshotIndex()
	if err != nil {
		return err
	}
	if _, since := sizes.bytes(snap); since >= b.limit/2 {
		t := time.Now()
		if err := n.await(n.raft.Snapshot()); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			return fmt.Errorf("snapshot: %w", err)
		}
		b.runs.Add(1)
		if snap, err = n.lastSnapshotIndex(); err != nil {
			return err
		}
		n.log.Info("raft log reached half its budget: snapshot taken", "budgetBytes", b.limit,
			"sinceSnapshotBytes", since, "snapshotIndex", snap, "took", time.Since(t).Round(time.Millisecond))
	}
	upto := min(snap, n.fsm.Applied())
	if from := sizes.keepFrom(upto, b.limit/4); from > 0 {
		if err := n.truncateLog(from - 1); err != nil {
			return err
		}
	}
	total, since := sizes.bytes(snap)
	b.next.Store(total - since + b.limit/2)
	return nil
}

// lastSnapshotIndex is the index of the newest snapshot (0: none).
func (n *Node) lastSnapshotIndex() (uint64, error) {
	list, err := n.snaps.List()
	if err != nil || len(list) == 0 {
		return 0, err
	}
	return list[0].Index, nil
}

// truncateLog deletes the raft log's entries up to and including upto.
func (n *Node) truncateLog(upto uint64) error {
	first, err := n.logs.FirstIndex()
	if err != nil {
		return err
	}
	if first != 0 && first <= upto {
		if err := n.logs.DeleteRange(first, upto); err != nil {
			return fmt.Errorf("truncate raft log: %w", err)
		}
	}
	return nil
}

// LogStats is what the raft log holds and how often its budget snapshot.
type LogStats struct {
	Bytes           int64  // entries in raft.db
	Entries         int    // how many
	First, Last     uint64 // raft.db's first and last index
	BudgetBytes     int64  // 0: no budget
	BudgetSnapshots uint64 // snapshots the budget asked for
}

// LogStats returns the raft log's figures (metrics, tests).
func (n *Node) LogStats() LogStats {
	s := &n.bolt.sizes
	s.mu.Lock()
	st := LogStats{Bytes: s.total, Entries: len(s.sizes)}
	s.mu.Unlock()
	st.First, _ = n.logs.FirstIndex()
	st.Last, _ = n.logs.LastIndex()
	if n.budget != nil {
		st.BudgetBytes, st.BudgetSnapshots = n.budget.limit, n.budget.runs.Load()
	}
	return st
}
