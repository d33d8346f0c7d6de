package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/cluster/peerauth"
)

// Connections on the raft address are mutual TLS (see peerauth) and then
// start with one byte naming their protocol, so raft and the cluster RPC
// share one port (one address to configure and firewall) and one
// authentication. The handshake comes before the byte: a peer that cannot
// prove membership never reaches raft or the RPC server, and gets no
// application data at all.
const (
	muxRaft byte = 1
	muxRPC  byte = 2
	// muxHeaderTimeout bounds how long a new connection may take to
	// authenticate and say which protocol it speaks.
	muxHeaderTimeout = 5 * time.Second
	// refusedLogEvery bounds the logging of refused peers, so a scan of
	// the port cannot flood the log.
	refusedLogEvery = 10 * time.Second
	// maxPending and maxPendingPerIP bound the connections that have not
	// yet authenticated and named their protocol, in all and from one
	// address, so that an outsider holding connections open costs bounded
	// memory and cannot crowd out the members. Members keep their
	// connections open (raft and the RPC client pool them), so few are
	// ever pending.
	maxPending      = 1024
	maxPendingPerIP = 64 // as many as a burst of the RPC client's pool
)

// ErrMuxClosed is returned by the mux's listeners after Close.
var ErrMuxClosed = errors.New("cluster: listener closed")

// Mux splits one TCP listener between raft and the cluster RPC.
type Mux struct {
	ln        net.Listener
	advertise net.Addr
	raft      *subListener
	rpc       *subListener
	auth      *peerauth.Auth
	log       *slog.Logger
	refused   atomic.Int64 // unix nanoseconds of the last logged refusal
	pending   pendingConns
	closeOnce sync.Once
	dials     peerDials
}

// Listen opens the shared listener on bind. advertise is the address other
// nodes dial; empty means bind itself. It is kept as written, not resolved:
// a host name (n1:7000) survives the node's IP changing, which containers
// do on every restart. auth authenticates every connection both ways; it is
// required (peerauth.Insecure is the explicit way to go without).
func Listen(bind, advertise string, auth *peerauth.Auth, log *slog.Logger) (*Mux, error) {
	if auth == nil {
		return nil, errors.New("cluster: the raft port needs peer authentication (peerauth)")
	}
	if log == nil {
		log = slog.Default()
	}
	if advertise == "" {
		advertise = bind
	}
	host, port, err := net.SplitHostPort(advertise)
	if err != nil || port == "0" {
		return nil, fmt.Errorf("cluster: raft advertise address %q must be host:port with a fixed port", advertise)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return nil, fmt.Errorf("cluster: %q is not an address other nodes can reach; set --raft-advertise", advertise)
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("cluster: listen on %s: %w", bind, err)
	}
	adv := hostAddr(advertise)
	m := &Mux{ln: ln, advertise: adv, auth: auth, log: log, dials: peerDials{log: log, now: time.Now}}
	m.raft = newSubListener(adv)
	m.rpc = newSubListener(adv)
	go m.serve()
	return m, nil
}

// Addr is the advertised address.
func (m *Mux) Addr() net.Addr { return m.advertise }

func (m *Mux) serve() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			m.Close()
			return
		}
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		if !m.pending.add(host) {
			m.logRefused(c.RemoteAddr(), errors.New("too many connections not yet authenticated"))
			c.Close()
			continue
		}
		go m.route(c, host)
	}
}

func (m *Mux) route(c net.Conn, host string) {
	defer m.pending.done(host)
	c.SetDeadline(time.Now().Add(muxHeaderTimeout))
	if cfg := m.auth.ServerTLS(); cfg != nil {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			m.logRefused(c.RemoteAddr(), err)
			c.Close()
			return
		}
		c = tc
	}
	var b [1]byte
	if _, err := c.Read(b[:]); err != nil {
		c.Close()
		return
	}
	c.SetDeadline(time.Time{})
	switch b[0] {
	case muxRaft:
		m.raft.deliver(c)
	case muxRPC:
		m.rpc.deliver(c)
	default:
		c.Close()
	}
}

// pendingConns counts connections not yet routed, in all and per address.
type pendingConns struct {
	mu     sync.Mutex
	total  int
	byHost map[string]int
}

func (p *pendingConns) add(host string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byHost == nil {
		p.byHost = map[string]int{}
	}
	if p.total >= maxPending || p.byHost[host] >= maxPendingPerIP {
		return false
	}
	p.total++
	p.byHost[host]++
	return true
}

func (p *pendingConns) done(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total--
	if p.byHost[host]--; p.byHost[host] == 0 {
		delete(p.byHost, host)
	}
}

// logRefused logs a peer that failed to authenticate, at most once per
// refusedLogEvery.
func (m *Mux) logRefused(from net.Addr, err error) {
	now, last := time.Now().UnixNano(), m.refused.Load()
	if now-last < int64(refusedLogEvery) || !m.refused.CompareAndSwap(last, now) {
		return
	}
	m.log.Warn("refused a connection to the raft port that did not prove cluster membership", "remote", from.String(), "err", err)
}

// Close closes the shared listener and both sub-listeners.
func (m *Mux) Close() error {
	var err error
	m.closeOnce.Do(func() {
		err = m.ln.Close()
		m.raft.Close()
		m.rpc.Close()
	})
	return err
}

// RaftLayer is the raft.StreamLayer on the shared port.
func (m *Mux) RaftLayer() raft.StreamLayer { return raftLayer{m.raft, m} }

type raftLayer struct {
	*subListener
	m *Mux
}

func (l raftLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return l.m.dial(ctx, string(addr), muxRaft)
}

// dial connects to a node's shared port, authenticates, and announces the
// protocol. Every failure here happens before a request is sent, so it is
// reported as a dial error (the RPC client retries those freely).
func (m *Mux) dial(ctx context.Context, addr string, proto byte) (net.Conn, error) {
	return m.dials.dial(ctx, addr, func(ctx context.Context) (net.Conn, error) { return m.dialOnce(ctx, addr, proto) })
}

func (m *Mux) dialOnce(ctx context.Context, addr string, proto byte) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if cfg := m.auth.ClientTLS(); cfg != nil {
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: c.RemoteAddr(), Err: err}
		}
		c = tc
	}
	if _, err := c.Write([]byte{proto}); err != nil {
		c.Close()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: c.RemoteAddr(), Err: err}
	}
	return c, nil
}

// hostAddr is an advertised address as configured (possibly a host name).
type hostAddr string

func (a hostAddr) Network() string { return "tcp" }
func (a hostAddr) String() string  { return string(a) }

// subListener is a net.Listener fed by the mux.
type subListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newSubListener(addr net.Addr) *subListener {
	return &subListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (s *subListener) deliver(c net.Conn) {
	select {
	case s.conns <- c:
	case <-s.closed:
		c.Close()
	}
}

func (s *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.closed:
		return nil, ErrMuxClosed
	}
}

func (s *subListener) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *subListener) Addr() net.Addr { return s.addr }
