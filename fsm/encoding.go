package fsm

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// The encoding of a command, pinned by the golden files under
// testdata/golden/fsm (see encoding_test.go):
//
//	type(1 byte)  msgpack map { the command's tagged fields and "v": version }
//
// msgpack encodes structs as maps keyed by the codec tags (in the order of
// the tags, not of the Go fields), so a field can be
// added under a new tag without a version bump: old readers ignore it, new
// readers see its zero value in old entries. A change that old readers
// would misread (a field's meaning or type changes) needs a new version of
// the command, and a change of the whole envelope a new type number.
//
// Every command embeds Header, which adds the "v" key. Entries written
// before versions existed (release 47bad8b) have no "v": they are version
// 1. Old readers skip the key, so a 47bad8b node reads today's entries.

// Header carries a command's encoding version.
type Header struct {
	V uint8 `codec:"v"`
}

func (h *Header) header() *Header { return h }

// versions is the newest version of each command type this binary can
// apply. Add a type here when adding it to newCommand; bump a version only
// together with Apply code for it.
var versions = map[Type]uint8{
	TypeInit: 1, TypeAllocRange: 1, TypeCreateLink: 4, TypeUpdateLink: 2, TypeDeleteLink: 1, // CreateLink v3: Domain, v4: DailyQuota, Hold
	TypeSetMember: 1, TypeDelMember: 1, TypeClicks: 4, TypeSetSalt: 1, // Clicks v2: one record per link and day, v3: parts, v4: packed deltas
	TypeCreateUser: 1, TypeUpdateUser: 1, TypeDeleteUser: 2, TypeCreateAPIKey: 1, TypeDeleteAPIKey: 1, // DeleteUser v2: erases the outbox too
	TypeCreateSession: 1, TypeDeleteSession: 1, TypeCreateInvite: 1, TypeDeleteInvite: 1,
	TypeSetProfile: 3, TypePutImage: 1, // SetProfile v2: RetireAt (dropped links expire, not deleted), v3: Hold
	TypeCreateChildKey: 1, TypeUploadImage: 1,
	TypeCreateLinks: 3, TypeUpdateLinks: 1, TypeDeleteLinks: 1, TypeSetImportedClicks: 1, // CreateLinks v2: items with a Domain, v3: items with v4 fields
	TypeCreateDomain: 1, TypeUpdateDomain: 2, TypeDeleteDomain: 2, // Update/DeleteDomain v2: purge the host
	TypeCreateWebhook: 1, TypeUpdateWebhook: 1, TypeDeleteWebhook: 1, TypeWebhookAttempt: 1,
	TypeOutboxTick: 1, TypePurgeAck: 1, TypeResendDelivery: 1,
	TypeGroup: 1,
}

// ErrTooNew means an entry was written by a newer linkd: its command type or
// its version is unknown to this binary. Applying past it would make this
// node's state diverge, so the fsm stops (see FSM.Halted).
var ErrTooNew = errors.New("fsm: entry is newer than this linkd understands")

// ErrUnknownCommand means a log entry has a type this binary does not know:
// it was written by a newer version. It is an ErrTooNew.
var ErrUnknownCommand = fmt.Errorf("%w: unknown command type", ErrTooNew)

// ErrNewerVersion means a known command type carries a version newer than
// this binary can apply. It is an ErrTooNew.
var ErrNewerVersion = fmt.Errorf("%w: command version", ErrTooNew)

// mh is the msgpack handle. It is configured once and is safe for
// concurrent use; it caches per-type encoders, which is why it is shared.
var mh = func() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	h.WriteExt = true
	return h
}()

// versioner is a command that may be written at an older version than the
// newest, when it uses nothing the newer version added: older binaries in
// a mixed cluster then still apply it.
type versioner interface{ version() uint8 }

// packer is a command that encodes part of itself in its own layout (a
// byte string in the msgpack body): pack returns what to encode, unpack
// restores the decoded command.
type packer interface {
	pack() Command
	unpack() error
}

