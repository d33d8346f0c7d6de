package fsm

import (
	"errors"
	"fmt"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/linkd/linkd/store"
)

// domainErrors are the errors a Result can carry, by their wire name. Names
// are stable: a follower and its leader may run different versions.
var domainErrors = map[string]error{
	"exists":               ErrExists,
	"not-found":            ErrNotFound,
	"gone":                 ErrGone,
	"idempotency-mismatch": ErrIdempotencyMismatch,
	"initialized":          ErrInitialized,
	"email-taken":          ErrEmailTaken,
	"user-not-found":       ErrUserNotFound,
	"invalid-invite":       ErrInvalidInvite,
	"protected-user":       ErrProtectedUser,
	"key-not-found":        ErrKeyNotFound,
	"invite-not-found":     ErrInviteNotFound,
	"handle-taken":         ErrHandleTaken,
	"profile-link":         ErrProfileLink,
	"upload-quota":         ErrUploadQuota,
	"webhook-limit":        ErrWebhookLimit,
	"webhook-not-found":    ErrWebhookNotFound,
	"delivery-not-found":   ErrDeliveryMissing,
}

// wireResult is a Result as it travels from the leader to the node that
// forwarded the command.
type wireResult struct {
	Link     []byte `codec:"l,omitempty"`
	User     []byte `codec:"u,omitempty"`
	Profile  []byte `codec:"p,omitempty"`
	Start    uint64 `codec:"s,omitempty"`
	End      uint64 `codec:"e,omitempty"`
	Replayed bool   `codec:"r,omitempty"`
	Err      string `codec:"err,omitempty"`
	// Items are a batch command's per-item results (batch.go).
	Items []wireResult `codec:"i,omitempty"`
	// Trust is SetUserTrust's settings after it (trust.go). Only a binary
	// that knows type 106 proposes it, so only such leaders send it.
	Trust []byte `codec:"t,omitempty"`
}

// EncodeResult serialises a Result for forwarding.
func EncodeResult(r *Result) ([]byte, error) {
	w := toWire(r)
	var b []byte
	if err := codec.NewEncoderBytes(&b, mh).Encode(&w); err != nil {
		return nil, fmt.Errorf("fsm: encode result: %w", err)
	}
	return b, nil
}

func toWire(r *Result) wireResult {
	w := wireResult{Start: r.Range.Start, End: r.Range.End, Replayed: r.Replayed}
	if r.Link != nil {
		w.Link = store.MarshalLink(r.Link)
	}
	if r.User != nil {
		w.User = store.MarshalUser(r.User)
	}
	if r.Profile != nil {
		w.Profile = store.MarshalProfile(r.Profile)
	}
	if r.Trust != nil {
		w.Trust = store.MarshalUserTrust(r.Trust)
	}
	if r.Err != nil {
		w.Err = fmt.Sprintf("unknown:%v", r.Err)
		for name, e := range domainErrors {
			if errors.Is(r.Err, e) {
				w.Err = name
			}
		}
	}
	for _, it := range r.Items {
		w.Items = append(w.Items, toWire(it))
	}
	return w
}

// DecodeResult parses what EncodeResult produced.
func DecodeResult(b []byte) (*Result, error) {
	var w wireResult
	if err := codec.NewDecoderBytes(b, mh).Decode(&w); err != nil {
		return nil, fmt.Errorf("fsm: decode result: %w", err)
	}
	return fromWire(&w)
}

func fromWire(w *wireResult) (*Result, error) {
	r := &Result{Range: store.Range{Start: w.Start, End: w.End}, Replayed: w.Replayed}
	if w.Link != nil {
		l, err := store.UnmarshalLink(w.Link)
		if err != nil {
			return nil, err
		}
		r.Link = l
	}
	if w.User != nil {
		u, err := store.UnmarshalUser(w.User)
		if err != nil {
			return nil, err
		}
		r.User = u
	}
	if w.Trust != nil {
		t, err := store.UnmarshalUserTrust(w.Trust)
		if err != nil {
			return nil, err
		}
		r.Trust = t
	}
	if w.Profile != nil {
		p, err := store.UnmarshalProfile(w.Profile)
		if err != nil {
			return nil, err
		}
		r.Profile = p
	}
	if w.Err != "" {
		r.Err = domainErrors[w.Err]
		if r.Err == nil {
			r.Err = errors.New(w.Err)
		}
	}
	for i := range w.Items {
		it, err := fromWire(&w.Items[i])
		if err != nil {
			return nil, err
		}
		r.Items = append(r.Items, it)
	}
	return r, nil
}
