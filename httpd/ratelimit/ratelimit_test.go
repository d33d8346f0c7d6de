package ratelimit

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	l := New[string](Limit{Rate: 1, Burst: 3})
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		d := l.Allow("a", now)
		if !d.OK || d.Limit != 3 || d.Remaining != 2-i {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	d := l.Allow("a", now)
	if d.OK || d.RetryAfter != time.Second || d.Reset != 3*time.Second || d.Remaining != 0 {
		t.Fatalf("over budget: %+v", d)
	}
	if !l.Allow("b", now).OK {
		t.Fatal("keys share a bucket")
	}
	if d := l.Allow("a", now.Add(time.Second)); !d.OK {
		t.Fatalf("after refill: %+v", d)
	}
}

func TestDisabled(t *testing.T) {
	var nilL *Limiter[int]
	if !nilL.Allow(1, time.Now()).OK || !New[int](Limit{}).Allow(1, time.Now()).OK {
		t.Fatal("a disabled limiter refused")
	}
}

func TestSweepForgetsOnlyFullBuckets(t *testing.T) {
	l := New[int](Limit{Rate: 1, Burst: 2})
	const sweepAt = 64
	l.sweepAt = sweepAt
	now := time.Unix(1000, 0)
	for i := 0; i < shards*sweepAt; i++ {
		l.Allow(i, now)
	}
	l.Allow(-1, now)
	l.Allow(-1, now) // -1 is empty now
	later := now.Add(time.Hour)
	for i := shards * sweepAt; i < 2*shards*sweepAt; i++ {
		l.Allow(i, later)
	}
	if n := l.Len(); n >= 2*shards*sweepAt {
		t.Fatalf("no sweep: %d keys", n)
	}
	// -1 refilled during the hour, so forgetting it was allowed; a key
	// drained at 'later' must still be limited.
	l.Allow(-2, later)
	l.Allow(-2, later)
	if l.Allow(-2, later).OK {
		t.Fatal("a drained bucket was forgotten")
	}
}

func TestConcurrent(t *testing.T) {
	l := New[string](PerMinute(60, 100))
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if l.Allow(fmt.Sprint("k", i%2), now).OK {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if ok != 200 {
		t.Fatalf("%d of 400 allowed, want exactly the two bursts (200)", ok)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Limit{
		"20/s:100": {20, 100}, "10/m": {10.0 / 60, 10}, "off": {}, "0": {}, "3600/h:5": {1, 5}, "0.5/s": {0.5, 1},
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := Parse(got.String()); err != nil || back.Burst != got.Burst || math.Abs(back.Rate-got.Rate) > 1e-9 {
			t.Errorf("round trip of %q via %q = %v, %v", in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "20", "20/d", "x/s", "-1/s", "20/s:0", "20/s:x", "Inf/s"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestTake(t *testing.T) {
	l := New[string](Limit{Rate: 2, Burst: 1})
	now := time.Unix(1000, 0)
	if ok, _ := l.Take("a", now); !ok {
		t.Fatal("first take refused")
	}
	if ok, wait := l.Take("a", now); ok || wait != 500*time.Millisecond {
		t.Fatalf("second take: %v, %v", ok, wait)
	}
}
