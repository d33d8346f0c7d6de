package store

// Reads over a Snapshot for exports. An export walks every link of an
// owner (or all) and every rollup of each: it reads from one Pebble
// snapshot, so it sees one consistent state while writes continue, and it
// hands records to the caller one at a time, so its memory does not grow
// with the number of links.

// EachLink calls fn with every link of owner (all: every owner's),
// newest first, deleted links included (the caller decides whether a
// tombstone belongs in its output). fn's error stops the walk and is
// returned.
func (sn *Snapshot) EachLink(owner uint64, all bool, fn func(*Link) error) error {
	prefix := ownerPrefix(owner)
	if all {
		prefix = []byte{tCreated}
	}
	return scan(sn.snap, prefix, prefixEnd(prefix), func(k, _ []byte) error {
		suffix := k[len(prefix):]
		if len(suffix) <= 8 {
			return ErrCorrupt
		}
		l, err := getLink(sn.snap, string(suffix[8:]))
		if err != nil {
			return err
		}
		return fn(l)
	})
}

// Clicks returns a link's total clicks as of the snapshot.
func (sn *Snapshot) Clicks(code string) (uint64, error) {
	return getUint64(sn.snap, append([]byte{tTotal}, code...))
}

// EachDay calls fn with a link's counts of every day in [fromDay, toDay)
// (Unix days) that has any, in day order.
func (sn *Snapshot) EachDay(code string, fromDay, toDay int64, fn func(day int64, c DayCounts) error) error {
	days, err := dayCounts(sn.snap, code, fromDay, toDay)
	if err != nil {
		return err
	}
	for _, d := range days {
		if err := fn(d.day, d.DayCounts); err != nil {
			return err
		}
	}
	return nil
}

// EachDim calls fn with every kept dimension value of a link's days in
// [fromDay, toDay), in day, dimension and value order.
func (sn *Snapshot) EachDim(code string, fromDay, toDay int64, fn func(day int64, dim uint8, value string, n uint64) error) error {
	rows, err := dimRows(sn.snap, code, fromDay, toDay)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := fn(r.day, r.dim, r.value, r.n); err != nil {
			return err
		}
	}
	return nil
}
