package node

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// raft's deferred formats reach the log formatted, not as "%+v [...]".
func TestHCLogFormatsDeferredArgs(t *testing.T) {
	var b bytes.Buffer
	newHCLogger(slog.New(slog.NewTextHandler(&b, nil))).Info("initial configuration",
		"index", 1, "servers", hclog.Fmt("%+v", []struct{ ID string }{{"n1"}}))
	if out := b.String(); strings.Contains(out, "%+v") || !strings.Contains(out, `servers=[{ID:n1}]`) {
		t.Fatalf("log line: %s", out)
	}
}

// Raft's per-heartbeat dial failures are debug lines (the cluster's dialer
// logs reachability changes); other errors keep their level.
func TestHCLogDemotesDialFailures(t *testing.T) {
	var b bytes.Buffer
	l := newHCLogger(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l.Error("failed to heartbeat to", "peer", "n2:7000", "error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no such host")})
	if b.Len() != 0 {
		t.Fatalf("a dial failure logged above debug: %s", b.String())
	}
	l.Error("failed to appendEntries to", "error", errors.New("EOF"))
	if !strings.Contains(b.String(), "level=ERROR") {
		t.Fatalf("another error was not logged as one: %q", b.String())
	}
}
