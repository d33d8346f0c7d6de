package yield

import (
	"testing"

	"github.com/linkd/linkd/internal/yield/yieldtest"
)

// A loop that ticks yields about once per N ticks: another goroutine on the
// same single processor gets that many turns, and none without the yields.
func TestEveryYieldsEveryNthTick(t *testing.T) {
	const ticks, n = 400, 4
	got := yieldtest.Turns(func() {
		y := Every{N: n}
		for range ticks {
			y.Tick()
		}
	})
	if got < ticks/n/2 || got > 2*ticks/n {
		t.Fatalf("the other goroutine had %d turns over %d ticks, want about %d (one per %d)", got, ticks, ticks/n, n)
	}
}
