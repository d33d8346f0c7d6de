package cluster

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// A peer whose name does not resolve is looked up again only after a
// backoff, its failure is logged once (not per attempt), and its recovery
// once; connection errors are retried every time but logged once.
func TestPeerDialsBackOffAndLogChanges(t *testing.T) {
	var logs bytes.Buffer
	now := time.Unix(0, 0)
	p := &peerDials{log: slog.New(slog.NewTextHandler(&logs, nil)), now: func() time.Time { return now }}
	dials := 0
	var fail error = &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "n2", IsNotFound: true}}
	do := func(context.Context) (net.Conn, error) {
		dials++
		if fail != nil {
			return nil, fail
		}
		c1, c2 := net.Pipe()
		c2.Close()
		return c1, nil
	}
	attempt := func() error { _, err := p.dial(context.Background(), "n2:7000", do); return err }
	// 20 heartbeats, 500 ms apart (10 s): the backoff doubles to 2 s.
	for range 20 {
		if err := attempt(); err == nil {
			t.Fatal("a failing dial succeeded")
		}
		now = now.Add(500 * time.Millisecond)
	}
	if dials > 8 || dials < 5 {
		t.Fatalf("%d lookups for 20 attempts over 10 s, want one per backoff (≤ 2 s)", dials)
	}
	if n := strings.Count(logs.String(), "cannot reach peer"); n != 1 {
		t.Fatalf("%d failure lines, want 1:\n%s", n, logs.String())
	}
	// The name resolves again: redialed within the backoff, logged once.
	fail = nil
	now = now.Add(maxPeerBackoff)
	if err := attempt(); err != nil {
		t.Fatalf("recovered peer: %v", err)
	}
	if !strings.Contains(logs.String(), "peer reachable again") {
		t.Fatalf("no recovery line:\n%s", logs.String())
	}
	// Connection refused: every attempt dials, one line.
	logs.Reset()
	dials = 0
	fail = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for range 10 {
		attempt()
	}
	if dials != 10 || strings.Count(logs.String(), "cannot reach peer") != 1 {
		t.Fatalf("connection refused: %d dials, logs:\n%s", dials, logs.String())
	}
}
