package store

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// LinkDiff is one link write: the record before (nil for a new link) and
// after.
type LinkDiff struct{ Old, New *Link }

// ProfileDiff is one profile write (Old nil for a new profile).
type ProfileDiff struct{ Old, New *Profile }

// Changes are the link and profile writes of a Txn since the last
// TakeChanges: the fsm turns them into outbox entries after each command,
// so every path that changes a link (edits, takedowns, blocklist rescans,
// profile saves, visit limits) is covered by one hook.
type Changes struct {
	Links    []LinkDiff
	Profiles []ProfileDiff
	Other    []Change // changes the fsm noted itself (NoteChange)
}

// NoteChange adds a change that is not a link or profile write (a timer
// that fired, a clicks digest).
func (t *Txn) NoteChange(c Change) { t.changes.Other = append(t.changes.Other, c) }

// TakeChanges returns and forgets the writes noted since the last call.
func (t *Txn) TakeChanges() Changes {
	c := t.changes
	t.changes = Changes{}
	return c
}

// noteLink records a link write and keeps the link's timers (expiry and
// start, table E) in step with it.
func (t *Txn) noteLink(old, l *Link) {
	t.changes.Links = append(t.changes.Links, LinkDiff{Old: old, New: l})
	var oldExp, oldStart int64
	if old != nil && old.Status != StatusDeleted {
		oldExp, oldStart = old.ExpiresAt, old.StartsAt
	}
	newExp, newStart := l.ExpiresAt, l.StartsAt
	if l.Status == StatusDeleted {
		newExp, newStart = 0, 0
	}
	t.moveTimer(TimerExpiry, l.Code, oldExp, newExp)
	t.moveTimer(TimerStart, l.Code, oldStart, newStart)
}

func (t *Txn) moveTimer(kind uint8, code string, old, now int64) {
	if old == now {
		return
	}
	if old != 0 {
		t.del(timerKey(old, kind, code))
	}
	if now != 0 {
		t.set(timerKey(now, kind, code), nil)
	}
}

// DueTimers returns up to max timers due at or before now, earliest first.
func (t *Txn) DueTimers(now int64, max int) ([]Timer, error) {
	var out []Timer
	hi := binary.BigEndian.AppendUint64([]byte{tTimer}, uint64(now)+1)
	err := scan(t.b, []byte{tTimer}, hi, func(k, v []byte) error {
		if len(out) >= max {
			return errStopScan
		}
		tm, err := timerFrom(k, v)
		out = append(out, tm)
		return err
	})
	return out, err
}

// DeleteTimer removes a timer that fired.
func (t *Txn) DeleteTimer(tm Timer) { t.del(timerKey(tm.Due, tm.Kind, tm.Code)) }

// AddDigest adds n clicks to the digest of code due at due.
func (t *Txn) AddDigest(due int64, code string, n uint64) error {
	k := timerKey(due, TimerDigest, code)
	cur, err := getUint64(t.b, k)
	if err != nil {
		return err
	}
	t.setUint64(k, cur+n)
	return nil
}

// OutboxHead returns the outbox's counters as of this Txn.
func (t *Txn) OutboxHead() (*OutboxHead, error) { return readHead(t.b) }

// PutOutboxHead writes the outbox's counters.
func (t *Txn) PutOutboxHead(h *OutboxHead) { t.set(keyOutboxHead, marshalHead(h)) }

// MakeRoomForPurges drops (and counts) the oldest queued purges so that n
// more fit under max, as n EnqueuePurge calls would one at a time, but in
// one scan: a bulk create's thousand changes over a full queue cost one
// Pebble iterator instead of a thousand (an eighth of a 10M-link bulk
// load's CPU). Only entries already queued are dropped; with n > max,
// EnqueuePurge (which makes room for itself) drops the rest as it goes.
func (t *Txn) MakeRoomForPurges(h *OutboxHead, n int, max uint64) error {
	if h.Purges+uint64(n) <= max {
		return nil
	}
	drop := min(h.Purges, h.Purges+uint64(n)-max)
	if drop == 0 {
		return nil
	}
	if got, err := t.dropOldestPurges([]byte{tPurge + 1}, drop); err != nil {
		return err
	} else if got < drop {
		return ErrCorrupt // the counter and the table disagree
	}
	h.Purges -= drop
	h.PurgesDropped += drop
	return nil
}

