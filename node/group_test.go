package node_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/linkd/linkd/fsm"
)

// Concurrent proposals are coalesced into fewer raft entries than
// commands, and each caller still gets its own result: a created link, or
// its own refusal when another proposal in the same group took the alias.
func TestGroupCommitPerCallerResults(t *testing.T) {
	n := open(t, "n1", t.TempDir(), freeAddr(t), true)
	waitReady(t, n)
	before := n.Status().CommitIndex
	const callers = 200
	start := make(chan struct{})
	results := make([]error, callers)
	links := make([]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code := fmt.Sprintf("g%03d", i/2) // every alias twice
			c := createLink(code)
			c.URL += fmt.Sprintf("/%d", i) // not a replay of the other
			r, err := n.Propose(context.Background(), c)
			results[i] = err
			if err == nil {
				links[i] = r.Link.Code
			}
		}()
	}
	close(start)
	wg.Wait()
	for pair := 0; pair < callers; pair += 2 {
		a, b := results[pair], results[pair+1]
		won := 0
		for k, err := range []error{a, b} {
			switch {
			case err == nil:
				won++
				if want := fmt.Sprintf("g%03d", pair/2); links[pair+k] != want {
					t.Fatalf("caller %d got link %q, want %q", pair+k, links[pair+k], want)
				}
			case !errors.Is(err, fsm.ErrExists):
				t.Fatalf("caller %d: %v", pair+k, err)
			}
		}
		if won != 1 {
			t.Fatalf("alias g%03d: %d callers created it (errors %v, %v)", pair/2, won, a, b)
		}
	}
	entries := n.Status().CommitIndex - before
	t.Logf("%d proposals in %d raft entries", callers, entries)
	if entries >= callers {
		t.Fatalf("%d proposals took %d raft entries: nothing was grouped", callers, entries)
	}
}
