package store

import (
	"encoding/binary"
	"time"
)

// LinkStatus is the lifecycle state of a link. Expiry is not a status: it is
// a property of time, decided when the link is read.
type LinkStatus uint8

// Link statuses. Values are stored on disk; only ever add new ones.
const (
	StatusActive  LinkStatus = 1
	StatusBlocked LinkStatus = 2 // taken down by an admin: 451
	StatusDeleted LinkStatus = 3 // tombstone: 410, the code is never reissued
	StatusHeld    LinkStatus = 4 // held for review (--review-new-users): a "pending review" page
)

// String returns the API name of the status.
func (s LinkStatus) String() string {
	switch s {
	case StatusActive:
		return "active"
	case StatusBlocked:
		return "blocked"
	case StatusDeleted:
		return "deleted"
	case StatusHeld:
		return "held"
	}
	return "unknown"
}

// Link is one short link. Times are Unix milliseconds; ExpiresAt 0 means never.
type Link struct {
	Code           string
	URL            string
	Owner          uint64
	CreatedAt      int64
	UpdatedAt      int64
	ExpiresAt      int64
	RedirectStatus uint16
	Status         LinkStatus
	Custom         bool // the code is a user-chosen alias
	Title          string
	Tags           []string

	// Options (record version 2; see LinkOptions).
	LinkOptions
}

// Query precedence: whose parameter wins when the visitor's query and the
// destination's name the same one. Stored values: only ever add.
const (
	QueryDestWins    uint8 = 0
	QueryVisitorWins uint8 = 1
)

// LinkOptions are a link's redirect options. The zero value is the
// default, which is also what every link written before options existed
// (record version 1) has: forwarding the visitor's query is on unless
// DropQuery says otherwise.
type LinkOptions struct {
	Program         []byte // compiled rules and variants (httpd/destination), nil for none
	PasswordHash    string // argon2id PHC string, "" for none
	StartsAt        int64  // Unix ms, 0 = always
	FallbackURL     string // after expiry or exhaustion instead of 410
	MaxVisits       uint64 // human clicks, 0 = unlimited
	Exhausted       bool   // MaxVisits reached, set by the fsm from click rollups
	DropQuery       bool   // forwardQuery off: do not merge the visitor's query into the destination
	ForwardPath     bool   // /code/extra appends /extra
	QueryPrecedence uint8  // QueryDestWins or QueryVisitorWins
}

// IsDefault reports whether o are the default options, which record
// version 1 implies.
func (o *LinkOptions) IsDefault() bool {
	return len(o.Program) == 0 && o.PasswordHash == "" && o.StartsAt == 0 && o.FallbackURL == "" &&
		o.MaxVisits == 0 && !o.Exhausted && !o.DropQuery && !o.ForwardPath && o.QueryPrecedence == QueryDestWins
}

// NotStarted reports whether the link is not yet available at now (Unix ms).
func (l *Link) NotStarted(now int64) bool { return l.StartsAt != 0 && now < l.StartsAt }

// Expired reports whether the link has expired at now (Unix ms).
func (l *Link) Expired(now int64) bool { return l.ExpiresAt != 0 && now >= l.ExpiresAt }

// linkV2 is the link record version that adds options. A link with the
// default options is still written as version 1, so that a binary from
// before options reads it (and a snapshot of such links) unchanged.
const linkV2 = 2

// linkV3 is a link held for review: laid out as version 2, but a binary
// from before held links must refuse it (ErrNewerRecord) rather than read
// an unknown status as one it redirects.
const linkV3 = 3

// MarshalLink encodes a link record: version 1, or version 2 when its
// options are not the defaults (version 1's fields, then the options).
func MarshalLink(l *Link) []byte {
	e := encoder{b: make([]byte, 0, 64+len(l.URL)+len(l.Title)+len(l.Program))}
	v := uint8(recordV1)
	if !l.LinkOptions.IsDefault() {
		v = linkV2
	}
	if l.Status == StatusHeld {
		v = linkV3
	}
	e.u8(v)
	e.str(l.Code)
	e.str(l.URL)
	e.uv(l.Owner)
	e.iv(l.CreatedAt)
	e.iv(l.UpdatedAt)
	e.iv(l.ExpiresAt)
	e.uv(uint64(l.RedirectStatus))
	e.u8(uint8(l.Status))
	e.bool(l.Custom)
	e.str(l.Title)
	e.strs(l.Tags)
	if v >= linkV2 {
		o := &l.LinkOptions
		e.bytes(o.Program)
		e.str(o.PasswordHash)
		e.iv(o.StartsAt)
		e.str(o.FallbackURL)
		e.uv(o.MaxVisits)
		e.bool(o.Exhausted)
		e.bool(o.DropQuery)
		e.bool(o.ForwardPath)
		e.u8(o.QueryPrecedence)
	}
	return e.b
}

