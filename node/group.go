package node

import (
	"fmt"
	"time"

	"github.com/linkd/linkd/fsm"
)

// Group commit: concurrent proposals are coalesced into one raft entry
// (fsm.Group) by one goroutine. It sends a group as soon as it has one
// and a slot is free; while maxInFlight groups are in flight, new
// proposals queue and leave together in the next group. So an idle node
// adds no latency (a lone proposal goes out at once, unwrapped) and a
// loaded one pays raft's per-entry costs (log record, future, apply call,
// follower round) once per group instead of once per command.
const (
	// maxInFlight is how many group entries may be in flight at once.
	maxInFlight = 4
	// maxGroup and maxGroupBytes bound one group (commands, encoded bytes).
	maxGroup      = 256
	maxGroupBytes = 1 << 20
	// proposalQueue is how many proposals may wait for a slot.
	proposalQueue = 4096
)

// proposal is one caller's command waiting to be committed.
type proposal struct {
	cmd      []byte
	deadline time.Time
	done     chan answer // buffered: the committer never blocks on it
}

type answer struct {
	r   *fsm.Result
	err error
}

// submit hands an encoded, checked command to the group committer and
// waits for its own result.
func (n *Node) submit(cmd []byte, deadline time.Time) (*fsm.Result, error) {
	p := &proposal{cmd: cmd, deadline: deadline, done: make(chan answer, 1)}
	select {
	case n.proposals <- p:
	case <-n.stop:
		return nil, notApplied(ErrShutdown)
	}
	select {
	case a := <-p.done:
		return a.r, a.err
	case <-n.stop:
		return nil, unknownOutcome(ErrShutdown)
	}
}

// runGroupCommit collects proposals into groups and commits them, at most
// maxInFlight at a time.
func (n *Node) runGroupCommit() {
	defer n.wg.Done()
	slots := make(chan struct{}, maxInFlight)
	var carry *proposal // the proposal that did not fit the last group
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-n.proposals:
			case <-n.stop:
				return
			}
		}
		select {
		case slots <- struct{}{}:
		case <-n.stop:
			first.done <- answer{err: notApplied(ErrShutdown)}
			return
		}
		group, size := []*proposal{first}, len(first.cmd)
	fill:
		for len(group) < maxGroup && !isGroup(first.cmd) {
			select {
			case p := <-n.proposals:
				if size+len(p.cmd) > maxGroupBytes || isGroup(p.cmd) {
					carry = p
					break fill
				}
				group, size = append(group, p), size+len(p.cmd)
			default:
				break fill
			}
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.commitGroup(group)
			<-slots
		}()
	}
}

// isGroup reports whether an encoded command is already a group (one a
// peer proposed): it is committed alone, never nested.
func isGroup(cmd []byte) bool { return len(cmd) > 0 && fsm.Type(cmd[0]) == fsm.TypeGroup }

// commitGroup commits one group and answers each of its proposals.
func (n *Node) commitGroup(group []*proposal) {
	now := time.Now()
	live, deadline := group[:0], now.Add(proposeTimeout)
	for _, p := range group {
		if !p.deadline.After(now) {
			// Its caller has given up: it was never sent.
			p.done <- answer{err: notApplied(ErrNoLeader, "deadline passed while queued for group commit")}
			continue
		}
		live = append(live, p)
		if p.deadline.Before(deadline) {
			deadline = p.deadline
		}
	}
	if len(live) == 0 {
		return
	}
	data := live[0].cmd
	if len(live) > 1 {
		g := &fsm.Group{Cmds: make([][]byte, len(live))}
		for i, p := range live {
			g.Cmds[i] = p.cmd
		}
		var err error
		if data, err = fsm.Encode(g); err != nil {
			answerAll(live, nil, notApplied(err))
			return
		}
	}
	f := n.raft.Apply(data, max(time.Until(deadline), time.Millisecond))
	if err := n.await(f); err != nil {
		answerAll(live, nil, raftError(err))
		return
	}
	r, ok := f.Response().(*fsm.Result)
	switch {
	case !ok || r == nil:
		answerAll(live, nil, unknownOutcome(fmt.Errorf("node: unexpected apply response %T", f.Response())))
	case len(live) == 1:
		live[0].done <- answer{r, r.Err}
	case len(r.Items) != len(live):
		// The fsm refused the whole entry (halted): the same answer for
		// every command in it.
		answerAll(live, &fsm.Result{Err: r.Err}, r.Err)
	default:
		for i, p := range live {
			p.done <- answer{r.Items[i], r.Items[i].Err}
		}
	}
}

func answerAll(group []*proposal, r *fsm.Result, err error) {
	for _, p := range group {
		p.done <- answer{r, err}
	}
}
