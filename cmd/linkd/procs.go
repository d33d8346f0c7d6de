package main

import (
	"log/slog"
	"os"
	"runtime"
)

// minProcs is the fewest scheduler Ps linkd runs with unless GOMAXPROCS
// says otherwise.
//
// With one P (a one-CPU container, or a server pinned to one core) Go's
// scheduler looks for ready connections only when that P has nothing else
// to run, or from sysmon every 10 ms. A raft apply of a large click
// segment decodes the whole command, applies it and inserts its batch into
// the memtable in stretches of up to 20 ms with no pause the scheduler can
// use, so each connection got one request served per poll: open loop at
// 20,000 redirects/s, Zipf over 100,000 codes, analytics on, p90 285 ms and
// p99 561 ms on one core (1.3 / 1.6 ms with analytics off). With two Ps on
// the same core the kernel runs the thread polling the network as soon as
// a request arrives: p90 4.1 ms, p99 35 ms, for 3-4% more CPU per redirect
// (15.5 against 16.1 µs, uniform over 1,000 codes, closed loop).
const minProcs = 2

// applyMinProcs raises GOMAXPROCS to minProcs when the runtime chose fewer
// and the environment did not set it. It returns the value in effect.
func applyMinProcs(log *slog.Logger) int {
	n := runtime.GOMAXPROCS(0)
	if n >= minProcs || os.Getenv("GOMAXPROCS") != "" {
		return n
	}
	runtime.GOMAXPROCS(minProcs)
	log.Debug("raised GOMAXPROCS", "from", n, "to", minProcs)
	return minProcs
}