// EnqueuePurge appends c to the purge queue at p. When the queue holds max
// entries, the oldest is dropped (and counted) to make room.
func (t *Txn) EnqueuePurge(h *OutboxHead, p Pos, c *Change, max uint64) error {
	if err := t.MakeRoomForPurges(h, 1, max); err != nil {
		return err
	}
	t.set(purgeKey(p), MarshalChange(c))
	h.Purges++
	return nil
}

// AckPurges removes the purge entries up to and including through.
func (t *Txn) AckPurges(h *OutboxHead, through Pos) error {
	n, err := t.dropOldestPurges(prefixEnd(purgeKey(through)), 0)
	h.Purges -= min(h.Purges, n)
	return err
}

// Endpoint returns a webhook endpoint, or ErrNotFound.
func (t *Txn) Endpoint(id uint64) (*Endpoint, error) { return readEndpoint(t.b, id) }

// EndpointsFor returns the endpoints that may receive owner's changes:
// owner's own and the admins' (owner 0 in the index).
func (t *Txn) EndpointsFor(owner uint64) ([]*Endpoint, error) {
	eps, err := endpointsOf(t.b, owner)
	if err != nil || owner == 0 {
		return eps, err
	}
	all, err := endpointsOf(t.b, 0)
	return append(eps, all...), err
}

// EndpointsOf returns owner's endpoints as of this Txn.
func (t *Txn) EndpointsOf(owner uint64) ([]*Endpoint, error) { return endpointsOf(t.b, owner) }

func indexOwner(ep *Endpoint) uint64 {
	if ep.All {
		return 0
	}
	return ep.Owner
}

// PutEndpoint writes an endpoint; All and Owner must not change.
func (t *Txn) PutEndpoint(ep *Endpoint) {
	t.set(endpointKey(ep.ID), MarshalEndpoint(ep))
	t.set(endpointOwnerKey(indexOwner(ep), ep.ID), nil)
}

// DeleteEndpoint removes an endpoint and all its deliveries.
func (t *Txn) DeleteEndpoint(ep *Endpoint) error {
	t.del(endpointKey(ep.ID))
	t.del(endpointOwnerKey(indexOwner(ep), ep.ID))
	lo := binary.BigEndian.AppendUint64([]byte{tDelivery}, ep.ID)
	return t.b.DeleteRange(lo, prefixEnd(lo), nil)
}

// QueueDelivery queues a pending delivery (the caller counts it).
func (t *Txn) QueueDelivery(ep uint64, dl *Delivery) {
	t.set(deliveryKey(ep, deliveryPending, dl.Pos), MarshalDelivery(dl))
}

// PendingDelivery returns a pending delivery, or ErrNotFound.
func (t *Txn) PendingDelivery(ep uint64, p Pos) (*Delivery, error) {
	return t.delivery(ep, deliveryPending, p)
}

// DoneDelivery returns a delivery from the log, or ErrNotFound.
func (t *Txn) DoneDelivery(ep uint64, p Pos) (*Delivery, error) {
	return t.delivery(ep, deliveryDone, p)
}

func (t *Txn) delivery(ep uint64, state byte, p Pos) (*Delivery, error) {
	v, err := get(t.b, deliveryKey(ep, state, p))
	if err != nil {
		return nil, err
	}
	return UnmarshalDelivery(v)
}

// FinishDelivery moves a pending delivery to the log, dropping the oldest
// logged deliveries beyond maxDone. It updates ep's counters; the caller
// writes ep.
func (t *Txn) FinishDelivery(ep *Endpoint, dl *Delivery, maxDone uint32) error {
	t.del(deliveryKey(ep.ID, deliveryPending, dl.Pos))
	ep.Pending--
	return t.logDelivery(ep, dl, maxDone)
}

