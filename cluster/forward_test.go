package cluster_test

import (
	"testing"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/internal/propose/proposetest"
)

// Concurrent writes forwarded by a follower travel in groups, and each
// caller still gets its own answer: its link, or its own refusal when
// another write in the same group took the alias first. A linearizable
// read on the follower then shows the winner.
func TestForwardedGroupsAnswerEachCaller(t *testing.T) {
	c := clustertest.Start(t, 3)
	f := c.Followers()[0]
	for code, url := range proposetest.EachCallerOwnAnswer(t, f.Cluster.Propose, 120, "fg") {
		if got := readURL(t, f, code); got != url {
			t.Fatalf("%s reads %q, want the winner's %q", code, got, url)
		}
	}
}
