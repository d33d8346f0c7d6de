// Package yield lets a long CPU-bound loop hand the processor, every so
// many steps, to goroutines waiting for one. Go preempts a running
// goroutine only after 10 ms; on a node whose few processors share a core,
// a click segment's fold or apply (tens of milliseconds) kept redirects
// that had become runnable waiting that long (issue 18: a runtime trace
// showed 21 ms waits).
package yield

import "runtime"

// Every calls runtime.Gosched on every N-th Tick. Its zero count is ready
// to use; N must be positive.
type Every struct {
	N int
	i int
}

// Tick counts one step of the loop, yielding on every N-th.
func (y *Every) Tick() {
	if y.i++; y.i%y.N == 0 {
		runtime.Gosched()
	}
}
