package ops

import (
	"context"
	"testing"

	"github.com/linkd/linkd/fsm"
)

// gateCluster answers the version gate with understands and records what
// is proposed.
type gateCluster struct {
	Cluster
	understands bool
	proposed    []fsm.Command
}

func (c *gateCluster) Understands(fsm.Type, uint8) bool { return c.understands }

func (c *gateCluster) Propose(_ context.Context, cmd fsm.Command) (*fsm.Result, error) {
	c.proposed = append(c.proposed, cmd)
	return &fsm.Result{}, nil
}

// A domain change or delete is written at version 2 (which purges the
// host) only once every member applies it; before, at version 1, which a
// member of the previous release applies the same way.
func TestDomainChangesFollowTheVersionGate(t *testing.T) {
	kind := "both"
	for _, understands := range []bool{false, true} {
		cl := &gateCluster{understands: understands}
		o := &Ops{cl: cl}
		if _, err := o.UpdateDomain(Principal{}, "go.example", DomainInput{Kind: &kind}); err != nil {
			t.Fatal(err)
		}
		if err := o.DeleteDomain(Principal{}, "go.example"); err != nil {
			t.Fatal(err)
		}
		want := uint8(1)
		if understands {
			want = 2
		}
		for _, c := range cl.proposed {
			b, err := fsm.Encode(c)
			if err != nil {
				t.Fatal(err)
			}
			if _, v, err := fsm.Peek(b); err != nil || v != want {
				t.Errorf("gate %v: %T written at version %d (%v), want %d", understands, c, v, err, want)
			}
		}
	}
}
