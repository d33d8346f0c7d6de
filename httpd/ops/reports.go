package ops

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/destkey"
	"github.com/linkd/linkd/store"
)

// Caps on what anonymous reporters can make the cluster store: open
// reports per link (more are merged into the queue's existing ones) and in
// total (more are refused until admins review some).
const (
	MaxOpenReportsPerLink = 20
	MaxOpenReports        = 10000
	maxReportNote         = 1000
)

// ReportReasons are the reasons a report may give.
var ReportReasons = []string{"phishing", "malware", "spam", "illegal", "other"}

// NewReport is an anonymous report of a link.
type NewReport struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

// FileReport files a report from addr (only a keyed hash of the address,
// salted per UTC day, is stored, to deduplicate).
func (o *Ops) FileReport(req NewReport, addr netip.Addr) error {
	var errs Fields
	if !ValidCode([]byte(req.Code)) {
		errs.Add("code", errors.New("is not a short link code"))
	}
	if !slices.Contains(ReportReasons, req.Reason) {
		errs.Add("reason", errors.New("must be one of phishing, malware, spam, illegal, other"))
	}
	note, err := boundedText(req.Note, maxReportNote, true)
	errs.Add("note", err)
	if err := Invalid("The report was not filed.", errs); err != nil {
		return err
	}
	key, err := o.st.PermKey()
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	h := sha256.New()
	h.Write(key)
	h.Write([]byte(addr.String()))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(now/store.DayMs)))
	_, err = o.propose(&fsm.Report{Now: now, ID: timeID(now), Code: req.Code, Reason: req.Reason, Note: note,
		AddrHash: h.Sum(nil)[:12], MaxPerLink: MaxOpenReportsPerLink, MaxOpen: MaxOpenReports})
	return err
}

// timeID is an id ordered by time: milliseconds and 12 random bits (it
// stays below 2^53, so JSON clients keep it exact).
func timeID(ms int64) uint64 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return uint64(ms)<<12 | uint64(binary.BigEndian.Uint16(b[:])&0xfff)
}

// ReportView is a report as admins see it (no address hash).
type ReportView struct {
	ID       string  `json:"id"`
	Code     string  `json:"code"`
	URL      string  `json:"url"`
	Status   string  `json:"status"`
	Link     string  `json:"linkStatus"`
	Reason   string  `json:"reason"`
	Note     string  `json:"note"`
	At       string  `json:"createdAt"`
	Action   string  `json:"action,omitempty"`
	ClosedBy uint64  `json:"closedBy,omitempty"`
	ClosedAt *string `json:"closedAt,omitempty"`
}

// Reports lists open reports (all with all), oldest first.
func (o *Ops) Reports(all bool) ([]ReportView, error) {
	rs, err := o.st.Reports(all, 500)
	out := make([]ReportView, 0, len(rs))
	for _, r := range rs {
		v := ReportView{ID: strconv.FormatUint(r.ID, 10), Code: r.Code, Status: r.Status.String(), Reason: r.Reason,
			Note: r.Note, At: MsTime(r.At), Action: r.Action, ClosedBy: r.ClosedBy, ClosedAt: optTime(r.ClosedAt)}
		if l, err := o.st.Link(r.Code); err == nil {
			v.URL, v.Link = l.URL, l.Status.String()
		}
		out = append(out, v)
	}
	return out, err
}

// ResolveReport carries out an admin's decision on a report: dismiss,
// block-link or block-domain (the registrable domain of the link's
// destination).
func (o *Ops) ResolveReport(p Principal, id, action string) error {
	if !p.IsAdmin() {
		return Fail(KindForbidden, "Only admins review reports.")
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return Fail(KindNotFound, "No such report.")
	}
	c := &fsm.ResolveReport{Now: time.Now().UnixMilli(), ID: n, Actor: p.Owner(), Action: action}
	switch action {
	case fsm.ActionDismiss, fsm.ActionBlockLink:
	case fsm.ActionBlockDomain:
		r, err := o.st.Report(n)
		if errors.Is(err, store.ErrNotFound) {
			return Fail(KindNotFound, "No such report.")
		} else if err != nil {
			return err
		}
		l, err := o.st.Link(r.Code)
		if err != nil {
			return err
		}
		dp, ok := destkey.Of(l.URL)
		if !ok {
			return Fail(KindValidation, "The link has no destination domain to block.")
		}
		c.Domain, c.BlockID = destkey.Registrable(dp.Host), newBlockID()
	default:
		return Fail(KindValidation, "The report was not changed.",
			FieldError{Field: "action", Message: "must be dismiss, block-link or block-domain"})
	}
	_, err = o.propose(c)
	return err
}
