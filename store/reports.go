package store

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Abuse reports live in sub-tables of F (codes never start with a byte
// below '0', so F\x00.. and F\x01.. cannot collide with F<code>):
//
//	F\x00<id:8>                       a report (Report)
//	F\x01<code>\x00<reason>\x00<addr hash>  an open report's dedupe key (value: id:8)
//	F\x02                             number of open reports (uint64)
//
// What an anonymous reporter can make the cluster store is bounded by the
// proposer's caps on open reports, which Apply enforces with these keys.

// ReportStatus is where a report is in the review queue.
type ReportStatus uint8

// Report statuses. Numbers are stored: only add.
const (
	ReportOpen      ReportStatus = 0
	ReportDismissed ReportStatus = 1
	ReportActioned  ReportStatus = 2
)

func (s ReportStatus) String() string {
	switch s {
	case ReportOpen:
		return "open"
	case ReportDismissed:
		return "dismissed"
	case ReportActioned:
		return "actioned"
	}
	return "unknown"
}

// Report is one abuse report of a link.
type Report struct {
	ID       uint64
	Code     string
	Reason   string
	Note     string
	AddrHash []byte
	At       int64
	Status   ReportStatus
	ClosedBy uint64
	ClosedAt int64
	Action   string
}

func marshalReport(r *Report) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(r.ID)
	e.str(r.Code)
	e.str(r.Reason)
	e.str(r.Note)
	e.bytes(r.AddrHash)
	e.iv(r.At)
	e.u8(uint8(r.Status))
	e.uv(r.ClosedBy)
	e.iv(r.ClosedAt)
	e.str(r.Action)
	return e.b
}

func unmarshalReport(v []byte) (*Report, error) {
	d := decoder{b: v}
	d.version(recordV1)
	r := &Report{ID: d.uv(), Code: d.str(), Reason: d.str(), Note: d.str(), AddrHash: d.bytes(), At: d.iv(),
		Status: ReportStatus(d.u8()), ClosedBy: d.uv(), ClosedAt: d.iv(), Action: d.str()}
	return r, d.err
}

func reportKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tTakedown, 0}, id)
}

func reportOpenPrefix(code string) []byte {
	return append(append([]byte{tTakedown, 1}, code...), 0)
}

func reportOpenKey(r *Report) []byte {
	k := append(append(reportOpenPrefix(r.Code), r.Reason...), 0)
	return append(k, r.AddrHash...)
}

var keyOpenReports = []byte{tTakedown, 2}

// Report returns report id, or ErrNotFound.
func (t *Txn) Report(id uint64) (*Report, error) {
	return decodeFrom(t.b, reportKey(id), unmarshalReport)
}

// OpenReportExists reports whether an open report with r's code, reason
// and address hash exists.
func (t *Txn) OpenReportExists(r *Report) (bool, error) {
	_, err := get(t.b, reportOpenKey(r))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// OpenReports returns the number of open reports of code (counting at most
// limit) and in total.
func (t *Txn) OpenReports(code string, limit int) (perLink int, total uint64, err error) {
	err = scanPrefix(t.b, reportOpenPrefix(code), func(_, _ []byte) error {
		perLink++
		if perLink >= limit {
			return errStopScan
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	total, err = getUint64(t.b, keyOpenReports)
	return perLink, total, err
}

// PutReport stores a new open report, or rewrites one; closing an open
// report removes its dedupe key and counts it out.
func (t *Txn) PutReport(prev, r *Report) error {
	n, err := getUint64(t.b, keyOpenReports)
	if err != nil {
		return err
	}
	if prev == nil && r.Status == ReportOpen {
		t.set(reportOpenKey(r), binary.BigEndian.AppendUint64(nil, r.ID))
		n++
	}
	if prev != nil && prev.Status == ReportOpen && r.Status != ReportOpen {
		t.del(reportOpenKey(prev))
		n--
	}
	t.setUint64(keyOpenReports, n)
	t.set(reportKey(r.ID), marshalReport(r))
	return nil
}

// EachOpenReport calls fn with the code and id of every open report.
func (t *Txn) EachOpenReport(fn func(code string, id uint64) error) error {
	prefix := []byte{tTakedown, 1}
	return scanPrefix(t.b, prefix, func(k, v []byte) error {
		code, _, ok := bytes.Cut(k[len(prefix):], []byte{0})
		if len(v) != 8 || !ok {
			return ErrCorrupt
		}
		return fn(string(code), binary.BigEndian.Uint64(v))
	})
}

// Reports returns up to limit reports in id order (the proposer makes ids
// time-ordered, so oldest first); open reports only unless all.
func (s *Store) Reports(all bool, limit int) ([]*Report, error) {
	var out []*Report
	err := s.view(func(db *pebble.DB) error {
		return scan(db, []byte{tTakedown, 0}, []byte{tTakedown, 1}, func(_, v []byte) error {
			r, err := unmarshalReport(v)
			if err != nil {
				return err
			}
			if all || r.Status == ReportOpen {
				out = append(out, r)
			}
			if len(out) >= limit {
				return errStopScan
			}
			return nil
		})
	})
	return out, err
}

// Report returns report id, or ErrNotFound.
func (s *Store) Report(id uint64) (r *Report, err error) {
	err = s.view(func(db *pebble.DB) error {
		r, err = decodeFrom(db, reportKey(id), unmarshalReport)
		return err
	})
	return r, err
}
