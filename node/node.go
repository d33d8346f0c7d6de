// Package node runs one linkd node: it opens the store and the fsm, owns the
// raft instance (log store, stable store, snapshots, transport) and its
// lifecycle, and offers one call, Propose, that commits a command and
// returns what applying it produced.
//
// node is the only package that touches *raft.Raft. It knows nothing of HTTP
// and never forwards to other nodes itself: cluster builds forwarding and
// membership on top of it.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/propose"
	"github.com/linkd/linkd/internal/token"
	"github.com/linkd/linkd/store"
)

// Errors returned by Propose and the readiness calls.
//
// Every error Propose returns for a command that did not produce a Result
// is exactly one of two kinds, tested with errors.Is:
//
//   - ErrNotApplied: the command certainly was not applied and never will
//     be (not the leader, no leader, not enqueued, shut down before
//     sending). Retrying is always safe.
//   - ErrUnknownOutcome: the command may have been committed, now or later
//     (leadership lost, shutdown or deadline after it was enqueued, a
//     forwarded request whose reply was lost). Only a retry that the fsm
//     recognises as a replay (the same Idempotency-Key) is safe.
//
// The specific reasons below are wrapped together with one of those two.
var (
	// ErrNotApplied marks an error after which the command certainly was
	// not applied.
	ErrNotApplied = errors.New("node: not applied")
	// ErrUnknownOutcome marks an error after which the command may or may
	// not have been applied. Never retry it blindly; an Idempotency-Key
	// makes the retry safe.
	ErrUnknownOutcome = errors.New("node: outcome unknown")
	// ErrNotLeader means this node cannot commit: it is not the leader.
	// cluster forwards such writes; a caller of node alone should retry.
	ErrNotLeader = errors.New("node: not the leader")
	// ErrNoLeader means the cluster currently has no leader.
	ErrNoLeader = errors.New("node: no leader")
	// ErrNotInitialized means the cluster's init command has not been
	// applied yet on this node.
	ErrNotInitialized = errors.New("node: cluster not initialised yet")
	// ErrLeadershipLost means leadership was lost while a command was in
	// flight (always wrapped with ErrUnknownOutcome).
	ErrLeadershipLost = errors.New("node: leadership lost while committing")
	// ErrBehind means this node has not yet applied every entry it knows
	// to be committed. Under a steady write load that is the normal state
	// of every node, leader included (entries commit before they apply), so
	// callers decide how far behind is too far.
	ErrBehind = errors.New("node: applying committed entries")
	// ErrUnsettled means this node leads but has not yet committed the
	// barrier of its term, so its commit index may be short of what an
	// earlier leader committed: it must not answer reads yet.
	ErrUnsettled = errors.New("node: new leader settling its term")
	// ErrShutdown means the node is shutting down.
	ErrShutdown = errors.New("node: shutting down")
)

// notApplied and unknownOutcome wrap a reason with its kind.
func notApplied(reason error, detail ...any) error {
	if len(detail) > 0 {
		return fmt.Errorf("%w: %w: %v", ErrNotApplied, reason, detail[0])
	}
	return fmt.Errorf("%w: %w", ErrNotApplied, reason)
}

func unknownOutcome(reason error) error {
	return fmt.Errorf("%w: %w", ErrUnknownOutcome, reason)
}

