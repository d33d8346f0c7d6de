package store

import (
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// The outbox: what the leader delivers to the outside world (CDN purges,
// webhook calls), written by the fsm in the Apply of the change itself. See
// fsm/DESIGN.md ("Outbox") for who writes what.
//
//	q<index:8><seq:2>                 purge queue: one Change per change that affects a public URL
//	w\x00<id:8>                       webhook endpoint record
//	w\x01<owner:8><id:8>              endpoints by owner (owner 0: admins' endpoints, which receive everything)
//	w\x02                             outbox head: purge-queue length, drops, endpoint count
//	g<endpoint:8><state:1><index:8><seq:2>  deliveries of one endpoint: state 0 pending (oldest first), 1 done (the last MaxDone)
//	E<due:8><kind:1><code>            timers: a link's expiry or start (kind 1, 2), a clicks digest to send (kind 3, value: clicks)
const (
	tPurge    = 'q'
	tHook     = 'w'
	tDelivery = 'g'
	tTimer    = 'E'
)

// Change kinds. Numbers are stored: only ever add.
const (
	ChangeLinkCreated uint8 = 1
	ChangeLinkUpdated uint8 = 2
	ChangeLinkDeleted uint8 = 3
	ChangeLinkBlocked uint8 = 4
	ChangeProfile     uint8 = 5
	ChangeClicks      uint8 = 6
	ChangeLinkTimer   uint8 = 7 // a link's expiry or start time passed: what it answers changed
	// ChangeDomain: a domain was changed or deleted, so every URL on its
	// host (Change.Host) may answer differently. Only a purge, never a
	// webhook event (UpdateDomain and DeleteDomain version 2 note it).
	ChangeDomain uint8 = 8
)

// Timer kinds (the byte after the due time in an E key).
const (
	TimerExpiry uint8 = 1
	TimerStart  uint8 = 2
	TimerDigest uint8 = 3
)

// Pos is a change's position: the raft index of the entry whose Apply made
// it and its sequence number within that entry.
type Pos struct {
	Index uint64
	Seq   uint16
}

// Less orders positions.
func (p Pos) Less(q Pos) bool { return p.Index < q.Index || p.Index == q.Index && p.Seq < q.Seq }

func (p Pos) bytes() []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint64(nil, p.Index), p.Seq)
}

func posFrom(b []byte) Pos {
	return Pos{Index: binary.BigEndian.Uint64(b), Seq: binary.BigEndian.Uint16(b[8:])}
}

// Change is one replicated event: what changed, whose, and the public
// state after it. A link change carries the link's fields; a profile
// change the handle before and after; a clicks digest its minute and count.
type Change struct {
	Kind      uint8
	At        int64 // Unix ms, the proposer's clock
	Owner     uint64
	Code      string
	URL       string
	Title     string
	Tags      []string
	Status    LinkStatus
	ExpiresAt int64
	Handle    string
	OldHandle string
	Minute    int64 // clicks: start of the minute, Unix ms
	Clicks    uint64
	Reason    string // blocked: the takedown reason
	Host      string // ChangeDomain: the domain's host (record version 2)
}

// changeV2 is the change record version that adds Host.
const changeV2 = recordV1 + 1

// MarshalChange encodes a change record: version 1 without a Host (the
// bytes every change had before ChangeDomain), version 2 with one.
func MarshalChange(c *Change) []byte {
	e := encoder{}
	v := uint8(recordV1)
	if c.Host != "" {
		v = changeV2
	}
	e.u8(v)
	e.u8(c.Kind)
	e.iv(c.At)
	e.uv(c.Owner)
	e.str(c.Code)
	e.str(c.URL)
	e.str(c.Title)
	e.strs(c.Tags)
	e.u8(uint8(c.Status))
	e.iv(c.ExpiresAt)
	e.str(c.Handle)
	e.str(c.OldHandle)
	e.iv(c.Minute)
	e.uv(c.Clicks)
	e.str(c.Reason)
	if v >= changeV2 {
		e.str(c.Host)
	}
	return e.b
}

