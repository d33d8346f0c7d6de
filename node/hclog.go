package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger routes raft's hclog output into slog, so a node has one log.
func newHCLogger(l *slog.Logger) hclog.Logger {
	il := hclog.NewInterceptLogger(&hclog.LoggerOptions{
		Name:   "raft",
		Output: io.Discard,
		Level:  hclog.Info,
	})
	il.RegisterSink(slogSink{l})
	return il
}

type slogSink struct{ l *slog.Logger }

func (s slogSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	lvl := slog.LevelInfo
	switch {
	case level <= hclog.Debug:
		lvl = slog.LevelDebug
	case level == hclog.Warn:
		lvl = slog.LevelWarn
	case level >= hclog.Error:
		lvl = slog.LevelError
	}
	if lvl > slog.LevelDebug && dialFailure(args) {
		// raft repeats these on every heartbeat while a peer is down; the
		// cluster's dialer logs each change of a peer's reachability once.
		lvl = slog.LevelDebug
	}
	s.l.Log(context.Background(), lvl, msg, append([]any{"component", name}, formatArgs(args)...)...)
}

// dialFailure reports whether a raft log line is about failing to connect
// to a peer (its "error" is a dial error).
func dialFailure(args []any) bool {
	for i := 0; i+1 < len(args); i += 2 {
		if k, _ := args[i].(string); k == "error" {
			if err, ok := args[i+1].(error); ok {
				var op *net.OpError
				return errors.As(err, &op) && op.Op == "dial"
			}
		}
	}
	return false
}

// formatArgs renders hclog's deferred formats (hclog.Fmt, which raft uses
// for e.g. its "initial configuration" line) as hclog would; passed on raw
// they would print as "[%+v [...]]".
func formatArgs(args []any) []any {
	for i, a := range args {
		if f, ok := a.(hclog.Format); ok && len(f) > 0 {
			if format, ok := f[0].(string); ok {
				out := append([]any(nil), args...)
				out[i] = fmt.Sprintf(format, f[1:]...)
				args = out
			}
		}
	}
	return args
}
