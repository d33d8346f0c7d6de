package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/linkd/linkd/internal/yield"
)

// Applying click deltas. Two rules keep the cost of a segment linear in its
// links and clicks:
//
//   - No range deletion in the apply path. A Txn is one indexed Pebble
//     batch, and every read through it after a DeleteRange re-fragments all
//     the range deletions the batch holds; one DeleteRange per link made a
//     segment quadratic in its links. Retention instead finds a link's
//     expired buckets with one seek per table (an iterator per command,
//     seeks in code order) and point-deletes them: each bucket is deleted
//     once in its life, so the deletes cost what the writes did.
//   - Capped cardinality. A dimension (referrer host, country, device,
//     browser, OS) keeps at most MaxDimValues values per link and day, and
//     orphan hosts at most MaxDimValues per day; later new values are
//     counted under OtherValue, so totals still add up. The count of
//     values stored is itself stored (tables Y and W; in the DayAgg
//     layout, the values the record holds), so the cap is decided from
//     replicated state and every node decides it alike.
//
// Two layouts of a link's day exist; the command decides which one an
// apply writes (Clicks v1: D/X/Y/U, one key per field; Clicks v2: one
// DayAgg record, table Z, dayagg.go), so that every node, whatever its
// release, writes the same keys for the same entry.

// Cardinality caps.
const (
	// MaxDimValues is how many distinct values one dimension of one link
	// keeps per day, and how many hosts the orphan counts keep per day.
	MaxDimValues = 100
	// MaxDimValueLen bounds a stored value; longer ones count as OtherValue.
	MaxDimValueLen = 255
	// OtherValue counts the clicks whose value was not kept.
	OtherValue = "(other)"
)

func (t *Txn) addUint64(k []byte, n uint64) error { return t.addUint64Via(t.b, k, n) }

// addUint64Via is addUint64 reading through r (a seqReader in the apply).
func (t *Txn) addUint64Via(r reader, k []byte, n uint64) error {
	v, err := getUint64(r, k)
	if err != nil {
		return err
	}
	t.setUint64(k, v+n)
	return nil
}

// ClickSegment returns the last click segment applied from source.
func (t *Txn) ClickSegment(source string) (uint64, error) {
	return getUint64(t.b, append([]byte{tSegment}, source...))
}

// SetClickSegment records that source's segment n has been applied.
func (t *Txn) SetClickSegment(source string, n uint64) {
	t.setUint64(append([]byte{tSegment}, source...), n)
}

// ClickPart returns the segment of source that is being applied in parts
// and the last code applied of it (0 and "" when none is).
func (t *Txn) ClickPart(source string) (segment uint64, code string, err error) {
	v, err := get(t.b, append([]byte{tPart}, source...))
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, "", nil
	case err != nil:
		return 0, "", err
	case len(v) < 8:
		return 0, "", ErrCorrupt
	}
	return binary.BigEndian.Uint64(v), string(v[8:]), nil
}

// SetClickPart records that source's segment has been applied up to and
// including the links with code; ClearClickPart forgets it once the
// segment is applied whole.
func (t *Txn) SetClickPart(source string, segment uint64, code string) {
	t.set(append([]byte{tPart}, source...), append(binary.BigEndian.AppendUint64(nil, segment), code...))
}

// ClearClickPart: see SetClickPart.
func (t *Txn) ClearClickPart(source string) { t.del(append([]byte{tPart}, source...)) }

// AddClicks merges the deltas of one click segment into the links'
// rollups. Clicks for links that do not exist (any more) are dropped:
// deleting a link deletes its analytics. now and r decide which
// fine-grained buckets are kept. Deltas in code order make the retention
// seeks sequential, but any order gives the same result.
func (t *Txn) AddClicks(links []LinkClicks, now int64, r Retention) error {
	return t.ApplyClicks(links, now, r, LayoutFields, nil)
}

// DayLayout is how an apply stores a link's day.
type DayLayout uint8

// Day layouts.
const (
	// LayoutFields is one key per field: D (counts), X (each dimension
	// value), Y (values kept per dimension), U (visitor sketch). About
	// fourteen point reads per link and segment.
	LayoutFields DayLayout = iota
	// LayoutRecord is one DayAgg record per link and day (table Z): one
	// read and one write for all of those.
	LayoutRecord
)

