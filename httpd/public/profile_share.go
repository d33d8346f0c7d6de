package public

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"
	"sync"

	"github.com/valyala/fasthttp"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/linkd/linkd/httpd/profilepage"
	"github.com/linkd/linkd/store"
)

// Share images are what link previews (og:image) show for profiles
// without an avatar: the page's colors, name and address, 1200×630.
const (
	shareW, shareH = 1200, 630
	maxShareCached = 2000
)

// shareFaces are the Go fonts (embedded by golang.org/x/image) at the two
// sizes share images use, parsed once.
type shareFaces struct{ title, sub font.Face }

var loadShareFaces = sync.OnceValues(func() (shareFaces, error) {
	face := func(ttf []byte, size float64) (font.Face, error) {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return nil, err
		}
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	title, err := face(gobold.TTF, 72)
	if err != nil {
		return shareFaces{}, err
	}
	sub, err := face(goregular.TTF, 36)
	return shareFaces{title, sub}, err
})

// shareImage serves /@{handle}/og.png.
func (h *Handler) shareImage(ctx *fasthttp.RequestCtx, p *store.Profile) {
	key := p.Handle + "\x00" + strconv.FormatInt(p.UpdatedAt, 36)
	b, err := h.shareFor(key, p)
	if err != nil {
		h.log.Error("rendering share image", "err", err)
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		return
	}
	ctx.Response.Header.Set("Cache-Control", profileCacheControl)
	ctx.SetContentType("image/png")
	ctx.SetBody(b)
}

// shareFor returns the cached share image for key, rendering it on a miss
// (once for concurrent misses). Rendering is serialised: font faces are
// not safe for concurrent use, and a share image renders once per profile
// version.
func (h *Handler) shareFor(key string, p *store.Profile) ([]byte, error) {
	return h.shares.getOrMake(key, func() ([]byte, error) {
		h.shareRender.Lock()
		defer h.shareRender.Unlock()
		return h.renderShare(p)
	})
}

func (h *Handler) renderShare(p *store.Profile) ([]byte, error) {
	faces, err := loadShareFaces()
	if err != nil {
		return nil, err
	}
	title, sub := faces.title, faces.sub
	t := profilepage.Theme(p)
	img := image.NewRGBA(image.Rect(0, 0, shareW, shareH))
	draw.Draw(img, img.Bounds(), image.NewUniform(hexColor(t.Background)), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, shareH-24, shareW, shareH), image.NewUniform(hexColor(t.Accent)), image.Point{}, draw.Src)
	centered(img, title, hexColor(t.Text), fit(profilepage.DisplayName(p), title, shareW-120), 290)
	centered(img, sub, hexColor(t.Text), h.publicHost()+"/@"+p.Handle, 370)
	var b bytes.Buffer
	err = png.Encode(&b, img)
	return b.Bytes(), err
}

// centered draws text centred horizontally with its baseline at y.
func centered(dst draw.Image, face font.Face, c color.Color, text string, y int) {
	d := &font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face}
	w := d.MeasureString(text)
	d.Dot = fixed.Point26_6{X: (fixed.I(shareW) - w) / 2, Y: fixed.I(y)}
	d.DrawString(text)
}

// fit shortens text with an ellipsis until it is at most w pixels wide.
func fit(text string, face font.Face, w int) string {
	r := []rune(text)
	for len(r) > 1 && font.MeasureString(face, string(r)) > fixed.I(w) {
		r = r[:len(r)-1]
		text = string(r) + "…"
	}
	return text
}

func hexColor(s string) color.Color {
	v, err := strconv.ParseUint(s[min(1, len(s)):], 16, 32)
	if err != nil {
		return color.Black
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
}

// publicHost is the public URL without its scheme, for display.
func (h *Handler) publicHost() string {
	for _, p := range []string{"https://", "http://"} {
		if len(h.public) > len(p) && h.public[:len(p)] == p {
			return h.public[len(p):]
		}
	}
	return h.public
}
