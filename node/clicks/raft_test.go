package clicks

import "github.com/hashicorp/raft"

func rafted(index uint64, data []byte) []*raft.Log {
	return []*raft.Log{{Index: index, Term: 1, Type: raft.LogCommand, Data: data}}
}
