package store

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// Reading a link's days from both layouts: the DayAgg records (table Z)
// and the per-field tables older linkds wrote (D, X, U; see dayagg.go).

// oldDayReader receives what the old tables hold; nil fields skip a table.
type oldDayReader struct {
	counts func(day int64, c DayCounts) error
	dim    func(day int64, dim uint8, key string, n uint64) error
	sketch func(v []byte) error // only valid during the call
}

// eachOldDay scans code's days in [fromDay, toDay) in the old tables, each
// table in day order.
func eachOldDay(r iterReader, code string, fromDay, toDay int64, o oldDayReader) error {
	if o.counts != nil {
		prefix := len(codeKey(tDay, code))
		err := scan(r, bucketKey(tDay, code, fromDay), bucketKey(tDay, code, toDay), func(k, v []byte) error {
			if len(k) != prefix+8 {
				return ErrCorrupt
			}
			c, err := unmarshalDayCounts(v)
			if err != nil {
				return err
			}
			return o.counts(int64(binary.BigEndian.Uint64(k[prefix:])), c)
		})
		if err != nil {
			return err
		}
	}
	if o.dim != nil {
		prefix := len(codeKey(tDim, code))
		err := scan(r, bucketKey(tDim, code, fromDay), bucketKey(tDim, code, toDay), func(k, v []byte) error {
			if len(k) <= prefix+8 || len(v) != 8 {
				return ErrCorrupt
			}
			return o.dim(int64(binary.BigEndian.Uint64(k[prefix:])), k[prefix+8], string(k[prefix+9:]), binary.BigEndian.Uint64(v))
		})
		if err != nil {
			return err
		}
	}
	if o.sketch != nil {
		return scan(r, bucketKey(tUniq, code, fromDay), bucketKey(tUniq, code, toDay), func(_, v []byte) error {
			return o.sketch(v)
		})
	}
	return nil
}

// eachDayAgg calls fn with code's DayAgg records of [fromDay, toDay), in
// day order.
func eachDayAgg(r iterReader, code string, fromDay, toDay int64, fn func(day int64, d *DayAgg) error) error {
	prefix := len(codeKey(tDayAgg, code))
	return scan(r, bucketKey(tDayAgg, code, fromDay), bucketKey(tDayAgg, code, toDay), func(k, v []byte) error {
		if len(k) != prefix+8 {
			return ErrCorrupt
		}
		d, err := unmarshalDayAgg(v)
		if err != nil {
			return err
		}
		return fn(int64(binary.BigEndian.Uint64(k[prefix:])), d)
	})
}

type dayCount struct {
	day int64
	DayCounts
}

// dayCounts returns code's counts per day of [fromDay, toDay) that has
// any, in day order, both layouts summed.
func dayCounts(r iterReader, code string, fromDay, toDay int64) ([]dayCount, error) {
	var old, agg []dayCount
	err := eachOldDay(r, code, fromDay, toDay, oldDayReader{counts: func(day int64, c DayCounts) error {
		old = append(old, dayCount{day, c})
		return nil
	}})
	if err != nil {
		return nil, err
	}
	err = eachDayAgg(r, code, fromDay, toDay, func(day int64, d *DayAgg) error {
		agg = append(agg, dayCount{day, d.DayCounts})
		return nil
	})
	if len(old) == 0 || err != nil {
		return agg, err
	}
	out := make([]dayCount, 0, len(old)+len(agg))
	for len(old) > 0 || len(agg) > 0 {
		switch {
		case len(agg) == 0 || len(old) > 0 && old[0].day < agg[0].day:
			out, old = append(out, old[0]), old[1:]
		case len(old) == 0 || agg[0].day < old[0].day:
			out, agg = append(out, agg[0]), agg[1:]
		default:
			c, a := old[0].DayCounts, agg[0].DayCounts
			out = append(out, dayCount{old[0].day, DayCounts{Humans: c.Humans + a.Humans, Bots: c.Bots + a.Bots,
				Previews: c.Previews + a.Previews, Scans: c.Scans + a.Scans}})
			old, agg = old[1:], agg[1:]
		}
	}
	return out, nil
}

// dimRow is one kept dimension value of one day.
type dimRow struct {
	day   int64
	dim   uint8
	value string
	n     uint64
}

// dimRows returns code's dimension values of [fromDay, toDay) in day,
// dimension and value order, both layouts summed.
func dimRows(r iterReader, code string, fromDay, toDay int64) ([]dimRow, error) {
	var rows []dimRow
	err := eachOldDay(r, code, fromDay, toDay, oldDayReader{dim: func(day int64, dim uint8, key string, n uint64) error {
		rows = append(rows, dimRow{day, dim, key, n})
		return nil
	}})
	if err != nil {
		return nil, err
	}
	old := len(rows)
	err = eachDayAgg(r, code, fromDay, toDay, func(day int64, d *DayAgg) error {
		for _, dv := range d.Dims {
			for _, kc := range dv.Values {
				rows = append(rows, dimRow{day, dv.Dim, kc.Key, kc.Count})
			}
		}
		return nil
	})
	if old == 0 || old == len(rows) || err != nil {
		return rows, err // one layout: already in order
	}
	slices.SortStableFunc(rows, func(a, b dimRow) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.dim, b.dim), cmp.Compare(a.value, b.value))
	})
	out := rows[:1]
	for _, r := range rows[1:] {
		if l := &out[len(out)-1]; l.day == r.day && l.dim == r.dim && l.value == r.value {
			l.n += r.n
		} else {
			out = append(out, r)
		}
	}
	return out, nil
}
