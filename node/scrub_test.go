package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/diskscan"
	"github.com/linkd/linkd/internal/freeport"
	"github.com/linkd/linkd/store"
)

// scrubCluster is three real nodes (raft over loopback TCP, bolt, Pebble in
// temp dirs) that a test can stop and restart.
type scrubCluster struct {
	t     *testing.T
	nodes []*Node
	dirs  []string
	addrs []string
}

func (c *scrubCluster) open(i int) {
	c.t.Helper()
	n, err := Open(Config{NodeID: fmt.Sprintf("n%d", i+1), DataDir: c.dirs[i], RaftAddr: c.addrs[i],
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes[i] = n
}

func startScrubCluster(t *testing.T) *scrubCluster {
	c := &scrubCluster{t: t, nodes: make([]*Node, 3)}
	var peers []Peer
	for i := range 3 {
		c.dirs, c.addrs = append(c.dirs, t.TempDir()), append(c.addrs, freeport.Addr(t))
		peers = append(peers, Peer{ID: fmt.Sprintf("n%d", i+1), Addr: c.addrs[i], Voter: true})
	}
	for i := range 3 {
		c.open(i)
		if err := c.nodes[i].Bootstrap(peers); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			if n != nil {
				n.Close()
			}
		}
	})
	return c
}

// propose commits cmd through whichever node leads, retrying while
// leadership settles.
func (c *scrubCluster) propose(cmd fsm.Command) *fsm.Result {
	c.t.Helper()
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, n := range c.nodes {
			if n == nil || !n.IsLeader() || n.Ready() != nil {
				continue
			}
			res, err := n.Propose(context.Background(), cmd)
			if err == nil && res.Err != nil {
				c.t.Fatalf("%T: %v", cmd, res.Err)
			}
			if err == nil {
				return res
			}
			last = err
		}
	}
	c.t.Fatalf("%T not committed: %v", cmd, last)
	return nil
}

// holding returns the files under dir whose raw bytes contain s.
func holding(t *testing.T, dir, s string) []string {
	t.Helper()
	out, err := diskscan.Holding(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fillUser creates a user whose email, link destinations, titles and
// tags, profile bio, and webhook endpoint's URL and secret carry canary
// (random hex: Snappy keeps it a literal). The outbox keeps the changes:
// the purge queue is not acknowledged (no purge target), and the user's
// endpoint and an admin's all-users endpoint hold pending deliveries and
// one delivered each. (Snapshots are the caller's.)
func (c *scrubCluster) fillUser(canary string) uint64 {
	c.t.Helper()
	now := time.Now().UnixMilli()
	u := c.propose(&fsm.CreateUser{Now: now, Email: canary + "@x.test", PasswordHash: "h", Role: 1}).User
	c.propose(&fsm.CreateWebhook{Now: now, ID: 70, Owner: u.ID, URL: "https://hooks.test/" + canary, Events: ^uint32(0),
		Secret: "whsec_" + canary})
	c.propose(&fsm.CreateWebhook{Now: now, ID: 71, Owner: 1, All: true, URL: "https://admin-hooks.test/", Events: ^uint32(0),
		Secret: "whsec_admin"})
	for i := range 20 {
		c.propose(&fsm.CreateLink{Now: now + int64(i), Code: fmt.Sprintf("%s%02d", canary[:6], i), Custom: true,
			URL: "https://dest.test/" + canary, Title: "title " + canary, Tags: []string{"tag" + canary}, Owner: u.ID, RedirectStatus: 302})
	}
	c.propose(&fsm.SetProfile{Now: now, User: u.ID, Handle: "h" + canary[:8], Bio: "bio " + canary,
		PageCode: "pg" + canary[:6], PageURL: "https://sho.rt/@h", NewCodes: []string{"pg" + canary[:6]},
		Links: []store.ProfileLink{{Code: canary[:6] + "00", URL: "https://dest.test/" + canary, Title: "t"}}})
	for _, ep := range []uint64{70, 71} {
		dls, err := c.leader().Store().Deliveries(ep, true, 1)
		if err != nil || len(dls) == 0 {
			c.t.Fatalf("endpoint %d has no pending delivery: %v", ep, err)
		}
		c.propose(&fsm.WebhookAttempt{Now: now, Endpoint: ep, Index: dls[0].Pos.Index, Seq: dls[0].Pos.Seq, OK: true, Status: 200})
	}
	return u.ID
}

// leader is the node that leads (the test has just committed through it).
func (c *scrubCluster) leader() *Node {
	c.t.Helper()
	for _, n := range c.nodes {
		if n != nil && n.IsLeader() {
			return n
		}
	}
	c.t.Fatal("no leader")
	return nil
}

func newCanary() string {
	r := make([]byte, 10)
	rand.Read(r)
	return "cnry" + hex.EncodeToString(r)
}

// waitScrubbed waits until n finished more than runs scrubs and applied
// index.
func waitScrubbed(t *testing.T, n *Node, runs uint64, index uint64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); n.ScrubStats().Runs <= runs || n.fsm.Applied() < index; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no scrub after the erase (%+v, applied %d < %d)", n.ID(), n.ScrubStats(), n.fsm.Applied(), index)
		}
	}
}

