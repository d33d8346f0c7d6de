// Package retry runs background work that repeats until it is done: the
// join and registration loops of cluster, the init and leadership loops of
// node.
package retry

import (
	"sync"
	"time"
)

// Every runs fn now and then every d in a goroutine counted by wg, until fn
// reports done or stop is closed.
func Every(wg *sync.WaitGroup, stop <-chan struct{}, d time.Duration, fn func() (done bool)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for !fn() {
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
}
