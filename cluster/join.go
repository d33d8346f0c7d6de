package cluster

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/retry"
	"github.com/linkd/linkd/node"
)

// tryJoinOrBootstrap brings a node without raft state into a cluster: it asks a
// leader to admit it, or, when BootstrapExpect nodes from the join list are
// all reachable and all without state, bootstraps them together.
//
// A node with a wiped data directory comes back the same way: its peers have
// state, so it never bootstraps, and the leader admits it again (raft then
// ships it a snapshot). Two wiped nodes cannot form a cluster of their own
// while a third with state answers, and cannot bootstrap without it, because
// bootstrapping needs every expected node to answer "no state".
func (c *Cluster) tryJoinOrBootstrap() (done bool) {
	// Bootstrapped, admitted, or restarted with state: nothing to do.
	return c.n.HasState() || c.tryJoin()
}

func (c *Cluster) tryJoin() bool {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	probes := c.probeAll(ctx)
	for _, p := range probes {
		if p.LeaderAddr == "" {
			continue
		}
		err := c.rpc.call(ctx, p.LeaderAddr, "POST", "/v1/join",
			joinRequest{ID: c.n.ID(), RaftAddr: c.raftAddr, Voter: !c.cfg.NonVoter}, nil)
		if err == nil {
			c.log.Info("joined the cluster", "leader", p.LeaderID)
			return true
		}
		c.log.Warn("join request failed", "leader", p.LeaderAddr, "err", err)
	}
	if c.cfg.BootstrapExpect > 0 && !c.n.HasState() && c.canBootstrap(probes) {
		peers := []node.Peer{{ID: c.n.ID(), Addr: c.raftAddr, Voter: true}}
		for _, p := range probes {
			peers = append(peers, node.Peer{ID: p.ID, Addr: p.RaftAddr, Voter: true})
		}
		slices.SortFunc(peers, func(a, b node.Peer) int { return compareStrings(a.ID, b.ID) })
		if err := c.n.Bootstrap(peers); err != nil {
			c.log.Warn("bootstrap failed", "err", err)
			return false
		}
		return true
	}
	return false
}

// canBootstrap: every join address answered, none has state, and with this
// node they are exactly the expected number.
func (c *Cluster) canBootstrap(probes []probeReply) bool {
	if len(probes)+1 != c.cfg.BootstrapExpect {
		return false
	}
	for _, p := range probes {
		if p.HasState {
			return false
		}
	}
	return true
}

// probeAll asks every other join address what it knows; unreachable peers
// are left out.
func (c *Cluster) probeAll(ctx context.Context) []probeReply {
	var mu sync.Mutex
	var out []probeReply
	var wg sync.WaitGroup
	for _, addr := range c.cfg.Join {
		if addr == c.raftAddr {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p probeReply
			if err := c.rpc.call(ctx, addr, "GET", "/v1/probe", nil, &p); err != nil {
				return
			}
			if p.ID == c.n.ID() {
				return // our own address under another name
			}
			mu.Lock()
			out = append(out, p)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// registerHTTPAddr records this node's HTTP address in replicated state once
// the cluster is initialised, and again whenever it changes.
func (c *Cluster) registerHTTPAddr() (done bool) {
	if c.cfg.HTTPAdvertise == "" {
		return true
	}
	if c.n.Ready() != nil {
		return false
	}
	members, err := c.n.Store().Members()
	if err != nil {
		return false
	}
	if m := members[c.n.ID()]; m != nil && m.HTTPAddr == c.cfg.HTTPAdvertise {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	_, err = c.Propose(ctx, &fsm.SetMember{Now: time.Now().UnixMilli(), NodeID: c.n.ID(), HTTPAddr: c.cfg.HTTPAdvertise})
	if err != nil {
		c.log.Debug("registering HTTP address", "err", err)
	}
	return false // done once the record is seen applied
}

// every runs fn now and then every d in the background until it reports
// done or the cluster layer closes.
func (c *Cluster) every(d time.Duration, fn func() (done bool)) { retry.Every(&c.wg, c.stop, d, fn) }
