package node

import "github.com/hashicorp/raft"

// handOffIfHalted gives leadership away while this node's fsm is halted at
// an entry from a newer linkd. The node keeps voting (its log is needed for
// quorum) and so may win an election, but a leader that cannot apply would
// answer every write with an error; another voter can serve them. It runs
// on every leadership change and whenever the fsm halts (watchLeadership).
// It reports false when a transfer failed (it can time out on a loaded
// machine) while this node still leads: the leadership goroutine then tries
// again after initRetry, as it does for a failed Init, rather than leave a
// leader that cannot apply in place until the next election.
func (n *Node) handOffIfHalted() bool {
	if n.fsm.Halted() == nil || n.raft.State() != raft.Leader {
		return true
	}
	if err := n.raft.LeadershipTransfer().Error(); err != nil {
		n.log.Warn("halted leader could not hand leadership over; trying again", "err", err)
		return n.raft.State() != raft.Leader
	}
	n.log.Warn("handed leadership over: this node cannot apply the log (see the REFUSING line)")
	return true
}
