package fsm

import (
	"errors"
	"fmt"

	"github.com/linkd/linkd/store"
)

// TypeGroup is a group commit: several independent commands, proposed
// concurrently by different callers, carried by one raft entry (types
// 110-114 belong to performance).
const TypeGroup Type = 110

// Group carries already encoded commands (each exactly as Encode wrote it,
// type byte first) in one raft entry. Applying it applies each command as
// if it were an entry of its own, in order, in the same store transaction:
// a command sees the writes of the ones before it, a domain refusal fails
// only that command (commands check before they write), and Result.Items
// holds one result per command. What halts the fsm in one command (an
// entry too new for this binary) halts it for the whole group, as it would
// for a raft batch. Groups do not nest.
//
// The encoding, pinned by testdata/golden/fsm/110-group.v1.hex:
//
//	110  msgpack map { "v": 1, "cmds": [ bin(encoded command), ... ] }
type Group struct {
	Header
	Cmds [][]byte `codec:"cmds"`
}

func (*Group) Type() Type { return TypeGroup }

// ErrNestedGroup refuses a group inside a group.
var ErrNestedGroup = errors.New("fsm: a group cannot carry a group")

// CheckGroup reports whether this binary can apply every command of a
// group (Check does this for an encoded Group).
func checkGroup(b []byte) error {
	c, err := Decode(b)
	if err != nil {
		return err
	}
	for _, cmd := range c.(*Group).Cmds {
		if len(cmd) > 0 && Type(cmd[0]) == TypeGroup {
			return ErrNestedGroup
		}
		if err := Check(cmd); err != nil {
			return err
		}
	}
	return nil
}

// applyGroup applies each command of g; an error is one that halts the fsm.
func (f *FSM) applyGroup(txn *store.Txn, g *Group) (*Result, error) {
	out := &Result{Items: make([]*Result, len(g.Cmds))}
	for i, cmd := range g.Cmds {
		if len(cmd) > 0 && Type(cmd[0]) == TypeGroup {
			panic(fmt.Sprintf("fsm: %v", ErrNestedGroup)) // the proposer never builds one
		}
		r, err := f.applyOne(txn, cmd)
		if err != nil {
			return nil, err
		}
		out.Items[i] = r
	}
	return out, nil
}
