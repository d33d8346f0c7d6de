package cluster

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/peerauth"
	"github.com/linkd/linkd/internal/freeport"
)

// listen opens a mux on loopback.
func listen(t *testing.T, auth *peerauth.Auth) *Mux {
	t.Helper()
	// The advertised address needs a fixed port: take a free one (below
	// the ephemeral range, where no outgoing connection takes it first).
	m, err := Listen(freeport.Addr(t), "", auth, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func secretAuth(t *testing.T, secret string) *peerauth.Auth {
	t.Helper()
	a, err := peerauth.FromSecrets([]string{secret}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const (
	memberSecret   = "mux-test-member-secret-0123456789abcdef"
	outsiderSecret = "mux-test-outsider-secret-0123456789abcd"
)

// accepted returns the next connection l accepts within d, or nil.
func accepted(l net.Listener, d time.Duration) net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			c = nil
		}
		ch <- c
	}()
	select {
	case c := <-ch:
		return c
	case <-time.After(d):
		return nil
	}
}

// A member reaches raft and the RPC listener through the handshake; an
// outsider reaches neither.
func TestMuxAuthenticates(t *testing.T) {
	srv := listen(t, secretAuth(t, memberSecret))
	member := listen(t, secretAuth(t, memberSecret))
	for _, tc := range []struct {
		proto byte
		ln    net.Listener
	}{{muxRaft, srv.RaftLayer()}, {muxRPC, srv.rpc}} {
		c, err := member.dial(context.Background(), srv.Addr().String(), tc.proto)
		if err != nil {
			t.Fatalf("member dial: %v", err)
		}
		c.Write([]byte("hi"))
		in := accepted(tc.ln, 5*time.Second)
		if in == nil {
			t.Fatalf("protocol %d: the member's connection was not delivered", tc.proto)
		}
		var b [2]byte
		if _, err := io.ReadFull(in, b[:]); err != nil || string(b[:]) != "hi" {
			t.Fatalf("protocol %d: read %q, %v", tc.proto, b, err)
		}
		in.Close()
		c.Close()
	}
	outsider := listen(t, secretAuth(t, outsiderSecret))
	if c, err := outsider.dial(context.Background(), srv.Addr().String(), muxRPC); err == nil {
		c.Close()
		t.Fatal("an outsider's dial succeeded")
	}
	if c := accepted(srv.rpc, time.Second); c != nil {
		t.Fatal("an outsider's connection was delivered")
	}
}

// Connections that never authenticate are capped per address; the one past
// the cap is closed at once, and members get in again once they go.
func TestMuxCapsPendingConnections(t *testing.T) {
	srv := listen(t, secretAuth(t, memberSecret))
	var hogs []net.Conn
	for range maxPendingPerIP {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		hogs = append(hogs, c)
	}
	// Wait until the mux has counted them all.
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.pending.mu.Lock()
		n := srv.pending.total
		srv.pending.mu.Unlock()
		if n == maxPendingPerIP {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pending, want %d", n, maxPendingPerIP)
		}
		time.Sleep(5 * time.Millisecond)
	}
	extra, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	extra.SetReadDeadline(time.Now().Add(muxHeaderTimeout / 2))
	if _, err := extra.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the connection past the cap: %v, want EOF at once", err)
	}
	for _, c := range hogs {
		c.Close()
	}
	member := listen(t, secretAuth(t, memberSecret))
	for {
		c, err := member.dial(context.Background(), srv.Addr().String(), muxRPC)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a member cannot connect after the hogs left: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
