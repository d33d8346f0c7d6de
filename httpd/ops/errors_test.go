package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/node"
)

// TestClassify: every error value the HTTP side may see maps to the Kind
// a client can act on, through wrapping; unknown errors become internal
// with a detail that does not repeat their text.
func TestClassify(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		err  error
		want Kind
	}{
		{fsm.ErrExists, KindAliasTaken},
		{fsm.ErrNotFound, KindNotFound},
		{fsm.ErrGone, KindGone},
		{fsm.ErrIdempotencyMismatch, KindIdemMismatch},
		{fsm.ErrEmailTaken, KindEmailTaken},
		{fsm.ErrHandleTaken, KindHandleTaken},
		{fsm.ErrInvalidInvite, KindInvalidInvite},
		{fsm.ErrProtectedUser, KindProtected},
		{node.ErrUnknownPeer, KindNotFound},
		{node.ErrNotLeader, KindUnavailable},
		{node.ErrNoLeader, KindUnavailable},
		{node.ErrShutdown, KindUnavailable},
		{node.ErrNotInitialized, KindNotApplied},
		{node.ErrNotApplied, KindNotApplied},
		{fmt.Errorf("%w: %w", node.ErrNotApplied, node.ErrNotLeader), KindNotApplied},
		{node.ErrUnknownOutcome, KindUnknownOutcome},
		{fmt.Errorf("%w: %w", node.ErrUnknownOutcome, node.ErrShutdown), KindUnknownOutcome},
		{cluster.ErrNoLeader, KindUnavailable},
		{context.DeadlineExceeded, KindUnknownOutcome},
		{Fail(KindForbidden, "no"), KindForbidden},
		{errors.New("disk on fire"), KindInternal},
	} {
		wrapped := fmt.Errorf("proposing: %w", c.err)
		got := Classify(quiet, wrapped)
		if got.Kind != c.want {
			t.Errorf("%v: kind %d, want %d", c.err, got.Kind, c.want)
		}
		if c.want == KindInternal && got.Detail != "The request failed." {
			t.Errorf("an unknown error leaked: %q", got.Detail)
		}
	}
	if e := Classify(quiet, node.ErrUnknownOutcome); e.Detail == Classify(quiet, node.ErrNoLeader).Detail {
		t.Error("an unknown outcome reads like a certain failure")
	}
}
