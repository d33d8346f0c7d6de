package store

import (
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Profile tables; see the package doc for the layout.
const (
	tProfile = 'P' // P<user:8>           link-in-bio profile
	tHandle  = 'h' // h<handle>           user id (handles are stored lowercased)
	tImage   = 'I' // I<sha256(bytes):32> uploaded image, re-encoded
)

// MaxProfileLinks bounds a profile's links.
const MaxProfileLinks = 50

// ThemeCustom overrides parts of a built-in theme. Every field is a token
// validated by the server (a #rrggbb color, a font or shape name, an image
// id); "" keeps the theme's value. Raw CSS from users is never stored.
type ThemeCustom struct {
	Background, Text, Button, ButtonText, Accent string // colors
	Gradient                                     string // second background color: a gradient when set
	BackgroundImage                              string // image id
	Font, Shape                                  string
}

// ProfileLink is one entry of a profile. Code is a real short link owned by
// the profile's user, so the redirect path counts its clicks.
type ProfileLink struct {
	Code      string
	Title     string
	URL       string // the destination when last saved (for icons and the editor)
	Thumbnail string // image id
	Enabled   bool
	StartsAt  int64 // Unix ms; 0: no start
	EndsAt    int64 // Unix ms; 0: no end
	Sensitive bool  // show a click-through warning first
	Social    bool  // show as an icon in the top row
}

// Visible reports whether the link shows at now.
func (l *ProfileLink) Visible(now int64) bool {
	return l.Enabled && (l.StartsAt == 0 || now >= l.StartsAt) && (l.EndsAt == 0 || now < l.EndsAt)
}

// Profile is a user's link-in-bio page. PageCode is a short link to the
// page itself whose "clicks" are the page's views.
type Profile struct {
	User        uint64
	Handle      string
	DisplayName string
	Bio         string
	Avatar      string // image id
	Theme       string
	Custom      ThemeCustom
	PageCode    string
	Links       []ProfileLink
	UpdatedAt   int64
}

// MarshalProfile encodes a profile record (version 1).
func MarshalProfile(p *Profile) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(p.User)
	e.strs([]string{p.Handle, p.DisplayName, p.Bio, p.Avatar, p.Theme, p.PageCode})
	c := p.Custom
	e.strs([]string{c.Background, c.Text, c.Button, c.ButtonText, c.Accent, c.Gradient, c.BackgroundImage, c.Font, c.Shape})
	e.iv(p.UpdatedAt)
	e.uv(uint64(len(p.Links)))
	for _, l := range p.Links {
		e.strs([]string{l.Code, l.Title, l.URL, l.Thumbnail})
		e.iv(l.StartsAt)
		e.iv(l.EndsAt)
		e.u8(flags(l.Enabled, l.Sensitive, l.Social))
	}
	return e.b
}

func flags(bs ...bool) uint8 {
	var f uint8
	for i, b := range bs {
		if b {
			f |= 1 << i
		}
	}
	return f
}

// UnmarshalProfile decodes a profile record.
func UnmarshalProfile(b []byte) (*Profile, error) {
	d := decoder{b: b}
	d.version(recordV1)
	p := &Profile{User: d.uv()}
	s := pad(d.strs(), 6)
	p.Handle, p.DisplayName, p.Bio, p.Avatar, p.Theme, p.PageCode = s[0], s[1], s[2], s[3], s[4], s[5]
	c := pad(d.strs(), 9)
	p.Custom = ThemeCustom{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]}
	p.UpdatedAt = d.iv()
	n := d.uv()
	if n > MaxProfileLinks {
		return nil, ErrCorrupt
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		s := pad(d.strs(), 4)
		l := ProfileLink{Code: s[0], Title: s[1], URL: s[2], Thumbnail: s[3], StartsAt: d.iv(), EndsAt: d.iv()}
		f := d.u8()
		l.Enabled, l.Sensitive, l.Social = f&1 != 0, f&2 != 0, f&4 != 0
		p.Links = append(p.Links, l)
	}
	return p, d.err
}

// pad extends s to n entries, so records written with fewer fields decode.
func pad(s []string, n int) []string {
	for len(s) < n {
		s = append(s, "")
	}
	return s
}

// Image is an uploaded image after the server re-encoded it.
type Image struct {
	Type      string // image/png or image/jpeg
	Width     int
	Height    int
	Owner     uint64
	CreatedAt int64
	Data      []byte
}

