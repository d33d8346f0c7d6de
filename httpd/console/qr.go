package console

import (
	"bytes"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// qrQuiet is the quiet zone around a QR code, in modules (the standard's 4).
const qrQuiet = 4

// qrTarget is what a link's QR code encodes: the short URL marked with ?qr,
// so scans are counted apart from clicks.
func qrTarget(shortURL string) string { return shortURL + "?qr" }

// qrSVG draws the QR code of a short URL as a standalone SVG: one path of
// unit squares, crisp at any size.
func qrSVG(shortURL string) []byte {
	code, err := qr.Encode(qrTarget(shortURL), qr.M, qr.Auto)
	if err != nil {
		// Short URLs are far below QR capacity; this cannot happen for
		// links the API accepted.
		return nil
	}
	n := code.Bounds().Dx()
	size := n + 2*qrQuiet
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR code for %s">`,
		size, size, template.HTMLEscapeString(shortURL))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if isDark(code, x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+qrQuiet, y+qrQuiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes()
}

func isDark(code barcode.Barcode, x, y int) bool {
	r, _, _, _ := code.At(x, y).RGBA()
	return r < 0x8000
}

// qrInline is the SVG for embedding in a console page.
func qrInline(shortURL string) template.HTML {
	return template.HTML(strings.Replace(string(qrSVG(shortURL)), "<svg ", `<svg width="160" height="160" `, 1))
}

// qrPNG renders the QR code as a PNG about px pixels wide, quiet zone included.
func qrPNG(shortURL string, px int) ([]byte, error) {
	code, err := qr.Encode(qrTarget(shortURL), qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	n := code.Bounds().Dx()
	scale := max(px/(n+2*qrQuiet), 1)
	scaled, err := barcode.Scale(code, n*scale, n*scale)
	if err != nil {
		return nil, err
	}
	img := withQuietZone(scaled, qrQuiet*scale)
	var b bytes.Buffer
	err = png.Encode(&b, img)
	return b.Bytes(), err
}

// withQuietZone returns img on a white margin of pad pixels.
func withQuietZone(img image.Image, pad int) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()+2*pad, b.Dy()+2*pad))
	draw.Draw(out, out.Bounds(), &image.Uniform{C: color.White}, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(pad, pad, pad+b.Dx(), pad+b.Dy()), img, b.Min, draw.Src)
	return out
}
