package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKillNineLosesNoAcknowledgedLink starts linkd, writes links from
// several clients, kills the process with SIGKILL at a random moment, and
// restarts it on the same data directory, 20 times. Snapshots and log
// truncation run constantly (tiny threshold and trailing log), so crashes
// land between Pebble commits, snapshots and raft log truncation. Every link
// that was acknowledged with 201 must be there afterwards, with its URL.
func TestKillNineLosesNoAcknowledgedLink(t *testing.T) {
	const iterations, writers = 20, 8
	dir := t.TempDir()
	acked := map[string]string{}
	var last map[string]string // acknowledged in the previous iteration
	var mu sync.Mutex
	for it := range iterations {
		p := mustStart(t, dir, "--snapshot-threshold", "50", "--snapshot-interval", "50ms", "--raft-trailing-logs", "10")
		if strings.Contains(p.logs.String(), "store is behind the latest snapshot") {
			t.Fatalf("iteration %d: Pebble was behind a snapshot after a crash (the WAL must be synced before raft truncates):\n%s", it, p.logs)
		}
		for code, url := range last { // the writes just before the kill are the ones at risk
			if st, loc := location(t, p.URL, code); st != 302 || loc != url {
				t.Fatalf("iteration %d: acknowledged link %s -> %s now answers %d %q", it, code, url, st, loc)
			}
		}
		last = map[string]string{}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					url := fmt.Sprintf("https://crash.test/%d/%d/%d", it, w, i)
					if code := create(ctx, p.URL, url); code != "" {
						mu.Lock()
						acked[code], last[code] = url, url
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(50+rand.IntN(300)) * time.Millisecond)
		p.kill() // SIGKILL while writes are in flight
		cancel()
		wg.Wait()
	}
	p := mustStart(t, dir)
	for code, url := range acked {
		if st, loc := location(t, p.URL, code); st != 302 || loc != url {
			t.Fatalf("final check: acknowledged link %s -> %s answers %d %q", code, url, st, loc)
		}
	}
	if len(acked) < iterations*writers {
		t.Fatalf("only %d links were acknowledged; the test did not exercise much", len(acked))
	}
	t.Logf("%d acknowledged links survived %d kill -9 restarts", len(acked), iterations)
}

// SIGTERM drains and exits 0, and a restart reports what it recovered.
func TestGracefulShutdownAndRestart(t *testing.T) {
	dir := t.TempDir()
	p := mustStart(t, dir)
	code := create(context.Background(), p.URL, "https://graceful.test")
	if code == "" {
		t.Fatal("create failed")
	}
	p.stop(t)
	p = mustStart(t, dir, "--log-level", "info")
	if st, loc := location(t, p.URL, code); st != 302 || loc != "https://graceful.test" {
		t.Fatalf("after restart: %d %q", st, loc)
	}
	p.stop(t)
}
