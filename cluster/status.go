package cluster

import (
	"context"
	"sync"

	"github.com/linkd/linkd/node"
)

// Leader is who leads, as far as this node knows.
type Leader struct {
	ID       string `json:"id"`
	HTTPAddr string `json:"httpAddr"`
}

// Member is one server with its addresses and progress.
type Member struct {
	node.Member
	HTTPAddr     string `json:"httpAddr"`
	Reachable    bool   `json:"reachable"`
	State        string `json:"state,omitempty"`
	AppliedIndex uint64 `json:"appliedIndex"`
	// Lag is how many entries committed on this node it has not applied;
	// nil (JSON null) when unknown: the member did not answer, so it must
	// not look caught up.
	Lag *uint64 `json:"lag"`
}

// Status is the cluster as seen from this node.
type Status struct {
	NodeID       string   `json:"nodeId"`
	State        string   `json:"state"`
	Leader       Leader   `json:"leader"`
	Term         uint64   `json:"term"`
	AppliedIndex uint64   `json:"appliedIndex"`
	CommitIndex  uint64   `json:"commitIndex"`
	LastLogIndex uint64   `json:"lastLogIndex"`
	Members      []Member `json:"members"`
}

// Status returns the local view only: no network calls.
func (c *Cluster) Status() Status {
	ns := c.n.Status()
	s := Status{
		NodeID: ns.NodeID, State: ns.State, Term: ns.Term,
		AppliedIndex: ns.AppliedIndex, CommitIndex: ns.CommitIndex, LastLogIndex: ns.LastIndex,
		Leader: Leader{ID: ns.LeaderID},
	}
	addrs, _ := c.n.Store().Members()
	for _, m := range ns.Members {
		mm := Member{Member: m}
		if a := addrs[m.ID]; a != nil {
			mm.HTTPAddr = a.HTTPAddr
		}
		if m.ID == ns.NodeID {
			mm.HTTPAddr, mm.Reachable, mm.State, mm.AppliedIndex = c.cfg.HTTPAdvertise, true, ns.State, ns.AppliedIndex
		}
		if m.ID == ns.LeaderID {
			s.Leader.HTTPAddr = mm.HTTPAddr
		}
		s.Members = append(s.Members, mm)
	}
	return s
}

// FullStatus is Status plus every member's applied index and lag behind
// this node's commit index, asked of each member over RPC.
func (c *Cluster) FullStatus(ctx context.Context) Status {
	s := c.Status()
	members := make([]node.Member, len(s.Members))
	for i := range s.Members {
		if m := &s.Members[i]; m.ID == s.NodeID {
			m.Lag = sub(s.CommitIndex, m.AppliedIndex)
		}
		members[i] = s.Members[i].Member
	}
	c.askMembers(ctx, s.NodeID, members, func(i int, r *nodeReply) {
		m := &s.Members[i]
		m.Reachable, m.State, m.AppliedIndex = true, r.State, r.AppliedIndex
		m.Lag = sub(s.CommitIndex, r.AppliedIndex)
	})
	return s
}

// askMembers asks every member but self for its own view (GET /v1/node),
// all at once and within statusTimeout, and calls answer with the index
// of each that answered. answer runs on the asking goroutines, one per
// member: it may write what belongs to its index, and must guard anything
// shared.
func (c *Cluster) askMembers(ctx context.Context, self string, members []node.Member, answer func(i int, r *nodeReply)) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i, m := range members {
		if m.ID == self {
			continue
		}
		wg.Go(func() {
			var r nodeReply
			if err := c.rpc.call(ctx, m.RaftAddr, "GET", "/v1/node", nil, &r); err == nil {
				answer(i, &r)
			}
		})
	}
	wg.Wait()
}

// sub is a's lead over b (0 when b is ahead), as a known lag.
func sub(a, b uint64) *uint64 {
	d := uint64(0)
	if a > b {
		d = a - b
	}
	return &d
}
