package node

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Raft's network transport answers each heartbeat on the goroutine of the
// connection it came in on, straight into raft's stable store (the current
// term), and that goroutine outlives both raft.Shutdown and the transport's
// Close: neither closes the connections peers opened, nor waits for their
// handlers. A heartbeat that arrived while a node stopped then wrote into a
// log store the node had just closed, and raft panicked ("failed to save
// current term"). ownedStream closes those connections itself and waits for
// their handlers, and the node closes its stores only after that.

// handlerWait bounds how long closing the stream waits for the handlers of
// the connections it has closed. They return as soon as their read fails,
// unless one is inside a store write, which takes milliseconds.
const handlerWait = 10 * time.Second

// errHandlersRunning means a connection handler had not returned within
// handlerWait; what it writes to must then stay open.
var errHandlersRunning = errors.New("node: raft connection handlers still running after close")

// ownedStream is a raft.StreamLayer that keeps every connection it accepted
// until the transport's handler closes it.
type ownedStream struct {
	raft.StreamLayer
	wait time.Duration // handlerWait but in tests

	mu       sync.Mutex
	closed   bool
	open     map[*ownedConn]struct{}
	handlers sync.WaitGroup
	once     sync.Once
	err      error
}

func ownStream(s raft.StreamLayer) *ownedStream {
	return &ownedStream{StreamLayer: s, wait: handlerWait, open: map[*ownedConn]struct{}{}}
}

func (s *ownedStream) Accept() (net.Conn, error) {
	c, err := s.StreamLayer.Accept()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	oc := &ownedConn{Conn: c, s: s}
	s.open[oc] = struct{}{}
	s.handlers.Add(1)
	return oc, nil
}

// Close stops accepting, closes every connection accepted and waits, up to
// handlerWait, until each one's handler has returned (and closed it too).
// Raft's transport calls it from raft.Shutdown; the node calls it again
// before closing its stores and gets the same answer.
func (s *ownedStream) Close() error {
	s.once.Do(func() {
		err := s.StreamLayer.Close()
		s.mu.Lock()
		s.closed = true
		open := make([]*ownedConn, 0, len(s.open))
		for c := range s.open {
			open = append(open, c)
		}
		s.mu.Unlock()
		for _, c := range open {
			c.Conn.Close() // ends the handler's read; its own Close follows
		}
		done := make(chan struct{})
		go func() { s.handlers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(s.wait):
			err = errors.Join(err, errHandlersRunning)
		}
		s.err = err
	})
	return s.err
}

// ownedConn is a connection the stream accepted; its first Close tells the
// stream that its handler is done with it.
type ownedConn struct {
	net.Conn
	s    *ownedStream
	once sync.Once
}

func (c *ownedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.open, c)
		c.s.mu.Unlock()
		c.s.handlers.Done()
	})
	return err
}

// tcpStream is raft over a plain TCP listener, for nodes without the
// cluster's authenticated port (tests of this package).
type tcpStream struct {
	net.Listener
	advertise net.Addr
}

func listenTCP(bind string, advertise net.Addr) (*tcpStream, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	return &tcpStream{Listener: ln, advertise: advertise}, nil
}

func (t *tcpStream) Addr() net.Addr { return t.advertise }

func (t *tcpStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}
