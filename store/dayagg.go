package store

import (
	"cmp"
	"slices"

	"github.com/axiomhq/hyperloglog"
)

// One link's day in one record (issue 18). Before it, a click segment cost
// about fourteen point reads per link: the day counts (D), the total (T),
// every dimension value (X) and, for a new value, the count of values
// kept (Y), and the visitor sketch (U). The apply now reads and writes a
// single DayAgg per link and day (table Z) for all of those but the total.
//
// Old data stays where it is: the readers sum both layouts, so a store
// that holds D/X/Y/U days (written by older linkds, or by this one before
// the upgrade) and Z days answers the same totals. On the day of an
// upgrade both may hold the same (link, day); counts add up all the same,
// and each layout applies the cardinality cap on its own, so up to
// 2*MaxDimValues values of a dimension may be named for that one day.

// tDayAgg is Z<code>\0<unix day> -> DayAgg record.
const tDayAgg = 'Z'

// DayAgg is one link's activity on one UTC day: what DayClicks deltas of
// that day add up to, with each dimension's values capped.
type DayAgg struct {
	DayCounts
	Dims     []DimValues // by Dim, ascending
	Visitors []byte      // HyperLogLog sketch; nil when no visitor was counted
}

// DimValues are the kept values of one dimension, by Key ascending; at most
// MaxDimValues of them besides OtherValue.
type DimValues struct {
	Dim    uint8
	Values []KeyCount
}

func marshalDayAgg(a *DayAgg) []byte {
	n := 16 + len(a.Visitors)
	for _, d := range a.Dims {
		n += 2 + 12*len(d.Values)
	}
	e := encoder{b: make([]byte, 0, n)}
	e.u8(recordV1)
	e.dayCounts(a.DayCounts)
	e.uv(uint64(len(a.Dims)))
	for _, d := range a.Dims {
		e.u8(d.Dim)
		e.uv(uint64(len(d.Values)))
		for _, v := range d.Values {
			e.str(v.Key)
			e.uv(v.Count)
		}
	}
	e.bytes(a.Visitors)
	return e.b
}

func unmarshalDayAgg(b []byte) (*DayAgg, error) {
	d := decoder{b: b}
	d.version(recordV1)
	a := &DayAgg{DayCounts: d.dayCounts()}
	if n := d.uv(); n > 0 && n <= 255 {
		a.Dims = make([]DimValues, n)
		for i := range a.Dims {
			a.Dims[i].Dim = d.u8()
			m := d.uv()
			if m > uint64(len(d.b)) { // every value takes two bytes at least
				d.fail()
				break
			}
			a.Dims[i].Values = make([]KeyCount, m)
			for j := range a.Dims[i].Values {
				a.Dims[i].Values[j] = KeyCount{Key: d.str(), Count: d.uv()}
			}
		}
	} else if n > 255 {
		d.fail()
	}
	if v := d.bytes(); len(v) > 0 {
		a.Visitors = v
	}
	if d.err != nil {
		return nil, d.err
	}
	return a, nil
}

// add merges one day's delta into a, under the cardinality cap.
func (a *DayAgg) add(d *DayClicks) error {
	a.Humans += d.Humans
	a.Bots += d.Bots
	a.Previews += d.Previews
	a.Scans += d.Scans
	for _, dc := range d.Dims {
		a.addDim(dc.Dim, dc.Key, dc.N)
	}
	if len(d.Visitors) > 0 {
		b, err := mergeSketches(a.Visitors, d.Visitors)
		if b != nil {
			a.Visitors = b
		}
		return err
	}
	return nil
}

// addDim adds n to value's count, or to OtherValue's when value is new and
// the dimension already keeps MaxDimValues values (or value is too long).
func (a *DayAgg) addDim(dim uint8, value string, n uint64) {
	i, ok := slices.BinarySearchFunc(a.Dims, dim, func(d DimValues, dim uint8) int { return cmp.Compare(d.Dim, dim) })
	if !ok {
		a.Dims = slices.Insert(a.Dims, i, DimValues{Dim: dim})
	}
	d := &a.Dims[i]
	if value == OtherValue || len(value) > MaxDimValueLen || !d.has(value) && d.kept() >= MaxDimValues {
		value = OtherValue
	}
	j, ok := slices.BinarySearchFunc(d.Values, value, func(kc KeyCount, v string) int { return cmp.Compare(kc.Key, v) })
	if ok {
		d.Values[j].Count += n
		return
	}
	d.Values = slices.Insert(d.Values, j, KeyCount{Key: value, Count: n})
}

func (d *DimValues) has(value string) bool {
	_, ok := slices.BinarySearchFunc(d.Values, value, func(kc KeyCount, v string) int { return cmp.Compare(kc.Key, v) })
	return ok
}

// kept is how many values count towards the cap: all but OtherValue.
func (d *DimValues) kept() int {
	if d.has(OtherValue) {
		return len(d.Values) - 1
	}
	return len(d.Values)
}

// mergeSketches returns the union of two encoded visitor sketches, or nil
// when delta is unreadable: a bad sketch in a delta loses uniques, never
// the node. An unreadable stored sketch is replaced by delta.
func mergeSketches(have, delta []byte) ([]byte, error) {
	add := hyperloglog.New14()
	if err := add.UnmarshalBinary(delta); err != nil {
		return nil, nil
	}
	if have != nil {
		h := hyperloglog.New14()
		if h.UnmarshalBinary(have) == nil {
			if err := add.Merge(h); err != nil {
				return nil, err
			}
		}
	}
	return add.MarshalBinary()
}

// addDayAgg merges d into code's DayAgg of d.Day: one read, one write.
func (t *Txn) addDayAgg(rd *clickReads, code string, d *DayClicks) error {
	k := bucketKey(tDayAgg, code, d.Day)
	a := &DayAgg{}
	if v, err := get(rd.dayAgg, k); err == nil {
		if a, err = unmarshalDayAgg(v); err != nil {
			return err
		}
	} else if err != ErrNotFound {
		return err
	}
	if err := a.add(d); err != nil {
		return err
	}
	t.set(k, marshalDayAgg(a))
	return t.addUint64Via(rd.total, append([]byte{tTotal}, code...), d.Humans+d.Bots)
}