// UnmarshalChange decodes a change record.
func UnmarshalChange(b []byte) (*Change, error) {
	d := decoder{b: b}
	v := d.version(changeV2)
	c := &Change{Kind: d.u8(), At: d.iv(), Owner: d.uv(), Code: d.str(), URL: d.str(), Title: d.str(),
		Tags: d.strs(), Status: LinkStatus(d.u8()), ExpiresAt: d.iv(), Handle: d.str(), OldHandle: d.str(),
		Minute: d.iv(), Clicks: d.uv(), Reason: d.str()}
	if v >= changeV2 {
		c.Host = d.str()
	}
	return c, d.err
}

// Endpoint is a webhook endpoint. Cursor-free: the fsm queues each change
// for each endpoint that wants it (table g), so delivery state is per
// delivery.
type Endpoint struct {
	ID             uint64
	Owner          uint64
	All            bool // an admin's endpoint: every user's events
	URL            string
	Events         uint32 // bit (1 << kind) per change kind
	Secret         string // whsec_<base64>
	CreatedAt      int64
	UpdatedAt      int64
	Disabled       bool
	DisabledReason string
	DisabledAt     int64
	Pending        uint32 // deliveries queued (g state 0)
	Done           uint32 // deliveries in the log (g state 1)
	Dropped        uint64 // changes not queued because Pending was at its cap
}

// MarshalEndpoint encodes an endpoint record (version 1).
func MarshalEndpoint(ep *Endpoint) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(ep.ID)
	e.uv(ep.Owner)
	e.bool(ep.All)
	e.str(ep.URL)
	e.uv(uint64(ep.Events))
	e.str(ep.Secret)
	e.iv(ep.CreatedAt)
	e.iv(ep.UpdatedAt)
	e.bool(ep.Disabled)
	e.str(ep.DisabledReason)
	e.iv(ep.DisabledAt)
	e.uv(uint64(ep.Pending))
	e.uv(uint64(ep.Done))
	e.uv(ep.Dropped)
	return e.b
}

// UnmarshalEndpoint decodes an endpoint record.
func UnmarshalEndpoint(b []byte) (*Endpoint, error) {
	d := decoder{b: b}
	d.version(recordV1)
	ep := &Endpoint{ID: d.uv(), Owner: d.uv(), All: d.bool(), URL: d.str(), Events: uint32(d.uv()), Secret: d.str(),
		CreatedAt: d.iv(), UpdatedAt: d.iv(), Disabled: d.bool(), DisabledReason: d.str(), DisabledAt: d.iv(),
		Pending: uint32(d.uv()), Done: uint32(d.uv()), Dropped: d.uv()}
	return ep, d.err
}

// Delivery is one change queued for (or delivered to) one endpoint.
type Delivery struct {
	Pos          Pos
	Change       Change
	Attempts     uint32
	FirstAttempt int64 // Unix ms of the first failed attempt (the retry window starts there)
	LastAttempt  int64
	Status       uint16 // last HTTP status, 0 if none
	Error        string // last error, "" after a success
	DeliveredAt  int64  // 0 while pending
}

// MarshalDelivery encodes a delivery record (version 1).
func MarshalDelivery(dl *Delivery) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(dl.Pos.Index)
	e.uv(uint64(dl.Pos.Seq))
	e.bytes(MarshalChange(&dl.Change))
	e.uv(uint64(dl.Attempts))
	e.iv(dl.FirstAttempt)
	e.iv(dl.LastAttempt)
	e.uv(uint64(dl.Status))
	e.str(dl.Error)
	e.iv(dl.DeliveredAt)
	return e.b
}

