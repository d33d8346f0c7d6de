package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/node"
)

// The version gate's asking half (the publishing half is node/gate.go).
// Every member of the raft configuration applies every entry, voter or
// not, and a member of an earlier release halts at a command type or
// version it does not know. So this node asks every member which versions
// it understands and publishes the common minimum; features that write
// newer entries on their own initiative (group commit, the clicks day
// records) use them only when the minimum allows.
//
// It asks after every change of leader, raft state or membership (the
// node's observer), and, while some member is unreachable, answers with
// less than this binary knows, or is not answering at all, again with a
// backoff up to versionRetryMax: an upgraded member that restarts is
// noticed within that. A member that answered once and is unreachable now
// keeps its last answer (a crashed node restarts on the same binary; going
// back to an older release is not supported once newer entries exist).
const (
	versionRetryMin = time.Second
	versionRetryMax = 30 * time.Second
)

func (c *Cluster) runVersionGate() {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		known := map[string]map[fsm.Type]uint8{} // last answer per member ID
		backoff := versionRetryMin
		for {
			changed := c.n.LeaderChanged()
			var retry <-chan time.Time
			if c.refreshVersions(known) {
				backoff = versionRetryMin
			} else {
				retry = time.After(backoff)
				backoff = min(2*backoff, versionRetryMax)
			}
			select {
			case <-c.stop:
				return
			case <-changed:
			case <-retry:
			}
		}
	}()
}

// refreshVersions asks every other member for its versions and publishes
// the common minimum. It reports whether every member understands
// everything this binary does (nothing left to wait for).
func (c *Cluster) refreshVersions(known map[string]map[fsm.Type]uint8) bool {
	st := c.n.Status()
	if len(st.Members) == 0 {
		return false // not in a configuration yet (joining)
	}
	var mu sync.Mutex
	c.askMembers(context.Background(), st.NodeID, st.Members, func(i int, r *nodeReply) {
		mu.Lock()
		known[st.Members[i].ID] = r.Understands // nil from a release that does not say: nothing newer
		mu.Unlock()
	})
	common, complete := commonVersions(fsm.Versions(), st.NodeID, st.Members, known)
	c.n.SetClusterVersions(common)
	return complete
}

// commonVersions is own lowered, type by type, to what every other member
// last answered (a member that never answered understands nothing new),
// and whether every member understands all of own.
func commonVersions(own map[fsm.Type]uint8, self string, members []node.Member, known map[string]map[fsm.Type]uint8) (map[fsm.Type]uint8, bool) {
	complete := true
	for _, m := range members {
		if m.ID == self {
			continue
		}
		theirs, answered := known[m.ID]
		complete = complete && answered
		for t, v := range own {
			if theirs[t] < v {
				own[t], complete = theirs[t], false
			}
		}
	}
	return own, complete
}

// Understands reports whether every member can apply command type t at
// version v (the version gate).
func (c *Cluster) Understands(t fsm.Type, v uint8) bool { return c.n.ClusterUnderstands(t, v) }
