//go:build linux

package load

import (
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// sleeper waits until a point in time to the microsecond. time.Sleep
// cannot when the process has nothing else to do: the runtime then blocks
// in its network poller, which sleeps in whole milliseconds (a 500 µs sleep
// lasts about a millisecond), so every request that found the sender idle
// went out up to a millisecond after it was due, and that lateness, counted
// in its latency, was most of what a low-rate run reported (at 2,000/s,
// nginx read p50 650 µs, p99 3.7 ms; with the timerfd 192 µs and 0.3-0.6
// ms). A timerfd is read through the same poller, but its expiry is an
// event that wakes the poller when it fires. Waits shorter than timerfdMin
// (above ~20,000 requests a second) use time.Sleep: answers then arrive
// often enough to keep the scheduler checking Go's timers, and two
// syscalls per request would cost the sender's core more than they save
// (at 30,000/s against nginx: p50 546 µs with the timerfd, 70 µs without).
type sleeper struct {
	fd  int
	f   *os.File
	buf [8]byte
}

// timerfdMin is the shortest wait handed to the timerfd.
const timerfdMin = 50 * time.Microsecond

func newSleeper() (*sleeper, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &sleeper{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// until returns once t has passed. The timer is armed relative to when it
// is set, so a pause between reading the clock and arming it makes the
// wake-up late, never early; the loop re-arms if it comes early anyway.
func (s *sleeper) until(t time.Time) error {
	for {
		wait := time.Until(t)
		switch {
		case wait <= 0:
			return nil
		case wait < timerfdMin:
			time.Sleep(wait)
			return nil
		}
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(wait))}
		if err := unix.TimerfdSettime(s.fd, 0, &spec, nil); err != nil {
			return err
		}
		if _, err := io.ReadFull(s.f, s.buf[:]); err != nil {
			return err
		}
	}
}

func (s *sleeper) close() { s.f.Close() }
