package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/node"
)

func createLink(code, url string) *fsm.CreateLink {
	return &fsm.CreateLink{Now: time.Now().UnixMilli(), Code: code, Custom: true, URL: url, Owner: 1, RedirectStatus: 302}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// readURL reads a link linearizably on nd: ReadIndex, then the local store.
func readURL(t *testing.T, nd *clustertest.Node, code string) string {
	t.Helper()
	if err := nd.Cluster.ReadIndex(ctx(t)); err != nil {
		t.Fatalf("%s: read index: %v", nd.ID, err)
	}
	l, err := nd.Node.Store().Link(code)
	if err != nil {
		t.Fatalf("%s: link %s after read index: %v", nd.ID, code, err)
	}
	return l.URL
}

// A write proposed on a follower is forwarded to the leader, and a read
// index taken on the other follower right after the acknowledgement sees
// it: every time, not just eventually.
func TestForwardAndReadIndexOnFollowers(t *testing.T) {
	c := clustertest.Start(t, 3)
	f := c.Followers()
	for i := range 30 {
		code, url := fmt.Sprintf("fw%d", i), fmt.Sprintf("https://example.com/%d", i)
		res, err := f[i%2].Cluster.Propose(ctx(t), createLink(code, url))
		if err != nil || res.Link == nil || res.Link.URL != url {
			t.Fatalf("forwarded create %d: %+v, %v", i, res, err)
		}
		if got := readURL(t, f[(i+1)%2], code); got != url {
			t.Fatalf("read index on the other follower after create %d: %q, want %q", i, got, url)
		}
		upd := &fsm.UpdateLink{Now: time.Now().UnixMilli(), Code: code, Admin: true, URL: new(url + "/v2")}
		if _, err := c.Leader().Cluster.Propose(ctx(t), upd); err != nil {
			t.Fatalf("update %d on the leader: %v", i, err)
		}
		if got := readURL(t, f[i%2], code); got != url+"/v2" {
			t.Fatalf("read index on a follower after an update on the leader: %q, want %q", got, url+"/v2")
		}
	}
}

// Writes from a follower keep succeeding while leadership moves: not
// applied attempts are retried on the new leader, idempotent ones with an
// unknown outcome are replayed, and every acknowledged write is there.
func TestProposeRetriesAcrossLeaderChanges(t *testing.T) {
	c := clustertest.Start(t, 3)
	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				nd := c.Nodes[(w+i)%3]
				code, url := fmt.Sprintf("rt%d-%d", w, i), fmt.Sprintf("https://example.com/%d/%d", w, i)
				_, err := nd.Cluster.Propose(ctx(t), createLink(code, url))
				switch {
				case err == nil:
					mu.Lock()
					acked[code] = url
					mu.Unlock()
				case errors.Is(err, node.ErrUnknownOutcome) == errors.Is(err, node.ErrNotApplied):
					t.Errorf("error of no kind or both kinds: %v", err)
				}
			}
		})
	}
	for range 3 {
		l := c.Leader()
		l.Node.HandOffLeadership()
		time.Sleep(300 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d writes acknowledged across leader changes", len(acked))
	}
	for _, nd := range c.Nodes {
		for code, url := range acked {
			if got := readURL(t, nd, code); got != url {
				t.Fatalf("%s: acknowledged %s = %q, read %q", nd.ID, code, url, got)
			}
		}
	}
}

// A write with no leader anywhere certainly was not applied, and says so.
func TestProposeWithoutQuorumIsNotApplied(t *testing.T) {
	c := clustertest.Start(t, 3)
	l := c.Leader()
	f := c.Followers()
	f[0].Close()
	f[1].Close()
	cx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := l.Cluster.Propose(cx, &fsm.UpdateLink{Now: 1, Code: "x", Admin: true})
	// The leader steps down after its lease: the write was in flight (unknown)
	// or found no leader (not applied); either way it must say which.
	if errors.Is(err, node.ErrUnknownOutcome) == errors.Is(err, node.ErrNotApplied) {
		t.Fatalf("error of no kind or both kinds: %v", err)
	}
	_, err = f[0].Cluster.Propose(cx, &fsm.UpdateLink{Now: 1, Code: "x", Admin: true})
	if !errors.Is(err, node.ErrNotApplied) {
		t.Fatalf("propose on a closed node: %v, want ErrNotApplied", err)
	}
}

