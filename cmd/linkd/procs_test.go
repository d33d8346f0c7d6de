package main

import (
	"io"
	"log/slog"
	"runtime"
	"testing"
)

// One P is raised to two; an explicit GOMAXPROCS and more Ps are kept.
func TestApplyMinProcs(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		name  string
		procs int
		env   string
		want  int
	}{
		{"one P", 1, "", minProcs},
		{"GOMAXPROCS=1 set", 1, "1", 1},
		{"more Ps", 3, "", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.GOMAXPROCS(c.procs)
			t.Setenv("GOMAXPROCS", c.env)
			if got := applyMinProcs(log); got != c.want || runtime.GOMAXPROCS(0) != c.want {
				t.Errorf("returned %d, runtime %d; want %d", got, runtime.GOMAXPROCS(0), c.want)
			}
		})
	}
}