func (t *Txn) logDelivery(ep *Endpoint, dl *Delivery, maxDone uint32) error {
	k := deliveryKey(ep.ID, deliveryDone, dl.Pos)
	if _, err := get(t.b, k); errors.Is(err, ErrNotFound) {
		ep.Done++
	} else if err != nil {
		return err
	}
	t.set(k, MarshalDelivery(dl))
	for ep.Done > maxDone {
		if err := t.delFirst(deliveryPrefix(ep.ID, deliveryDone)); err != nil {
			return err
		}
		ep.Done--
	}
	return nil
}

// delFirst deletes the first key with prefix, which a counter says exists.
func (t *Txn) delFirst(prefix []byte) error {
	var first []byte
	if err := scan(t.b, prefix, prefixEnd(prefix), func(k, _ []byte) error {
		first = append([]byte(nil), k...)
		return errStopScan
	}); err != nil {
		return err
	}
	if first == nil {
		return ErrCorrupt // the counter and the table disagree
	}
	t.del(first)
	return nil
}

// dropOldestPurges deletes the purge queue's entries below hi, oldest
// first and at most limit of them (0: no limit), and returns how many it
// deleted. It scans from the floor (derived.go) rather than over every
// tombstone below it, and raises the floor to the last key deleted.
func (t *Txn) dropOldestPurges(hi []byte, limit uint64) (uint64, error) {
	var keys [][]byte
	if err := scan(t.b, t.purgeScanFrom(), hi, func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		if uint64(len(keys)) == limit {
			return errStopScan
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range keys {
		t.del(k)
	}
	if len(keys) > 0 {
		t.raisePurgeFloor(keys[len(keys)-1])
	}
	return uint64(len(keys)), nil
}

// RequeueDelivery moves a logged delivery back to the pending queue (a
// resend). It updates ep's counters; the caller writes ep.
func (t *Txn) RequeueDelivery(ep *Endpoint, dl *Delivery) {
	t.del(deliveryKey(ep.ID, deliveryDone, dl.Pos))
	ep.Done--
	ep.Pending++
	t.QueueDelivery(ep.ID, dl)
}

// RedactChanges rewrites every change of owner in the purge queue and in
// the deliveries (pending and logged) of the endpoints eps with redact
// applied, and returns how many records it rewrote. The records stay (a
// CDN purge still needs its URL), so no counter changes. It is the
// outbox's part of an erasure: these records are live state, which no
// disk scrub removes.
func (t *Txn) RedactChanges(owner uint64, eps []uint64, redact func(*Change)) (int, error) {
	n, err := t.rewrite([]byte{tPurge}, func(v []byte) ([]byte, error) {
		c, err := UnmarshalChange(v)
		if err != nil || c.Owner != owner {
			return nil, err
		}
		redact(c)
		return MarshalChange(c), nil
	})
	for _, ep := range eps {
		if err != nil {
			break
		}
		var m int
		m, err = t.rewrite(binary.BigEndian.AppendUint64([]byte{tDelivery}, ep), func(v []byte) ([]byte, error) {
			dl, err := UnmarshalDelivery(v)
			if err != nil || dl.Change.Owner != owner {
				return nil, err
			}
			redact(&dl.Change)
			return MarshalDelivery(dl), nil
		})
		n += m
	}
	return n, err
}

// rewrite sets every key under prefix to what f returns for its value
// (nil or the same bytes: left alone), after the scan: the Txn's batch is
// not written while it is iterated.
func (t *Txn) rewrite(prefix []byte, f func(v []byte) ([]byte, error)) (int, error) {
	var keys, vals [][]byte
	err := scanPrefix(t.b, prefix, func(k, v []byte) error {
		nv, err := f(v)
		if nv != nil && !bytes.Equal(nv, v) {
			keys, vals = append(keys, append([]byte(nil), k...)), append(vals, nv)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	for i, k := range keys {
		t.set(k, vals[i])
	}
	return len(keys), nil
}
