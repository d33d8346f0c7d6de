// Package cluster turns nodes into a cluster: it decides when to bootstrap,
// joins nodes, manages membership, forwards writes from followers to the
// leader, serves linearizable read indexes, and reports cluster-wide status
// and readiness.
//
// It sits on top of node and reaches raft only through node's methods. Its
// internode RPC shares the raft port (see Mux). It never applies commands
// itself and reads the store only for member addresses.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/propose"
	"github.com/linkd/linkd/node"
)

// Tuning constants, kept together.
const (
	// DefaultMaxStaleness is how long a follower may go without hearing
	// from the leader before it reports itself not ready.
	DefaultMaxStaleness = 5 * time.Second
	// DefaultMaxLag is how many committed entries a ready node may have
	// left to apply.
	DefaultMaxLag = 256
	// leaderWait bounds how long a write waits for a leader to appear.
	leaderWait = 3 * time.Second
	// joinInterval is how often a node that is not yet in a cluster probes
	// its peers.
	joinInterval = 500 * time.Millisecond
	// statusTimeout bounds each member query of a cluster status.
	statusTimeout = 500 * time.Millisecond
)

// Errors.
var (
	// ErrNoLeader means no leader could be reached in time.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrStale means this follower has not heard from the leader for longer
	// than the staleness bound.
	ErrStale = errors.New("cluster: no recent contact with the leader")
	// ErrLagging means this node is too far behind the commit index.
	ErrLagging = errors.New("cluster: too far behind the leader")
	// ErrDraining means this node is stopping: it still serves, but a load
	// balancer should send it no new requests.
	ErrDraining = errors.New("cluster: draining before shutdown")
)

// Config configures a Cluster.
type Config struct {
	// HTTPAdvertise is this node's public HTTP address as clients and other
	// nodes should reach it.
	HTTPAdvertise string
	// Join lists peers' raft addresses to join or bootstrap with.
	Join []string
	// BootstrapExpect, when positive, lets this node bootstrap a new cluster
	// once that many nodes from Join (itself included) are reachable and
	// none of them has state.
	BootstrapExpect int
	// NonVoter joins as a read replica that does not vote.
	NonVoter     bool
	MaxStaleness time.Duration
	MaxLag       uint64
	Logger       *slog.Logger
}

// Cluster is the cluster as seen from one node.
type Cluster struct {
	n        *node.Node
	cfg      Config
	log      *slog.Logger
	raftAddr string
	rpc      *rpcClient
	srv      *http.Server
	fwd      *propose.Batcher // batches forwarded writes (forward.go)

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
	// draining, once set, makes Ready fail (see Drain).
	draining atomic.Bool
}

// New starts the cluster layer of n: the RPC server on mux (nil for a
// node without peers), joining or bootstrapping, and registering this
// node's HTTP address.
func New(n *node.Node, mux *Mux, cfg Config) *Cluster {
	if cfg.MaxStaleness == 0 {
		cfg.MaxStaleness = DefaultMaxStaleness
	}
	if cfg.MaxLag == 0 {
		cfg.MaxLag = DefaultMaxLag
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Cluster{n: n, cfg: cfg, log: cfg.Logger, rpc: newRPCClient(mux), stop: make(chan struct{})}
	c.fwd = c.newForwarder()
	if mux != nil {
		c.raftAddr = mux.Addr().String()
		c.srv = &http.Server{Handler: c.rpcHandler(), ReadHeaderTimeout: rpcTimeout}
		go c.srv.Serve(mux.rpc)
	}
	if len(cfg.Join) > 0 {
		c.every(joinInterval, c.tryJoinOrBootstrap)
	}
	c.every(joinInterval, c.registerHTTPAddr)
	c.runVersionGate()
	return c
}

// Close stops the cluster layer (not the node).
func (c *Cluster) Close() error {
	c.once.Do(func() {
		close(c.stop)
		c.wg.Wait()
		c.fwd.Wait()
		if c.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
			defer cancel()
			c.srv.Shutdown(ctx) // let forwarded requests in flight finish
		}
	})
	return nil
}

// Drain marks this node as stopping: from now on Ready fails, so a load
// balancer's health check (/_/readyz) takes it out of its pool while it
// still serves whatever is sent to it. It is never undone: a drained node
// is about to Close.
func (c *Cluster) Drain() { c.draining.Store(true) }

