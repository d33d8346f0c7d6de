package cluster

import (
	"testing"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/node"
)

// The gate opens a type only as far as every other member understands it:
// a member that never answered, or answered without a type, holds it at 0.
func TestCommonVersions(t *testing.T) {
	own := func() map[fsm.Type]uint8 { return map[fsm.Type]uint8{fsm.TypeGroup: 1, fsm.TypeCreateLink: 4} }
	members := []node.Member{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	for _, tc := range []struct {
		name     string
		known    map[string]map[fsm.Type]uint8
		group    uint8
		create   uint8
		complete bool
	}{
		{"all answered alike", map[string]map[fsm.Type]uint8{"b": own(), "c": own()}, 1, 4, true},
		{"one never answered", map[string]map[fsm.Type]uint8{"b": own()}, 0, 0, false},
		{"one of an older release", map[string]map[fsm.Type]uint8{"b": own(), "c": {fsm.TypeCreateLink: 3}}, 0, 3, false},
		{"one answered nothing (a release before the gate)", map[string]map[fsm.Type]uint8{"b": own(), "c": nil}, 0, 0, false},
		{"one newer than this node", map[string]map[fsm.Type]uint8{"b": own(), "c": {fsm.TypeGroup: 2, fsm.TypeCreateLink: 5}}, 1, 4, true},
	} {
		got, complete := commonVersions(own(), "a", members, tc.known)
		if got[fsm.TypeGroup] != tc.group || got[fsm.TypeCreateLink] != tc.create || complete != tc.complete {
			t.Errorf("%s: group %d, create %d, complete %v; want %d, %d, %v", tc.name,
				got[fsm.TypeGroup], got[fsm.TypeCreateLink], complete, tc.group, tc.create, tc.complete)
		}
	}
}
