package fsm

import (
	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/linkd/linkd/store"
)

// The wire forms of the profile commands. Their tags are the log format:
// the keys of themeCustomWire, profileLinkWire and imageWire are the Go
// field names the first release encoded store's untagged structs under, so
// entries written by it decode unchanged. Never rename a tag; add fields
// with new tags; keep the field order (it is the byte order, see the golden
// tests).

type setProfileWire struct {
	Header
	Now         int64             `codec:"now"`
	User        uint64            `codec:"user"`
	Handle      string            `codec:"handle"`
	DisplayName string            `codec:"name,omitempty"`
	Bio         string            `codec:"bio,omitempty"`
	Avatar      string            `codec:"avatar,omitempty"`
	Theme       string            `codec:"theme"`
	Custom      themeCustomWire   `codec:"custom"`
	PageCode    string            `codec:"page"`
	PageURL     string            `codec:"pageurl"`
	Links       []profileLinkWire `codec:"links,omitempty"`
	NewCodes    []string          `codec:"new,omitempty"`
	RetireAt    int64             `codec:"retire,omitempty"` // version 2
	Hold        bool              `codec:"hold,omitempty"`   // version 3
}

type themeCustomWire struct {
	Background      string `codec:"Background"`
	Text            string `codec:"Text"`
	Button          string `codec:"Button"`
	ButtonText      string `codec:"ButtonText"`
	Accent          string `codec:"Accent"`
	Gradient        string `codec:"Gradient"`
	BackgroundImage string `codec:"BackgroundImage"`
	Font            string `codec:"Font"`
	Shape           string `codec:"Shape"`
}

type profileLinkWire struct {
	Code      string `codec:"Code"`
	Title     string `codec:"Title"`
	URL       string `codec:"URL"`
	Thumbnail string `codec:"Thumbnail"`
	Enabled   bool   `codec:"Enabled"`
	StartsAt  int64  `codec:"StartsAt"`
	EndsAt    int64  `codec:"EndsAt"`
	Sensitive bool   `codec:"Sensitive"`
	Social    bool   `codec:"Social"`
}

type putImageWire struct {
	Header
	Now   int64     `codec:"now"`
	ID    []byte    `codec:"id"`
	Image imageWire `codec:"img"`
}

type imageWire struct {
	Type      string `codec:"Type"`
	Width     int64  `codec:"Width"`
	Height    int64  `codec:"Height"`
	Owner     uint64 `codec:"Owner"`
	CreatedAt int64  `codec:"CreatedAt"`
	Data      []byte `codec:"Data"`
}

// CodecEncodeSelf writes the pinned wire form.
func (c *SetProfile) CodecEncodeSelf(e *codec.Encoder) {
	w := setProfileWire{Header: c.Header, Now: c.Now, User: c.User, Handle: c.Handle, DisplayName: c.DisplayName,
		Bio: c.Bio, Avatar: c.Avatar, Theme: c.Theme, Custom: themeCustomWire(c.Custom), PageCode: c.PageCode,
		PageURL: c.PageURL, NewCodes: c.NewCodes, RetireAt: c.RetireAt, Hold: c.Hold}
	for _, l := range c.Links {
		w.Links = append(w.Links, profileLinkWire(l))
	}
	e.MustEncode(&w)
}

// CodecDecodeSelf reads the pinned wire form.
func (c *SetProfile) CodecDecodeSelf(d *codec.Decoder) {
	var w setProfileWire
	d.MustDecode(&w)
	*c = SetProfile{Header: w.Header, Now: w.Now, User: w.User, Handle: w.Handle, DisplayName: w.DisplayName,
		Bio: w.Bio, Avatar: w.Avatar, Theme: w.Theme, Custom: store.ThemeCustom(w.Custom), PageCode: w.PageCode,
		PageURL: w.PageURL, NewCodes: w.NewCodes, RetireAt: w.RetireAt, Hold: w.Hold}
	for _, l := range w.Links {
		c.Links = append(c.Links, store.ProfileLink(l))
	}
}

// CodecEncodeSelf writes the pinned wire form.
func (c *PutImage) CodecEncodeSelf(e *codec.Encoder) {
	i := c.Image
	e.MustEncode(&putImageWire{Header: c.Header, Now: c.Now, ID: c.ID, Image: imageWire{Type: i.Type,
		Width: int64(i.Width), Height: int64(i.Height), Owner: i.Owner, CreatedAt: i.CreatedAt, Data: i.Data}})
}

// CodecDecodeSelf reads the pinned wire form.
func (c *PutImage) CodecDecodeSelf(d *codec.Decoder) {
	var w putImageWire
	d.MustDecode(&w)
	i := w.Image
	*c = PutImage{Header: w.Header, Now: w.Now, ID: w.ID, Image: store.Image{Type: i.Type,
		Width: int(i.Width), Height: int(i.Height), Owner: i.Owner, CreatedAt: i.CreatedAt, Data: i.Data}}
}
