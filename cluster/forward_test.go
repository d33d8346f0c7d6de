package cluster_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/fsm"
)

// Concurrent writes forwarded by a follower travel in groups, and each
// caller still gets its own answer: its link, or its own refusal when
// another write in the same group took the alias first.
func TestForwardedGroupsAnswerEachCaller(t *testing.T) {
	c := clustertest.Start(t, 3)
	f := c.Followers()[0]
	const callers = 120
	errs := make([]error, callers)
	urls := make([]string, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			url := fmt.Sprintf("https://example.com/%d", i)
			res, err := f.Cluster.Propose(ctx(t), createLink(fmt.Sprintf("fg%d", i/2), url))
			errs[i] = err
			if err == nil {
				urls[i] = res.Link.URL
			}
		}()
	}
	close(start)
	wg.Wait()
	for i := 0; i < callers; i += 2 {
		won := 0
		for k := i; k < i+2; k++ {
			switch {
			case errs[k] == nil && urls[k] == fmt.Sprintf("https://example.com/%d", k):
				won++
			case errs[k] == nil:
				t.Fatalf("caller %d got someone else's link %q", k, urls[k])
			case !errors.Is(errs[k], fsm.ErrExists):
				t.Fatalf("caller %d: %v", k, errs[k])
			}
		}
		if won != 1 {
			t.Fatalf("alias fg%d: %d winners (%v, %v)", i/2, won, errs[i], errs[i+1])
		}
		if got := readURL(t, f, fmt.Sprintf("fg%d", i/2)); got != urls[i]+urls[i+1] {
			t.Fatalf("fg%d reads %q, want the winner's URL", i/2, got)
		}
	}
}
