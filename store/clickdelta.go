package store

import "cmp"

// The packed encoding of a click segment's deltas (the links and orphans
// of a Clicks command from version 4 on). A segment under load carries tens
// of thousands of links; the generic msgpack codec of the command envelope
// spent more CPU encoding them on the proposer, skipping them when the
// leader checked the entry's version and decoding them on every node than
// the apply spent writing them (issue 18). This layout is read and written
// in one pass with no reflection, and a reader that only wants the
// envelope skips it as one byte string.
//
//	version(1)
//	links:   uv count, then per link
//	         str code
//	         uv count, per minute: iv (T - previous T), uv N
//	         uv count, per day: iv Day, uv Humans, Bots, Previews, Scans,
//	                  uv count, per dim: u8 Dim, str Key, uv N;
//	                  bytes Visitors (empty: none)
//	orphans: uv count, per orphan: iv Day, str Host, uv N
//
// Empty lists and an empty sketch decode as nil, as they do through the
// envelope's msgpack (omitempty). Pinned by the golden file of Clicks v4
// (testdata/golden/fsm/08-clicks.v4.hex).

// MarshalClickDeltas packs a segment's link deltas and orphan counts.
func MarshalClickDeltas(links []LinkClicks, orphans []OrphanCount) []byte {
	n := 8
	for i := range links {
		n += len(links[i].Code) + 4 + 4*len(links[i].Minutes)
		for _, d := range links[i].Days {
			n += 16 + len(d.Visitors)
			for _, x := range d.Dims {
				n += 4 + len(x.Key)
			}
		}
	}
	e := encoder{b: make([]byte, 0, n)}
	e.u8(recordV1)
	e.uv(uint64(len(links)))
	for i := range links {
		l := &links[i]
		e.str(l.Code)
		e.uv(uint64(len(l.Minutes)))
		var prev int64
		for _, m := range l.Minutes {
			e.iv(m.T - prev)
			e.uv(m.N)
			prev = m.T
		}
		e.uv(uint64(len(l.Days)))
		for j := range l.Days {
			d := &l.Days[j]
			e.iv(d.Day)
			e.dayCounts(DayCounts{Humans: d.Humans, Bots: d.Bots, Previews: d.Previews, Scans: d.Scans})
			e.uv(uint64(len(d.Dims)))
			for _, x := range d.Dims {
				e.u8(x.Dim)
				e.str(x.Key)
				e.uv(x.N)
			}
			e.bytes(d.Visitors)
		}
	}
	e.uv(uint64(len(orphans)))
	for _, o := range orphans {
		e.iv(o.Day)
		e.str(o.Host)
		e.uv(o.N)
	}
	return e.b
}

// UnmarshalClickDeltas reads what MarshalClickDeltas wrote. Every count is
// checked against the bytes left (each element takes at least as many as
// its fields' smallest encoding), so a damaged entry cannot make it
// allocate more than a small multiple of its size.
func UnmarshalClickDeltas(b []byte) ([]LinkClicks, []OrphanCount, error) {
	d := decoder{b: b, exact: true}
	if v := d.version(recordV1); d.err != nil || v != recordV1 {
		return nil, nil, cmp.Or(d.err, ErrCorrupt)
	}
	var links []LinkClicks
	if n := d.count(3); n > 0 { // code, minutes and days: a byte each at least
		links = make([]LinkClicks, n)
	}
	keys := interner{}
	for i := range links {
		l := &links[i]
		l.Code = d.str()
		if n := d.count(2); n > 0 {
			l.Minutes = make([]ClickBucket, n)
			var prev int64
			for j := range l.Minutes {
				prev += d.iv()
				l.Minutes[j] = ClickBucket{T: prev, N: d.uv()}
			}
		}
		if n := d.count(7); n > 0 { // day, four counts, dims, visitors
			l.Days = make([]DayClicks, n)
		}
		for j := range l.Days {
			day := &l.Days[j]
			day.Day = d.iv()
			c := d.dayCounts()
			day.Humans, day.Bots, day.Previews, day.Scans = c.Humans, c.Bots, c.Previews, c.Scans
			if n := d.count(3); n > 0 {
				day.Dims = make([]DimCount, n)
			}
			for k := range day.Dims {
				day.Dims[k] = DimCount{Dim: d.u8(), Key: keys.intern(d.raw()), N: d.uv()}
			}
			if v := d.bytes(); len(v) > 0 {
				day.Visitors = v
			}
		}
		if d.err != nil {
			return nil, nil, d.err
		}
	}
	var orphans []OrphanCount
	if n := d.count(3); n > 0 {
		orphans = make([]OrphanCount, n)
	}
	for i := range orphans {
		orphans[i] = OrphanCount{Day: d.iv(), Host: d.str(), N: d.uv()}
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	if len(d.b) != 0 {
		return nil, nil, ErrCorrupt
	}
	return links, orphans, nil
}

// count reads a list's length, failing when the bytes left could not hold
// that many elements of at least size bytes each.
func (d *decoder) count(size int) int {
	n := d.uv()
	if n > uint64(len(d.b)/size) {
		d.fail()
		return 0
	}
	return int(n)
}

// interner shares the strings of repeated dimension values (countries,
// devices, browsers: the same few across a part's thousand links) within
// one decode, up to maxInterned distinct ones.
type interner map[string]string

const maxInterned = 1024

func (m interner) intern(b []byte) string {
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(m) < maxInterned {
		m[s] = s
	}
	return s
}
