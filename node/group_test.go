package node_test

import (
	"testing"

	"github.com/linkd/linkd/internal/freeport"
	"github.com/linkd/linkd/internal/propose/proposetest"
)

// Concurrent proposals are coalesced into fewer raft entries than
// commands, and each caller still gets its own result: a created link, or
// its own refusal when another proposal in the same group took the alias.
func TestGroupCommitPerCallerResults(t *testing.T) {
	n := open(t, "n1", t.TempDir(), freeport.Addr(t), true)
	waitReady(t, n)
	before := n.Status().CommitIndex
	const callers = 200
	proposetest.EachCallerOwnAnswer(t, n.Propose, callers, "g")
	entries := n.Status().CommitIndex - before
	t.Logf("%d proposals in %d raft entries", callers, entries)
	if entries >= callers {
		t.Fatalf("%d proposals took %d raft entries: nothing was grouped", callers, entries)
	}
}
