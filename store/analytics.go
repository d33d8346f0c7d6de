package store

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/axiomhq/hyperloglog"
	"github.com/cockroachdb/pebble/v2"
)

// Analytics tables (see the package doc). Per-link keys are
// <table><code>\x00<bucket:8>...; the NUL keeps "abc" from matching "abcd"
// (codes never contain it).
const (
	tSegment = 'S' // S<source>                         last applied click segment of a log
	tPart    = 'p' // p<source>                         <segment:8><code>: a segment applied in parts, up to code
	tMinute  = 'M' // M<code>\0<unix minute>            clicks
	tHour    = 'H' // H<code>\0<unix hour>              clicks
	tDay     = 'D' // D<code>\0<unix day>               DayCounts record
	tDim     = 'X' // X<code>\0<unix day><dim:1><key>   clicks per dimension value
	tUniq    = 'U' // U<code>\0<unix day>               HyperLogLog of visitor hashes
	tTotal   = 'T' // T<code>                           total clicks
	tOrphan  = 'O' // O<unix day><host>                 requests for unknown codes
	tSalt    = 'V' // V<unix day>                       visitor-hash salt of that day
	// Counts of the values kept under the cardinality caps (clickapply.go).
	tDimCount    = 'Y' // Y<code>\0<unix day><dim:1>   distinct values of the dimension in X
	tOrphanCount = 'W' // W<unix day>                   distinct hosts in O
)

// Dimension kinds, stored in keys: only ever add.
const (
	DimReferrer uint8 = 1
	DimCountry  uint8 = 2
	DimDevice   uint8 = 3
	DimBrowser  uint8 = 4
	DimOS       uint8 = 5
	DimVariant  uint8 = 6 // A/B variant index ("0", "1", ...) of human and bot clicks
)

// Time bucket sizes in milliseconds.
const (
	MinuteMs = int64(time.Minute / time.Millisecond)
	HourMs   = int64(time.Hour / time.Millisecond)
	DayMs    = 24 * HourMs
)

// ClickBucket is a count of clicks in one bucket (T in units of the bucket).
type ClickBucket struct {
	T int64  `codec:"t"`
	N uint64 `codec:"n"`
}

// DimCount is a count of clicks for one value of one dimension.
type DimCount struct {
	Dim uint8  `codec:"d"`
	Key string `codec:"k"`
	N   uint64 `codec:"n"`
}

// DayClicks is one link's activity on one UTC day.
type DayClicks struct {
	Day      int64      `codec:"day"`
	Humans   uint64     `codec:"h,omitempty"`
	Bots     uint64     `codec:"b,omitempty"`
	Previews uint64     `codec:"p,omitempty"`
	Scans    uint64     `codec:"s,omitempty"`
	Dims     []DimCount `codec:"x,omitempty"`
	Visitors []byte     `codec:"u,omitempty"` // HyperLogLog sketch
}

// LinkClicks is a delta of one link's rollups. Minutes hold the clicks
// (humans and bots; previews are not clicks) per minute; hours and days are
// derived from them, so the rollups agree by construction.
type LinkClicks struct {
	Code    string        `codec:"c"`
	Minutes []ClickBucket `codec:"m,omitempty"`
	Days    []DayClicks   `codec:"d,omitempty"`
}

// OrphanCount counts requests for unknown codes on one host and day.
type OrphanCount struct {
	Day  int64  `codec:"day"`
	Host string `codec:"h"`
	N    uint64 `codec:"n"`
}

// Retention says how long fine-grained buckets are kept (0: forever).
type Retention struct {
	Minutes time.Duration `codec:"m"`
	Hours   time.Duration `codec:"h"`
}

func codeKey(table byte, code string) []byte {
	return append(append([]byte{table}, code...), 0)
}

func bucketKey(table byte, code string, t int64) []byte {
	return binary.BigEndian.AppendUint64(codeKey(table, code), uint64(t))
}

// deleteAnalytics removes every rollup of a link.
func (t *Txn) deleteAnalytics(code string) {
	for _, table := range []byte{tMinute, tHour, tDay, tDim, tDimCount, tUniq, tDayAgg} {
		p := codeKey(table, code)
		if err := t.b.DeleteRange(p, prefixEnd(p), nil); err != nil {
			panic(fmt.Sprintf("store: batch delete range: %v", err))
		}
	}
	t.del(append([]byte{tTotal}, code...))
	t.ResetVisits(code)
}

// saltsKept is how many days of visitor salts are kept: today's and
// yesterday's (late events); older ones are deleted, so old visitor hashes
// cannot be recomputed.
const saltsKept = 2