// An erasure leaves none of the user's data in any file of any node's
// data directory (raft.db, snapshots, Pebble's SSTables, WALs and
// MANIFEST) once each node's scrub ran; the check is shown to find the
// data in raft.db, a snapshot and Pebble first. The cluster keeps working.
func TestErasureScrubsEveryNode(t *testing.T) {
	c := startScrubCluster(t)
	canary := newCanary()
	uid := c.fillUser(canary)
	for _, n := range c.nodes {
		if err := n.raft.Snapshot().Error(); err != nil {
			t.Fatal(err)
		}
	}
	c.propose(&fsm.CreateLink{Now: 1, Code: "other", Custom: true, URL: "https://other.test/", Owner: 1, RedirectStatus: 302})
	for i, n := range c.nodes {
		got := fmt.Sprint(holding(t, c.dirs[i], canary))
		for _, want := range []string{"raft.db", "state.bin", "fsm/db-"} {
			if !bytes.Contains([]byte(got), []byte(want)) {
				t.Fatalf("%s: the check cannot see the canary in %s (found in %s)", n.ID(), want, got)
			}
		}
	}

	c.eraseEverywhere(t, uid, canary, func(i int) {
		if _, err := c.nodes[i].Store().Endpoint(70); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the erased user's webhook endpoint: %v", c.nodes[i].ID(), err)
		}
	})
	c.propose(&fsm.CreateLink{Now: 2, Code: "after", Custom: true, URL: "https://after.test/", Owner: 1, RedirectStatus: 302})
	for _, n := range c.nodes {
		haltWaitFor(t, n.ID()+" has the link made after the scrub", func() bool { _, err := n.Store().Link("after"); return err == nil })
	}
}

// eraseEverywhere erases user uid, waits for every node's scrub and checks
// that no file of its data dir holds canary; then, per node, it logs the
// time since the erase was proposed and calls also (more checks, figures).
func (c *scrubCluster) eraseEverywhere(t *testing.T, uid uint64, canary string, also func(i int)) {
	t.Helper()
	erased := time.Now()
	c.propose(&fsm.DeleteUser{Now: time.Now().UnixMilli(), ID: uid})
	idx := c.leaderApplied()
	for i, n := range c.nodes {
		waitScrubbed(t, n, 0, idx)
		if got := holding(t, c.dirs[i], canary); len(got) > 0 {
			t.Errorf("%s: after its scrub these files still hold the erased user's data: %v", n.ID(), got)
		}
		t.Logf("%s scrubbed %s after the erase was proposed (its scrub took %s)", n.ID(),
			time.Since(erased).Round(time.Millisecond), n.ScrubStats().Last.Round(time.Millisecond))
		also(i)
	}
}

func (c *scrubCluster) leaderApplied() uint64 {
	var a uint64
	for _, n := range c.nodes {
		if n != nil && n.IsLeader() {
			a = max(a, n.fsm.Applied())
		}
	}
	return a
}

// A node that was down during the erasure scrubs when it comes back: the
// others' logs no longer hold the entries it lacks, so the leader sends a
// snapshot taken after the erase, and restoring it triggers the scrub of
// the node's own older log, snapshots and store.
func TestErasureScrubsANodeThatWasDown(t *testing.T) {
	c := startScrubCluster(t)
	canary := newCanary()
	uid := c.fillUser(canary)
	down := 2
	if c.nodes[down].IsLeader() {
		down = 1 // stop a follower; its restart must not need a new election to proceed
	}
	c.nodes[down].Close()
	c.nodes[down] = nil
	c.propose(&fsm.DeleteUser{Now: time.Now().UnixMilli(), ID: uid})
	idx := c.leaderApplied()
	for i, n := range c.nodes {
		if n == nil {
			continue
		}
		waitScrubbed(t, n, 0, idx)
		if got := holding(t, c.dirs[i], canary); len(got) > 0 {
			t.Errorf("%s: after its scrub these files still hold the erased user's data: %v", n.ID(), got)
		}
	}
	if got := holding(t, c.dirs[down], canary); len(got) == 0 {
		t.Fatal("the stopped node's files do not hold the canary: the check below would prove nothing")
	}
	restarted := time.Now()
	c.open(down)
	n := c.nodes[down]
	waitScrubbed(t, n, 0, idx)
	if got := holding(t, c.dirs[down], canary); len(got) > 0 {
		t.Errorf("%s (down during the erase): after its scrub these files still hold the erased user's data: %v", n.ID(), got)
	}
	if _, err := n.Store().User(uid); err == nil {
		t.Error("the restarted node still has the user")
	}
	t.Logf("%s scrubbed %s after its restart", n.ID(), time.Since(restarted).Round(time.Millisecond))
}
