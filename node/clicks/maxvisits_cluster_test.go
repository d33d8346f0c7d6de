package clicks_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// maxVisits on three nodes: visitors click on every node at once, each
// node redirecting while its own hot set says the link is not exhausted
// (as the redirect path does). The limit is counted through the click
// pipeline, so it may be overshot, but only by clicks made within the
// analytics lag (plus one commit round trip) after the click that reached
// the limit; after that every node refuses.
func TestMaxVisitsBoundOnThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	const (
		limit = 60
		lag   = 400 * time.Millisecond
		every = 3 * time.Millisecond // one click per node this often
		// commit is what a rollup's proposal, commit and apply may take
		// on a loaded test machine (2 cores, -race), on top of the lag:
		// 2.4 s has been seen under -race at a load average of 17.
		commit = 8 * time.Second
	)
	c := clustertest.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := "limit01"
	if _, err := c.Leader().Cluster.Propose(ctx, &fsm.CreateLink{Now: time.Now().UnixMilli(), Code: code, Custom: true,
		URL: "https://e.test", Owner: fsm.AdminUser, RedirectStatus: 302, MaxVisits: limit}); err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		accepted []time.Time // when a node redirected a human click
		wg       sync.WaitGroup
	)
	for _, nd := range c.Nodes {
		st := nd.Node.Store()
		cfg := clicks.Config{Dir: t.TempDir(), Source: nd.ID + "/t", Store: st, Lag: lag, Logger: clustertest.Logger()}
		rec, comp, err := clicks.Start(cfg, store.Retention{}, nd.Cluster.Propose)
		if err != nil {
			t.Fatal(err)
		}
		defer rec.Close()
		defer comp.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				e, _, err := st.Resolve(nil, []byte(code))
				if err != nil {
					t.Error(err)
					return
				}
				if e.Kind == store.HotActive && e.Flags&store.HotExhausted != 0 {
					return // this node refuses from now on
				}
				if e.Kind == store.HotActive {
					var ev clicks.Event
					ev.TimeMs, ev.Kind = time.Now().UnixMilli(), clicks.KindClick
					ev.SetCode([]byte(code))
					ev.SetUserAgent([]byte("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"))
					rec.Record(&ev)
					mu.Lock()
					accepted = append(accepted, time.Now())
					mu.Unlock()
				}
				time.Sleep(every)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("not every node saw the link exhausted in time (%d clicks accepted)", len(accepted))
	}
	slices.SortFunc(accepted, func(a, b time.Time) int { return a.Compare(b) })
	if len(accepted) < limit {
		t.Fatalf("exhausted after %d clicks, limit %d", len(accepted), limit)
	}
	reached := accepted[limit-1]
	over := accepted[limit:]
	for _, at := range over {
		if d := at.Sub(reached); d > lag+commit {
			t.Fatalf("a click %v after the limit was reached was still accepted (bound %v)", d, lag+commit)
		}
	}
	t.Logf("limit %d: %d clicks accepted on 3 nodes, overshoot %d, last %v after the limit-th",
		limit, len(accepted), len(over), accepted[len(accepted)-1].Sub(reached))
}