// Propose commits cmd: on this node if it leads, otherwise through the
// leader. An attempt is repeated when the command certainly was not applied
// (no leader yet, or the node asked was not the leader), and, for commands
// that recognise their own replay (fsm.Idempotent), also when its outcome is
// unknown: the replay then answers what happened. So leader changes are
// invisible to API clients, and nothing is applied twice.
//
// Between attempts it waits for the next leadership change (node's raft
// observer), not for a timer. Once any attempt's outcome was unknown, every
// later failure is reported as node.ErrUnknownOutcome too: a retry that
// certainly failed says nothing about the earlier attempt.
func (c *Cluster) Propose(ctx context.Context, cmd fsm.Command) (*fsm.Result, error) {
	b, err := fsm.Encode(cmd)
	if err != nil {
		return nil, err
	}
	idempotent := fsm.Idempotent(cmd)
	deadline := time.NewTimer(leaderWait)
	defer deadline.Stop()
	unknown := false
	for {
		changed := c.n.LeaderChanged()
		res, err := c.proposeOnce(ctx, b)
		switch {
		case err == nil || res != nil: // applied; a domain error is an answer
			return res, err
		case certainlyNotApplied(err):
		case idempotent && errors.Is(err, node.ErrUnknownOutcome):
			unknown = true
		default:
			return nil, outcome(true, err)
		}
		select {
		case <-changed:
			continue
		case <-ctx.Done():
			err = fmt.Errorf("%w: %v", err, ctx.Err())
		case <-deadline.C:
		case <-c.stop:
		}
		return nil, outcome(unknown, fmt.Errorf("%w: %v", ErrNoLeader, err))
	}
}

// outcome marks err with its kind: unknown, or certainly not applied.
func outcome(unknown bool, err error) error {
	switch {
	case unknown && !errors.Is(err, node.ErrUnknownOutcome):
		return fmt.Errorf("%w: %w", node.ErrUnknownOutcome, err)
	case !unknown && !errors.Is(err, node.ErrNotApplied):
		return fmt.Errorf("%w: %w", node.ErrNotApplied, err)
	}
	return err
}

// proposeOnce makes one attempt. Every error it returns without a Result
// is either certainlyNotApplied or wrapped in node.ErrUnknownOutcome.
func (c *Cluster) proposeOnce(ctx context.Context, cmd []byte) (*fsm.Result, error) {
	if c.n.IsLeader() {
		return c.n.ProposeEncoded(ctx, cmd)
	}
	addr := c.n.Status().LeaderAddr
	if addr == "" {
		return nil, ErrNoLeader
	}
	return c.forward(ctx, addr, cmd)
}

// onLeader runs fn on this node if it leads, else sends the RPC to the
// leader, trying again after the next leadership change while the request
// certainly had no effect.
func (c *Cluster) onLeader(ctx context.Context, local func() error, method, path string, in, out any) error {
	deadline := time.NewTimer(leaderWait)
	defer deadline.Stop()
	for {
		changed := c.n.LeaderChanged()
		var err error
		if c.n.IsLeader() {
			err = local()
		} else if addr := c.n.Status().LeaderAddr; addr == "" {
			err = ErrNoLeader
		} else {
			err = c.rpc.call(ctx, addr, method, path, in, out)
		}
		if !certainlyNotApplied(err) {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return err
		case <-deadline.C:
			return err
		case <-c.stop:
			return err
		}
	}
}

// certainlyNotApplied reports whether err says the request certainly had
// no effect, so that trying again (on a leader found later) is safe.
func certainlyNotApplied(err error) bool {
	if err == nil || errors.Is(err, node.ErrUnknownOutcome) {
		return false
	}
	return errors.Is(err, node.ErrNotApplied) || errors.Is(err, errNotLeaderRemote) ||
		errors.Is(err, errNotSent) || errors.Is(err, ErrNoLeader)
}

// ReadIndex waits until this node has applied everything committed when it
// was called, as confirmed by the current leader: reads after it are
// linearizable.
func (c *Cluster) ReadIndex(ctx context.Context) error {
	var idx indexReply
	err := c.onLeader(ctx, func() (err error) { idx.Index, err = c.n.ReadIndex(); return err },
		"GET", "/v1/readindex", nil, &idx)
	if err != nil {
		return err
	}
	return c.n.WaitApplied(ctx, idx.Index)
}

// Remove removes a member from the cluster.
func (c *Cluster) Remove(ctx context.Context, id string) error {
	return c.onLeader(ctx, func() error { return c.removeAsLeader(ctx, id) },
		"POST", "/v1/remove", removeRequest{ID: id}, nil)
}

func (c *Cluster) removeAsLeader(ctx context.Context, id string) error {
	if err := c.n.RemovePeer(id); err != nil {
		return err
	}
	_, err := c.n.Propose(ctx, &fsm.DelMember{Now: time.Now().UnixMilli(), NodeID: id})
	if errors.Is(err, node.ErrNotLeader) {
		err = nil // the leader removed itself; the next one keeps the record harmlessly
	}
	return err
}

// Ready reports whether this node should receive traffic: it has a leader,
// is initialised, heard from the leader recently, and is not far behind.
func (c *Cluster) Ready() error {
	if c.draining.Load() {
		return ErrDraining
	}
	st := c.n.Status()
	if err := c.n.Ready(); err != nil && !errors.Is(err, node.ErrBehind) {
		return err // any node may apply a little behind its commit index (MaxLag below); a leader must be settled
	}
	if st.LastContact < 0 || st.LastContact > c.cfg.MaxStaleness {
		return ErrStale
	}
	if st.CommitIndex > st.AppliedIndex+c.cfg.MaxLag {
		return fmt.Errorf("%w: %d entries", ErrLagging, st.CommitIndex-st.AppliedIndex)
	}
	return nil
}
