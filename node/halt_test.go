package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/freeport"
)

type haltLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *haltLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *haltLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func openHaltNode(t *testing.T, dir, addr string, logs *haltLogBuffer) *Node {
	t.Helper()
	n, err := Open(Config{NodeID: "n1", DataDir: dir, RaftAddr: addr, Bootstrap: true,
		HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func haltWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// 30 s: with 100 ms raft timing on a loaded machine, elections can
	// churn for seconds, and a failed hand-off is retried after initRetry.
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A raft entry from a newer linkd (here: an unknown command type, appended
// past the leader's own check) stops the node applying without a crash: it
// logs one clear line, reports not ready, keeps running and shuts down
// cleanly; restarted on the same binary it halts again at the same entry
// (no panic, no loop), its state unchanged. ProposeEncoded refuses to
// append such an entry in the first place.
func TestNewerEntryMakesNodeNotReadyWithoutCrash(t *testing.T) {
	dir, addr := t.TempDir(), freeport.Addr(t)
	logs := &haltLogBuffer{}
	n := openHaltNode(t, dir, addr, logs)
	haltWaitFor(t, "ready", func() bool { return n.Ready() == nil })
	ctx := context.Background()
	if _, err := n.Propose(ctx, &fsm.CreateLink{Now: 1, Code: "before", URL: "https://a.test", Owner: 1, RedirectStatus: 302}); err != nil {
		t.Fatal(err)
	}
	b, err := fsm.Encode(&fsm.DeleteLink{Now: 2, Code: "before", Actor: 1})
	if err != nil {
		t.Fatal(err)
	}
	newer := append([]byte{200}, b[1:]...)
	if _, err := n.ProposeEncoded(ctx, newer); !errors.Is(err, fsm.ErrTooNew) {
		t.Fatalf("ProposeEncoded of a newer entry: %v, want ErrTooNew", err)
	}
	// What a newer leader would have replicated to this node.
	if err := n.raft.Apply(newer, time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	haltWaitFor(t, "not ready", func() bool { return errors.Is(n.Ready(), fsm.ErrHalted) })
	if _, err := n.Propose(ctx, &fsm.DeleteLink{Now: 3, Code: "before", Actor: 1}); err == nil {
		t.Fatal("a halted node applied a later command")
	}
	if l, err := n.Store().Link("before"); err != nil || l.URL != "https://a.test" {
		t.Fatalf("state changed after the halt: %+v %v", l, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(logs.String(), "REFUSING a raft entry"); c != 1 {
		t.Fatalf("%d refusal lines, want 1:\n%s", c, logs)
	}

	logs2 := &haltLogBuffer{}
	n = openHaltNode(t, dir, addr, logs2)
	defer n.Close()
	haltWaitFor(t, "halt after restart", func() bool { return errors.Is(n.Ready(), fsm.ErrHalted) })
	// The halt is visible to Ready a moment before its log line is written.
	haltWaitFor(t, "the refusal line after restart", func() bool { return strings.Contains(logs2.String(), "REFUSING a raft entry") })
	if l, err := n.Store().Link("before"); err != nil || l.Status.String() != "active" {
		t.Fatalf("state after restart: %+v %v", l, err)
	}
}

// A halted node that wins leadership hands it over, so the cluster keeps
// accepting writes while the node waits for its upgrade.
func TestHaltedNodeDoesNotKeepLeadership(t *testing.T) {
	var nodes []*Node
	var peers []Peer
	var logs []*haltLogBuffer
	for i := range 3 {
		logs = append(logs, &haltLogBuffer{})
		id, addr := fmt.Sprintf("n%d", i+1), freeport.Addr(t)
		n, err := Open(Config{NodeID: id, DataDir: t.TempDir(), RaftAddr: addr,
			HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(logs[i], &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		nodes = append(nodes, n)
		peers = append(peers, Peer{ID: id, Addr: addr, Voter: true})
	}
	for _, n := range nodes {
		if err := n.Bootstrap(peers); err != nil {
			t.Fatal(err)
		}
	}
	leader := func() *Node {
		for _, n := range nodes {
			if n.IsLeader() && n.Ready() == nil {
				return n
			}
		}
		return nil
	}
	haltWaitFor(t, "a ready leader", func() bool { return leader() != nil })
	// Halt n3's fsm as an entry from a newer linkd would, through the
	// wrapper raft applies through (it wakes the hand-off; n3 may already
	// lead, and then nothing else would).
	halted := nodes[2]
	b, _ := fsm.Encode(&fsm.DeleteLink{Now: 1, Code: "x", Actor: 1})
	notifyingFSM{halted.fsm, halted.applied, halted.kickLeadership}.ApplyBatch([]*raft.Log{{Index: halted.fsm.Applied() + 1, Type: raft.LogCommand, Data: append([]byte{200}, b[1:]...)}})
	if halted.fsm.Halted() == nil {
		t.Fatal("fsm not halted")
	}
	// Give it leadership; it must give it away again. (Leadership may be
	// changing right now: wait for a leader rather than read a nil one.)
	// A transfer can time out on a loaded machine (100 ms raft timing):
	// try again, a few times.
	for try := 0; ; try++ {
		var l *Node
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if l = leader(); l != nil {
				break
			}
			if halted.IsLeader() { // it has leadership already (never ready): what the transfer is for
				l = halted
				break
			}
			if time.Now().After(deadline) {
				for _, n := range nodes {
					t.Logf("%s leader=%v ready=%v halted=%v applied=%d", n.ID(), n.IsLeader(), n.Ready(), n.fsm.Halted() != nil, n.fsm.Applied())
				}
				t.Fatal("timed out waiting for a ready leader") // the states above say why
			}
		}
		if l == halted {
			break
		}
		err := l.raft.LeadershipTransferToServer(raft.ServerID(halted.ID()), raft.ServerAddress(peers[2].Addr)).Error()
		if err == nil {
			break
		}
		if try == 4 {
			t.Fatal(err)
		}
		t.Logf("leadership transfer to the halted node: %v; again", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if l := leader(); l != nil && l != halted {
			break
		}
		if time.Now().After(deadline) {
			for _, n := range nodes {
				t.Logf("%s leader=%v ready=%v halted=%v applied=%d commit=%d term=%d barrierTerm=%d", n.ID(), n.IsLeader(), n.Ready(),
					n.fsm.Halted() != nil, n.fsm.Applied(), n.raft.CommitIndex(), n.raft.CurrentTerm(), n.barrierTerm.Load())
			}
			for i, l := range logs {
				t.Logf("n%d's log:\n%s", i+1, l)
			}
			t.Fatal("timed out waiting for a ready leader other than the halted node") // the states above say why
		}
	}
	if _, err := leader().Propose(context.Background(), &fsm.CreateLink{Now: 2, Code: "after", URL: "https://b.test", Owner: 1, RedirectStatus: 302}); err != nil {
		t.Fatalf("write after the hand-off: %v", err)
	}
}