// SetSalt stores day's visitor salt (the first one set wins) and deletes
// salts older than saltsKept days before it.
func (t *Txn) SetSalt(day int64, salt []byte) error {
	k := binary.BigEndian.AppendUint64([]byte{tSalt}, uint64(day))
	if _, err := get(t.b, k); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	t.set(k, salt)
	old := binary.BigEndian.AppendUint64([]byte{tSalt}, uint64(max(day-saltsKept, 0)))
	return t.b.DeleteRange([]byte{tSalt}, old, nil)
}

// Salt returns the visitor salt of day, or ErrNotFound.
func (s *Store) Salt(day int64) (salt []byte, err error) {
	err = s.view(func(db *pebble.DB) error {
		salt, err = get(db, binary.BigEndian.AppendUint64([]byte{tSalt}, uint64(day)))
		return err
	})
	return salt, err
}

// DayCounts are a link's counts on one day.
type DayCounts struct{ Humans, Bots, Previews, Scans uint64 }

func marshalDayCounts(c DayCounts) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.dayCounts(c)
	return e.b
}

func unmarshalDayCounts(b []byte) (DayCounts, error) {
	d := decoder{b: b}
	d.version(recordV1)
	c := d.dayCounts()
	return c, d.err
}

// dayCounts writes the four counts of a day, in the order every layout
// that holds them uses (the D record, DayAgg, the packed click deltas).
func (e *encoder) dayCounts(c DayCounts) {
	e.uv(c.Humans)
	e.uv(c.Bots)
	e.uv(c.Previews)
	e.uv(c.Scans)
}

func (d *decoder) dayCounts() DayCounts {
	return DayCounts{Humans: d.uv(), Bots: d.uv(), Previews: d.uv(), Scans: d.uv()}
}

// Clicks returns a link's total clicks.
func (s *Store) Clicks(code string) (n uint64, err error) {
	err = s.view(func(db *pebble.DB) error { n, err = getUint64(db, append([]byte{tTotal}, code...)); return err })
	return n, err
}

// Interval is the bucket size of a time series.
type Interval byte

// Series intervals.
const (
	ByMinute Interval = tMinute
	ByHour   Interval = tHour
	ByDay    Interval = tDay
)

// Point is one bucket of a series; T is the bucket start in Unix ms.
type Point struct {
	T      int64
	Clicks uint64
}

// KeyCount is one value of a dimension with its count.
type KeyCount struct {
	Key   string `json:"key"`
	Count uint64 `json:"count"`
}

// Analytics is a link's activity over a range of days.
type Analytics struct {
	DayCounts
	Visitors uint64
	Series   []Point
	Dims     map[uint8][]KeyCount // sorted by count, descending
}

// topN bounds each dimension's list in a report.
const topN = 10

// LinkAnalytics reports code's activity for the UTC days overlapping
// [from, to) (Unix ms) and its series in interval buckets within [from, to).
func (s *Store) LinkAnalytics(code string, from, to int64, iv Interval) (*Analytics, error) {
	a := &Analytics{Dims: map[uint8][]KeyCount{}}
	err := s.view(func(db *pebble.DB) error {
		if err := a.readDays(db, code, from/DayMs, (to+DayMs-1)/DayMs); err != nil {
			return err
		}
		return a.readSeries(db, code, from, to, iv)
	})
	return a, err
}

// iterReader is what scan needs: the database, a snapshot or a Txn's batch.
type iterReader interface {
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// errStopScan ends a scan early without failing it.
var errStopScan = errors.New("store: stop scan")

// scan calls fn for every key in [lo, hi) in order. The key and value are
// only valid during the call. fn may return errStopScan to end the scan.
func scan(r iterReader, lo, hi []byte, fn func(k, v []byte) error) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if err := fn(it.Key(), it.Value()); errors.Is(err, errStopScan) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return it.Error()
}

// scanPrefix is scan over every key that starts with prefix.
func scanPrefix(r iterReader, prefix []byte, fn func(k, v []byte) error) error {
	return scan(r, prefix, prefixEnd(prefix), fn)
}

