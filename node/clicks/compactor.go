package clicks

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/propose"
	"github.com/linkd/linkd/internal/yield"
	"github.com/linkd/linkd/store"
)

// proposeTimeout bounds one segment's proposal.
const proposeTimeout = 10 * time.Second

// Compactor folds sealed segments into rollup deltas and proposes them.
type Compactor struct {
	cfg         Config // for encoding batches (Fold) as the writer encodes events
	dir, source string
	st          *store.Store
	propose     propose.Func
	retention   store.Retention
	every       time.Duration
	log         *slog.Logger
	stop        chan struct{}
	wg          sync.WaitGroup
	mu          sync.Mutex // one pass at a time
	hurry       atomic.Bool
	kicked      chan struct{} // a segment was sealed (cap 1)
}

// saltEvery is how often an idle compactor checks that today's and
// tomorrow's visitor salts exist.
const saltEvery = time.Hour

// Start opens the click log in cfg.Dir and starts its writer (the
// Recorder) and its compactor, which the writer wakes each time it seals a
// segment: no pass runs while nothing is sealed.
func Start(cfg Config, r store.Retention, propose propose.Func) (*Recorder, *Compactor, error) {
	c := newCompactor(cfg, r, propose)
	cfg.sealed = c.kick
	rec, err := NewRecorder(cfg)
	if err != nil {
		return nil, nil, err
	}
	c.wg.Add(1)
	go c.loop()
	return rec, c, nil
}

// newCompactor returns a compactor of cfg.Dir that is not running yet
// (Start runs it; tests call Pass).
func newCompactor(cfg Config, r store.Retention, propose propose.Func) *Compactor {
	return &Compactor{cfg: cfg, dir: cfg.Dir, source: cfg.Source, st: cfg.Store, propose: propose, retention: r,
		every: max(cfg.Lag/4, 10*time.Millisecond), log: cfg.Logger, stop: make(chan struct{}), kicked: make(chan struct{}, 1)}
}