// Tuning constants, kept together.
const (
	// logCacheSize is how many recent raft entries are kept in memory so
	// followers catching up and the fsm do not read them back from bolt.
	// raft's LogCache bounds entries, not bytes, and holds them however
	// old: at 1,024, a node under click load kept its last 1,024 Clicks
	// entries (up to 150 KB each, a part of 1,000 links) and a bulk load
	// its last 1,024 batches of 1,000 links, 150–200 MB of heap either
	// way. 128 is a segment of 100,000 links, or about one second of
	// writes at full rate: what a follower briefly behind asks for.
	logCacheSize = 128
	// maxAppendEntries bounds both a raft batch (one bolt fsync for all the
	// writes queued behind it: group commit) and an fsm ApplyBatch.
	maxAppendEntries = 512
	// retainSnapshots is how many snapshots are kept on disk.
	retainSnapshots = 2
	// proposeTimeout bounds how long a proposal may wait to be enqueued.
	proposeTimeout = 10 * time.Second
	// commitTimeout is how long the leader waits without new entries before
	// telling followers the commit index. Followers apply (and evict their
	// hot sets) only when they learn it, so this bounds how long an edit or
	// takedown takes to reach every node; raft's 50 ms default made that
	// 50–100 ms. An idle leader pays with a small empty append to each
	// follower every 5–10 ms.
	commitTimeout = 5 * time.Millisecond
	// transportMaxPool and transportTimeout configure raft's TCP transport.
	transportMaxPool = 3
	transportTimeout = 10 * time.Second
	// transportInFlight 1 turns raft's pipelined replication off: every
	// AppendEntries waits for its answer. hashicorp/raft v1.7.3's pipeline
	// can deadlock (a follower answers Success=false, the pipeline's
	// decoder returns, and one more send parks on a channel nobody reads):
	// the leader then stops replicating to that follower for good while
	// heartbeats still reach it, and raft's Shutdown waits forever. A -race
	// CI run hung exactly there (httpd, node Close in waitShutdown). Group
	// commit already batches; raft's own docs find pipelining of little use
	// with batching.
	transportInFlight = 1
)

// Config configures a node.
type Config struct {
	NodeID   string
	DataDir  string
	RaftAddr string // address to listen on for raft
	// RaftAdvertise is the address other nodes reach this one at; defaults
	// to RaftAddr.
	RaftAdvertise string
	// Stream, when set, carries raft instead of a TCP listener of its own
	// on RaftAddr (cluster multiplexes raft with its RPC on one port).
	Stream raft.StreamLayer
	// Bootstrap makes a new single-voter cluster on first start. A node
	// with existing raft state never bootstraps again.
	Bootstrap bool
	// AdminToken becomes the bootstrap admin's API token when this node
	// initialises a new cluster; empty means generate one.
	AdminToken string
	// OnInit is called once, on the node that initialised the cluster,
	// with the secrets that were made for the bootstrap admin.
	OnInit func(InitSecrets)

	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	SnapshotThreshold  uint64
	SnapshotInterval   time.Duration
	TrailingLogs       uint64
	// RaftLogBytes is the raft log's byte budget (logbudget.go): a node
	// snapshots once the entries since its last snapshot take half of it
	// and keeps trailing entries worth at most a quarter. 0 means
	// DefaultRaftLogBytes; negative, entry counts alone.
	RaftLogBytes int64
	HotSetBytes  int
	Logger       *slog.Logger
	// GroupCommit lets concurrent proposals share one raft entry
	// (fsm.Group). A node of an earlier release cannot apply a group entry
	// (it stops), so turn it on only once every node runs this release;
	// off, every proposal is its own entry, as before.
	GroupCommit bool
}