func (a *Analytics) readDays(db *pebble.DB, code string, fromDay, toDay int64) error {
	sums := map[uint8]map[string]uint64{}
	add := func(dim uint8, key string, n uint64) {
		if sums[dim] == nil {
			sums[dim] = map[string]uint64{}
		}
		sums[dim][key] += n
	}
	// A dense accumulator: merging sparse day sketches into it is a register
	// update per value, where sparse-into-sparse re-sorts every time.
	uniq := hyperloglog.NewNoSparse()
	sketch := func(v []byte) error {
		day := hyperloglog.New14()
		if day.UnmarshalBinary(v) == nil {
			return uniq.Merge(day)
		}
		return nil
	}
	err := eachOldDay(db, code, fromDay, toDay, oldDayReader{
		counts: func(_ int64, c DayCounts) error { a.addCounts(c); return nil },
		dim:    func(_ int64, dim uint8, key string, n uint64) error { add(dim, key, n); return nil },
		sketch: func(v []byte) error { return sketch(v) },
	})
	if err != nil {
		return err
	}
	err = eachDayAgg(db, code, fromDay, toDay, func(_ int64, d *DayAgg) error {
		a.addCounts(d.DayCounts)
		for _, dv := range d.Dims {
			for _, kc := range dv.Values {
				add(dv.Dim, kc.Key, kc.Count)
			}
		}
		if len(d.Visitors) > 0 {
			return sketch(d.Visitors)
		}
		return nil
	})
	for dim, m := range sums {
		a.Dims[dim] = top(m)
	}
	a.Visitors = uniq.Estimate()
	return err
}

func (a *Analytics) addCounts(c DayCounts) {
	a.Humans, a.Bots, a.Previews, a.Scans = a.Humans+c.Humans, a.Bots+c.Bots, a.Previews+c.Previews, a.Scans+c.Scans
}

func top(m map[string]uint64) []KeyCount {
	out := make([]KeyCount, 0, len(m))
	for k, n := range m {
		out = append(out, KeyCount{k, n})
	}
	sortCounts(out)
	return out[:min(len(out), topN)]
}

// sortCounts orders by count, descending, then by key.
func sortCounts(out []KeyCount) {
	slices.SortFunc(out, func(x, y KeyCount) int {
		if x.Count != y.Count {
			return cmp.Compare(y.Count, x.Count)
		}
		return cmp.Compare(x.Key, y.Key)
	})
}

func (a *Analytics) readSeries(db *pebble.DB, code string, from, to int64, iv Interval) error {
	unit := map[Interval]int64{ByMinute: MinuteMs, ByHour: HourMs, ByDay: DayMs}[iv]
	if unit == 0 {
		return fmt.Errorf("store: unknown interval %q", iv)
	}
	lo, hi := from/unit, (to+unit-1)/unit
	if iv == ByDay {
		days, err := dayCounts(db, code, lo, hi)
		for _, d := range days {
			a.Series = append(a.Series, Point{T: d.day * unit, Clicks: d.Humans + d.Bots})
		}
		return err
	}
	return scan(db, bucketKey(byte(iv), code, lo), bucketKey(byte(iv), code, hi), func(k, v []byte) error {
		if len(v) != 8 {
			return ErrCorrupt
		}
		t := int64(binary.BigEndian.Uint64(k[len(k)-8:]))
		a.Series = append(a.Series, Point{T: t * unit, Clicks: binary.BigEndian.Uint64(v)})
		return nil
	})
}

// Orphans returns requests for unknown codes per host over [fromDay, toDay).
func (s *Store) Orphans(fromDay, toDay int64) (total uint64, hosts []KeyCount, err error) {
	sums := map[string]uint64{}
	err = s.view(func(db *pebble.DB) error {
		lo := binary.BigEndian.AppendUint64([]byte{tOrphan}, uint64(fromDay))
		hi := binary.BigEndian.AppendUint64([]byte{tOrphan}, uint64(toDay))
		return scan(db, lo, hi, func(k, v []byte) error {
			n := binary.BigEndian.Uint64(v)
			sums[string(k[9:])] += n
			total += n
			return nil
		})
	})
	return total, top(sums), err
}

// LinkDimension returns every value of one dimension of code over the UTC
// days [fromDay, toDay) with its count, most counted first (at most
// MaxDimValues+1 per day, OtherValue included).
func (s *Store) LinkDimension(code string, dim uint8, fromDay, toDay int64) ([]KeyCount, error) {
	sums := map[string]uint64{}
	err := s.view(func(db *pebble.DB) error {
		err := eachOldDay(db, code, fromDay, toDay, oldDayReader{dim: func(_ int64, d uint8, key string, n uint64) error {
			if d == dim {
				sums[key] += n
			}
			return nil
		}})
		if err != nil {
			return err
		}
		return eachDayAgg(db, code, fromDay, toDay, func(_ int64, d *DayAgg) error {
			for _, dv := range d.Dims {
				if dv.Dim == dim {
					for _, kc := range dv.Values {
						sums[kc.Key] += kc.Count
					}
				}
			}
			return nil
		})
	})
	out := make([]KeyCount, 0, len(sums))
	for k, n := range sums {
		out = append(out, KeyCount{k, n})
	}
	sortCounts(out)
	return out, err
}