// kick wakes the compactor's loop (a segment was sealed).
func (c *Compactor) kick() {
	select {
	case c.kicked <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// loop passes at start (segments sealed before), whenever the writer seals
// a segment, and again Lag/4 after a pass that left segments behind (a
// proposal failed: no leader, say). It checks the salts on each wake, at
// least every saltEvery, and again Lag/4 after it could not propose one (a
// node starting, before there is a leader).
func (c *Compactor) loop() {
	defer c.wg.Done()
	salts := time.NewTicker(saltEvery)
	defer salts.Stop()
	retry := time.NewTimer(c.every)
	defer retry.Stop()
	for {
		saltsMissing := !c.ensureSalts()
		var retryC <-chan time.Time
		if c.pass(context.Background(), true) || saltsMissing {
			retry.Reset(c.every)
			retryC = retry.C
		}
		select {
		case <-c.stop:
			return
		case <-c.kicked:
		case <-retryC:
		case <-salts.C:
		}
		retry.Stop()
	}
}

// Close stops the compactor; sealed segments not yet applied stay on disk
// for the next start.
func (c *Compactor) Close() {
	close(c.stop)
	c.wg.Wait()
}

// Pass proposes every sealed segment in order, deleting each once applied.
// It stops at the first failure, so segments are applied in order and the
// fsm can remember just the last one per source.
func (c *Compactor) Pass(ctx context.Context) {
	c.hurry.Store(true) // a paced pass in progress stops resting
	defer c.hurry.Store(false)
	c.pass(ctx, false)
}

// pass is Pass, pacing the newest segment if pace (pacer): the loop's
// passes do, the last pass of a stopping node (its HTTP server stopped
// already) does not. It reports whether it left a sealed segment behind.
func (c *Compactor) pass(ctx context.Context, pace bool) (left bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sealed := sealedSegments(c.dir)
	for i, num := range sealed {
		// Pace only the newest segment: with a backlog, catch up.
		p := &pacer{on: pace && i == len(sealed)-1, stop: c.stop, hurry: &c.hurry, left: c.cfg.Lag / 8, since: time.Now()}
		cmd, err := c.fold(num, p)
		if errors.Is(err, errStopping) {
			return true
		}
		if err != nil {
			c.log.Error("reading click segment", "segment", num, "err", err)
			return true
		}
		if err := c.proposeParts(ctx, cmd, p); err != nil {
			c.log.Debug("proposing click segment; will retry", "segment", num, "err", err)
			return true
		}
		if err := removeSegment(c.dir, num); err != nil {
			c.log.Error("removing applied click segment", "segment", num, "err", err)
			return true
		}
	}
	return false
}

// PartLinks is how many links one part of a segment carries (Clicks v3):
// an apply of about 15 ms on the reference machine (bench/redirect.sh).
const PartLinks = 1000

var errStopping = errors.New("clicks: compactor stopping")

// pacer keeps the compactor's work on the newest segment to about half of
// a core while it lasts: after every stretch of work it rests as long as
// the stretch took. Folding a segment and applying it are bursts of up to
// a second of CPU per 5 s segment under load; unpaced, the redirects
// served meanwhile got half the core (the scheduler's fair share) and
// queued behind it at half load (issue 18: p99 at half of max load). With
// a backlog the compactor does not pace: it catches up. The rests of one
// segment add up to at most an eighth of the analytics lag (left): a
// segment is sealed after Lag/2 and folded as it is sealed, so the rests
// leave room within the lag's bound for the work itself.
type pacer struct {
	on    bool
	stop  <-chan struct{}
	hurry *atomic.Bool  // set: no more rests
	left  time.Duration // rest still allowed
	since time.Time     // start of the current stretch of work
}

// paceSlice is the shortest stretch of work worth a rest.
const paceSlice = 2 * time.Millisecond

// rest rests if the current stretch is long enough; errStopping if the
// compactor stops meanwhile.
func (p *pacer) rest() error {
	if !p.on || p.hurry.Load() {
		return nil
	}
	worked := time.Since(p.since)
	if worked < paceSlice || p.left <= 0 {
		return nil
	}
	d := min(worked, p.left)
	p.left -= d
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.stop:
		return errStopping
	}
	p.since = time.Now()
	return nil
}

// proposeParts proposes cmd, in parts of PartLinks links when it is a
// version 3 command with more, resting between parts (pacer): the apply of
// a large segment comes in slices of one part, not as one apply of a second
// or more. A failure leaves the rest for the next pass, which proposes the
// segment again; the fsm skips the links it has applied.
func (c *Compactor) proposeParts(ctx context.Context, cmd *fsm.Clicks, p *pacer) error {
	parts := []*fsm.Clicks{cmd}
	if cmd.V >= 3 {
		parts = splitClicks(cmd, PartLinks)
	}
	for i, part := range parts {
		if i > 0 {
			if err := p.rest(); err != nil {
				return err
			}
		}
		pctx, cancel := context.WithTimeout(ctx, proposeTimeout)
		_, err := c.propose(pctx, part)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// splitClicks splits a segment's command into parts of at most n links,
// in code order (as folded); the last part carries the orphans, the others
// More.
func splitClicks(cmd *fsm.Clicks, n int) []*fsm.Clicks {
	var parts []*fsm.Clicks
	links := cmd.Links
	for {
		p := *cmd
		p.Links, p.Orphans, p.More = links[:min(n, len(links))], nil, len(links) > n
		links = links[len(p.Links):]
		if !p.More {
			p.Orphans = cmd.Orphans
		}
		parts = append(parts, &p)
		if !p.More {
			return parts
		}
	}
}

// DirectReferrer is the referrer of visits that sent none.
const DirectReferrer = "(direct)"

// linkAgg accumulates one link's records. Minutes and days are slices in
// time order, not maps: a segment's records come in (nearly) time order, so
// a record almost always lands on the last bucket or a new one after it,
// and most links of a large segment have one or two records, for which two
// maps per link and a sort of each link's minutes cost more than the rest
// of the fold (BenchmarkFold).
type linkAgg struct {
	minutes []store.ClickBucket
	days    []dayAgg // by day; a *dayAgg into it is used at once, never kept
}

type dimKey struct {
	dim uint8
	key string
}

// dayAgg is one link's day. Its dimension values accumulate in d.Dims
// itself, found by a scan while there are few (most links of a large
// segment have a handful: a map per link-day was the fold's largest
// allocation) and through idx once there are more than dimScan.
type dayAgg struct {
	d   store.DayClicks
	idx map[dimKey]int // index into d.Dims; nil until it holds more than dimScan values
	hll *hyperloglog.Sketch
}

// dimScan is how many dimension values of a link-day are found by a scan.
const dimScan = 16

// fold reads a segment into a Clicks command. Records that agree on day,
// kind, class, link and every dimension are counted under one key first
// (one map operation per record, no allocation for repeated keys); minutes
// and visitors, which differ per record, go straight to their link.
func (c *Compactor) fold(num uint64, p *pacer) (*fsm.Clicks, error) {
	var restErr error
	n := 0
	cmd, err := c.foldRecords(func(fn func([]byte)) error {
		return readSegment(c.dir, num, c.log, func(b []byte) {
			if n++; n%1024 == 0 && restErr == nil {
				restErr = p.rest()
			}
			fn(b)
		})
	})
	if err == nil {
		err = restErr
	}
	if err != nil {
		return nil, err
	}
	cmd.Source, cmd.Segment = c.source, num
	if c.cfg.DayRecords != nil && c.cfg.DayRecords() {
		cmd.V = 2
		if c.cfg.Parts != nil && c.cfg.Parts() {
			cmd.V = 3
			if c.cfg.Packed != nil && c.cfg.Packed() {
				cmd.V = 4
			}
		}
	}
	return cmd, nil
}

// foldRecords folds the records each yields into a Clicks command (without
// its source and segment).
func (c *Compactor) foldRecords(each func(fn func([]byte)) error) (*fsm.Clicks, error) {
	links := map[string]*linkAgg{}
	linkOf := func(code []byte) *linkAgg {
		l := links[string(code)]
		if l == nil {
			l = &linkAgg{}
			links[string(code)] = l
		}
		return l
	}
	profiles := map[string]uint64{}
	var key []byte
	y := yield.Every{N: foldYield}
	err := each(func(b []byte) {
		y.Tick()
		v, err := viewRecord(b)
		if err != nil {
			c.log.Warn("skipping unreadable click record")
			return
		}
		key = binary.BigEndian.AppendUint64(key[:0], uint64(v.timeMs/store.DayMs))
		key = append(append(key, v.kind, v.class), v.strs...)
		profiles[string(key)]++
		if v.kind == KindOrphan || v.class == ClassPreview {
			return // no minute bucket, no visitor
		}
		f, _ := v.fields()
		l := linkOf(f[0])
		l.minutes = addBucket(l.minutes, v.timeMs/store.MinuteMs)
		if v.visitor != 0 {
			l.day(v.timeMs / store.DayMs).visitors().InsertHash(v.visitor)
		}
	})
	if err != nil {
		return nil, err
	}
	orphans := map[store.OrphanCount]uint64{}
	for k, n := range profiles {
		y.Tick()
		v := view{kind: k[8], class: k[9], strs: []byte(k[10:])}
		f, _ := v.fields()
		day := int64(binary.BigEndian.Uint64([]byte(k[:8])))
		if v.kind == KindOrphan {
			orphans[store.OrphanCount{Day: day, Host: string(f[1])}] += n
			continue
		}
		linkOf(f[0]).day(day).add(v.kind, v.class, f, n)
	}
	cmd := &fsm.Clicks{Now: time.Now().UnixMilli(), Retention: c.retention}
	for _, code := range slices.Sorted(maps.Keys(links)) {
		y.Tick()
		cmd.Links = append(cmd.Links, links[code].delta(code))
	}
	for o, n := range orphans {
		o.N = n
		cmd.Orphans = append(cmd.Orphans, o)
	}
	slices.SortFunc(cmd.Orphans, func(a, b store.OrphanCount) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Host, b.Host))
	})
	return cmd, nil
}

