package fsm

import (
	"errors"
	"fmt"

	"github.com/linkd/linkd/store"
)

// Type identifies a command in the raft log. Numbers are stored forever:
// only ever add new ones, never renumber or reuse.
type Type uint8

// Command types.
const (
	TypeInit       Type = 1
	TypeAllocRange Type = 2
	TypeCreateLink Type = 3
	TypeUpdateLink Type = 4
	TypeDeleteLink Type = 5
	TypeSetMember  Type = 6
	TypeDelMember  Type = 7
	TypeClicks     Type = 8
	TypeSetSalt    Type = 9

	TypeCreateUser    Type = 10
	TypeUpdateUser    Type = 11
	TypeDeleteUser    Type = 12
	TypeCreateAPIKey  Type = 13
	TypeDeleteAPIKey  Type = 14
	TypeCreateSession Type = 15
	TypeDeleteSession Type = 16
	TypeCreateInvite  Type = 17
	TypeDeleteInvite  Type = 18

	TypeSetProfile Type = 19
	TypePutImage   Type = 20

	// Security (40–49).
	TypeCreateChildKey Type = 40
	TypeUploadImage    Type = 41
)

// Command is anything that can be proposed. Every field that is not a pure
// function of state (time, codes, keys, random ids) is decided by the
// proposer and carried in the command. Every command embeds Header, so its
// encoding carries its version (see encoding.go).
type Command interface {
	Type() Type
	header() *Header
}

// Init initialises a new cluster: the code permutation key, the bootstrap
// admin (user 1), its API key and the invite with which it sets its console
// login. Only the first Init applied takes effect.
type Init struct {
	Header
	Now             int64  `codec:"now"`
	ClusterID       string `codec:"cid"`
	PermKey         []byte `codec:"pk"`
	AdminKeyID      string `codec:"kid"`
	AdminKeyHash    []byte `codec:"kh"`
	AdminInviteID   string `codec:"iid,omitempty"`
	AdminInviteHash []byte `codec:"ih,omitempty"`
}

// AllocRange hands the next Size ids to NodeID.
type AllocRange struct {
	Header
	Now    int64  `codec:"now"`
	NodeID string `codec:"node"`
	Size   uint64 `codec:"n"`
}

// CreateLink creates a link under Code, which is either minted by the
// proposer or a custom alias. Uniqueness is decided here, so of two racing
// creates for one alias exactly one wins.
type CreateLink struct {
	Header
	Now            int64    `codec:"now"`
	Code           string   `codec:"code"`
	Custom         bool     `codec:"custom,omitempty"`
	URL            string   `codec:"url"`
	Owner          uint64   `codec:"owner"`
	ExpiresAt      int64    `codec:"exp,omitempty"`
	RedirectStatus uint16   `codec:"rs"`
	Title          string   `codec:"title,omitempty"`
	Tags           []string `codec:"tags,omitempty"`
	IdemKey        string   `codec:"ik,omitempty"`
	BodyHash       []byte   `codec:"bh,omitempty"`

	// Version 2: the link's options (store.LinkOptions; zero = default).
	// A create that sets none is written as version 1, which a binary
	// from before options applies identically; one that sets any is
	// version 2, which such a binary refuses (and halts) instead of
	// silently creating a link without its password or rules.
	Program         []byte `codec:"opts,omitempty"`
	PasswordHash    string `codec:"pw,omitempty"`
	StartsAt        int64  `codec:"start,omitempty"`
	FallbackURL     string `codec:"fb,omitempty"`
	MaxVisits       uint64 `codec:"maxv,omitempty"`
	DropQuery       bool   `codec:"nfq,omitempty"`
	ForwardPath     bool   `codec:"fwp,omitempty"`
	QueryPrecedence uint8  `codec:"qp,omitempty"`

	// Version 3: the link's domain (issue 16). Domain is the host of a
	// configured domain ("" for the default domain, whose links keep
	// their bare code as key); the link is stored under
	// store.DomainCode(Domain, Code). Admin lets an admin use any domain;
	// others need the domain's delegation. A create on the default domain
	// is written as version 1 or 2 as before; one on another domain is
	// version 3, which older binaries refuse (they would put the link on
	// the default domain).
	Domain string `codec:"dom,omitempty"`
	Admin  bool   `codec:"adm,omitempty"`
	// Version 4: DailyQuota, the most links Owner may create per UTC day
	// (the proposer's --user-daily-links; 0 for none). Apply counts the
	// create in the replicated per-user count (store table G) and refuses
	// it past the quota (ErrDailyQuota), so the quota holds across nodes.
	// Only a create with a quota is written as version 4: an older binary
	// would create the link without counting it.
	DailyQuota uint32 `codec:"dq,omitempty"`
	// Hold (version 4) creates the link held for review (--review-new-users,
	// decided by the proposer): it answers a "pending review" page until an
	// admin approves it (ReviewLink).
	Hold bool `codec:"hold,omitempty"`
}

