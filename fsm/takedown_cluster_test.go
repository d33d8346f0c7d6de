package fsm_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/store"
)

// A blocklist entry blocks every matching link on every node within the
// commit of the one entry that adds it: once each node has applied that
// index, every code answers 451 (HotBlocked) there, including codes whose
// active entries were in the node's hot set before. takedownLinks is 300
// here; the measure build (-tags measure) uses 10,000 and logs the times.
func TestBlocklistBlocksOnEveryNode(t *testing.T) {
	c := clustertest.Start(t, 3)
	leader := c.Leader()
	codes := make([]string, takedownLinks)
	for i := range codes {
		codes[i] = fmt.Sprintf("bl%05d", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(codes); i += 32 {
				res, err := leader.Cluster.Propose(ctx, &fsm.CreateLink{Now: time.Now().UnixMilli(), Code: codes[i], Custom: true,
					URL: fmt.Sprintf("https://s%d.bad.test/%d", i%50, i), Owner: 1, RedirectStatus: 302})
				if err == nil && res.Err != nil {
					err = res.Err
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Every node has every link, active, in its hot set.
	idx := leader.Node.Applied()
	for _, nd := range c.Nodes {
		if err := nd.Node.WaitApplied(ctx, idx); err != nil {
			t.Fatal(err)
		}
		for _, code := range codes {
			if e, _, err := nd.Node.Store().Resolve(nil, []byte(code)); err != nil || e.Kind != store.HotActive {
				t.Fatalf("%s on %s before: %v, %v", code, nd.ID, e.Kind, err)
			}
		}
	}

	start := time.Now()
	res, err := leader.Cluster.Propose(ctx, &fsm.AddBlock{Now: time.Now().UnixMilli(), ID: 7,
		Kind: uint8(store.BlockDomain), Value: "bad.test", Actor: 1})
	if err != nil || res.Err != nil {
		t.Fatalf("add block: %v, %v", err, res.Err)
	}
	acked := time.Since(start)
	idx = leader.Node.Applied()
	var wg2 sync.WaitGroup
	took := make([]time.Duration, len(c.Nodes))
	for i, nd := range c.Nodes {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			if err := nd.Node.WaitApplied(ctx, idx); err != nil {
				t.Error(err)
			}
			took[i] = time.Since(start)
		}()
	}
	wg2.Wait()
	for _, nd := range c.Nodes {
		for _, code := range codes {
			if e, _, err := nd.Node.Store().Resolve(nil, []byte(code)); err != nil || e.Kind != store.HotBlocked {
				t.Fatalf("%s on %s after the commit: %v, %v", code, nd.ID, e.Kind, err)
			}
		}
	}
	t.Logf("blocklist entry matching %d links: acknowledged after %v; applied (every code 451) on %s %v, %s %v, %s %v",
		len(codes), acked, c.Nodes[0].ID, took[0], c.Nodes[1].ID, took[1], c.Nodes[2].ID, took[2])
}
