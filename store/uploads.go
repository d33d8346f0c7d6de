package store

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Upload tables. Images are content-addressed ('I'), so two users who
// upload the same bytes share one image; these tables say who holds it.
// An image is deleted when its last holder lets go of it (a user's
// garbage collection or account deletion), never while another user
// still holds it.
const (
	tUpload = 'j' // j<user:8><image id:32>  createdAt:8 size:8 (big-endian): the user's uploads
	tHolder = 'J' // J<image id:32><user:8>  empty: the users holding an image
)

// Upload is one image a user uploaded: when, and its stored size, which
// counts against the user's upload quota.
type Upload struct {
	ID        []byte
	CreatedAt int64
	Size      int64
}

func uploadPrefix(user uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tUpload}, user)
}

func uploadKey(user uint64, id []byte) []byte { return append(uploadPrefix(user), id...) }

func holderKey(id []byte, user uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte{tHolder}, id...), user)
}

// Uploads lists user's uploads, in image id order.
func (t *Txn) Uploads(user uint64) ([]Upload, error) { return uploads(t.b, user) }

// Uploads lists user's uploads, in image id order.
func (s *Store) Uploads(user uint64) (us []Upload, err error) {
	err = s.view(func(db *pebble.DB) error { us, err = uploads(db, user); return err })
	return us, err
}

func uploads(r iterReader, user uint64) ([]Upload, error) {
	var out []Upload
	p := uploadPrefix(user)
	err := scanPrefix(r, p, func(k, v []byte) error {
		if len(v) != 16 {
			return ErrCorrupt
		}
		out = append(out, Upload{ID: bytes.Clone(k[len(p):]), CreatedAt: int64(binary.BigEndian.Uint64(v)),
			Size: int64(binary.BigEndian.Uint64(v[8:]))})
		return nil
	})
	return out, err
}

// HoldsImage reports whether user uploaded the image id.
func (s *Store) HoldsImage(user uint64, id []byte) (bool, error) {
	var err error
	err = s.view(func(db *pebble.DB) error { _, err = get(db, uploadKey(user, id)); return err })
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// AddUpload records that user uploaded the image id.
func (t *Txn) AddUpload(user uint64, id []byte, createdAt, size int64) {
	v := binary.BigEndian.AppendUint64(nil, uint64(createdAt))
	t.set(uploadKey(user, id), binary.BigEndian.AppendUint64(v, uint64(size)))
	t.set(holderKey(id, user), nil)
}

// DropUpload lets user let go of the image id, and deletes the image when
// no other user holds it.
func (t *Txn) DropUpload(user uint64, id []byte) error {
	t.del(uploadKey(user, id))
	t.del(holderKey(id, user))
	held, err := t.imageHeld(id)
	if err != nil || held {
		return err
	}
	t.del(imageKey(id))
	return nil
}

// imageHeld reports whether any user holds the image id.
func (t *Txn) imageHeld(id []byte) (bool, error) {
	held := false
	err := scanPrefix(t.b, append([]byte{tHolder}, id...), func(_, _ []byte) error {
		held = true
		return errStopScan
	})
	return held, err
}

// dropUploadsOf lets go of every upload of user (the account is being
// deleted): images no one else holds are deleted with it.
func (t *Txn) dropUploadsOf(user uint64) error {
	us, err := t.Uploads(user)
	if err != nil {
		return err
	}
	for _, u := range us {
		if err := t.DropUpload(user, u.ID); err != nil {
			return err
		}
	}
	return nil
}
