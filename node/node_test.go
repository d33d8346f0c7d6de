package node_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/freeport"
	"github.com/linkd/linkd/node"
)

func open(t *testing.T, id, dir, addr string, bootstrap bool) *node.Node {
	t.Helper()
	return openWith(t, node.Config{NodeID: id, DataDir: dir, RaftAddr: addr, Bootstrap: bootstrap})
}

// openWith opens a node of cfg with group commit, short raft timeouts and
// no log output, closed when the test ends.
func openWith(t *testing.T, cfg node.Config) *node.Node {
	t.Helper()
	cfg.GroupCommit = true
	cfg.HeartbeatTimeout, cfg.ElectionTimeout = 300*time.Millisecond, 300*time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	n.SetClusterVersions(fsm.Versions()) // no cluster layer here: these tests run one release
	return n
}

// waitReady waits, woken by leadership changes and a short sleep, until n
// is ready.
func waitReady(t *testing.T, n *node.Node) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for n.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v", n.ID(), n.Ready())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func createLink(code string) *fsm.CreateLink {
	return &fsm.CreateLink{Now: time.Now().UnixMilli(), Code: code, Custom: true, URL: "https://example.com/" + code, Owner: 1, RedirectStatus: 302}
}

// After a restart the leader's log ends in entries the fsm never sees (the
// new term's no-op and barrier). Applied covers them, so the node is
// ready, while the fsm's own index stays at the last command; ReadIndex
// names that command, so a waiter is woken by the fsm, not by raft's queue.
func TestAppliedCoversNoOpsAndBarriers(t *testing.T) {
	dir, addr := t.TempDir(), freeport.Addr(t)
	n := open(t, "n1", dir, addr, true)
	waitReady(t, n)
	if _, err := n.Propose(context.Background(), createLink("abc")); err != nil {
		t.Fatal(err)
	}
	n.Close()
	n = open(t, "n1", dir, addr, true)
	waitReady(t, n)
	fsmApplied, err := n.Store().AppliedIndex()
	if err != nil {
		t.Fatal(err)
	}
	st := n.Status()
	if st.CommitIndex <= fsmApplied {
		t.Fatalf("commit index %d should be past the fsm's %d (no-op and barrier of the new term)", st.CommitIndex, fsmApplied)
	}
	if st.AppliedIndex != st.CommitIndex {
		t.Fatalf("Applied %d, want the commit index %d: the trailing entries change no state", st.AppliedIndex, st.CommitIndex)
	}
	idx, err := n.ReadIndex()
	if err != nil {
		t.Fatal(err)
	}
	if idx != fsmApplied {
		t.Fatalf("ReadIndex %d, want the last command's index %d", idx, fsmApplied)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := n.WaitApplied(ctx, idx); err != nil {
		t.Fatal(err)
	}
	if l, err := n.Store().Link("abc"); err != nil || l.URL != "https://example.com/abc" {
		t.Fatalf("link after restart: %+v, %v", l, err)
	}
}

// WaitApplied returns when the fsm applies the index, woken by the fsm, and
// gives up with the context.
func TestWaitAppliedWakesOnApply(t *testing.T) {
	n := open(t, "n1", t.TempDir(), freeport.Addr(t), true)
	waitReady(t, n)
	next := n.Applied() + 1
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- n.WaitApplied(ctx, next)
	}()
	select {
	case err := <-done:
		t.Fatalf("WaitApplied returned before anything was applied: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := n.Propose(context.Background(), createLink("w1")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := n.WaitApplied(ctx, n.Applied()+100); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitApplied for an index never reached: %v", err)
	}
}

// Errors say whether the command certainly was not applied.
func TestProposeErrorKinds(t *testing.T) {
	var nodes []*node.Node
	var peers []node.Peer
	for i := range 3 {
		addr := freeport.Addr(t)
		nodes = append(nodes, open(t, fmt.Sprintf("n%d", i+1), t.TempDir(), addr, false))
		peers = append(peers, node.Peer{ID: fmt.Sprintf("n%d", i+1), Addr: addr, Voter: true})
	}
	for _, n := range nodes {
		if err := n.Bootstrap(peers); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		waitReady(t, n)
	}
	var follower *node.Node
	for _, n := range nodes {
		if !n.IsLeader() {
			follower = n
		}
	}
	_, err := follower.Propose(context.Background(), createLink("f1"))
	if !errors.Is(err, node.ErrNotApplied) || !errors.Is(err, node.ErrNotLeader) || errors.Is(err, node.ErrUnknownOutcome) {
		t.Fatalf("propose on a follower: %v, want not applied (not the leader)", err)
	}
	follower.Close()
	_, err = follower.Propose(context.Background(), createLink("f2"))
	if !errors.Is(err, node.ErrNotApplied) || !errors.Is(err, node.ErrShutdown) {
		t.Fatalf("propose on a closed node: %v, want not applied (shutting down)", err)
	}
	if _, err := follower.ReadIndex(); !errors.Is(err, node.ErrNotApplied) && !errors.Is(err, node.ErrUnknownOutcome) {
		t.Fatalf("read index on a closed follower: %v", err)
	}
}