// UnmarshalDelivery decodes a delivery record.
func UnmarshalDelivery(b []byte) (*Delivery, error) {
	d := decoder{b: b}
	d.version(recordV1)
	dl := &Delivery{Pos: Pos{Index: d.uv(), Seq: uint16(d.uv())}}
	cb := d.bytes()
	dl.Attempts, dl.FirstAttempt, dl.LastAttempt = uint32(d.uv()), d.iv(), d.iv()
	dl.Status, dl.Error, dl.DeliveredAt = uint16(d.uv()), d.str(), d.iv()
	if d.err != nil {
		return nil, d.err
	}
	c, err := UnmarshalChange(cb)
	if err != nil {
		return nil, err
	}
	dl.Change = *c
	return dl, nil
}

// OutboxHead counts what the outbox holds, so limits need no scans.
type OutboxHead struct {
	Purges        uint64 // entries in the purge queue
	PurgesDropped uint64 // purge entries dropped because the queue was full
	Endpoints     uint64 // webhook endpoints
	ClickHooks    uint64 // endpoints subscribed to clicks digests (none: clicks queue no digests)
}

func marshalHead(h *OutboxHead) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(h.Purges)
	e.uv(h.PurgesDropped)
	e.uv(h.Endpoints)
	e.uv(h.ClickHooks)
	return e.b
}

func unmarshalHead(b []byte) (*OutboxHead, error) {
	d := decoder{b: b}
	d.version(recordV1)
	h := &OutboxHead{Purges: d.uv(), PurgesDropped: d.uv(), Endpoints: d.uv(), ClickHooks: d.uv()}
	return h, d.err
}

var keyOutboxHead = []byte{tHook, 2}

func purgeKey(p Pos) []byte { return append([]byte{tPurge}, p.bytes()...) }

func endpointKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte{tHook, 0}, id) }

func endpointOwnerPrefix(owner uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tHook, 1}, owner)
}

func endpointOwnerKey(owner, id uint64) []byte {
	return binary.BigEndian.AppendUint64(endpointOwnerPrefix(owner), id)
}

// Delivery states (the byte after the endpoint id in a g key).
const (
	deliveryPending = 0
	deliveryDone    = 1
)

func deliveryPrefix(ep uint64, state byte) []byte {
	return append(binary.BigEndian.AppendUint64([]byte{tDelivery}, ep), state)
}

func deliveryKey(ep uint64, state byte, p Pos) []byte {
	return append(deliveryPrefix(ep, state), p.bytes()...)
}

func timerKey(due int64, kind uint8, code string) []byte {
	k := binary.BigEndian.AppendUint64([]byte{tTimer}, uint64(due))
	return append(append(k, kind), code...)
}

// Timer is a due entry of table E.
type Timer struct {
	Due    int64
	Kind   uint8
	Code   string
	Clicks uint64 // TimerDigest
}

func timerFrom(k, v []byte) (Timer, error) {
	if len(k) < 10 {
		return Timer{}, ErrCorrupt
	}
	t := Timer{Due: int64(binary.BigEndian.Uint64(k[1:])), Kind: k[9], Code: string(k[10:])}
	if t.Kind == TimerDigest {
		if len(v) != 8 {
			return Timer{}, ErrCorrupt
		}
		t.Clicks = binary.BigEndian.Uint64(v)
	}
	return t, nil
}

func readHead(r reader) (*OutboxHead, error) {
	v, err := get(r, keyOutboxHead)
	if errors.Is(err, ErrNotFound) {
		return &OutboxHead{}, nil
	}
	if err != nil {
		return nil, err
	}
	return unmarshalHead(v)
}

func readEndpoint(r reader, id uint64) (*Endpoint, error) {
	v, err := get(r, endpointKey(id))
	if err != nil {
		return nil, err
	}
	return UnmarshalEndpoint(v)
}

// endpointsOf returns owner's endpoints, in id order.
func endpointsOf(r interface {
	reader
	iterReader
}, owner uint64) ([]*Endpoint, error) {
	var out []*Endpoint
	err := scanPrefix(r, endpointOwnerPrefix(owner), func(k, _ []byte) error {
		ep, err := readEndpoint(r, binary.BigEndian.Uint64(k[len(k)-8:]))
		if err == nil {
			out = append(out, ep)
		}
		return err
	})
	return out, err
}

