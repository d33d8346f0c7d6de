package ops

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/importer"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/node/mint"
	"github.com/linkd/linkd/store"
)

// Imports turn rows read by httpd/importer into links of the principal,
// MaxBulk rows per raft entry (fsm.CreateLinks). Each row keeps its code
// (as a custom alias), destination, title, tags, creation time and
// expiry. An import is idempotent and so resumable: a row whose code
// already holds the same destination for the same owner is "unchanged",
// so rerunning a file (after an interruption, or twice) changes nothing
// and reports every row it had done. Rows without a usable code (none in
// the source, or renamed after a collision) get a code derived from the
// row (importCode), so a rerun, however much later, finds the link under
// the same code; no idempotency record is involved, which would expire
// after 24 h and would make the link's creation time the import's. A code
// held by something else is a collision, settled per row by the policy:
// skip it, rename (a derived code), or fail the row.

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
	// Domain is where the imported codes go (default: the default domain).
	Domain string
	// Origin names the system the rows first came from when it is not
	// Source: linkd import reads a Bitly file itself and sends its rows as
	// linkd JSON lines, and their click totals are still Bitly's. It
	// labels the click totals only; empty means Source.
	Origin string
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
	if !slices.Contains(importer.Sources, opt.Source) {
		errs.Add("from", errors.New("must be one of "+strings.Join(importer.Sources, ", ")))
	}
	if opt.Origin != "" && !slices.Contains(importer.Sources, opt.Origin) {
		errs.Add("origin", errors.New("must be one of "+strings.Join(importer.Sources, ", ")))
	}
	switch opt.Collisions {
	case CollisionSkip, CollisionRename, CollisionFail:
	default:
		errs.Add("collisions", errors.New(`must be "skip", "rename" or "fail"`))
	}
	return Invalid("The import did not start.", errs)
}