func marshalImage(i *Image) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.str(i.Type)
	e.uv(uint64(i.Width))
	e.uv(uint64(i.Height))
	e.uv(i.Owner)
	e.iv(i.CreatedAt)
	e.bytes(i.Data)
	return e.b
}

func unmarshalImage(b []byte) (*Image, error) {
	d := decoder{b: b}
	d.version(recordV1)
	i := &Image{Type: d.str(), Width: int(d.uv()), Height: int(d.uv()), Owner: d.uv(), CreatedAt: d.iv(), Data: d.bytes()}
	return i, d.err
}

func profileKey(user uint64) []byte  { return binary.BigEndian.AppendUint64([]byte{tProfile}, user) }
func handleKey(handle string) []byte { return append([]byte{tHandle}, handle...) }
func imageKey(id []byte) []byte      { return append([]byte{tImage}, id...) }

// ---- Txn ----

// Profile returns a user's profile, or ErrNotFound.
func (t *Txn) Profile(user uint64) (*Profile, error) {
	return decodeFrom(t.b, profileKey(user), UnmarshalProfile)
}

// HandleOwner returns the user holding a handle, or ErrNotFound.
func (t *Txn) HandleOwner(handle string) (uint64, error) { return handleOwner(t.b, handle) }

func handleOwner(r reader, handle string) (uint64, error) { return indexedID(r, handleKey(handle)) }

// PutProfile stores p, moving the handle index when the handle changed
// from prev's (nil for a new profile).
func (t *Txn) PutProfile(prev, p *Profile) {
	if prev != nil && prev.Handle != p.Handle {
		t.del(handleKey(prev.Handle))
	}
	t.set(handleKey(p.Handle), binary.BigEndian.AppendUint64(nil, p.User))
	t.set(profileKey(p.User), MarshalProfile(p))
	t.changes.Profiles = append(t.changes.Profiles, ProfileDiff{Old: prev, New: p})
}

// DeleteProfile removes a user's profile and frees its handle; its links
// are the caller's to delete.
func (t *Txn) DeleteProfile(p *Profile) {
	t.del(handleKey(p.Handle))
	t.del(profileKey(p.User))
}

// PutImage stores an image under its id unless it is there already.
func (t *Txn) PutImage(id []byte, i *Image) error {
	if _, err := get(t.b, imageKey(id)); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	t.set(imageKey(id), marshalImage(i))
	return nil
}

// deleteProfileOf removes user's profile with the images it uploaded for
// it, and lets go of all the user's uploads (the account is being
// deleted).
func (t *Txn) deleteProfileOf(user uint64) error {
	if err := t.dropUploadsOf(user); err != nil {
		return err
	}
	p, err := t.Profile(user)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	ids := []string{p.Avatar, p.Custom.BackgroundImage}
	for _, l := range p.Links {
		ids = append(ids, l.Thumbnail)
	}
	for _, id := range ids {
		raw, err := hex.DecodeString(id)
		if id == "" || err != nil {
			continue
		}
		// Images uploaded before uploads were recorded have only their
		// first uploader (Owner); one that someone now holds stays.
		if img, err := decodeFrom(t.b, imageKey(raw), unmarshalImage); err == nil && img.Owner == user {
			if held, err := t.imageHeld(raw); err != nil {
				return err
			} else if !held {
				t.del(imageKey(raw))
			}
		}
	}
	t.DeleteProfile(p)
	return nil
}

// ---- Store ----

// Profile returns a user's profile, or ErrNotFound.
func (s *Store) Profile(user uint64) (p *Profile, err error) {
	err = s.view(func(db *pebble.DB) error { p, err = decodeFrom(db, profileKey(user), UnmarshalProfile); return err })
	return p, err
}

// ProfileByHandle returns the profile with that (lowercased) handle.
func (s *Store) ProfileByHandle(handle string) (p *Profile, err error) {
	err = s.view(func(db *pebble.DB) error {
		u, err := handleOwner(db, handle)
		if err != nil {
			return err
		}
		p, err = decodeFrom(db, profileKey(u), UnmarshalProfile)
		return err
	})
	return p, err
}

// Image returns an image by id, or ErrNotFound.
func (s *Store) Image(id []byte) (i *Image, err error) {
	err = s.view(func(db *pebble.DB) error { i, err = decodeFrom(db, imageKey(id), unmarshalImage); return err })
	return i, err
}