// ApplyClicks is AddClicks in the given layout that also calls live
// (unless nil) with the record of every link whose clicks were added, so
// that a caller with more to do per link (the fsm's visit limits) need
// not read the link again.
func (t *Txn) ApplyClicks(links []LinkClicks, now int64, r Retention, layout DayLayout, live func(*Link, *LinkClicks) error) (err error) {
	p, err := t.newPruner(now, r)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.close()) }()
	rd, err := t.newClickReads(layout)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rd.close()) }()
	y := yield.Every{N: applyYield}
	for i := range links {
		y.Tick()
		l, err := t.addLinkClicks(&links[i], p, rd, layout)
		if err != nil {
			return err
		}
		if l != nil && live != nil {
			if err := live(l, &links[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyYield is how many links an apply takes before it yields the
// processor (package yield; a few hundred microseconds of work on a
// shared core). A part of a thousand links is ~20 ms of CPU in raft's
// apply goroutine, and the Go scheduler only preempts after 10 ms: with
// the node's two processors on one core and the other one busy (the
// collector's mark worker, the compactor), redirects that became runnable
// waited for a processor behind the apply. A runtime trace at 20,000 Zipf redirects/s showed
// waits of 21 ms, nearly all of it this goroutine running; yielding every
// 32 links still left stretches of 3–6 ms. Yielding puts the apply behind
// the redirects; it holds no lock they need. Open loop, 20,000/s, Zipf over
// 100,000 codes, p99: 16.8 and 17.3 ms without, 7.9–11.9 ms in four runs
// with 8 (and the fold's yields, node/clicks), CPU per redirect unchanged.
const applyYield = 8

// AddLinkClicks is AddClicks for one link.
func (t *Txn) AddLinkClicks(d *LinkClicks, now int64, r Retention) error {
	return t.AddClicks([]LinkClicks{*d}, now, r)
}

// clickReads are the sequential readers of one apply (seqread.go), one per
// table it reads a key of per link.
type clickReads struct {
	link, minute, hour, total, dayAgg *seqReader
}

func (t *Txn) newClickReads(layout DayLayout) (*clickReads, error) {
	rd := &clickReads{}
	tables := []struct {
		r     **seqReader
		table byte
	}{{&rd.link, tLink}, {&rd.minute, tMinute}, {&rd.hour, tHour}, {&rd.total, tTotal}, {&rd.dayAgg, tDayAgg}}
	for _, tb := range tables {
		if tb.table == tDayAgg && layout != LayoutRecord {
			continue
		}
		r, err := newSeqReader(t.b, tb.table)
		if err != nil {
			return nil, errors.Join(err, rd.close())
		}
		*tb.r = r
	}
	return rd, nil
}

func (rd *clickReads) close() error {
	var err error
	for _, r := range []*seqReader{rd.link, rd.minute, rd.hour, rd.total, rd.dayAgg} {
		if r != nil {
			err = errors.Join(err, r.Close())
		}
	}
	return err
}

func (t *Txn) addLinkClicks(d *LinkClicks, p *pruner, rd *clickReads, layout DayLayout) (*Link, error) {
	l, err := getLink(rd.link, d.Code)
	if errors.Is(err, ErrNotFound) || err == nil && l.Status == StatusDeleted {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, b := range d.Minutes {
		if b.T >= p.minute.cut {
			if err := t.addUint64Via(rd.minute, bucketKey(tMinute, d.Code, b.T), b.N); err != nil {
				return nil, err
			}
		}
		if h := b.T * MinuteMs / HourMs; h >= p.hour.cut {
			if err := t.addUint64Via(rd.hour, bucketKey(tHour, d.Code, h), b.N); err != nil {
				return nil, err
			}
		}
	}
	for i := range d.Days {
		add := t.addDay
		if layout == LayoutRecord {
			add = t.addDayAgg
		}
		if err := add(rd, d.Code, &d.Days[i]); err != nil {
			return nil, err
		}
	}
	return l, p.prune(t, d.Code)
}

// cutoff is the first bucket (of size unit ms) kept under retention keep.
func cutoff(now int64, keep time.Duration, unit int64) int64 {
	if keep <= 0 {
		return 0
	}
	return (now - keep.Milliseconds()) / unit
}

// pruner deletes the minute and hour buckets that fell out of retention,
// one link at a time. Its iterators are made when a command starts, so they
// see what earlier commands of the same raft batch wrote; what this command
// writes is never below the cutoff, so they need not see it.
type pruner struct{ minute, hour tablePruner }

type tablePruner struct {
	table byte
	cut   int64            // first bucket kept; 0: keep everything
	it    *pebble.Iterator // nil when cut is 0
}

func (t *Txn) newPruner(now int64, r Retention) (*pruner, error) {
	p := &pruner{
		minute: tablePruner{table: tMinute, cut: cutoff(now, r.Minutes, MinuteMs)},
		hour:   tablePruner{table: tHour, cut: cutoff(now, r.Hours, HourMs)},
	}
	for _, tp := range []*tablePruner{&p.minute, &p.hour} {
		if tp.cut <= 0 {
			continue
		}
		it, err := t.b.NewIter(&pebble.IterOptions{LowerBound: []byte{tp.table}, UpperBound: []byte{tp.table + 1}})
		if err != nil {
			return nil, errors.Join(err, p.close())
		}
		tp.it = it
	}
	return p, nil
}

func (p *pruner) prune(t *Txn, code string) error {
	return errors.Join(p.minute.prune(t, code), p.hour.prune(t, code))
}

// prune point-deletes code's buckets before the cutoff: one seek when
// there are none.
func (tp *tablePruner) prune(t *Txn, code string) error {
	if tp.it == nil {
		return nil
	}
	end := bucketKey(tp.table, code, tp.cut)
	for ok := tp.it.SeekGE(end[:len(end)-8]); ok && bytes.Compare(tp.it.Key(), end) < 0; ok = tp.it.Next() {
		t.del(tp.it.Key())
	}
	return tp.it.Error()
}

func (p *pruner) close() error {
	var err error
	for _, tp := range []*tablePruner{&p.minute, &p.hour} {
		if tp.it != nil {
			err = errors.Join(err, tp.it.Close())
			tp.it = nil
		}
	}
	return err
}

func (t *Txn) addDay(rd *clickReads, code string, d *DayClicks) error {
	k := bucketKey(tDay, code, d.Day)
	var c DayCounts
	if v, err := get(t.b, k); err == nil {
		if c, err = unmarshalDayCounts(v); err != nil {
			return err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	c.Humans += d.Humans
	c.Bots += d.Bots
	c.Previews += d.Previews
	c.Scans += d.Scans
	t.set(k, marshalDayCounts(c))
	if err := t.addUint64Via(rd.total, append([]byte{tTotal}, code...), d.Humans+d.Bots); err != nil {
		return err
	}
	var sets []capped // one per dimension in the delta; usually five
	for _, dim := range d.Dims {
		i := 0
		for i < len(sets) && sets[i].dim != dim.Dim {
			i++
		}
		if i == len(sets) {
			prefix := append(bucketKey(tDim, code, d.Day), dim.Dim)
			sets = append(sets, capped{dim: dim.Dim, prefix: prefix, countKey: append([]byte{tDimCount}, prefix[1:]...)})
		}
		if err := t.addCapped(&sets[i], dim.Key, dim.N); err != nil {
			return err
		}
	}
	for i := range sets {
		t.saveCount(&sets[i])
	}
	if len(d.Visitors) > 0 {
		return t.mergeSketch(bucketKey(tUniq, code, d.Day), d.Visitors)
	}
	return nil
}

// capped is one set of values under a cardinality cap: the keys are
// prefix+value, and countKey holds how many values the set keeps.
type capped struct {
	dim      uint8
	prefix   []byte
	countKey []byte
	n        uint64 // values kept, once loaded
	loaded   bool
	changed  bool
}

// addCapped adds n to value's count, or to OtherValue's when value is new
// and the set is full (or value is too long to keep).
func (t *Txn) addCapped(s *capped, value string, n uint64) error {
	if value != OtherValue && len(value) <= MaxDimValueLen {
		k := append(s.prefix[:len(s.prefix):len(s.prefix)], value...)
		v, err := get(t.b, k)
		switch {
		case err == nil && len(v) == 8:
			t.setUint64(k, binary.BigEndian.Uint64(v)+n)
			return nil
		case err == nil:
			return ErrCorrupt
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if !s.loaded {
			if s.n, err = getUint64(t.b, s.countKey); err != nil {
				return err
			}
			s.loaded = true
		}
		if s.n < MaxDimValues {
			t.setUint64(k, n)
			s.n++
			s.changed = true
			return nil
		}
	}
	return t.addUint64(append(s.prefix[:len(s.prefix):len(s.prefix)], OtherValue...), n)
}

func (t *Txn) saveCount(s *capped) {
	if s.changed {
		t.setUint64(s.countKey, s.n)
	}
}

func (t *Txn) mergeSketch(k, delta []byte) error {
	have, err := get(t.b, k)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	b, err := mergeSketches(have, delta)
	if b != nil {
		t.set(k, b)
	}
	return err
}

// AddOrphans counts requests for unknown codes, at most MaxDimValues hosts
// per day (the rest under OtherValue).
func (t *Txn) AddOrphans(os []OrphanCount) error {
	var days []capped // one per day in the delta; usually one
	for _, o := range os {
		i := 0
		for i < len(days) && !bytes.Equal(days[i].prefix[1:], binary.BigEndian.AppendUint64(nil, uint64(o.Day))) {
			i++
		}
		if i == len(days) {
			prefix := binary.BigEndian.AppendUint64([]byte{tOrphan}, uint64(o.Day))
			days = append(days, capped{prefix: prefix, countKey: append([]byte{tOrphanCount}, prefix[1:]...)})
		}
		if err := t.addCapped(&days[i], o.Host, o.N); err != nil {
			return err
		}
	}
	for i := range days {
		t.saveCount(&days[i])
	}
	return nil
}
