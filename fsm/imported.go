package fsm

import "github.com/linkd/linkd/store"

// TypeSetImportedClicks records click totals brought by an import (issue
// 17; types 70-79 belong to portability).
const TypeSetImportedClicks Type = 73

// SetImportedClicks records, for links an import created or found already
// imported, the click total each had at its source shortener. It is one
// raft entry per import batch, proposed after the batch's CreateLinks.
// Totals live in their own table (store.ImportedClicks), never in linkd's
// analytics. Per item: the link must exist, not be deleted and belong to
// Owner, else the item answers ErrNotFound and writes nothing; a second
// record for a code replaces the first (a rerun of the file).
type SetImportedClicks struct {
	Header
	Now    int64                `codec:"now"`
	Owner  uint64               `codec:"owner"`
	Source string               `codec:"src"`
	Items  []ImportedClickTotal `codec:"items"`
}

// ImportedClickTotal is one link's total in SetImportedClicks.
type ImportedClickTotal struct {
	Code   string `codec:"code"`
	Clicks uint64 `codec:"n"`
}

func (*SetImportedClicks) Type() Type { return TypeSetImportedClicks }

func applySetImportedClicks(txn *store.Txn, c *SetImportedClicks) (*Result, error) {
	out := &Result{Items: make([]*Result, len(c.Items))}
	for i, it := range c.Items {
		l, err := txn.Link(it.Code)
		switch {
		case err == store.ErrNotFound || (err == nil && (l.Status == store.StatusDeleted || l.Owner != c.Owner)):
			out.Items[i] = &Result{Err: ErrNotFound}
			continue
		case err != nil:
			return nil, err
		}
		txn.PutImportedClicks(it.Code, &store.ImportedClicks{Source: c.Source, Clicks: it.Clicks, At: c.Now})
		out.Items[i] = &Result{}
	}
	return out, nil
}
