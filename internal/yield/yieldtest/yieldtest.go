// Package yieldtest measures, for tests, whether code yields the processor.
package yieldtest

import (
	"runtime"
	"sync/atomic"
)

// Turns runs f on one processor beside a goroutine that counts and yields
// in a loop, and returns how many turns that goroutine had while f ran. A
// CPU-bound f that never yields gives it none (f is far shorter than the
// scheduler's 10 ms preemption); one that yields every so often gives it
// about one turn per yield.
func Turns(f func()) int64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var turns atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				turns.Add(1)
				runtime.Gosched()
			}
		}
	}()
	runtime.Gosched() // let it start
	before := turns.Load()
	f()
	n := turns.Load() - before
	close(stop)
	<-done
	return n
}