func (c *Config) setDefaults() {
	if c.RaftAdvertise == "" {
		c.RaftAdvertise = c.RaftAddr
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	def := raft.DefaultConfig()
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = def.HeartbeatTimeout
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = def.ElectionTimeout
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = min(def.LeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = def.SnapshotThreshold
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = def.SnapshotInterval
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = def.TrailingLogs
	}
	if c.RaftLogBytes == 0 {
		c.RaftLogBytes = DefaultRaftLogBytes
	}
}

// Node is one running linkd node.
type Node struct {
	cfg   Config
	log   *slog.Logger
	st    *store.Store
	fsm   *fsm.FSM
	raft  *raft.Raft
	bolt  *boltLog // raft's log and stable store (raft.db)
	snaps raft.SnapshotStore
	trans raft.Transport
	// stream carries trans; closing it waits for the handlers of the
	// connections peers opened (stream.go).
	stream *ownedStream
	scrub  *scrubber // erasure scrubs (scrub.go)

	barrierTerm atomic.Uint64 // the term in which this leader last committed a barrier
	logs        raft.LogStore // the raft log, read by Applied and ReadIndex
	applied     *applyWait    // wakes WaitApplied; triggered by notifyingFSM

	leaderMu sync.Mutex
	leaderCh chan struct{} // closed at the next leader/state change
	// clusterVersions is what every voter understands (gate.go).
	clusterVersions atomic.Pointer[map[fsm.Type]uint8]
	kick            chan struct{} // wakes the leadership goroutine (watchLeadership)

	batcher *propose.Batcher // group commit (group.go)
	budget  *logBudget       // nil: no byte budget for the raft log

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Open opens the node's state under cfg.DataDir and starts raft.
func Open(cfg Config) (*Node, error) {
	cfg.setDefaults()
	start := time.Now()
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeID), stop: make(chan struct{}), leaderCh: make(chan struct{}), kick: make(chan struct{}, 1),
		scrub: newScrubber(cfg.DataDir)}
	n.batcher = n.newBatcher()
	if cfg.RaftLogBytes > 0 {
		n.budget = newLogBudget(cfg.RaftLogBytes)
	}
	owed := n.scrub.pending() // before raft may apply an erase and write the marker
	if err := n.open(); err != nil {
		n.closeAll()
		return nil, err
	}
	links, _ := n.st.LiveLinks()
	n.log.Info("node started", "appliedIndex", n.fsm.Applied(), "links", links,
		"dataDir", cfg.DataDir, "raftAddr", cfg.RaftAdvertise, "took", time.Since(start).Round(time.Millisecond))
	n.watchLeadership()
	n.wg.Add(1)
	go n.runScrubs()
	if n.budget != nil {
		n.wg.Add(1)
		go n.runLogBudget()
	}
	if owed {
		n.log.Info("an erasure scrub is owed from before this start")
		n.scrub.request()
	}
	return n, nil
}

func (n *Node) open() error {
	var err error
	if err = os.MkdirAll(filepath.Join(n.cfg.DataDir, "raft"), 0o755); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.st, err = store.Open(filepath.Join(n.cfg.DataDir, "fsm"), store.Options{HotSetBytes: n.cfg.HotSetBytes, Logger: n.log,
		OnErase: n.markErase})
	if err != nil {
		return err
	}
	if n.fsm, err = fsm.New(n.st, n.log); err != nil {
		return err
	}
	n.bolt, err = openBoltLog(filepath.Join(n.cfg.DataDir, "raft", "raft.db"))
	if err != nil {
		return fmt.Errorf("node: open raft log (is another linkd using %s?): %w", n.cfg.DataDir, err)
	}
	if n.budget != nil {
		n.bolt.watch = n.budget.grew
	}
	logs, err := raft.NewLogCache(logCacheSize, n.bolt)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	hlog := newHCLogger(n.log)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(n.cfg.DataDir, "raft"), retainSnapshots, hlog)
	if err != nil {
		return fmt.Errorf("node: snapshot store: %w", err)
	}
	n.snaps = snaps
	if err := n.catchUpFromSnapshot(snaps); err != nil {
		return err
	}
	n.logs, n.applied = logs, newApplyWait(n.fsm.Applied())
	if n.trans, err = n.transport(hlog); err != nil {
		return err
	}
	if err := n.adoptRestored(logs, snaps); err != nil {
		return err
	}
	rc := n.raftConfig(hlog)
	if n.cfg.Bootstrap {
		if err := n.bootstrap(rc, logs, snaps); err != nil {
			return err
		}
	}
	n.raft, err = raft.NewRaft(rc, notifyingFSM{n.fsm, n.applied, n.kickLeadership}, logs, n.bolt, snaps, n.trans)
	if err != nil {
		return fmt.Errorf("node: start raft: %w", err)
	}
	return nil
}

func (n *Node) raftConfig(hlog hclog.Logger) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.cfg.NodeID)
	rc.Logger = hlog
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = n.cfg.LeaderLeaseTimeout
	rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.MaxAppendEntries = maxAppendEntries
	rc.CommitTimeout = commitTimeout
	rc.BatchApplyCh = true
	// The fsm's state lives in Pebble and survives restarts; restoring the
	// latest snapshot on every start would throw that away and rebuild it.
	// catchUpFromSnapshot restores only when Pebble is behind the snapshot.
	rc.NoSnapshotRestoreOnStart = true
	return rc
}

