package node

import "github.com/hashicorp/raft"

// handOffIfHalted gives leadership away while this node's fsm is halted at
// an entry from a newer linkd. The node keeps voting (its log is needed for
// quorum) and so may win an election, but a leader that cannot apply would
// answer every write with an error; another voter can serve them. It runs
// on every leadership change and whenever the fsm halts (watchLeadership),
// never on a timer.
func (n *Node) handOffIfHalted() {
	if n.fsm.Halted() == nil || n.raft.State() != raft.Leader {
		return
	}
	if err := n.raft.LeadershipTransfer().Error(); err != nil {
		n.log.Warn("halted leader could not hand leadership over", "err", err)
	} else {
		n.log.Warn("handed leadership over: this node cannot apply the log (see the REFUSING line)")
	}
}
