package ops

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/store"
)

// Bulk operations: up to MaxBulk creates, changes or deletes in one raft
// entry (fsm.CreateLinks, UpdateLinks, DeleteLinks). They are atomic per
// item, not per batch: each item is validated and applied as its single
// request would be, and fails alone, with the same error (and so the same
// problem type). The batch as a whole fails only as a write does
// (not applied / outcome unknown), and then no item has a result.

// MaxBulk is the most items one bulk request carries.
const MaxBulk = fsm.MaxBatch

// BulkResult is one item's outcome: the link (nil for deletes), or Err.
type BulkResult struct {
	Code    string
	Link    *store.Link
	Err     error
	Created bool // the link was created by this request (not a replay)
}

// bulkCount refuses an empty or oversized batch.
func bulkCount(n int, field string) error {
	if n < 1 || n > MaxBulk {
		return Fail(KindValidation, "The batch was not applied.",
			FieldError{Field: field, Message: fmt.Sprintf("must hold 1 to %d items", MaxBulk)})
	}
	return nil
}

// CreateLinks creates links for p in one raft entry. With an
// Idempotency-Key, item i is created under the key "KEY#bulk#i" tied to
// the whole body, so a retry of the batch returns the same links.
func (o *Ops) CreateLinks(p Principal, reqs []NewLink, idem Idempotency) ([]BulkResult, error) {
	if err := bulkCount(len(reqs), "links"); err != nil {
		return nil, err
	}
	if len(idem.Key) > MaxIdemKeyLen || !printableASCII(idem.Key) {
		return nil, Fail(KindValidation, "Invalid Idempotency-Key header.",
			FieldError{Field: "Idempotency-Key", Message: "must be at most 255 printable ASCII characters"})
	}
	now := time.Now()
	out := make([]BulkResult, len(reqs))
	cmds := make([]*fsm.CreateLink, len(reqs))
	var pending []int
	sum := o.bodyHash(idem.Body)
	for i, req := range reqs {
		cmd, err := o.newCreate(req, p, now)
		if err != nil {
			out[i].Err = err
			continue
		}
		cmd.Now = now.UnixMilli()
		if idem.Key != "" {
			cmd.IdemKey, cmd.BodyHash = idem.Key+"#bulk#"+strconv.Itoa(i), sum
		}
		cmds[i] = cmd
		pending = append(pending, i)
	}
	wctx, cancel := WriteCtx()
	defer cancel()
	// A minted code that a custom alias holds already is minted again,
	// as for single creates.
	for attempt := 0; attempt < mintAttempts && len(pending) > 0; attempt++ {
		batch := &fsm.CreateLinks{Items: make([]fsm.CreateLink, 0, len(pending))}
		for _, i := range pending {
			if !cmds[i].Custom {
				code, err := o.minter.Code(wctx)
				if err != nil {
					return nil, err
				}
				cmds[i].Code = code
			}
			batch.Items = append(batch.Items, *cmds[i])
		}
		res, err := o.cl.Propose(wctx, batch)
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err != nil {
			return nil, err
		}
		if len(res.Items) != len(pending) {
			return nil, fmt.Errorf("ops: batch of %d answered with %d results", len(pending), len(res.Items))
		}
		var again []int
		for j, i := range pending {
			r := res.Items[j]
			if errors.Is(r.Err, fsm.ErrExists) && !cmds[i].Custom && attempt+1 < mintAttempts {
				again = append(again, i)
				continue
			}
			out[i] = BulkResult{Code: cmds[i].Code, Link: r.Link, Err: r.Err, Created: r.Err == nil && !r.Replayed}
		}
		pending = again
	}
	return out, nil
}

// BulkTarget chooses the links of a bulk change or delete: the codes
// given, or the principal's links with a tag (admins: anyone's), at most
// MaxBulk of them (repeat a delete by tag until it finds none).
type BulkTarget struct {
	Codes []string `json:"codes"`
	Tag   string   `json:"tag"`
	// Domain is the domain of the codes (default: the default domain);
	// with a tag, only that domain's links.
	Domain string `json:"domain"`
}

