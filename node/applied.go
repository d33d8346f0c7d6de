package node

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/fsm"
)

// The applied index. raft's own AppliedIndex advances when a batch is
// queued to the fsm goroutine, not when the fsm has applied it, so it must
// never decide readiness or a read index. node keeps its own, from the fsm:
//
//   - the fsm's applied index a is the highest index of an entry raft handed
//     to ApplyBatch (commands and configuration entries); raft hands entries
//     in log order, so every entry <= a that changes state is in the store.
//   - entries raft does not hand to the fsm (leader no-ops, barriers) change
//     no state. So the store reflects the log up to i > a exactly when every
//     entry in (a, i] is committed and none of them is handed to the fsm.
//
// Applied computes that index by reading the few entries after a from the
// log store (only committed ones, which the local log holds as the leader
// does). ReadIndex turns the leader's commit index c into the highest index
// <= c of a handed entry: every node's fsm is eventually handed that very
// entry (or a snapshot covering it), so a waiter can wait on the fsm alone,
// woken by the notifier below, and never on raft's queue.

// maxNeutralScan bounds how many consecutive no-op/barrier entries Applied
// looks at; a longer run (many elections without a write) is reported
// conservatively as not yet applied.
const maxNeutralScan = 1024

// handedToFSM reports whether raft hands entries of type t to the fsm.
func handedToFSM(t raft.LogType) bool {
	return t == raft.LogCommand || t == raft.LogConfiguration
}

// Applied returns the index up to which the store reflects the log: the
// fsm's applied index, extended over committed entries that change no state.
func (n *Node) Applied() uint64 {
	a := n.fsm.Applied()
	ci := n.raft.CommitIndex()
	for i := a + 1; i <= ci; i++ {
		if i-a > maxNeutralScan {
			return i - 1
		}
		var l raft.Log
		if err := n.logs.GetLog(i, &l); err != nil || handedToFSM(l.Type) {
			return i - 1
		}
	}
	return max(a, ci)
}

// stateIndex returns the highest index <= committed of an entry handed to
// the fsm, or the fsm's applied index when that is higher: the index a
// reader must wait for so that its store holds every entry <= committed.
func (n *Node) stateIndex(committed uint64) (uint64, error) {
	a := n.fsm.Applied()
	for i := committed; i > a; i-- {
		var l raft.Log
		if err := n.logs.GetLog(i, &l); err != nil {
			return 0, fmt.Errorf("node: read index: entry %d: %w", i, err)
		}
		if handedToFSM(l.Type) {
			return i, nil
		}
	}
	return a, nil
}

// WaitApplied blocks until the fsm has applied index, or ctx ends. index
// must be an index the fsm is handed (one ReadIndex returned), or one the
// store already reflects.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	if n.Applied() >= index {
		return nil
	}
	select {
	case <-n.applied.wait(index):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stop:
		return ErrShutdown
	}
}

// applyWait wakes waiters when the fsm's applied index reaches theirs: one
// channel per waited index, closed by the fsm goroutine after each batch
// (as etcd's pkg/wait WaitTime does).
type applyWait struct {
	mu      sync.Mutex
	last    uint64
	waiters map[uint64]chan struct{}
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newApplyWait(applied uint64) *applyWait {
	return &applyWait{last: applied, waiters: map[uint64]chan struct{}{}}
}

// wait returns a channel closed once index is applied.
func (w *applyWait) wait(index uint64) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if index <= w.last {
		return closedChan
	}
	ch := w.waiters[index]
	if ch == nil {
		ch = make(chan struct{})
		w.waiters[index] = ch
	}
	return ch
}

// trigger records that index is applied and wakes every waiter at or below.
func (w *applyWait) trigger(index uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if index <= w.last {
		return
	}
	w.last = index
	for i, ch := range w.waiters {
		if i <= index {
			close(ch)
			delete(w.waiters, i)
		}
	}
}

// notifyingFSM is the fsm as raft sees it: after every batch (and restore)
// it wakes WaitApplied's waiters with the fsm's new applied index.
type notifyingFSM struct {
	*fsm.FSM
	w      *applyWait
	onHalt func() // the fsm refused an entry from a newer linkd
}

func (f notifyingFSM) ApplyBatch(logs []*raft.Log) []any {
	out := f.FSM.ApplyBatch(logs)
	f.w.trigger(f.FSM.Applied())
	if f.FSM.Halted() != nil {
		f.onHalt()
	}
	return out
}

func (f notifyingFSM) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

func (f notifyingFSM) Restore(rc io.ReadCloser) error {
	err := f.FSM.Restore(rc)
	f.w.trigger(f.FSM.Applied())
	return err
}