// foldYield is how many steps of a fold (records, profiles, links: a few
// hundred microseconds of work) run between yields of the processor
// (package yield): a segment's fold is up to a second of CPU in one
// goroutine, and redirects that became runnable meanwhile waited until
// the scheduler preempted it after 10 ms. The pacer's rests, every 1,024
// records, are too far apart for this.
const foldYield = 256

// addBucket counts one click in minute t of bs, kept sorted by minute.
func addBucket(bs []store.ClickBucket, t int64) []store.ClickBucket {
	n := len(bs)
	switch {
	case n > 0 && bs[n-1].T == t:
		bs[n-1].N++
		return bs
	case n == 0 || bs[n-1].T < t:
		return append(bs, store.ClickBucket{T: t, N: 1})
	}
	i, found := slices.BinarySearchFunc(bs, t, func(b store.ClickBucket, t int64) int { return cmp.Compare(b.T, t) })
	if found {
		bs[i].N++
		return bs
	}
	return slices.Insert(bs, i, store.ClickBucket{T: t, N: 1})
}

// day returns the link's aggregate for day, adding it in order if new.
func (l *linkAgg) day(day int64) *dayAgg {
	i := len(l.days)
	for i > 0 && l.days[i-1].d.Day >= day {
		if l.days[i-1].d.Day == day {
			return &l.days[i-1]
		}
		i--
	}
	l.days = slices.Insert(l.days, i, dayAgg{d: store.DayClicks{Day: day}})
	return &l.days[i]
}

