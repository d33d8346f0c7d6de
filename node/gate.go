package node

import "github.com/linkd/linkd/fsm"

// The version gate. A node of an earlier release halts at an entry whose
// command type or version it does not know, so a feature that writes such
// entries on its own initiative (group commit, a newer clicks encoding)
// may do so only once every voter runs a linkd that can apply them. The
// cluster layer asks every voter which versions it understands and
// publishes here the newest version of each type that all of them do;
// until it has, nothing is understood beyond what the caller already uses
// unconditionally.

// SetClusterVersions publishes the versions every voter understands (the
// minimum over voters of each type's newest version).
func (n *Node) SetClusterVersions(m map[fsm.Type]uint8) { n.clusterVersions.Store(&m) }

// ClusterUnderstands reports whether every voter is known to apply command
// type t at version v.
func (n *Node) ClusterUnderstands(t fsm.Type, v uint8) bool {
	m := n.clusterVersions.Load()
	return m != nil && (*m)[t] >= v
}
