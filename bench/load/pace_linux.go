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
// lasts about a millisecond), so at a low rate every request went out up to
// a millisecond after it was due, and that lateness, counted in its
// latency, was most of what a 2,000/s run reported (p50 650 µs, against
// nginx too). A timerfd is read through the same poller, but its expiry is
// an event that wakes the poller when it fires. While the sender is busy
// (short waits, many requests in flight) the scheduler checks Go's timers
// between goroutines, to the microsecond, and a timerfd read per request
// would cost more than it saves: short waits still use time.Sleep.
type sleeper struct {
	fd  int
	f   *os.File
	buf [8]byte
}

// timerfdMin is the shortest wait handed to the timerfd.
const timerfdMin = 200 * time.Microsecond

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
