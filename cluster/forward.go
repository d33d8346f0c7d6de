package cluster

import (
	"context"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/propose"
	"github.com/linkd/linkd/node"
)

// Forwarding batches too: concurrent writes a follower forwards to the
// leader share one /v1/apply RPC (an fsm.Group, which the leader commits as
// one raft entry of its own) instead of one RPC each.
const (
	forwardInFlight = 16
	forwardMaxItems = 256
	forwardMaxBytes = maxRPCBody / 2 // the answer, links included, must fit too
)

func (c *Cluster) newForwarder() *propose.Batcher {
	return &propose.Batcher{
		Commit:   c.forwardGroup,
		InFlight: forwardInFlight, MaxItems: min(forwardMaxItems, c.n.MaxGroup()), MaxBytes: forwardMaxBytes,
		Grouping:  c.n.CanGroup,
		Stop:      c.stop,
		Stopped:   outcome(false, node.ErrShutdown),
		AfterStop: outcome(true, node.ErrShutdown),
		Expired:   outcome(false, ErrNoLeader),
	}
}

// forward sends cmd to the leader at addr, in a group with whatever else
// is being forwarded there.
func (c *Cluster) forward(ctx context.Context, addr string, cmd []byte) (*fsm.Result, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(rpcTimeout)
	}
	return c.fwd.Submit(cmd, deadline, addr)
}

// forwardGroup sends one group to its leader and answers each caller.
func (c *Cluster) forwardGroup(group []*propose.Item) {
	data, err := propose.Encode(group)
	if err != nil {
		propose.AnswerAll(group, nil, outcome(false, err))
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), propose.Earliest(group))
	defer cancel()
	var raw []byte
	err = c.rpc.call(ctx, group[0].Key, "POST", "/v1/apply", data, &raw)
	if err != nil && len(group) > 1 && certainlyNotApplied(err) {
		// Nothing was applied: the leader changed, or it is an older
		// linkd that knows no groups. Each command alone, then.
		for _, it := range group {
			it.Answer(c.forwardOne(ctx, it))
		}
		return
	}
	if err != nil {
		propose.AnswerAll(group, nil, outcome(!certainlyNotApplied(err), err))
		return
	}
	res, err := fsm.DecodeResult(raw)
	if err != nil {
		propose.AnswerAll(group, nil, outcome(true, err))
		return
	}
	propose.Distribute(group, res)
}

func (c *Cluster) forwardOne(ctx context.Context, it *propose.Item) (*fsm.Result, error) {
	var raw []byte
	if err := c.rpc.call(ctx, it.Key, "POST", "/v1/apply", it.Cmd, &raw); err != nil {
		return nil, outcome(!certainlyNotApplied(err), err)
	}
	res, err := fsm.DecodeResult(raw)
	if err != nil {
		return nil, outcome(true, err)
	}
	return res, res.Err
}
