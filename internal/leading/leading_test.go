package leading_test

import (
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/internal/leading"
)

// On a real 3-node cluster, the work runs on the leader alone; when the
// leader goes away, it stops there and starts on the new leader; closing
// done stops it everywhere.
func TestRunFollowsLeadership(t *testing.T) {
	c := clustertest.Start(t, 3)
	var mu sync.Mutex
	running := map[string]int{} // node id → 1 while its work runs
	starts := map[string]int{}
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	stopAll := func() { once.Do(func() { close(done) }); wg.Wait() }
	defer stopAll() // also when a check fails: no Run outlives the test
	for _, nd := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leading.Run(done, nd.Node, func() func() {
				mu.Lock()
				running[nd.ID]++
				starts[nd.ID]++
				mu.Unlock()
				return func() {
					mu.Lock()
					running[nd.ID]--
					mu.Unlock()
				}
			})
		}()
	}
	// waitOnly waits until the work runs on id and on no other running
	// node (a closed node's Run ends with done, as the runners are closed
	// before their node).
	closed := ""
	waitOnly := func(id string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			ok := running[id] == 1
			for other, n := range running {
				if other != id && other != closed && n != 0 {
					ok = false
				}
			}
			mu.Unlock()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("work not running on %s alone: %v", id, running)
			}
		}
	}
	first := c.Leader()
	waitOnly(first.ID)
	first.Close()
	closed = first.ID
	next := c.Leader()
	waitOnly(next.ID)
	stopAll()
	mu.Lock()
	defer mu.Unlock()
	for id, n := range running {
		if n != 0 {
			t.Fatalf("work still running on %s after done", id)
		}
	}
	if starts[first.ID] != 1 || starts[next.ID] != 1 {
		t.Fatalf("starts %v", starts)
	}
}
