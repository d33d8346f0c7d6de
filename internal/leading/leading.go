// Package leading runs work only while this node leads the raft cluster:
// the jobs that must happen once per cluster (threat-feed fetches, the
// outbox's deliveries, ACME orders and renewals) start when the node gains
// leadership and stop when it loses it, woken by the node's leadership
// notifications rather than by polling.
package leading

// Leader is what Run needs of the node (node.Node implements it).
type Leader interface {
	IsLeader() bool
	// LeaderChanged returns a channel closed at the next change of leader
	// or raft state.
	LeaderChanged() <-chan struct{}
}

// Run calls start when the node leads and the stop function start
// returned when it no longer does, as often as leadership comes and goes,
// until done is closed; then it stops what runs and returns. stop must
// wait for the work to end, so a former leader's work never overlaps a
// new term's.
func Run(done <-chan struct{}, l Leader, start func() (stop func())) {
	var stop func() // nil while nothing runs
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		changed := l.LeaderChanged()
		if lead := l.IsLeader(); lead && stop == nil {
			stop = start()
		} else if !lead && stop != nil {
			stop()
			stop = nil
		}
		select {
		case <-changed:
		case <-done:
			return
		}
	}
}
