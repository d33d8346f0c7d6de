package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/propose"
	"github.com/linkd/linkd/node/mint"
	"github.com/linkd/linkd/store"
)

// rangeSize is how many ids a node takes per AllocRange. A node does not
// remember the unused rest of its range across restarts; with 62^7 codes
// the waste is negligible, and remembering would need a write per code.
const rangeSize = 4096

// Minter hands out fresh codes. Ids come from ranges allocated through raft
// (so no id is handed out twice, by any node, ever) and are scrambled with
// the cluster's permutation key, so codes are neither sequential nor
// guessable, and minting needs no coordination per code.
type Minter struct {
	nodeID  string
	st      *store.Store
	propose propose.Func

	mu        sync.Mutex
	perm      *mint.Permutation
	next, end uint64
}

// NewMinter returns a Minter for nodeID that allocates ranges via propose.
func NewMinter(nodeID string, st *store.Store, propose propose.Func) *Minter {
	return &Minter{nodeID: nodeID, st: st, propose: propose}
}

// Code returns a code that no other call, on any node, will return.
func (m *Minter) Code(ctx context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.perm == nil {
		key, err := m.st.PermKey()
		if errors.Is(err, store.ErrNotFound) {
			return "", ErrNotInitialized
		}
		if err != nil {
			return "", err
		}
		if m.perm, err = mint.New(key); err != nil {
			return "", err
		}
	}
	if m.next == m.end {
		r, err := m.propose(ctx, &fsm.AllocRange{Now: time.Now().UnixMilli(), NodeID: m.nodeID, Size: rangeSize})
		if err != nil {
			return "", fmt.Errorf("node: allocate id range: %w", err)
		}
		m.next, m.end = r.Range.Start, r.Range.End
	}
	id := m.next
	m.next++
	return m.perm.Code(id)
}