// Import reads r and imports every row, calling progress (if set) after
// each batch with the report so far. It returns the report in row
// order; a file that cannot be read to its end is an error, after the
// rows read before the break are imported (a rerun finds them unchanged).
func (o *Ops) Import(p Principal, opt ImportOptions, r io.Reader, progress func(report []ImportRow)) ([]ImportRow, error) {
	if err := CheckImport(opt); err != nil {
		return nil, err
	}
	var report []ImportRow
	var batch []importer.Row
	flush := func() error {
		rows, err := o.importBatch(p, opt, batch)
		if err == nil {
			err = o.keepSourceClicks(p, cmp.Or(opt.Origin, opt.Source), rows)
		}
		report = append(report, rows...)
		batch = batch[:0]
		if progress != nil && err == nil {
			progress(report)
		}
		return err
	}
	err := importer.Read(opt.Source, r, opt.Mapping, func(row importer.Row) error {
		if batch = append(batch, row); len(batch) == MaxBulk {
			return flush()
		}
		return nil
	})
	if len(batch) > 0 { // the last rows, or those read before a break in the file
		if ferr := flush(); ferr != nil {
			err = ferr
		}
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
	derived := make([]int, len(rows)) // importCode attempts made for the row; 0: the source's code
	var pending []int
	for i, row := range rows {
		out[i] = ImportRow{Row: row.N, SourceClicks: row.SourceClicks(), From: row.Code}
		cmd, err := o.importCommand(p, row, opt.Domain, now)
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
	key, err := o.st.PermKey()
	if err != nil {
		return out[:0], err
	}
	wctx, cancel := WriteCtx()
	defer cancel()
	for round := 0; round < mintAttempts && len(pending) > 0; round++ {
		batch := &fsm.CreateLinks{}
		for _, i := range pending {
			if cmds[i].Code == "" || derived[i] > 0 {
				cmds[i].Code = importCode(key, cmds[i], rows[i], derived[i])
				derived[i]++
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
			case errors.Is(r.Err, fsm.ErrExists) && o.sameLink(p, cmd):
				out[i].Status, out[i].Code = ImportUnchanged, store.DomainCode(cmd.Domain, cmd.Code)
			case errors.Is(r.Err, fsm.ErrExists) && derived[i] > 0:
				again = append(again, i) // another link holds the derived code: derive the next
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

// keepSourceClicks records the source click totals (above zero) of a
// batch's imported rows (created, renamed, or unchanged from an earlier
// run) in one raft entry (fsm.SetImportedClicks), apart from linkd's own
// analytics.
func (o *Ops) keepSourceClicks(p Principal, source string, rows []ImportRow) error {
	c := &fsm.SetImportedClicks{Now: time.Now().UnixMilli(), Owner: p.Owner(), Source: source}
	for _, r := range rows {
		switch r.Status {
		case ImportCreated, ImportRenamed, ImportUnchanged:
			if r.SourceClicks != nil && *r.SourceClicks > 0 && r.Code != "" { // zero is no history
				c.Items = append(c.Items, fsm.ImportedClickTotal{Code: r.Code, Clicks: *r.SourceClicks})
			}
		}
	}
	if len(c.Items) == 0 {
		return nil
	}
	wctx, cancel := WriteCtx()
	defer cancel()
	_, err := o.cl.Propose(wctx, c)
	return err
}

// importCommand builds the create for one row: the source's code as a
// custom alias when it is a valid one, its creation time when it is in the
// past.
func (o *Ops) importCommand(p Principal, row importer.Row, domain string, now time.Time) (*fsm.CreateLink, error) {
	if row.Err != nil {
		return nil, Fail(KindValidation, "The row could not be read: "+row.Err.Error()+".")
	}
	if row.Protected {
		return nil, Fail(KindValidation, "A password protects the link at the source, and no export carries it: the link was not imported, so that it does not become public.",
			FieldError{Field: "password", Message: "set at the source; create the link here with a password of your choice"})
	}
	if domain == "" && row.Domain != "" && o.servesLinks(row.Domain) {
		domain = row.Domain // the link's own domain (a linkd export), when this cluster has it
	}
	req := NewLink{URL: row.URL, Title: row.Title, Tags: row.Tags, Domain: domain}
	if len(row.Options) > 0 { // linkd's own export: its link options, as the API takes them
		b, err := json.Marshal(row.Options)
		if err == nil {
			err = json.Unmarshal(b, &req.LinkOptions)
		}
		if err != nil {
			return nil, Fail(KindValidation, "The row's link options could not be read.", FieldError{Field: "options", Message: err.Error()})
		}
	}
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
	if cmd.Custom && row.Custom != nil && !*row.Custom {
		cmd.Custom = false // a minted code in linkd's own export: kept, and still not an alias
	}
	return cmd, nil
}

// importCode is the code of a row that cannot keep the source's (it has
// none, or it is renamed): a keyed hash of what identifies the row (owner,
// domain, the source's code, destination, title, creation time; not its
// row number, which the CLI's chunks and an edited file change) and of the
// attempt, written like a minted code. A rerun at any later time derives
// the same code and finds its own link there (unchanged), so no
// idempotency record is needed and the row's creation time is kept. The
// key is the cluster's code permutation key, so these codes are no more
// guessable than minted ones; a minted code that one of them holds is
// minted again like one an alias holds. Two rows alike in all of these
// are one link.
func importCode(key []byte, cmd *fsm.CreateLink, row importer.Row, attempt int) string {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "linkd import code\x00%d\x00%s\x00%s\x00%s\x00%s\x00%d\x00%d",
		cmd.Owner, cmd.Domain, row.Code, cmd.URL, cmd.Title, row.CreatedAt.UnixMilli(), attempt)
	return mint.Encode(binary.BigEndian.Uint64(h.Sum(nil)) % mint.Space)
}

// sameLink reports whether cmd's code already holds the same destination
// for the same owner: the row was imported before.
func (o *Ops) sameLink(p Principal, cmd *fsm.CreateLink) bool {
	l, err := o.st.Link(store.DomainCode(cmd.Domain, cmd.Code))
	return err == nil && l.Owner == p.Owner() && l.URL == cmd.URL && l.Status != store.StatusDeleted
}

// collide applies the collision policy to a row whose code is taken (or
// unusable): skip it, fail it with cause, or rename it (importCode).
func (o *Ops) collide(opt ImportOptions, row *ImportRow, cmd *fsm.CreateLink, cause error) error {
	switch opt.Collisions {
	case CollisionSkip:
		row.Status, row.Err = ImportSkipped, cause
	case CollisionRename:
		row.Status, cmd.Custom, cmd.Code = ImportRenamed, false, ""
	default:
		return cause
	}
	return nil
}
