package fsm

import (
	"errors"

	"github.com/linkd/linkd/store"
)

// Abuse report commands (issue 14).
const (
	TypeReport        Type = 64
	TypeResolveReport Type = 65
)

// Report errors.
var (
	// ErrReportsFull means the cluster holds as many open reports as the
	// proposer allows; nothing was stored.
	ErrReportsFull = errors.New("too many open reports")
	// ErrReportNotFound means no report has that id.
	ErrReportNotFound = errors.New("no such report")
)

// Report files an anonymous abuse report of a link. AddrHash is a keyed
// hash of the reporter's address (never the address), so one address
// reporting one link for one reason is stored once. MaxPerLink and MaxOpen
// are the proposer's caps on open reports: past them nothing is stored.
type Report struct {
	Header
	Now        int64  `codec:"now"`
	ID         uint64 `codec:"id"`
	Code       string `codec:"code"`
	Reason     string `codec:"why"`
	Note       string `codec:"note,omitempty"`
	AddrHash   []byte `codec:"ah"`
	MaxPerLink uint32 `codec:"mpl"`
	MaxOpen    uint64 `codec:"mo"`
}

// Report review actions.
const (
	ActionDismiss     = "dismiss"
	ActionBlockLink   = "block-link"
	ActionBlockDomain = "block-domain"
)

// ResolveReport is an admin's decision on a report: dismiss it, block its
// link, or add its link's domain (Domain, normalised by the proposer, under
// BlockID) to the blocklist. Blocking closes every open report of every link that is
// then blocked.
type ResolveReport struct {
	Header
	Now     int64  `codec:"now"`
	ID      uint64 `codec:"id"`
	Actor   uint64 `codec:"actor"`
	Action  string `codec:"act"`
	BlockID uint64 `codec:"bid,omitempty"`
	Domain  string `codec:"dom,omitempty"`
}

func (*Report) Type() Type        { return TypeReport }
func (*ResolveReport) Type() Type { return TypeResolveReport }

func init() {
	versions[TypeReport], versions[TypeResolveReport] = 1, 1
}

func applyReport(txn *store.Txn, c *Report) (*Result, error) {
	if l, err := txn.Link(c.Code); errors.Is(err, store.ErrNotFound) || (err == nil && l.Status == store.StatusDeleted) {
		return &Result{Err: ErrNotFound}, nil
	} else if err != nil {
		return nil, err
	}
	r := &store.Report{ID: c.ID, Code: c.Code, Reason: c.Reason, Note: c.Note, AddrHash: c.AddrHash, At: c.Now}
	if dup, err := txn.OpenReportExists(r); dup || err != nil {
		return &Result{Replayed: true}, err
	}
	if _, err := txn.Report(c.ID); err == nil {
		return &Result{Replayed: true}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	perLink, total, err := txn.OpenReports(c.Code, int(c.MaxPerLink))
	if err != nil {
		return nil, err
	}
	if perLink >= int(c.MaxPerLink) {
		return &Result{Replayed: true}, nil // the queue has enough on this link already
	}
	if total >= c.MaxOpen {
		return &Result{Err: ErrReportsFull}, nil
	}
	return &Result{}, txn.PutReport(nil, r)
}

func applyResolveReport(txn *store.Txn, c *ResolveReport) (*Result, error) {
	r, err := txn.Report(c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return &Result{Err: ErrReportNotFound}, nil
	} else if err != nil {
		return nil, err
	}
	if r.Status != store.ReportOpen {
		return &Result{Replayed: true}, nil
	}
	closing := []uint64{r.ID}
	switch c.Action {
	case ActionDismiss:
	case ActionBlockLink, ActionBlockDomain:
		if c.Action == ActionBlockLink {
			l, err := txn.Link(r.Code)
			if err != nil {
				return nil, err
			}
			if l.Status == store.StatusActive {
				if err := setBlocked(txn, l, true, c.Actor, "Reported for "+r.Reason+" and confirmed by an administrator", c.Now); err != nil {
					return nil, err
				}
			}
		} else {
			res, err := applyAddBlock(txn, &AddBlock{Now: c.Now, ID: c.BlockID, Kind: uint8(store.BlockDomain),
				Value: c.Domain, Reason: "reported for " + r.Reason, Actor: c.Actor})
			if err != nil || (res.Err != nil && !errors.Is(res.Err, ErrBlockExists)) {
				return res, err
			}
		}
		// Every open report of a link that is now blocked is done with.
		closing = closing[:0]
		err := txn.EachOpenReport(func(code string, id uint64) error {
			l, err := txn.Link(code)
			if err == nil && l.Status == store.StatusBlocked {
				closing = append(closing, id)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	default:
		panic("fsm: unknown report action " + c.Action) // the proposer checks it
	}
	status := store.ReportActioned
	if c.Action == ActionDismiss {
		status = store.ReportDismissed
	}
	for _, id := range closing {
		prev, err := txn.Report(id)
		if err != nil {
			return nil, err
		}
		next := *prev
		next.Status, next.ClosedBy, next.ClosedAt, next.Action = status, c.Actor, c.Now, c.Action
		if err := txn.PutReport(prev, &next); err != nil {
			return nil, err
		}
	}
	return &Result{}, txn.Audit(&store.AuditEntry{At: c.Now, Actor: c.Actor, Action: "report." + c.Action,
		Target: r.Code, Detail: "report of " + r.Reason + "; " + c.Domain})
}
