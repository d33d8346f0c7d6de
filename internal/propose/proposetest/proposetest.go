// Package proposetest checks group commit from the caller's side, for the
// tests of every proposer (node, cluster forwarding).
package proposetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/propose"
)

// EachCallerOwnAnswer has callers (an even number) propose at once, two
// creates per alias <prefix><i> with different URLs, so that groups hold
// both writes of an alias. Exactly one of each pair must get its own link,
// the other fsm.ErrExists; anything else fails t. It returns the winning
// URL of each alias.
func EachCallerOwnAnswer(t testing.TB, prop propose.Func, callers int, prefix string) map[string]string {
	t.Helper()
	errs := make([]error, callers)
	got := make([]string, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := prop(ctx, &fsm.CreateLink{Now: time.Now().UnixMilli(), Code: fmt.Sprintf("%s%d", prefix, i/2),
				Custom: true, URL: url(i), Owner: 1, RedirectStatus: 302})
			errs[i] = err
			if err == nil {
				got[i] = res.Link.URL
			}
		}()
	}
	close(start)
	wg.Wait()
	winners := map[string]string{}
	for i := 0; i < callers; i += 2 {
		code := fmt.Sprintf("%s%d", prefix, i/2)
		for k := i; k < i+2; k++ {
			switch {
			case errs[k] == nil && got[k] == url(k):
				if winners[code] != "" {
					t.Fatalf("alias %s: both callers created it", code)
				}
				winners[code] = got[k]
			case errs[k] == nil:
				t.Fatalf("caller %d got someone else's link %q", k, got[k])
			case !errors.Is(errs[k], fsm.ErrExists):
				t.Fatalf("caller %d: %v", k, errs[k])
			}
		}
		if winners[code] == "" {
			t.Fatalf("alias %s: nobody created it (%v, %v)", code, errs[i], errs[i+1])
		}
	}
	return winners
}

func url(i int) string { return fmt.Sprintf("https://example.com/%d", i) }
