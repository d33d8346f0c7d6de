package fsm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"time"

	"github.com/linkd/linkd/store"
)

// ErrUploadQuota means the upload would take its user past the quota the
// command carries.
var ErrUploadQuota = errors.New("upload quota exceeded")

// UploadGrace is how long an upload no profile references is kept: long
// enough to upload an image and then save the profile that uses it.
const UploadGrace = 24 * time.Hour

// UploadImage stores an image one user uploaded, under the SHA-256 of its
// re-encoded bytes (ID), and records the user as one of its holders. In
// the same step it collects the user's garbage: uploads older than
// UploadGrace that the user's profile does not reference are let go (and
// deleted when no one else holds them). Then the user's remaining uploads
// plus this one must fit in Quota bytes (0: no quota), decided here, in
// Apply, so every node agrees; the proposer's flag sets Quota.
type UploadImage struct {
	Header
	Now    int64  `codec:"now"`
	User   uint64 `codec:"user"`
	ID     []byte `codec:"id"`
	MIME   string `codec:"type"`
	Width  int    `codec:"w"`
	Height int    `codec:"h"`
	Data   []byte `codec:"data"`
	Quota  int64  `codec:"quota"`
}

func (*UploadImage) Type() Type { return TypeUploadImage }

func applyUploadImage(txn *store.Txn, c *UploadImage) (*Result, error) {
	if _, res, err := enabledUser(txn, c.User); res != nil || err != nil {
		return res, err
	}
	refs, err := profileImages(txn, c.User)
	if err != nil {
		return nil, err
	}
	ups, err := txn.Uploads(c.User)
	if err != nil {
		return nil, err
	}
	var garbage [][]byte
	used, held := int64(0), false
	for _, u := range ups {
		switch {
		case bytes.Equal(u.ID, c.ID):
			held = true
			used += u.Size
		case u.CreatedAt <= c.Now-UploadGrace.Milliseconds() && !refs[hex.EncodeToString(u.ID)]:
			garbage = append(garbage, u.ID)
		default:
			used += u.Size
		}
	}
	if !held && c.Quota > 0 && used+int64(len(c.Data)) > c.Quota {
		return &Result{Err: ErrUploadQuota}, nil
	}
	for _, id := range garbage {
		if err := txn.DropUpload(c.User, id); err != nil {
			return nil, err
		}
	}
	if held {
		return &Result{}, nil
	}
	if err := txn.PutImage(c.ID, &store.Image{Type: c.MIME, Width: c.Width, Height: c.Height, Owner: c.User,
		CreatedAt: c.Now, Data: c.Data}); err != nil {
		return nil, err
	}
	txn.AddUpload(c.User, c.ID, c.Now, int64(len(c.Data)))
	return &Result{}, nil
}

// profileImages is the set of image ids (hex) user's profile references.
func profileImages(txn *store.Txn, user uint64) (map[string]bool, error) {
	p, err := txn.Profile(user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	refs := map[string]bool{p.Avatar: true, p.Custom.BackgroundImage: true}
	for _, l := range p.Links {
		refs[l.Thumbnail] = true
	}
	return refs, nil
}
