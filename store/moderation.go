package store

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// Trust and safety tables (issue 14). Per-link moderation state lives here,
// never in the Link record:
//
//	B<id:8>                  a blocklist entry (BlockEntry)
//	b<kind:1><value>         blocklist index: value → id:8
//	F<code>                  a takedown (Takedown) of a blocked link
//	f<dest key>\0<code>      taken-down destinations (empty value)
//	A                        last audit sequence number (uint64)
//	A<seq:8>                 an audit record (AuditEntry)
const (
	tBlock     = 'B'
	tBlockIdx  = 'b'
	tTakedown  = 'F'
	tTakenDest = 'f'
	tAudit     = 'A'
)

// BlockKind is what a blocklist entry matches.
type BlockKind uint8

// Blocklist kinds. Numbers are stored: only add.
const (
	BlockURL    BlockKind = 1 // a destination's host and path (destkey.Parts.Key)
	BlockHost   BlockKind = 2 // exactly one host
	BlockDomain BlockKind = 3 // a domain and all its subdomains
)

func (k BlockKind) String() string {
	switch k {
	case BlockURL:
		return "url"
	case BlockHost:
		return "host"
	case BlockDomain:
		return "domain"
	}
	return "unknown"
}

// BlockEntry is one blocklist entry. Value is already normalised by the
// proposer (a URL as its destkey, a host lower case, a domain registrable).
type BlockEntry struct {
	ID        uint64
	Kind      BlockKind
	Value     string
	Reason    string
	CreatedBy uint64
	CreatedAt int64
	Source    string // "" for an admin's entry, the feed's name for a feed's
}

// Takedown is why a link is blocked. BlockID is the blocklist entry that
// blocked it and Feed the threat feed (both 0 for a takedown by hand: such
// a takedown is lifted only by an admin); DestKey is the destination key
// indexed under f, so an unblock can remove exactly that.
type Takedown struct {
	Code     string
	Reason   string
	By       uint64
	At       int64
	BlockID  uint64
	DestKey  string
	Appeal   string
	AppealAt int64
	Feed     uint64
}

// AuditEntry is one moderation action: who did what to what, and when.
type AuditEntry struct {
	Seq    uint64
	At     int64
	Actor  uint64
	Action string
	Target string
	Detail string
}

func marshalBlock(b *BlockEntry) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(b.ID)
	e.u8(uint8(b.Kind))
	e.str(b.Value)
	e.str(b.Reason)
	e.uv(b.CreatedBy)
	e.iv(b.CreatedAt)
	e.str(b.Source)
	return e.b
}

func unmarshalBlock(v []byte) (*BlockEntry, error) {
	d := decoder{b: v}
	d.version(recordV1)
	b := &BlockEntry{ID: d.uv(), Kind: BlockKind(d.u8()), Value: d.str(), Reason: d.str(),
		CreatedBy: d.uv(), CreatedAt: d.iv(), Source: d.str()}
	return b, d.err
}

func marshalTakedown(t *Takedown) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.str(t.Code)
	e.str(t.Reason)
	e.uv(t.By)
	e.iv(t.At)
	e.uv(t.BlockID)
	e.str(t.DestKey)
	e.str(t.Appeal)
	e.iv(t.AppealAt)
	if t.Feed != 0 { // appended only when set: older records keep their bytes
		e.uv(t.Feed)
	}
	return e.b
}

func unmarshalTakedown(v []byte) (*Takedown, error) {
	d := decoder{b: v}
	d.version(recordV1)
	t := &Takedown{Code: d.str(), Reason: d.str(), By: d.uv(), At: d.iv(), BlockID: d.uv(),
		DestKey: d.str(), Appeal: d.str(), AppealAt: d.iv(), Feed: d.uv()}
	return t, d.err
}

func marshalAudit(a *AuditEntry) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(a.Seq)
	e.iv(a.At)
	e.uv(a.Actor)
	e.str(a.Action)
	e.str(a.Target)
	e.str(a.Detail)
	return e.b
}

func unmarshalAudit(v []byte) (*AuditEntry, error) {
	d := decoder{b: v}
	d.version(recordV1)
	a := &AuditEntry{Seq: d.uv(), At: d.iv(), Actor: d.uv(), Action: d.str(), Target: d.str(), Detail: d.str()}
	return a, d.err
}

func blockKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte{tBlock}, id) }
func blockIdxKey(k BlockKind, value string) []byte {
	return append([]byte{tBlockIdx, byte(k)}, value...)
}
func takedownKey(code string) []byte { return append([]byte{tTakedown}, code...) }
func takenDestPrefix(destKey string) []byte {
	return append(append([]byte{tTakenDest}, destKey...), 0)
}
func auditKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte{tAudit}, seq) }

var keyAuditSeq = []byte{tAudit}

