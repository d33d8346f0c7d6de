package retry

import (
	"sync"
	"testing"
	"time"
)

func TestEveryStopsWhenDone(t *testing.T) {
	var wg sync.WaitGroup
	n := 0
	Every(&wg, make(chan struct{}), time.Millisecond, func() bool { n++; return n == 3 })
	wg.Wait()
	if n != 3 {
		t.Fatalf("ran %d times", n)
	}
}

func TestEveryStopsOnStop(t *testing.T) {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	ran := make(chan struct{}, 1)
	Every(&wg, stop, time.Hour, func() bool {
		select {
		case ran <- struct{}{}:
		default:
		}
		return false
	})
	<-ran // ran once, now waiting an hour
	close(stop)
	wg.Wait()
}