func (d *dayAgg) visitors() *hyperloglog.Sketch {
	if d.hll == nil {
		d.hll = hyperloglog.New14()
	}
	return d.hll
}

// add counts n records of one profile: f holds code, host, country,
// device, browser, os, referrer host and A/B variant.
func (d *dayAgg) add(kind, class uint8, f [8][]byte, n uint64) {
	switch class {
	case ClassPreview:
		d.d.Previews += n
		return // a preview is not a click: no dimensions
	case ClassBot:
		d.d.Bots += n
	default:
		d.d.Humans += n
	}
	if kind == KindScan {
		d.d.Scans += n
	}
	ref := f[6]
	if len(ref) == 0 && len(f[3]) > 0 { // dimensions recorded (no DNT), but no referrer
		ref = directReferrer
	}
	d.count(store.DimReferrer, ref, n)
	d.count(store.DimCountry, f[2], n)
	d.count(store.DimDevice, f[3], n)
	d.count(store.DimBrowser, f[4], n)
	d.count(store.DimOS, f[5], n)
	d.count(store.DimVariant, f[7], n)
}

var directReferrer = []byte(DirectReferrer)

// count adds n to value key of dim (nothing for an empty key).
func (d *dayAgg) count(dim uint8, key []byte, n uint64) {
	if len(key) == 0 {
		return
	}
	dims := d.d.Dims
	if d.idx == nil {
		for i := range dims {
			if dims[i].Dim == dim && dims[i].Key == string(key) {
				dims[i].N += n
				return
			}
		}
		if dims == nil {
			dims = make([]store.DimCount, 0, 8) // a record's six dimensions, without regrowing
		}
		if len(dims) < dimScan {
			d.d.Dims = append(dims, store.DimCount{Dim: dim, Key: string(key), N: n})
			return
		}
		d.idx = make(map[dimKey]int, 2*dimScan)
		for i, x := range dims {
			d.idx[dimKey{x.Dim, x.Key}] = i
		}
	}
	k := dimKey{dim, string(key)}
	if i, ok := d.idx[k]; ok {
		dims[i].N += n
		return
	}
	d.idx[k] = len(dims)
	d.d.Dims = append(dims, store.DimCount{Dim: dim, Key: k.key, N: n})
}

func (l *linkAgg) delta(code string) store.LinkClicks {
	out := store.LinkClicks{Code: code, Minutes: l.minutes, Days: make([]store.DayClicks, 0, len(l.days))}
	for i := range l.days {
		d := &l.days[i]
		slices.SortFunc(d.d.Dims, func(a, b store.DimCount) int {
			return cmp.Or(cmp.Compare(a.Dim, b.Dim), cmp.Compare(a.Key, b.Key))
		})
		if d.hll != nil {
			d.d.Visitors, _ = d.hll.MarshalBinary()
		}
		out.Days = append(out.Days, d.d)
	}
	return out
}

// ensureSalts proposes today's and tomorrow's visitor salts when missing
// and reports whether both exist now. Any node may; the first applied wins.
func (c *Compactor) ensureSalts() (ok bool) {
	ok = true
	today := time.Now().UnixMilli() / store.DayMs
	for _, day := range []int64{today, today + 1} {
		if _, err := c.st.Salt(day); err == nil {
			continue
		}
		salt := make([]byte, 32)
		rand.Read(salt)
		ctx, cancel := context.WithTimeout(context.Background(), proposeTimeout)
		if _, err := c.propose(ctx, &fsm.SetSalt{Now: time.Now().UnixMilli(), Day: day, Salt: salt}); err != nil {
			c.log.Debug("proposing visitor salt", "day", day, "err", err)
			ok = false
		}
		cancel()
	}
	return ok
}
