// Package imaging turns uploaded images into safe, small ones: it accepts
// PNG, JPEG, GIF and WebP, refuses anything else and decompression bombs
// (dimensions are checked before pixels are decoded), scales down, and
// re-encodes, which drops all metadata (EXIF location, comments, ICC
// quirks) and any payload hidden after the image data.
package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registered decoders
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// Limits, kept together.
const (
	// MaxUpload is the largest file accepted.
	MaxUpload = 5 << 20
	// maxPixels bounds width × height before decoding: a 40 MP image
	// decodes to 160 MB, a safe ceiling for a few at a time.
	maxPixels   = 40_000_000
	maxSide     = 12_000
	jpegQuality = 85
)

// Kind is what an image is for; it decides size and cropping.
type Kind struct {
	Name   string
	Max    int  // longest side after scaling
	Square bool // centre-cropped to a square
}

// Kinds of upload.
var (
	Avatar     = Kind{"avatar", 400, true}
	Thumbnail  = Kind{"thumbnail", 160, true}
	Background = Kind{"background", 1600, false}
)

// Kinds by name.
var Kinds = map[string]Kind{"avatar": Avatar, "thumbnail": Thumbnail, "background": Background}

// Errors for the caller to show.
var (
	ErrTooLarge      = fmt.Errorf("the file is larger than %d MiB", MaxUpload>>20)
	ErrNotImage      = errors.New("the file is not a PNG, JPEG, GIF or WebP image")
	ErrTooManyPixels = fmt.Errorf("the image has more than %d million pixels or a side over %d", maxPixels/1_000_000, maxSide)
)

// Result is a processed image.
type Result struct {
	Data          []byte
	Type          string // image/png or image/jpeg
	Width, Height int
}

// Process validates, scales and re-encodes an upload.
func Process(data []byte, k Kind) (Result, error) {
	if len(data) > MaxUpload {
		return Result{}, ErrTooLarge
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Result{}, ErrNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxSide || cfg.Height > maxSide || cfg.Width*cfg.Height > maxPixels {
		return Result{}, ErrTooManyPixels
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Result{}, ErrNotImage
	}
	dst := scale(crop(src, k.Square), k.Max)
	return encode(dst)
}

// crop returns the centred square of img when square is set.
func crop(img image.Image, square bool) image.Image {
	b := img.Bounds()
	if !square || b.Dx() == b.Dy() {
		return img
	}
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	r := image.Rect(x0, y0, x0+side, y0+side)
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	out := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	return out
}

// scale draws img into a new RGBA image whose longest side is at most max.
func scale(img image.Image, max int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > max || h > max {
		if w >= h {
			w, h = max, maxInt(h*max/b.Dx(), 1)
		} else {
			w, h = maxInt(w*max/b.Dy(), 1), max
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	return out
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// encode writes PNG when the image has transparency, JPEG otherwise.
func encode(img *image.RGBA) (Result, error) {
	var buf bytes.Buffer
	r := Result{Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	var err error
	if opaque(img) {
		r.Type = "image/jpeg"
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality})
	} else {
		r.Type = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img)
	}
	r.Data = buf.Bytes()
	return r, err
}

func opaque(img *image.RGBA) bool {
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 0xff {
			return false
		}
	}
	return true
}
