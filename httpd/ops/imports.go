package ops

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/importer"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/store"
)

// Imports turn rows read by httpd/importer into links of the principal,
// MaxBulk rows per raft entry (fsm.CreateLinks). Each row keeps its code
// (as a custom alias), destination, title, tags, creation time and
// expiry. An import is idempotent and so resumable: a row whose code
// already holds the same destination for the same owner is "unchanged",
// so rerunning a file (after an interruption, or twice) changes nothing
// and reports every row it had done. Rows without a code get a minted one
// and an idempotency record keyed by the row's content (24 h, as for
// Idempotency-Key). A code held by something else is a collision,
// settled per row by the policy: skip it, rename (a minted code), or fail
// the row.

// Collision policies.
const (
	CollisionSkip   = "skip"
	CollisionRename = "rename"
	CollisionFail   = "fail"
)

// Row outcomes of an import report.
const (
	ImportCreated   = "created"
	ImportUnchanged = "unchanged"
	ImportRenamed   = "renamed"
	ImportSkipped   = "skipped"
	ImportFailed    = "failed"
)

// ImportOptions choose the source format, the collision policy and, for
// generic CSV, a column mapping (linkd field -> the file's header).
type ImportOptions struct {
	Source     string
	Collisions string
	Mapping    map[string]string
}

// ImportRow is one row of an import report.
type ImportRow struct {
	Row    int    `json:"row"`
	Status string `json:"status"`
	Code   string `json:"code,omitempty"` // the code the link has now
	From   string `json:"from,omitempty"` // the source's code, when renamed or skipped
	// SourceClicks is the source's own click total: a historical figure,
	// reported and not merged into linkd's analytics.
	SourceClicks *uint64 `json:"sourceClicks,omitempty"`
	Err          error   `json:"-"`
}

// CheckImport validates options before a body is read.
func CheckImport(opt ImportOptions) error {
	var errs Fields
	ok := false
	for _, s := range importer.Sources {
		ok = ok || s == opt.Source
	}
	if !ok {
		errs.Add("from", errors.New("must be one of "+strings.Join(importer.Sources, ", ")))
	}
	switch opt.Collisions {
	case CollisionSkip, CollisionRename, CollisionFail:
	default:
		errs.Add("collisions", errors.New(`must be "skip", "rename" or "fail"`))
	}
	return Invalid("The import did not start.", errs)
}