// UnmarshalLink decodes a link record.
func UnmarshalLink(b []byte) (*Link, error) {
	d := decoder{b: b}
	v := d.version(linkV3)
	l := &Link{
		Code:           d.str(),
		URL:            d.str(),
		Owner:          d.uv(),
		CreatedAt:      d.iv(),
		UpdatedAt:      d.iv(),
		ExpiresAt:      d.iv(),
		RedirectStatus: uint16(d.uv()),
		Status:         LinkStatus(d.u8()),
		Custom:         d.bool(),
		Title:          d.str(),
		Tags:           d.strs(),
	}
	if v >= linkV2 {
		l.LinkOptions = LinkOptions{
			Program:         d.bytes(),
			PasswordHash:    d.str(),
			StartsAt:        d.iv(),
			FallbackURL:     d.str(),
			MaxVisits:       d.uv(),
			Exhausted:       d.bool(),
			DropQuery:       d.bool(),
			ForwardPath:     d.bool(),
			QueryPrecedence: d.u8(),
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return l, nil
}

// Idem is a stored idempotency record: the hash of the request body that
// first used the key and the code it produced.
type Idem struct {
	BodyHash  []byte
	Code      string
	ExpiresAt int64
}

// IdemTTL is how long an Idempotency-Key is remembered.
const IdemTTL = 24 * time.Hour

func marshalIdem(r *Idem) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.bytes(r.BodyHash)
	e.str(r.Code)
	e.iv(r.ExpiresAt)
	return e.b
}

func unmarshalIdem(b []byte) (*Idem, error) {
	d := decoder{b: b}
	d.version(recordV1)
	r := &Idem{BodyHash: d.bytes(), Code: d.str(), ExpiresAt: d.iv()}
	return r, d.err
}

// APIKey is a stored API key. Only the SHA-256 of the token is kept (as the
// record's key); the token itself is shown once, when it is made.
type APIKey struct {
	ID        string
	Name      string
	Owner     uint64
	Scopes    []string
	CreatedAt int64
	ExpiresAt int64
	// Parent is the id of the key that created this one ("" when a
	// console session or the cluster did): revoking a key revokes the
	// keys it created, and a child never outlives its parent. Version 2.
	Parent string
}

// apiKeyV2 added Parent. A key without a parent is still written as
// version 1, so nodes that predate child keys read every other key.
const apiKeyV2 = 2

func marshalAPIKey(k *APIKey) []byte {
	e := encoder{}
	if k.Parent == "" {
		e.u8(recordV1)
	} else {
		e.u8(apiKeyV2)
	}
	e.str(k.ID)
	e.str(k.Name)
	e.uv(k.Owner)
	e.strs(k.Scopes)
	e.iv(k.CreatedAt)
	e.iv(k.ExpiresAt)
	if k.Parent != "" {
		e.str(k.Parent)
	}
	return e.b
}

func unmarshalAPIKey(b []byte) (*APIKey, error) {
	d := decoder{b: b}
	v := d.version(apiKeyV2)
	k := &APIKey{ID: d.str(), Name: d.str(), Owner: d.uv(), Scopes: d.strs(), CreatedAt: d.iv(), ExpiresAt: d.iv()}
	if v >= apiKeyV2 {
		k.Parent = d.str()
	}
	return k, d.err
}

// Range is a half-open block of ids [Start, End) handed to one node.
type Range struct{ Start, End uint64 }

func marshalRange(r Range) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, r.Start), r.End)
}

func unmarshalRange(b []byte) (Range, error) {
	if len(b) != 16 {
		return Range{}, ErrCorrupt
	}
	return Range{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}, nil
}

// Member is what the cluster knows about a node beyond raft: where its
// public HTTP port is.
type Member struct {
	ID       string
	HTTPAddr string
}

func marshalMember(m *Member) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.str(m.ID)
	e.str(m.HTTPAddr)
	return e.b
}

func unmarshalMember(b []byte) (*Member, error) {
	d := decoder{b: b}
	d.version(recordV1)
	m := &Member{ID: d.str(), HTTPAddr: d.str()}
	return m, d.err
}
