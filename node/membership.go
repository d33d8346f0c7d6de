package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// membershipTimeout bounds a configuration change.
const membershipTimeout = 10 * time.Second

// HasState reports whether this node holds any raft state: it was
// bootstrapped, joined, or has received entries. A node without state may
// still be admitted into an existing cluster; it must never bootstrap one
// that a peer with state belongs to.
func (n *Node) HasState() bool {
	if n.raft.LastIndex() > 0 {
		return true
	}
	f := n.raft.GetConfiguration()
	return f.Error() == nil && len(f.Configuration().Servers) > 0
}

// Peer names a server for bootstrap and membership changes.
type Peer struct {
	ID, Addr string
	Voter    bool
}

// Bootstrap makes a new cluster of peers. Every node of a new cluster calls
// it with the same peers; raft tolerates that. It fails if this node
// already has state.
func (n *Node) Bootstrap(peers []Peer) error {
	conf := raft.Configuration{}
	for _, p := range peers {
		s := raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr), Suffrage: raft.Voter}
		if !p.Voter {
			s.Suffrage = raft.Nonvoter
		}
		conf.Servers = append(conf.Servers, s)
	}
	if err := n.raft.BootstrapCluster(conf).Error(); err != nil {
		return fmt.Errorf("node: bootstrap: %w", err)
	}
	n.log.Info("bootstrapped a new cluster", "servers", len(peers))
	return nil
}

// AddPeer admits a server (leader only). A server already known under the
// same id but another address is replaced.
func (n *Node) AddPeer(p Peer) error {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raftError(err)
	}
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == p.ID && string(s.Address) == p.Addr && (s.Suffrage == raft.Voter) == p.Voter {
			return nil // already a member as asked
		}
		if string(s.ID) == p.ID && string(s.Address) != p.Addr {
			if err := n.raft.RemoveServer(s.ID, 0, membershipTimeout).Error(); err != nil {
				return raftError(err)
			}
		}
	}
	var fut raft.IndexFuture
	if p.Voter {
		fut = n.raft.AddVoter(raft.ServerID(p.ID), raft.ServerAddress(p.Addr), 0, membershipTimeout)
	} else {
		fut = n.raft.AddNonvoter(raft.ServerID(p.ID), raft.ServerAddress(p.Addr), 0, membershipTimeout)
	}
	if err := fut.Error(); err != nil {
		return raftError(err)
	}
	n.log.Info("added server", "id", p.ID, "addr", p.Addr, "voter", p.Voter)
	return nil
}

// ErrUnknownPeer means no server with that id is in the configuration.
var ErrUnknownPeer = errors.New("node: no such server in the cluster")

// RemovePeer removes a server (leader only).
func (n *Node) RemovePeer(id string) error {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raftError(err)
	}
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == id {
			if err := n.raft.RemoveServer(s.ID, 0, membershipTimeout).Error(); err != nil {
				return raftError(err)
			}
			n.log.Info("removed server", "id", id)
			return nil
		}
	}
	return ErrUnknownPeer
}

// ReadIndex returns an index that, once WaitApplied returns for it, makes a
// read linearizable (leader only): the leader commits a barrier once per
// term (so its commit index covers every earlier term), takes the commit
// index, confirms with a heartbeat round that it still leads, and returns
// the last entry at or below it that the fsm is handed (see Applied), so
// that a waiter is woken by the fsm, never by raft's queue.
func (n *Node) ReadIndex() (uint64, error) {
	if err := n.settle(); err != nil {
		return 0, err
	}
	idx := n.raft.CommitIndex()
	if err := n.await(n.raft.VerifyLeader()); err != nil {
		return 0, raftError(err)
	}
	return n.stateIndex(idx)
}

// HandOffLeadership transfers leadership if this node leads and another
// voter exists. A stopping node calls it first, while it still answers
// forwarded writes, so the cluster does not wait out an election timeout
// and rolling restarts lose no writes.
func (n *Node) HandOffLeadership() {
	if n.raft.State() != raft.Leader {
		return
	}
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	voters := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	if voters < 2 {
		return
	}
	if err := n.raft.LeadershipTransfer().Error(); err != nil {
		n.log.Warn("leadership transfer before shutdown failed", "err", err)
		return
	}
	n.log.Info("transferred leadership before shutdown")
}
