package node

import (
	"errors"
	"time"

	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/fsm"
)

// initRetry is the pause before a leader retries a failed Init proposal
// that did not cost it its leadership (a bootstrap retry, not a poll).
const initRetry = time.Second

// watchLeadership registers a raft observer for leader and state changes.
// Each change closes the channel LeaderChanged handed out (so cluster's
// retries wake at once instead of polling) and kicks the settler. Dropped
// observations are harmless: every signal makes its receiver re-read the
// current state, and a full buffer means such a re-read is still pending.
func (n *Node) watchLeadership() {
	obsCh := make(chan raft.Observation, 16)
	obs := raft.NewObserver(obsCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState, raft.PeerObservation:
			return true // PeerObservation: membership changed (the version gate asks again)
		}
		return false
	})
	n.raft.RegisterObserver(obs)
	kick := n.kick
	kick <- struct{}{}
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		defer n.raft.DeregisterObserver(obs)
		for {
			select {
			case <-n.stop:
				return
			case <-obsCh:
				n.leaderChanged()
				wake(kick)
			}
		}
	}()
	go func() {
		defer n.wg.Done()
		var retry <-chan time.Time
		for {
			select {
			case <-n.stop:
				return
			case <-kick:
			case <-retry:
			}
			retry = nil
			if !n.onLeadership() {
				retry = time.After(initRetry)
			}
		}
	}()
}

// kickLeadership makes the leadership goroutine look again (the fsm
// halted: a halted leader hands over). It never blocks.
func (n *Node) kickLeadership() { wake(n.kick) }

// LeaderChanged returns a channel that is closed at the next change of
// leader or raft state. Take it before an attempt, wait on it after a
// failed one.
func (n *Node) LeaderChanged() <-chan struct{} {
	n.leaderMu.Lock()
	defer n.leaderMu.Unlock()
	return n.leaderCh
}

func (n *Node) leaderChanged() {
	n.leaderMu.Lock()
	close(n.leaderCh)
	n.leaderCh = make(chan struct{})
	n.leaderMu.Unlock()
}

// onLeadership runs after every leadership change: a new leader commits a
// barrier for its term (settle) and, once, proposes the cluster's Init; a
// halted leader hands over instead. It reports false if Init or the
// hand-over failed while this node still leads.
//
// Until an entry of its own term is committed, a new leader does not know
// the commit index: entries of earlier terms in its log (acknowledged
// writes whose Pebble commit a crash lost) are not applied yet. Ready waits
// for the barrier, so a restarted leader never serves traffic without them.
func (n *Node) onLeadership() bool {
	if n.raft.State() != raft.Leader {
		return true
	}
	if n.fsm.Halted() != nil {
		return n.handOffIfHalted()
	}
	if err := n.settle(); err != nil {
		// Lost leadership or shutting down: the next change kicks again.
		// Still leading (the barrier timed out, or met a transfer in
		// progress): retry, or this leader would stay not-ready for its
		// whole term, since Ready waits for the barrier.
		n.log.Debug("settling leadership", "err", err)
		return n.raft.State() != raft.Leader
	}
	if done, err := n.st.Initialized(); err != nil || done {
		return err == nil
	}
	err := n.proposeInit()
	if err != nil && !errors.Is(err, fsm.ErrInitialized) {
		n.log.Warn("initialising cluster", "err", err)
		return n.raft.State() != raft.Leader
	}
	return true
}

// settle commits a barrier once per term (leader only). When the barrier's
// future returns, raft's fsm goroutine has processed every entry before it,
// so the fsm has applied everything of earlier terms and this node's commit
// index covers them.
func (n *Node) settle() error {
	term := n.raft.CurrentTerm()
	if n.barrierTerm.Load() == term {
		return nil
	}
	if err := n.await(n.raft.Barrier(proposeTimeout)); err != nil {
		return raftError(err)
	}
	n.barrierTerm.Store(term)
	return nil
}