// options returns the link options c carries.
func (c *CreateLink) options() store.LinkOptions {
	return store.LinkOptions{Program: c.Program, PasswordHash: c.PasswordHash, StartsAt: c.StartsAt,
		FallbackURL: c.FallbackURL, MaxVisits: c.MaxVisits, DropQuery: c.DropQuery, ForwardPath: c.ForwardPath,
		QueryPrecedence: c.QueryPrecedence}
}

func (c *CreateLink) version() uint8 {
	if c.DailyQuota != 0 || c.Hold {
		return 4
	}
	if c.Domain != "" {
		return 3
	}
	if len(c.Program) == 0 && c.PasswordHash == "" && c.StartsAt == 0 && c.FallbackURL == "" && c.MaxVisits == 0 &&
		!c.DropQuery && !c.ForwardPath && c.QueryPrecedence == 0 {
		return 1
	}
	return 2
}

// UpdateLink changes the fields that are set. Actor is the user asking; an
// Admin may change any link and block or unblock it.
type UpdateLink struct {
	Header
	Now            int64     `codec:"now"`
	Code           string    `codec:"code"`
	Actor          uint64    `codec:"actor"`
	Admin          bool      `codec:"admin,omitempty"`
	URL            *string   `codec:"url,omitempty"`
	Title          *string   `codec:"title,omitempty"`
	Tags           *[]string `codec:"tags,omitempty"`
	ExpiresAt      *int64    `codec:"exp,omitempty"` // 0 clears the expiry
	RedirectStatus *uint16   `codec:"rs,omitempty"`
	Blocked        *bool     `codec:"blocked,omitempty"`

	// Version 2: options to change (see CreateLink). An empty Program
	// clears the rules and variants, an empty PasswordHash the password,
	// a zero StartsAt or MaxVisits the schedule or the limit. Changing
	// MaxVisits re-decides whether the link is exhausted.
	Program         *[]byte `codec:"opts,omitempty"`
	PasswordHash    *string `codec:"pw,omitempty"`
	StartsAt        *int64  `codec:"start,omitempty"`
	FallbackURL     *string `codec:"fb,omitempty"`
	MaxVisits       *uint64 `codec:"maxv,omitempty"`
	DropQuery       *bool   `codec:"nfq,omitempty"`
	ForwardPath     *bool   `codec:"fwp,omitempty"`
	QueryPrecedence *uint8  `codec:"qp,omitempty"`
}

func (c *UpdateLink) version() uint8 {
	if c.Program == nil && c.PasswordHash == nil && c.StartsAt == nil && c.FallbackURL == nil && c.MaxVisits == nil &&
		c.DropQuery == nil && c.ForwardPath == nil && c.QueryPrecedence == nil {
		return 1
	}
	return 2
}

// DeleteLink turns a link into a tombstone.
type DeleteLink struct {
	Header
	Now   int64  `codec:"now"`
	Code  string `codec:"code"`
	Actor uint64 `codec:"actor"`
	Admin bool   `codec:"admin,omitempty"`
}

// SetMember records a node's public HTTP address, so every node can show
// and link to every other.
type SetMember struct {
	Header
	Now      int64  `codec:"now"`
	NodeID   string `codec:"node"`
	HTTPAddr string `codec:"http"`
}

// DelMember forgets a removed node.
type DelMember struct {
	Header
	Now    int64  `codec:"now"`
	NodeID string `codec:"node"`
}

// Clicks merges one sealed segment of a node's click log into the rollups.
// (Source, Segment) identifies it: a source's segments are proposed in
// order, so the fsm applies each at most once by remembering the last.
//
// The version decides where a link's day goes (the fields are the same):
// version 1 writes one key per field (store.LayoutFields), version 2 one
// record per link and day (store.LayoutRecord, issue 18: far fewer reads
// per link). A Clicks is written at version 1 unless its proposer sets
// V to 2, which a node does only when its operator turned the record
// layout on (an older node cannot apply version 2).
//
// Version 4 is version 3 with the links and orphans in one packed byte
// string (Packed, store.MarshalClickDeltas): no reflection to encode or
// decode them, and none to skip them when only the version is read.
//
// Version 3 (record layout) may carry a segment in parts: the segment's
// links, sorted by code, split into several entries, each but the last with
// More set; the last carries the orphans. The fsm remembers how far (up to
// which code) a segment in progress has been applied and skips the links
// up to there, so a part proposed again, or the segment proposed again
// split differently (after a restart), applies each link once. One part is
// one short apply: a segment of 100,000 links is no longer one apply of
// more than a second that holds the core redirects need (issue 18, p99).
type Clicks struct {
	Header
	Now       int64               `codec:"now"`
	Source    string              `codec:"src"`
	Segment   uint64              `codec:"seg"`
	Retention store.Retention     `codec:"ret"`
	Links     []store.LinkClicks  `codec:"l,omitempty"`
	Orphans   []store.OrphanCount `codec:"o,omitempty"`
	More      bool                `codec:"more,omitempty"` // v3: a later part of the segment follows
	// Packed (v4) carries Links and Orphans in store's packed layout
	// (store.MarshalClickDeltas) instead of "l" and "o". Encode fills it
	// and Decode empties it: in memory a Clicks always holds Links.
	Packed []byte `codec:"lb,omitempty"`
}

