package cluster

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Dialing a peer that is down fails the same way on every raft heartbeat
// (twice a second): with a container gone, each attempt is a DNS lookup and
// an error line. peerDials remembers each address's last failure and logs
// only what changed (the first failure, a different error, the recovery),
// not every attempt. When the failure was name resolution, a dial within
// the backoff (doubling from minPeerBackoff to maxPeerBackoff) fails at
// once with the same error, without a lookup; a peer whose name resolves
// again is redialed within maxPeerBackoff. Other failures (connection
// refused) cost nothing to repeat and are retried at raft's own pace.
const (
	minPeerBackoff = 250 * time.Millisecond
	maxPeerBackoff = 2 * time.Second
)

type peerDials struct {
	mu    sync.Mutex
	peers map[string]*peerDial
	log   *slog.Logger
	now   func() time.Time
}

type peerDial struct {
	err     error
	backoff time.Duration
	retryAt time.Time
}

// errPeerBackoff marks an error returned from the backoff, not a new dial.
var errPeerBackoff = errors.New("not redialed yet (backing off)")

// dial calls do unless addr failed recently; it records and logs changes.
func (p *peerDials) dial(ctx context.Context, addr string, do func(context.Context) (net.Conn, error)) (net.Conn, error) {
	p.mu.Lock()
	if p.peers == nil {
		p.peers = map[string]*peerDial{}
	}
	st := p.peers[addr]
	if st != nil && !st.retryAt.IsZero() && p.now().Before(st.retryAt) {
		err := st.err
		p.mu.Unlock()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.Join(err, errPeerBackoff)}
	}
	p.mu.Unlock()

	c, err := do(ctx)

	p.mu.Lock()
	defer p.mu.Unlock()
	st = p.peers[addr]
	if err == nil {
		if st != nil {
			delete(p.peers, addr)
			p.log.Info("peer reachable again", "peer", addr)
		}
		return c, nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) && st == nil {
		return nil, err // our own deadline, not the peer's failure
	}
	if st == nil {
		st = &peerDial{backoff: minPeerBackoff}
		p.peers[addr] = st
	} else {
		st.backoff = min(2*st.backoff, maxPeerBackoff)
	}
	if st.err == nil || st.err.Error() != err.Error() {
		p.log.Warn("cannot reach peer; retrying with backoff, logging again only when this changes", "peer", addr, "err", err)
	}
	st.err, st.retryAt = err, time.Time{}
	if dns := (*net.DNSError)(nil); errors.As(err, &dns) {
		st.retryAt = p.now().Add(st.backoff)
	}
	return nil, err
}
