// Package clustertest starts real linkd nodes in one test process: real
// raft over loopback TCP (through cluster's Mux, as linkd serve does), real
// Pebble in t.TempDir(), and the cluster layer with its RPC, so node and
// cluster get fast tests of forwarding, read indexes, join and removal
// without building and starting linkd binaries.
//
// It is for tests only and must never be imported by production code.
package clustertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/cluster/peerauth"
	"github.com/linkd/linkd/internal/freeport"
	"github.com/linkd/linkd/node"
)

// Fast raft timing: elections within a few hundred milliseconds, still
// tolerant of a loaded machine.
const (
	heartbeat   = 300 * time.Millisecond
	readyWithin = 30 * time.Second
)

// Node is one running node of a test cluster.
type Node struct {
	ID       string
	RaftAddr string
	Node     *node.Node
	Cluster  *cluster.Cluster
	mux      *cluster.Mux
	dir      string
	closed   bool
}

// Cluster is a set of in-process nodes.
type Cluster struct {
	t     testing.TB
	Nodes []*Node
}

// Start starts n nodes that bootstrap one cluster together (as
// --bootstrap-expect n --join <all> does) and waits until all are ready.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = FreeAddr(t)
	}
	for i := range n {
		c.Nodes = append(c.Nodes, c.start(fmt.Sprintf("n%d", i+1), addrs[i], t.TempDir(), cluster.Config{
			Join: addrs, BootstrapExpect: n,
		}))
	}
	for _, nd := range c.Nodes {
		c.WaitReady(nd)
	}
	return c
}

// Add starts a new node that joins the cluster through its members'
// addresses and waits until it is ready.
func (c *Cluster) Add(id string, nonVoter bool) *Node {
	c.t.Helper()
	var join []string
	for _, nd := range c.Nodes {
		join = append(join, nd.RaftAddr)
	}
	nd := c.start(id, FreeAddr(c.t), c.t.TempDir(), cluster.Config{Join: join, NonVoter: nonVoter})
	c.Nodes = append(c.Nodes, nd)
	c.WaitReady(nd)
	return nd
}

// secret is the cluster secret of every test cluster.
const secret = "clustertest-cluster-secret-0123456789abcdef"

func (c *Cluster) start(id, raftAddr, dir string, cfg cluster.Config) *Node {
	c.t.Helper()
	log := Logger()
	// The members authenticate each other as production nodes do.
	auth, err := peerauth.FromSecrets([]string{secret}, id)
	if err != nil {
		c.t.Fatal(err)
	}
	mux, err := cluster.Listen(raftAddr, "", auth, log)
	if err != nil {
		c.t.Fatal(err)
	}
	n, err := node.Open(node.Config{
		NodeID: id, DataDir: dir, RaftAdvertise: raftAddr, Stream: mux.RaftLayer(),
		HeartbeatTimeout: heartbeat, ElectionTimeout: heartbeat, Logger: log, GroupCommit: true,
	})
	if err != nil {
		mux.Close()
		c.t.Fatal(err)
	}
	cfg.Logger = log
	nd := &Node{ID: id, RaftAddr: raftAddr, Node: n, Cluster: cluster.New(n, mux, cfg), mux: mux, dir: dir}
	c.t.Cleanup(nd.Close)
	return nd
}

// Close stops the node (cluster layer, raft and Pebble, then its port).
func (nd *Node) Close() {
	if nd.closed {
		return
	}
	nd.closed = true
	nd.Cluster.Close()
	nd.Node.Close()
	nd.mux.Close()
}

// WaitReady waits until nd reports itself ready.
func (c *Cluster) WaitReady(nd *Node) {
	c.t.Helper()
	deadline := time.Now().Add(readyWithin)
	for nd.Cluster.Ready() != nil {
		if time.Now().After(deadline) {
			c.t.Fatalf("%s not ready after %s: %v", nd.ID, readyWithin, nd.Cluster.Ready())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Leader waits until one of the running nodes leads, woken by leadership
// changes, and returns it.
func (c *Cluster) Leader() *Node {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyWithin)
	defer cancel()
	for {
		cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}}
		for _, nd := range c.Nodes {
			if nd.closed {
				continue
			}
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(nd.Node.LeaderChanged())})
			if nd.Node.IsLeader() {
				return nd
			}
		}
		if i, _, _ := reflect.Select(cases); i == 0 {
			c.t.Fatal("no leader")
		}
	}
}

// Followers returns the running nodes other than the leader.
func (c *Cluster) Followers() []*Node {
	c.t.Helper()
	l := c.Leader()
	var out []*Node
	for _, nd := range c.Nodes {
		if nd != l && !nd.closed {
			out = append(out, nd)
		}
	}
	return out
}

// FreeAddr returns a loopback address with a port free at the time
// (internal/freeport: outside the ephemeral range).
func FreeAddr(t testing.TB) string { return freeport.Addr(t) }

// Logger discards logs unless LINKD_TEST_LOG is set. httpd/httpdtest
// hands these two helpers on to the tests above it.
func Logger() *slog.Logger {
	if os.Getenv("LINKD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
