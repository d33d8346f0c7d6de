package node_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/freeport"
	"github.com/linkd/linkd/node"
)

// bigLink is a create whose raft entry is about size bytes.
func bigLink(i, size int) *fsm.CreateLink {
	code := fmt.Sprintf("big%d", i)
	return &fsm.CreateLink{Now: time.Now().UnixMilli(), Code: code, Custom: true, Owner: 1, RedirectStatus: 302,
		URL: "https://example.com/" + code + "?" + strings.Repeat("p", size)}
}

// A node keeps its raft log near its budget whatever the entries' sizes:
// 120 entries of 32 KiB through a 1 MiB budget, with raft's own entry-count
// rules far away. After every write the log comes back, within seconds, to
// at most three quarters of the budget and one entry (while a snapshot is
// being taken, entries keep arriving: how many depends on the machine, so
// the peak is not what is checked). Snapshots are taken for it, and
// nothing is lost across a restart. With the budget off, the same load
// leaves the whole 3.8 MB in the log.
func TestRaftLogStaysWithinBudget(t *testing.T) {
	const budget, entry, entries = 1 << 20, 32 << 10, 120
	run := func(t *testing.T, budget int64) (maxBytes int64, snaps uint64, n *node.Node) {
		dir, addr := t.TempDir(), freeport.Addr(t)
		open := func() *node.Node {
			n := openWith(t, node.Config{NodeID: "n1", DataDir: dir, RaftAddr: addr, Bootstrap: true,
				SnapshotThreshold: 1 << 20, SnapshotInterval: time.Hour, RaftLogBytes: budget})
			waitReady(t, n)
			return n
		}
		n = open()
		for i := range entries {
			if _, err := n.Propose(context.Background(), bigLink(i, entry)); err != nil {
				t.Fatal(err)
			}
			b := n.LogStats().Bytes
			if budget > 0 {
				b = settled(t, n, budget*3/4+entry)
			}
			maxBytes = max(maxBytes, b)
		}
		snaps = n.LogStats().BudgetSnapshots
		n.Close()
		n = open()
		for i := range entries {
			if l, err := n.Store().Link(fmt.Sprintf("big%d", i)); err != nil || len(l.URL) < entry {
				t.Fatalf("big%d after a restart: %v", i, err)
			}
		}
		if st := n.LogStats(); uint64(st.Entries) != st.Last-st.First+1 {
			t.Fatalf("after a restart %d entries are counted, raft.db holds %d..%d", st.Entries, st.First, st.Last)
		}
		return maxBytes, snaps, n
	}
	t.Run("budget", func(t *testing.T) {
		maxBytes, snaps, n := run(t, budget)
		if snaps == 0 {
			t.Fatal("no snapshot was taken for the budget")
		}
		if maxBytes < budget/2 {
			t.Fatalf("the log reached only %d bytes: the load never tested the budget", maxBytes)
		}
		if st := n.LogStats(); st.Bytes > budget*3/4+entry+1024 || st.BudgetBytes != budget {
			t.Fatalf("after a restart: %+v", st)
		}
	})
	t.Run("off", func(t *testing.T) {
		maxBytes, snaps, n := run(t, -1)
		if maxBytes < entries*entry {
			t.Fatalf("without a budget the log held at most %d bytes of %d written: something else truncated it", maxBytes, entries*entry)
		}
		if st := n.LogStats(); snaps != 0 || st.BudgetBytes != 0 {
			t.Fatalf("budget off: %+v", st)
		}
	})
}

// settled waits up to 10 s for n's raft log to hold at most limit bytes and
// returns what it holds then.
func settled(t *testing.T, n *node.Node, limit int64) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b := n.LogStats().Bytes
		if b <= limit {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log still holds %d bytes after 10 s, over three quarters of its budget and an entry (%d)", b, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