// Encode serialises a command: one type byte, then the msgpack body. A
// command whose version is unset is written at the newest version, or at
// the oldest that holds it (versioner).
func Encode(c Command) ([]byte, error) {
	h := c.header()
	newest, ok := versions[c.Type()]
	if !ok {
		return nil, fmt.Errorf("fsm: encode %T: type %d has no version", c, c.Type())
	}
	if h.V == 0 {
		h.V = newest
		if vc, ok := c.(versioner); ok {
			h.V = vc.version()
		}
	}
	if h.V > newest {
		return nil, fmt.Errorf("fsm: encode %T: version %d, newest is %d", c, h.V, newest)
	}
	if p, ok := c.(packer); ok {
		c = p.pack()
	}
	var body []byte
	if err := codec.NewEncoderBytes(&body, mh).Encode(c); err != nil {
		return nil, fmt.Errorf("fsm: encode %T: %w", c, err)
	}
	return append([]byte{byte(c.Type())}, body...), nil
}

// Check reports whether this binary can apply an encoded command, without
// decoding it: a leader refuses to append what it could not apply itself.
func Check(b []byte) error {
	t, v, err := Peek(b)
	if err != nil {
		return err
	}
	if err := checkVersion(t, v); err != nil || t != TypeGroup {
		return err
	}
	return checkGroup(b)
}

func checkVersion(t Type, v uint8) error {
	newest, ok := versions[t]
	if !ok {
		return fmt.Errorf("%w %d", ErrUnknownCommand, t)
	}
	if v > newest {
		return fmt.Errorf("%w %d of type %d (this binary applies up to %d)", ErrNewerVersion, v, t, newest)
	}
	return nil
}

// Peek returns an encoded command's type and version. It decodes only the
// "v" key (skipping the others), so it works on entries whose fields this
// binary would misread.
func Peek(b []byte) (Type, uint8, error) {
	if len(b) < 2 {
		return 0, 0, errors.New("fsm: command too short")
	}
	var h struct{ Header }
	d := peekDecoders.Get().(*codec.Decoder)
	d.ResetBytes(b[1:])
	err := d.Decode(&h)
	d.ResetBytes(nil)
	peekDecoders.Put(d)
	if err != nil {
		return 0, 0, fmt.Errorf("fsm: command type %d: %w", b[0], err)
	}
	return Type(b[0]), max(h.V, 1), nil
}

// peekDecoders are reused: a leader peeks at every proposal, and making a
// decoder costs more than skipping a small command's fields.
var peekDecoders = sync.Pool{New: func() any { return codec.NewDecoderBytes(nil, mh) }}

// Decode parses what Encode produced. An entry this binary is too old for
// yields an error wrapping ErrTooNew.
func Decode(b []byte) (Command, error) {
	if len(b) < 2 {
		return nil, errors.New("fsm: command too short")
	}
	t := Type(b[0])
	c := newCommand(t)
	if c == nil {
		return nil, fmt.Errorf("%w %d", ErrUnknownCommand, t)
	}
	if err := codec.NewDecoderBytes(b[1:], mh).Decode(c); err != nil {
		// A newer version may have changed a field's type: say so
		// rather than calling it corruption.
		if _, v, perr := Peek(b); perr == nil && checkVersion(t, v) != nil {
			return nil, checkVersion(t, v)
		}
		return nil, fmt.Errorf("fsm: decode type %d: %w", t, err)
	}
	h := c.header()
	h.V = max(h.V, 1)
	if err := checkVersion(t, h.V); err != nil {
		return nil, err
	}
	if p, ok := c.(packer); ok {
		if err := p.unpack(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Versions returns the newest version of each command type this binary can
// apply: what a node tells its peers, so that nobody proposes a type or
// version some voter would halt on (cluster's version gate).
func Versions() map[Type]uint8 {
	m := make(map[Type]uint8, len(versions))
	for t, v := range versions {
		m[t] = v
	}
	return m
}