// OutboxHead returns the outbox's counters.
func (s *Store) OutboxHead() (h *OutboxHead, err error) {
	err = s.view(func(db *pebble.DB) error { h, err = readHead(db); return err })
	return h, err
}

// Endpoint returns a webhook endpoint, or ErrNotFound.
func (s *Store) Endpoint(id uint64) (ep *Endpoint, err error) {
	err = s.view(func(db *pebble.DB) error { ep, err = readEndpoint(db, id); return err })
	return ep, err
}

// EndpointsOf returns owner's webhook endpoints (owner 0: admins' endpoints
// that receive every user's events).
func (s *Store) EndpointsOf(owner uint64) (eps []*Endpoint, err error) {
	err = s.view(func(db *pebble.DB) error { eps, err = endpointsOf(db, owner); return err })
	return eps, err
}

// Endpoints returns every webhook endpoint (bounded by the endpoint cap).
func (s *Store) Endpoints() ([]*Endpoint, error) {
	var out []*Endpoint
	err := s.view(func(db *pebble.DB) error {
		return scanPrefix(db, []byte{tHook, 0}, func(_, v []byte) error {
			ep, err := UnmarshalEndpoint(v)
			if err == nil {
				out = append(out, ep)
			}
			return err
		})
	})
	return out, err
}

// Deliveries returns up to limit of an endpoint's deliveries: the pending
// ones oldest first, or the done ones newest first.
func (s *Store) Deliveries(ep uint64, pending bool, limit int) ([]*Delivery, error) {
	var out []*Delivery
	err := s.view(func(db *pebble.DB) error {
		state := byte(deliveryDone)
		if pending {
			state = deliveryPending
		}
		p := deliveryPrefix(ep, state)
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
		if err != nil {
			return err
		}
		defer it.Close()
		next := it.Prev
		ok := it.Last()
		if pending {
			next, ok = it.Next, it.First()
		}
		for ; ok && len(out) < limit; ok = next() {
			dl, err := UnmarshalDelivery(it.Value())
			if err != nil {
				return err
			}
			out = append(out, dl)
		}
		return it.Error()
	})
	return out, err
}

// Delivery returns one delivery of an endpoint, pending or done.
func (s *Store) Delivery(ep uint64, p Pos) (dl *Delivery, err error) {
	err = s.view(func(db *pebble.DB) error {
		v, err := get(db, deliveryKey(ep, deliveryPending, p))
		if errors.Is(err, ErrNotFound) {
			v, err = get(db, deliveryKey(ep, deliveryDone, p))
		}
		if err != nil {
			return err
		}
		dl, err = UnmarshalDelivery(v)
		return err
	})
	return dl, err
}

// Purges returns up to limit entries of the purge queue, oldest first.
func (s *Store) Purges(limit int) (ps []Pos, cs []*Change, err error) {
	err = s.view(func(db *pebble.DB) error {
		return scanPrefix(db, []byte{tPurge}, func(k, v []byte) error {
			if len(ps) >= limit {
				return errStopScan
			}
			c, err := UnmarshalChange(v)
			if err != nil {
				return err
			}
			ps, cs = append(ps, posFrom(k[1:])), append(cs, c)
			return nil
		})
	})
	return ps, cs, err
}

// NextTimer returns the earliest timer, or ok false when there is none.
func (s *Store) NextTimer() (t Timer, ok bool, err error) {
	err = s.view(func(db *pebble.DB) error {
		return scanPrefix(db, []byte{tTimer}, func(k, v []byte) error {
			t, err = timerFrom(k, v)
			ok = err == nil
			if err != nil {
				return err
			}
			return errStopScan
		})
	})
	return t, ok, err
}
