package main

import (
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

// The Go limit is the flag minus the hot set (which is outside the Go
// heap), never below the floor; GOMEMLIMIT and 0 leave the runtime alone.
func TestApplyMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		name        string
		mib, hot    int
		env         string
		want, limit int64 // want: returned; limit: the runtime's afterwards
	}{
		{"default", 1024, 64 << 20, "", 960 << 20, 960 << 20},
		{"floor", 100, 64 << 20, "", minGoMemoryLimit, minGoMemoryLimit},
		{"hot set above the limit", 1024, 2 << 30, "", minGoMemoryLimit, minGoMemoryLimit},
		{"off", 0, 64 << 20, "", 0, math.MaxInt64},
		{"GOMEMLIMIT wins", 1024, 64 << 20, "700MiB", 0, math.MaxInt64},
	} {
		t.Run(c.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			t.Setenv("GOMEMLIMIT", c.env)
			if got := applyMemoryLimit(c.mib, c.hot, log); got != c.want {
				t.Errorf("returned %d, want %d", got, c.want)
			}
			if got := debug.SetMemoryLimit(-1); got != c.limit {
				t.Errorf("runtime limit %d, want %d", got, c.limit)
			}
		})
	}
}

// GOGC is 50 unless the environment sets it.
func TestApplyGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	t.Setenv("GOGC", "")
	if got := applyGCPercent(); got != gcPercent || debug.SetGCPercent(100) != gcPercent {
		t.Fatalf("GOGC unset: applyGCPercent %d, want %d in effect", got, gcPercent)
	}
	t.Setenv("GOGC", "80")
	debug.SetGCPercent(80) // what the runtime read from the environment at start
	if got := applyGCPercent(); got != 80 || debug.SetGCPercent(100) != 80 {
		t.Fatalf("GOGC=80: applyGCPercent %d, want the environment's 80 left in effect", got)
	}
}
