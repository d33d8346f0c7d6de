package load

import (
	"testing"
	"time"
)

// The sender must never release a request before its due time: a request
// sent early would count less than its real latency. Waits on both sides
// of timerfdMin, and one already past.
func TestSleeperNeverWakesEarly(t *testing.T) {
	s, err := newSleeper()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for _, d := range []time.Duration{-time.Millisecond, 0, 10 * time.Microsecond, 60 * time.Microsecond, 300 * time.Microsecond, 2 * time.Millisecond} {
		for range 20 {
			due := time.Now().Add(d)
			if err := s.until(due); err != nil {
				t.Fatal(err)
			}
			if now := time.Now(); now.Before(due) {
				t.Fatalf("wait of %v returned %v early", d, due.Sub(now))
			}
		}
	}
}
