//go:build !linux

package load

import "time"

// sleeper, off Linux, is time.Sleep: a wait of less than a millisecond
// may last a millisecond when the process is otherwise idle, and the
// open-loop latencies then include it.
type sleeper struct{}

func newSleeper() (*sleeper, error) { return &sleeper{}, nil }

func (s *sleeper) until(t time.Time) error { time.Sleep(time.Until(t)); return nil }

func (s *sleeper) close() {}