// catchUpFromSnapshot restores the newest snapshot if the store is older
// than it (a data directory whose fsm state was lost or never synced).
// The snapshot's own applied index is compared, not the raft index it is
// filed under, which also counts no-ops and barriers.
func (n *Node) catchUpFromSnapshot(snaps raft.SnapshotStore) error {
	list, err := snaps.List()
	if err != nil || len(list) == 0 || list[0].Index <= n.fsm.Applied() {
		return err
	}
	latest := list[0]
	_, rc, err := snaps.Open(latest.ID)
	if err != nil {
		return fmt.Errorf("node: open snapshot %s: %w", latest.ID, err)
	}
	holds, err := store.SnapshotApplied(rc)
	rc.Close()
	if err != nil || holds <= n.fsm.Applied() {
		return err
	}
	n.log.Warn("store is behind the latest snapshot; restoring it", "applied", n.fsm.Applied(), "snapshot", holds)
	if _, rc, err = snaps.Open(latest.ID); err != nil {
		return fmt.Errorf("node: open snapshot %s: %w", latest.ID, err)
	}
	return n.fsm.Restore(rc)
}

func (n *Node) transport(hlog hclog.Logger) (raft.Transport, error) {
	stream := n.cfg.Stream
	if stream == nil {
		adv, err := net.ResolveTCPAddr("tcp", n.cfg.RaftAdvertise)
		if err != nil {
			return nil, fmt.Errorf("node: raft advertise address %q: %w", n.cfg.RaftAdvertise, err)
		}
		if stream, err = listenTCP(n.cfg.RaftAddr, adv); err != nil {
			return nil, fmt.Errorf("node: raft transport on %s: %w", n.cfg.RaftAddr, err)
		}
	}
	n.stream = ownStream(stream)
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: n.stream, MaxPool: transportMaxPool, Timeout: transportTimeout, Logger: hlog,
		MaxRPCsInFlight: transportInFlight,
	}), nil
}

func (n *Node) bootstrap(rc *raft.Config, logs raft.LogStore, snaps raft.SnapshotStore) error {
	has, err := raft.HasExistingState(logs, n.bolt, snaps)
	if err != nil || has {
		return err
	}
	n.log.Info("bootstrapping a new single-node cluster")
	conf := raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter, ID: rc.LocalID, Address: n.trans.LocalAddr(),
	}}}
	return raft.BootstrapCluster(rc, logs, n.bolt, snaps, n.trans, conf)
}

// Store returns the node's store, for reads.
func (n *Node) Store() *store.Store { return n.st }

// ID returns the node id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Propose commits c through raft and returns what applying it produced.
// A domain failure is returned both in the Result and as the error.
func (n *Node) Propose(ctx context.Context, c fsm.Command) (*fsm.Result, error) {
	b, err := fsm.Encode(c)
	if err != nil {
		return nil, err
	}
	return n.ProposeEncoded(ctx, b)
}

// ProposeEncoded is Propose for an already encoded command (forwarded from
// another node).
func (n *Node) ProposeEncoded(ctx context.Context, cmd []byte) (*fsm.Result, error) {
	if err := fsm.Check(cmd); err != nil {
		return nil, notApplied(err) // never append what this leader could not apply
	}
	select {
	case <-n.stop:
		return nil, notApplied(ErrShutdown)
	default:
	}
	deadline := time.Now().Add(proposeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return n.batcher.Submit(cmd, deadline, "") // group commit (group.go)
}

// await waits for a raft future, or until the node stops. With
// BatchApplyCh raft's apply channel is buffered, and raft can take an entry
// (or a barrier, or a leadership check) into it after it has shut down and
// then never answer it; a caller must not hang on that for ever. Close stops
// the node only after the HTTP server and the RPC server have drained, so
// nothing is normally in flight by then; what is, is reported as a shutdown
// (an unknown outcome for a proposal).
func (n *Node) await(f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-n.stop:
		return raft.ErrRaftShutdown
	}
}

