// Package propose names the one signature of "commit this command": what
// the minter, the click compactor and the HTTP operations are handed, so
// none of them depends on how (locally or through the leader) it happens.
package propose

import (
	"context"

	"github.com/linkd/linkd/fsm"
)

// Func commits a command, on this node or through the leader, and returns
// its result once applied.
type Func func(ctx context.Context, c fsm.Command) (*fsm.Result, error)
