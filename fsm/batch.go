package fsm

import "github.com/linkd/linkd/store"

// Batch commands (types 70-79 belong to portability: bulk API, imports).
const (
	TypeCreateLinks Type = 70
	TypeUpdateLinks Type = 71
	TypeDeleteLinks Type = 72
)

// MaxBatch is the most items a batch command carries (the bulk API's
// limit); Apply refuses nothing for size, the proposer bounds it.
const MaxBatch = 1000

// CreateLinks creates links in one raft entry. Each item is applied as a
// CreateLink of its own, in order, against the state the earlier items
// left: the batch is atomic per item, not per batch (a taken alias fails
// that item only), and Result.Items holds one result per item. Items are
// fsm's own tagged CreateLink, so their encoding is pinned with theirs.
type CreateLinks struct {
	Header
	Items []CreateLink `codec:"items"`
}

// UpdateLinks changes links in one raft entry, per item as UpdateLink.
type UpdateLinks struct {
	Header
	Items []UpdateLink `codec:"items"`
}

// DeleteLinks deletes links in one raft entry, per item as DeleteLink.
type DeleteLinks struct {
	Header
	Items []DeleteLink `codec:"items"`
}

// version is the newest version of its items' encodings: 2 when an item
// puts a link on a domain (CreateLink version 3), 3 when one carries a
// daily quota or a hold (version 4). An older binary refuses the batch
// rather than apply an item it cannot read right (on the default domain,
// or uncounted).
func (c *CreateLinks) version() uint8 {
	v := uint8(1)
	for i := range c.Items {
		switch c.Items[i].version() {
		case 4:
			return 3
		case 3:
			v = 2
		}
	}
	return v
}

func (*CreateLinks) Type() Type { return TypeCreateLinks }
func (*UpdateLinks) Type() Type { return TypeUpdateLinks }
func (*DeleteLinks) Type() Type { return TypeDeleteLinks }

// newBatchCommand is newCommand for the batch types.
func newBatchCommand(t Type) Command {
	switch t {
	case TypeCreateLinks:
		return &CreateLinks{}
	case TypeUpdateLinks:
		return &UpdateLinks{}
	case TypeDeleteLinks:
		return &DeleteLinks{}
	case TypeSetImportedClicks:
		return &SetImportedClicks{}
	}
	return nil
}

// applyBatch applies the batch commands; ok is false for other commands.
func applyBatch(txn *store.Txn, c Command) (r *Result, ok bool, err error) {
	switch c := c.(type) {
	case *CreateLinks:
		r, err = applyItems(txn, c.Items, applyCreate)
	case *UpdateLinks:
		r, err = applyItems(txn, c.Items, applyUpdate)
	case *DeleteLinks:
		r, err = applyItems(txn, c.Items, applyDelete)
	case *SetImportedClicks:
		r, err = applySetImportedClicks(txn, c)
	default:
		return nil, false, nil
	}
	return r, true, err
}

// applyItems applies each item with apply. Every item's checks run before
// its writes (as for the single commands), so a failed item leaves no
// trace; an error (corruption, a newer record) fails the whole batch.
func applyItems[C any](txn *store.Txn, items []C, apply func(*store.Txn, *C) (*Result, error)) (*Result, error) {
	out := &Result{Items: make([]*Result, len(items))}
	for i := range items {
		r, err := apply(txn, &items[i])
		if err != nil {
			return nil, err
		}
		out.Items[i] = r
	}
	return out, nil
}
