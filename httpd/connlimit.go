package httpd

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// connCap caps concurrent connections per client address on a listener:
// one past the cap gets a 429 and is closed at once. IPv6 clients are
// counted by their /64, as budgets are. It replaces fasthttp's
// MaxConnsPerIP, which counts IPv4 only and whose connection wrapper races
// with Server.Shutdown (its Close clears the connection while a read is in
// flight, and pools it for reuse).
type connCap struct {
	net.Listener
	max int
	mu  sync.Mutex
	n   map[netip.Addr]int
}

// capConns wraps ln; max <= 0 returns ln unchanged.
func capConns(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &connCap{Listener: ln, max: max, n: map[netip.Addr]int{}}
}

// tooMany is the whole answer to a connection past the cap.
const tooMany = "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Retry-After: 1\r\nContent-Length: 54\r\n\r\nToo many connections from your address; close some.\r\n"

// Accept returns the next connection within its address's cap.
func (l *connCap) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		a := capKey(c.RemoteAddr())
		l.mu.Lock()
		ok := l.n[a] < l.max
		if ok {
			l.n[a]++
		}
		l.mu.Unlock()
		if ok {
			return &cappedConn{Conn: c, l: l, a: a}, nil
		}
		go func() {
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write([]byte(tooMany))
			c.Close()
		}()
	}
}

func (l *connCap) release(a netip.Addr) {
	l.mu.Lock()
	if l.n[a]--; l.n[a] <= 0 {
		delete(l.n, a)
	}
	l.mu.Unlock()
}

func capKey(addr net.Addr) netip.Addr {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return netip.Addr{}
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return a
}

// cappedConn gives its place back once, when closed.
type cappedConn struct {
	net.Conn
	l    *connCap
	a    netip.Addr
	once sync.Once
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.a) })
	return err
}