// raftError maps raft's errors onto node's, with their kind: raft fails an
// Apply future with ErrNotLeader, ErrLeadershipTransferInProgress or
// ErrEnqueueTimeout only before the entry is in the log; ErrLeadershipLost
// and ErrRaftShutdown also after, so those are unknown. Anything else is
// unknown too: never a certain-looking error for an uncertain outcome.
func raftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return notApplied(ErrNotLeader, err)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return notApplied(ErrNoLeader, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		return unknownOutcome(ErrLeadershipLost)
	case errors.Is(err, raft.ErrRaftShutdown):
		return unknownOutcome(ErrShutdown)
	}
	return unknownOutcome(fmt.Errorf("node: %w", err))
}

// InitSecrets is what a new cluster's bootstrap admin needs, shown once.
type InitSecrets struct {
	// AdminToken is the admin's API token; Generated says it was made here
	// rather than given in the configuration.
	AdminToken string
	Generated  bool
	// AdminInvite is the one-time invite with which the admin sets the
	// email and password of its console login.
	AdminInvite string
}

func (n *Node) proposeInit() error {
	sec := InitSecrets{AdminToken: n.cfg.AdminToken, AdminInvite: token.Invite()}
	if sec.AdminToken == "" {
		sec.AdminToken, sec.Generated = token.API(), true
	}
	init := &fsm.Init{
		Now:             time.Now().UnixMilli(),
		ClusterID:       token.Hex(16),
		PermKey:         token.Bytes(32),
		AdminKeyID:      token.Hex(8),
		AdminKeyHash:    store.TokenHash(sec.AdminToken),
		AdminInviteID:   token.Hex(8),
		AdminInviteHash: store.TokenHash(sec.AdminInvite),
	}
	if _, err := n.Propose(context.Background(), init); err != nil {
		return err
	}
	n.log.Info("initialised a new cluster", "clusterId", init.ClusterID)
	if n.cfg.OnInit != nil {
		n.cfg.OnInit(sec)
	}
	return nil
}

// Close stops the node: raft first (so nothing more is applied), then the
// raft log and the store.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		close(n.stop)
		n.wg.Wait()
		n.batcher.Wait()
		err = n.closeAll()
	})
	return err
}

// runOnKick runs work each time kick fires, until the node stops. A run
// that fails while the node is not stopping is logged and, after retry,
// run again (a kick meanwhile is covered by it).
func (n *Node) runOnKick(kick chan struct{}, retry time.Duration, what string, work func() error) {
	for {
		select {
		case <-kick:
		case <-n.stop:
			return
		}
		err := work()
		if err == nil {
			continue
		}
		select {
		case <-n.stop:
			return
		default:
		}
		n.log.Warn(what+" failed; trying again", "err", err, "in", retry)
		t := time.NewTimer(retry)
		select {
		case <-t.C:
		case <-n.stop:
			t.Stop()
			return
		}
		wake(kick)
	}
}

// wake makes a pending signal on c (capacity one): the goroutine that
// waits on it runs once more, however many wake it meanwhile.
func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (n *Node) closeAll() error {
	var errs []error
	if n.raft != nil {
		n.HandOffLeadership()
		errs = append(errs, n.raft.Shutdown().Error())
	}
	if c, ok := n.trans.(interface{ Close() error }); ok {
		errs = append(errs, c.Close())
	}
	// The transport's Close does not report the stream's: ask it again.
	// Only once no handler runs may the raft log close (stream.go).
	var handlers error
	if n.stream != nil {
		handlers = n.stream.Close()
		errs = append(errs, handlers)
	}
	if n.bolt != nil && handlers == nil {
		errs = append(errs, n.bolt.Close())
	}
	if n.st != nil {
		errs = append(errs, n.st.SyncWAL(), n.st.Close())
	}
	return errors.Join(errs...)
}
