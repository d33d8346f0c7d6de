// Package imaging turns uploaded images into safe, small ones: it accepts
// PNG, JPEG, GIF and WebP, refuses anything else and decompression bombs,
// scales down, and re-encodes, which drops all metadata (EXIF location,
// comments, ICC quirks) and any payload hidden after the image data.
//
// Memory is budgeted in bytes, not pixels: before any pixel is decoded, the
// header says how large the decoded image will be (a 16-bit RGBA PNG costs
// 8 bytes a pixel, a progressive JPEG keeps every DCT coefficient besides
// its pixels), and an image whose decoding would cost more than
// MaxDecodeBytes is refused. Decodes then run under one process-wide
// weighted semaphore of the same size, so however many uploads arrive at
// once, decoding holds at most MaxDecodeBytes of pixels; an upload that
// cannot get its share within queueWait is refused with ErrBusy.
package imaging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registered decoders
	"image/jpeg"
	"image/png"
	"time"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
	"golang.org/x/sync/semaphore"
)

// Limits, kept together.
const (
	// MaxUpload is the largest file accepted.
	MaxUpload = 5 << 20
	// MaxDecodeBytes bounds the memory that decoding one image may take,
	// and all decodes running at once together: 96 MiB is a 24-megapixel
	// 8-bit image, or a 12-megapixel 16-bit one.
	MaxDecodeBytes = 96 << 20
	// maxSide bounds either side, whatever the budget says: scaling cost
	// grows with it.
	maxSide     = 12_000
	jpegQuality = 85
)

// queueWait is how long an upload waits for decoding memory (a variable
// so tests can shorten it).
var queueWait = 20 * time.Second

// decoding is the memory all decodes in flight may hold, in bytes.
var decoding = semaphore.NewWeighted(MaxDecodeBytes)

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
	ErrTooManyPixels = fmt.Errorf("the image is too large to process: it would take more than %d MiB to decode, or a side is over %d pixels", MaxDecodeBytes>>20, maxSide)
	// ErrBusy means other uploads held the decoding budget for too long;
	// the caller should answer 503 and ask the client to retry.
	ErrBusy = errors.New("the server is busy processing other images; try again in a moment")
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
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Result{}, ErrNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxSide || cfg.Height > maxSide {
		return Result{}, ErrTooManyPixels
	}
	// The scaled result, and the pre-shrunk copy when there is one (see
	// shrink.go), are allocated while the source is still held.
	cost := DecodeCost(data, format, cfg) + int64(k.Max)*int64(k.Max)*4 + shrinkCost(cfg.Width, cfg.Height, k.Max)
	if cost > MaxDecodeBytes {
		return Result{}, ErrTooManyPixels
	}
	ctx, cancel := context.WithTimeout(context.Background(), queueWait)
	defer cancel()
	if decoding.Acquire(ctx, cost) != nil {
		return Result{}, ErrBusy
	}
	defer decoding.Release(cost)
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
	if f := shrinkFactor(b.Dx(), b.Dy(), max); f > 1 {
		img = boxShrink(img, f)
		b = img.Bounds()
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(out, out.Bounds(), img, b, draw.Src, nil)
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