// A new node joins through any member, catches up, and serves linearizable
// reads; a member removed through a follower leaves the configuration.
func TestJoinAndRemove(t *testing.T) {
	c := clustertest.Start(t, 3)
	if _, err := c.Nodes[0].Cluster.Propose(ctx(t), createLink("before", "https://example.com/before")); err != nil {
		t.Fatal(err)
	}
	n4 := c.Add("n4", false)
	if got := readURL(t, n4, "before"); got != "https://example.com/before" {
		t.Fatalf("joined node reads %q", got)
	}
	if m := members(n4); len(m) != 4 {
		t.Fatalf("members after join: %v", m)
	}
	victim := c.Followers()[0]
	via := c.Followers()[1]
	if err := via.Cluster.Remove(ctx(t), victim.ID); err != nil {
		t.Fatalf("remove %s through %s: %v", victim.ID, via.ID, err)
	}
	victim.Close()
	if m := members(c.Leader()); len(m) != 3 {
		t.Fatalf("members after remove: %v", m)
	}
	if err := via.Cluster.Remove(ctx(t), "nobody"); !errors.Is(err, node.ErrUnknownPeer) {
		t.Fatalf("removing an unknown member: %v", err)
	}
	if _, err := via.Cluster.Propose(ctx(t), createLink("after", "https://example.com/after")); err != nil {
		t.Fatal(err)
	}
	if got := readURL(t, n4, "after"); got != "https://example.com/after" {
		t.Fatalf("after removal n4 reads %q", got)
	}
}

func members(nd *clustertest.Node) []string {
	var out []string
	for _, m := range nd.Cluster.Status().Members {
		out = append(out, m.ID)
	}
	return out
}

// Status and readiness of a settled cluster.
func TestStatusAndReady(t *testing.T) {
	c := clustertest.Start(t, 3)
	l := c.Leader()
	s := l.Cluster.FullStatus(context.Background())
	if s.State != "Leader" || len(s.Members) != 3 {
		t.Fatalf("status: %+v", s)
	}
	for _, m := range s.Members {
		if !m.Reachable || m.Lag == nil {
			t.Fatalf("member %s unreachable: %+v", m.ID, s)
		}
	}
	for _, nd := range c.Nodes {
		if err := nd.Cluster.Ready(); err != nil && !errors.Is(err, cluster.ErrLagging) {
			t.Fatalf("%s not ready: %v", nd.ID, err)
		}
	}
	// A member that does not answer has an unknown lag, not 0.
	down := c.Followers()[0]
	down.Close()
	for _, m := range l.Cluster.FullStatus(context.Background()).Members {
		if m.ID == down.ID && (m.Reachable || m.Lag != nil) {
			lag := "null"
			if m.Lag != nil { // a reachable member with no lag must not panic the report
				lag = strconv.FormatUint(*m.Lag, 10)
			}
			t.Fatalf("stopped member %s: reachable %v, lag %s", m.ID, m.Reachable, lag)
		}
	}
	// A drained node is not ready, whatever else holds.
	l.Cluster.Drain()
	if err := l.Cluster.Ready(); !errors.Is(err, cluster.ErrDraining) {
		t.Fatalf("a draining node reports ready: %v", err)
	}
}

// Every member of a cluster of one release learns that all members can
// apply group entries, so concurrent writes share raft entries.
func TestVersionGateOpensWhenEveryMemberUnderstands(t *testing.T) {
	c := clustertest.Start(t, 3)
	for _, nd := range c.Nodes {
		for deadline := time.Now().Add(20 * time.Second); !nd.Cluster.Understands(fsm.TypeGroup, 1); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the gate never opened for group entries", nd.ID)
			}
		}
		if nd.Cluster.Understands(fsm.TypeGroup, 2) {
			t.Fatalf("%s: the gate opened a version no member knows", nd.ID)
		}
	}
}

// A leader under a steady write load applies each entry a moment after it
// commits; that is no reason to leave a load balancer's pool. Only an
// unsettled term (or lag past MaxLag) makes a leader not ready.
func TestLeaderStaysReadyUnderWrites(t *testing.T) {
	c := clustertest.Start(t, 1)
	l := c.Leader()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				batch := &fsm.CreateLinks{}
				for j := range 500 {
					batch.Items = append(batch.Items, *createLink(fmt.Sprintf("w%d-%d-%d", w, i, j), "https://example.com/"))
				}
				if _, err := l.Cluster.Propose(ctx(t), batch); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var samples, notReady int
	var last error
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Microsecond) {
		samples++
		if err := l.Cluster.Ready(); err != nil {
			notReady++
			last = err
		}
	}
	close(stop)
	wg.Wait()
	if notReady > 0 {
		t.Fatalf("the leader reported not ready in %d of %d samples under writes; last: %v", notReady, samples, last)
	}
}
