package fsm

import (
	"errors"
	"fmt"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// The encoding of a command, pinned by the golden files under
// testdata/golden/fsm (see encoding_test.go):
//
//	type(1 byte)  msgpack map { "v": version, then the command's tagged fields }
//
// msgpack encodes structs as maps keyed by the codec tags, so a field can be
// added under a new tag without a version bump: old readers ignore it, new
// readers see its zero value in old entries. A change that old readers
// would misread (a field's meaning or type changes) needs a new version of
// the command, and a change of the whole envelope a new type number.
//
// Header is embedded first in every command, so "v" is always the first key
// and Peek can read it without decoding the rest. Entries written before
// versions existed (release 47bad8b) have no "v": they are version 1.

// Header carries a command's encoding version.
type Header struct {
	V uint8 `codec:"v"`
}

func (h *Header) header() *Header { return h }

// versions is the newest version of each command type this binary can
// apply. Add a type here when adding it to newCommand; bump a version only
// together with Apply code for it.
var versions = map[Type]uint8{
	TypeInit: 1, TypeAllocRange: 1, TypeCreateLink: 1, TypeUpdateLink: 1, TypeDeleteLink: 1,
	TypeSetMember: 1, TypeDelMember: 1, TypeClicks: 1, TypeSetSalt: 1,
	TypeCreateUser: 1, TypeUpdateUser: 1, TypeDeleteUser: 1, TypeCreateAPIKey: 1, TypeDeleteAPIKey: 1,
	TypeCreateSession: 1, TypeDeleteSession: 1, TypeCreateInvite: 1, TypeDeleteInvite: 1,
	TypeSetProfile: 1, TypePutImage: 1,
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

// Encode serialises a command: one type byte, then the msgpack body. A
// command whose version is unset is written at the newest version.
func Encode(c Command) ([]byte, error) {
	h := c.header()
	newest, ok := versions[c.Type()]
	if !ok {
		return nil, fmt.Errorf("fsm: encode %T: type %d has no version", c, c.Type())
	}
	if h.V == 0 {
		h.V = newest
	}
	if h.V > newest {
		return nil, fmt.Errorf("fsm: encode %T: version %d, newest is %d", c, h.V, newest)
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
	return checkVersion(t, v)
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

// Peek returns an encoded command's type and version. An entry without a
// leading "v" key is version 1.
func Peek(b []byte) (Type, uint8, error) {
	if len(b) < 2 {
		return 0, 0, errors.New("fsm: command too short")
	}
	t, m := Type(b[0]), b[1:]
	switch {
	case m[0] >= 0x81 && m[0] <= 0x8f: // fixmap with entries
		m = m[1:]
	case m[0] == 0xde && len(m) >= 3: // map16
		m = m[3:]
	case m[0] == 0xdf && len(m) >= 5: // map32
		m = m[5:]
	default:
		return t, 1, nil
	}
	// "v" as a fixstr, then a positive fixint or a uint8.
	if len(m) < 3 || m[0] != 0xa1 || m[1] != 'v' {
		return t, 1, nil
	}
	switch v := m[2]; {
	case v < 0x80:
		return t, max(v, 1), nil
	case v == 0xcc && len(m) >= 4:
		return t, m[3], nil
	}
	return 0, 0, fmt.Errorf("fsm: command type %d: malformed version", t)
}

// Decode parses what Encode produced. An entry this binary is too old for
// yields an error wrapping ErrTooNew.
func Decode(b []byte) (Command, error) {
	t, v, err := Peek(b)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(t, v); err != nil {
		return nil, err
	}
	c := newCommand(t)
	if c == nil {
		return nil, fmt.Errorf("%w %d", ErrUnknownCommand, t)
	}
	if err := codec.NewDecoderBytes(b[1:], mh).Decode(c); err != nil {
		return nil, fmt.Errorf("fsm: decode type %d: %w", t, err)
	}
	c.header().V = v
	return c, nil
}
