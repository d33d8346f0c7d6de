package node

import (
	"time"

	"github.com/hashicorp/raft"
)

// Member is one server in the raft configuration.
type Member struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raftAddr"`
	Suffrage string `json:"suffrage"`
}

// Status is a point-in-time view of this node's raft state.
type Status struct {
	NodeID       string        `json:"nodeId"`
	State        string        `json:"state"`
	LeaderID     string        `json:"-"`
	LeaderAddr   string        `json:"-"`
	Term         uint64        `json:"term"`
	AppliedIndex uint64        `json:"appliedIndex"`
	CommitIndex  uint64        `json:"commitIndex"`
	LastIndex    uint64        `json:"lastLogIndex"`
	LastContact  time.Duration `json:"-"` // since the leader was last heard from; 0 on the leader
	Members      []Member      `json:"members"`
}

// Status returns this node's raft state.
func (n *Node) Status() Status {
	addr, id := n.raft.LeaderWithID()
	s := Status{
		NodeID:       n.cfg.NodeID,
		State:        n.raft.State().String(),
		LeaderID:     string(id),
		LeaderAddr:   string(addr),
		Term:         n.raft.CurrentTerm(),
		AppliedIndex: n.Applied(),
		CommitIndex:  n.raft.CommitIndex(),
		LastIndex:    n.raft.LastIndex(),
	}
	if s.State != raft.Leader.String() {
		if lc := n.raft.LastContact(); !lc.IsZero() {
			s.LastContact = time.Since(lc)
		} else {
			s.LastContact = -1
		}
	}
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, srv := range f.Configuration().Servers {
			s.Members = append(s.Members, Member{ID: string(srv.ID), RaftAddr: string(srv.Address), Suffrage: srv.Suffrage.String()})
		}
	}
	return s
}

// IsLeader reports whether this node is the raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Ready reports whether this node can serve: it knows a leader, the cluster
// is initialised, and it has applied everything it knows to be committed.
func (n *Node) Ready() error {
	if err := n.fsm.Halted(); err != nil {
		return err // an entry from a newer linkd: never ready until upgraded
	}
	if _, id := n.raft.LeaderWithID(); id == "" {
		return ErrNoLeader
	}
	if ok, err := n.st.Initialized(); err != nil || !ok {
		return ErrNotInitialized
	}
	if n.raft.State() == raft.Leader && n.barrierTerm.Load() != n.raft.CurrentTerm() {
		return ErrUnsettled // a new leader has not settled its commit index yet
	}
	if n.Applied() < n.raft.CommitIndex() {
		return ErrBehind
	}
	return nil
}