// BlockByValue returns the entry of kind k with value, or ErrNotFound.
func (t *Txn) BlockByValue(k BlockKind, value string) (*BlockEntry, error) {
	if !t.s.destLists.may(listBlock) {
		return nil, ErrNotFound // no entry at all: no read (derived.go)
	}
	id, err := indexedID(t.b, blockIdxKey(k, value))
	if err != nil {
		return nil, err
	}
	return decodeFrom(t.b, blockKey(id), unmarshalBlock)
}

// Block returns entry id, or ErrNotFound.
func (t *Txn) Block(id uint64) (*BlockEntry, error) {
	return decodeFrom(t.b, blockKey(id), unmarshalBlock)
}

// PutBlock stores a new entry and indexes its value.
func (t *Txn) PutBlock(b *BlockEntry) {
	t.set(blockKey(b.ID), marshalBlock(b))
	t.set(blockIdxKey(b.Kind, b.Value), binary.BigEndian.AppendUint64(nil, b.ID))
}

// DeleteBlock removes an entry and its index.
func (t *Txn) DeleteBlock(b *BlockEntry) {
	t.del(blockKey(b.ID))
	t.del(blockIdxKey(b.Kind, b.Value))
}

// Takedown returns the takedown of code, or ErrNotFound.
func (t *Txn) Takedown(code string) (*Takedown, error) {
	return decodeFrom(t.b, takedownKey(code), unmarshalTakedown)
}

// PutTakedown stores td and indexes its destination key (when set).
func (t *Txn) PutTakedown(td *Takedown) {
	t.set(takedownKey(td.Code), marshalTakedown(td))
	if td.DestKey != "" {
		t.set(append(takenDestPrefix(td.DestKey), td.Code...), nil)
	}
}

// DeleteTakedown removes td and its destination index.
func (t *Txn) DeleteTakedown(td *Takedown) {
	t.del(takedownKey(td.Code))
	if td.DestKey != "" {
		t.del(append(takenDestPrefix(td.DestKey), td.Code...))
	}
}

// DestTakenDown reports whether a taken-down link has destKey.
func (t *Txn) DestTakenDown(destKey string) (bool, error) {
	if !t.s.destLists.may(listTakenDest) {
		return false, nil // no takedown at all: no read (derived.go)
	}
	found := false
	err := scanPrefix(t.b, takenDestPrefix(destKey), func(_, _ []byte) error {
		found = true
		return errStopScan
	})
	return found, err
}

// Takedowns calls fn for every takedown, in code order.
func (t *Txn) Takedowns(fn func(*Takedown) error) error {
	// Past the report sub-tables (F\x00..F\x02, see reports.go).
	return scan(t.b, []byte{tTakedown, 3}, []byte{tTakedown + 1}, func(_, v []byte) error {
		td, err := unmarshalTakedown(v)
		if err != nil {
			return err
		}
		return fn(td)
	})
}

// EachLink calls fn for every link record (tombstones included), in code
// order. It is what a blocklist rescan walks.
func (t *Txn) EachLink(fn func(*Link) error) error {
	return scanPrefix(t.b, []byte{tLink}, func(_, v []byte) error {
		l, err := UnmarshalLink(v)
		if err != nil {
			return err
		}
		return fn(l)
	})
}

// Audit appends an audit record, numbering it.
func (t *Txn) Audit(a *AuditEntry) error {
	seq, err := getUint64(t.b, keyAuditSeq)
	if err != nil {
		return err
	}
	a.Seq = seq + 1
	t.setUint64(keyAuditSeq, a.Seq)
	t.set(auditKey(a.Seq), marshalAudit(a))
	return nil
}

// Blocks returns every blocklist entry, oldest id first.
func (s *Store) Blocks() ([]*BlockEntry, error) {
	var out []*BlockEntry
	err := s.view(func(db *pebble.DB) error {
		return scan(db, []byte{tBlock, 0}, []byte{tBlock + 1}, func(_, v []byte) error {
			b, err := unmarshalBlock(v)
			if err == nil {
				out = append(out, b)
			}
			return err
		})
	})
	return out, err
}

// Takedown returns the takedown of code, or ErrNotFound.
func (s *Store) Takedown(code string) (td *Takedown, err error) {
	err = s.view(func(db *pebble.DB) error {
		td, err = decodeFrom(db, takedownKey(code), unmarshalTakedown)
		return err
	})
	return td, err
}

// AuditLog returns up to limit audit records, newest first.
func (s *Store) AuditLog(limit int) ([]*AuditEntry, error) {
	var out []*AuditEntry
	err := s.view(func(db *pebble.DB) error {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{tAudit, 0}, UpperBound: []byte{tAudit + 1}})
		if err != nil {
			return err
		}
		defer it.Close()
		for ok := it.Last(); ok && len(out) < limit; ok = it.Prev() {
			a, err := unmarshalAudit(it.Value())
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return it.Error()
	})
	return out, err
}