// targets resolves t to codes.
func (o *Ops) targets(p Principal, t BulkTarget) ([]string, error) {
	switch {
	case len(t.Codes) > 0 && t.Tag != "":
		return nil, Fail(KindValidation, "Give codes or a tag, not both.", FieldError{Field: "tag", Message: "cannot be combined with codes"})
	case t.Tag != "":
		page, err := o.st.ListLinks(store.ListQuery{Owner: p.Owner(), All: p.IsAdmin(), Limit: MaxBulk,
			Match: o.domainFilter(t.Domain, linkFilter("", t.Tag))})
		if err != nil {
			return nil, err
		}
		codes := make([]string, 0, len(page.Links))
		for _, l := range page.Links {
			if l.Status != store.StatusDeleted {
				codes = append(codes, l.Code)
			}
		}
		return codes, nil
	}
	if err := bulkCount(len(t.Codes), "codes"); err != nil {
		return nil, err
	}
	var errs Fields
	keys := make([]string, len(t.Codes))
	for i, c := range t.Codes {
		if !ValidCode([]byte(c)) {
			errs = append(errs, FieldError{Field: "codes[" + strconv.Itoa(i) + "]", Message: "is not a link code"})
		}
		keys[i] = o.linkKey(t.Domain, c)
	}
	return keys, Invalid("The batch was not applied.", errs)
}

// UpdateLinks applies one patch to every target link in one raft entry.
func (o *Ops) UpdateLinks(p Principal, t BulkTarget, patch LinkPatch) ([]BulkResult, error) {
	codes, err := o.targets(p, t)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	batch := &fsm.UpdateLinks{}
	return o.proposeItems(codes, batch, func(code string) (bool, error) {
		if err := o.writableLink(p, code); err != nil {
			return false, err
		}
		cmd, err := o.newUpdate(p, code, patch, now)
		if err != nil {
			return false, err
		}
		batch.Items = append(batch.Items, *cmd)
		return true, nil
	})
}

// DeleteLinks deletes every target link in one raft entry. Deleting a
// deleted link succeeds, as for single deletes.
func (o *Ops) DeleteLinks(p Principal, t BulkTarget) ([]BulkResult, error) {
	codes, err := o.targets(p, t)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	batch := &fsm.DeleteLinks{}
	return o.proposeItems(codes, batch, func(code string) (bool, error) {
		if l, err := o.st.Link(code); err == nil && l.Status == store.StatusDeleted && (p.IsAdmin() || l.Owner == p.Owner()) {
			return false, nil // deleted already: done
		}
		if err := o.writableLink(p, code); err != nil {
			return false, err
		}
		batch.Items = append(batch.Items, fsm.DeleteLink{Now: now, Code: code, Actor: p.Owner(), Admin: p.IsAdmin()})
		return true, nil
	})
}

// proposeItems hands each code to add, which checks it as the single
// request would and adds it to batch (proposed) or settles it (an error,
// or nothing to do); then it proposes batch once and spreads its per-item
// results back over codes.
func (o *Ops) proposeItems(codes []string, batch fsm.Command, add func(code string) (proposed bool, err error)) ([]BulkResult, error) {
	out := make([]BulkResult, len(codes))
	var pending []int
	for i, code := range codes {
		out[i].Code = code
		proposed, err := add(code)
		out[i].Err = err
		if proposed {
			pending = append(pending, i)
		}
	}
	if len(pending) == 0 {
		return out, nil
	}
	res, err := o.propose(batch)
	if err != nil {
		return nil, err
	}
	if len(res.Items) != len(pending) {
		return nil, fmt.Errorf("ops: batch of %d answered with %d results", len(pending), len(res.Items))
	}
	for j, i := range pending {
		out[i].Link, out[i].Err = res.Items[j].Link, res.Items[j].Err
	}
	return out, nil
}