// pack returns the command as it is encoded: from version 4, with its
// links and orphans packed.
func (c *Clicks) pack() Command {
	if c.V < 4 {
		return c
	}
	p := *c
	p.Packed = store.MarshalClickDeltas(c.Links, c.Orphans)
	p.Links, p.Orphans = nil, nil
	return &p
}

// unpack undoes pack after decoding.
func (c *Clicks) unpack() error {
	switch {
	case c.V < 4 && c.Packed == nil:
		return nil
	case c.V < 4 || len(c.Links) > 0 || len(c.Orphans) > 0:
		return errors.New("fsm: clicks: packed and unpacked deltas mixed")
	}
	links, orphans, err := store.UnmarshalClickDeltas(c.Packed)
	if err != nil {
		return fmt.Errorf("fsm: clicks: packed deltas: %w", err)
	}
	c.Links, c.Orphans, c.Packed = links, orphans, nil
	return nil
}

// SetSalt sets the visitor-hash salt of a UTC day (the first one wins).
type SetSalt struct {
	Header
	Now  int64  `codec:"now"`
	Day  int64  `codec:"day"`
	Salt []byte `codec:"salt"`
}

func (*Clicks) Type() Type     { return TypeClicks }
func (*Clicks) version() uint8 { return 1 }

// layout is the day layout the command's version applies.
func (c *Clicks) layout() store.DayLayout {
	if c.V >= 2 {
		return store.LayoutRecord
	}
	return store.LayoutFields
}
func (*SetSalt) Type() Type    { return TypeSetSalt }
func (*SetMember) Type() Type  { return TypeSetMember }
func (*DelMember) Type() Type  { return TypeDelMember }
func (*Init) Type() Type       { return TypeInit }
func (*AllocRange) Type() Type { return TypeAllocRange }
func (*CreateLink) Type() Type { return TypeCreateLink }
func (*UpdateLink) Type() Type { return TypeUpdateLink }
func (*DeleteLink) Type() Type { return TypeDeleteLink }

// newCommand returns an empty command of type t, or nil if t is unknown.
func newCommand(t Type) Command {
	switch t {
	case TypeInit:
		return &Init{}
	case TypeAllocRange:
		return &AllocRange{}
	case TypeCreateLink:
		return &CreateLink{}
	case TypeUpdateLink:
		return &UpdateLink{}
	case TypeDeleteLink:
		return &DeleteLink{}
	case TypeSetMember:
		return &SetMember{}
	case TypeDelMember:
		return &DelMember{}
	case TypeClicks:
		return &Clicks{}
	case TypeSetSalt:
		return &SetSalt{}
	case TypeCreateUser:
		return &CreateUser{}
	case TypeUpdateUser:
		return &UpdateUser{}
	case TypeDeleteUser:
		return &DeleteUser{}
	case TypeCreateAPIKey:
		return &CreateAPIKey{}
	case TypeDeleteAPIKey:
		return &DeleteAPIKey{}
	case TypeCreateChildKey:
		return &CreateChildKey{}
	case TypeUploadImage:
		return &UploadImage{}
	case TypeCreateSession:
		return &CreateSession{}
	case TypeDeleteSession:
		return &DeleteSession{}
	case TypeCreateInvite:
		return &CreateInvite{}
	case TypeDeleteInvite:
		return &DeleteInvite{}
	case TypeSetProfile:
		return &SetProfile{}
	case TypePutImage:
		return &PutImage{}
	case TypeGroup:
		return &Group{}
	}
	for _, f := range families {
		if f.make == nil {
			continue
		}
		if c := f.make(t); c != nil {
			return c
		}
	}
	return nil
}

// A family is a group of commands kept in a file of its own: make returns
// an empty command of one of its types (nil for other types; nil make when
// the core switch above makes them), apply applies one (ok false for
// commands of other families). A new group of commands adds one line here.
var families = []struct {
	make  func(Type) Command
	apply func(*store.Txn, Command) (r *Result, ok bool, err error)
}{
	{nil, applyAccount},
	{nil, applyProfile},
	{newModeration, applyModeration},
	{newBatchCommand, applyBatch},
	{newDomainCommand, applyDomain},
	{newCertCommand, applyCert},
	{newOutboxCommand, applyOutbox},
}