// Import reads r and imports every row, calling progress (if set) after
// each batch with the rows done so far. It returns the report in row
// order; a file that cannot be read at all is an error (rows before it
// stay imported, and a rerun finds them unchanged).
func (o *Ops) Import(p Principal, opt ImportOptions, r io.Reader, progress func(done int)) ([]ImportRow, error) {
	if err := CheckImport(opt); err != nil {
		return nil, err
	}
	var report []ImportRow
	var batch []importer.Row
	flush := func() error {
		rows, err := o.importBatch(p, opt, batch)
		report = append(report, rows...)
		batch = batch[:0]
		if progress != nil && err == nil {
			progress(len(report))
		}
		return err
	}
	err := importer.Read(opt.Source, r, opt.Mapping, func(row importer.Row) error {
		if batch = append(batch, row); len(batch) == MaxBulk {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return report, err
		}
		if errors.Is(err, importer.ErrSource) || strings.HasPrefix(err.Error(), "importer:") {
			return report, Fail(KindValidation, fmt.Sprintf("The file could not be read after row %d: %v.", len(report), err),
				FieldError{Field: "file", Message: err.Error()})
		}
		return report, err
	}
	return report, nil
}

// importBatch imports up to MaxBulk rows in as few raft entries as
// collisions allow (one, plus one per round of renames).
func (o *Ops) importBatch(p Principal, opt ImportOptions, rows []importer.Row) ([]ImportRow, error) {
	now := time.Now()
	out := make([]ImportRow, len(rows))
	cmds := make([]*fsm.CreateLink, len(rows))
	minted := make([]bool, len(rows)) // the code is minted here, not the source's
	var pending []int
	for i, row := range rows {
		out[i] = ImportRow{Row: row.N, SourceClicks: row.Clicks, From: row.Code}
		cmd, err := o.importCommand(p, row, now)
		if err == nil && row.Code != "" && cmd.Code != row.Code {
			// The source's code cannot be a linkd alias (too short, reserved).
			err = o.collide(opt, &out[i], cmd, Fail(KindValidation, "The source's code is not a valid alias here.",
				FieldError{Field: "code", Message: "cannot be kept: " + validate.Alias(row.Code).Error()}))
		}
		if err != nil {
			out[i].Status, out[i].Err = ImportFailed, err
			continue
		}
		if out[i].Status == "" || out[i].Status == ImportRenamed {
			cmds[i] = cmd
			pending = append(pending, i)
		}
	}
	wctx, cancel := WriteCtx()
	defer cancel()
	for round := 0; round < mintAttempts && len(pending) > 0; round++ {
		batch := &fsm.CreateLinks{}
		for _, i := range pending {
			if cmds[i].Code == "" || minted[i] {
				code, err := o.minter.Code(wctx)
				if err != nil {
					return out[:0], err
				}
				cmds[i].Code, minted[i] = code, true
			}
			batch.Items = append(batch.Items, *cmds[i])
		}
		res, err := o.cl.Propose(wctx, batch)
		if err == nil && len(res.Items) != len(pending) {
			err = fmt.Errorf("ops: import batch of %d answered with %d results", len(pending), len(res.Items))
		}
		if err != nil {
			return out[:0], err
		}
		var again []int
		for j, i := range pending {
			r, cmd := res.Items[j], cmds[i]
			switch {
			case r.Err == nil && r.Replayed:
				out[i].Status, out[i].Code = ImportUnchanged, r.Link.Code
			case r.Err == nil:
				out[i].Code = r.Link.Code
				if out[i].Status == "" {
					out[i].Status = ImportCreated
				}
			case errors.Is(r.Err, fsm.ErrExists) && minted[i]:
				again = append(again, i) // a minted code an alias holds: mint another
			case errors.Is(r.Err, fsm.ErrExists) && o.sameLink(p, cmd):
				out[i].Status, out[i].Code = ImportUnchanged, cmd.Code
			case errors.Is(r.Err, fsm.ErrExists):
				if err := o.collide(opt, &out[i], cmd, r.Err); err != nil {
					out[i].Status, out[i].Err = ImportFailed, err
				} else if out[i].Status == ImportRenamed {
					again = append(again, i)
				}
			default:
				out[i].Status, out[i].Err = ImportFailed, r.Err
			}
		}
		pending = again
	}
	for _, i := range pending {
		out[i].Status, out[i].Err = ImportFailed, errors.New("no free code was found")
	}
	for i := range out {
		if out[i].Status != ImportRenamed && out[i].Status != ImportSkipped {
			out[i].From = ""
		}
	}
	return out, nil
}

// importCommand builds the create for one row: the source's code as a
// custom alias when it is a valid one, its creation time when it is in the
// past.
func (o *Ops) importCommand(p Principal, row importer.Row, now time.Time) (*fsm.CreateLink, error) {
	if row.Err != nil {
		return nil, Fail(KindValidation, "The row could not be read: "+row.Err.Error()+".")
	}
	req := NewLink{URL: row.URL, Title: row.Title, Tags: row.Tags}
	if row.RedirectStatus != 0 {
		req.RedirectStatus = &row.RedirectStatus
	}
	if row.Code != "" && validate.Alias(row.Code) == nil {
		req.Alias = row.Code
	}
	if !row.ExpiresAt.IsZero() {
		e := row.ExpiresAt.Format(time.RFC3339)
		req.ExpiresAt = &e
	}
	cmd, err := o.newCreate(req, p, now)
	if err != nil {
		return nil, err
	}
	cmd.Now = now.UnixMilli()
	if c := row.CreatedAt.UnixMilli(); !row.CreatedAt.IsZero() && c > 0 && c < cmd.Now {
		cmd.Now = c
	}
	if !cmd.Custom {
		mintedIdem(cmd, row.N, now)
	} else if row.Custom != nil && !*row.Custom {
		cmd.Custom = false // a minted code in linkd's own export: kept, and still not an alias
	}
	return cmd, nil
}

// mintedIdem gives a row that gets a minted code an idempotency record
// keyed by its content, so a rerun within 24 h finds the link made the
// first time instead of making another. Idempotency records expire from
// Now, so the creation time becomes the import's.
func mintedIdem(cmd *fsm.CreateLink, n int, now time.Time) {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%s\x00%s\x00%s", n, cmd.Code, cmd.URL, cmd.Title)))
	cmd.IdemKey, cmd.BodyHash = "import#"+hex.EncodeToString(sum[:16]), sum[:]
	cmd.Now = now.UnixMilli()
}

// sameLink reports whether cmd's code already holds the same destination
// for the same owner: the row was imported before.
func (o *Ops) sameLink(p Principal, cmd *fsm.CreateLink) bool {
	l, err := o.st.Link(cmd.Code)
	return err == nil && l.Owner == p.Owner() && l.URL == cmd.URL && l.Status != store.StatusDeleted
}

// collide applies the collision policy to a row whose code is taken (or
// unusable): skip it, fail it with cause, or rename it (mint a code).
func (o *Ops) collide(opt ImportOptions, row *ImportRow, cmd *fsm.CreateLink, cause error) error {
	switch opt.Collisions {
	case CollisionSkip:
		row.Status, row.Err = ImportSkipped, cause
	case CollisionRename:
		mintedIdem(cmd, row.Row, time.Now())
		row.Status, cmd.Custom, cmd.Code = ImportRenamed, false, ""
	default:
		return cause
	}
	return nil
}
