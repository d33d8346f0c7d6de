package imaging

import (
	"image"
	"image/color"
)

// Scaling is budgeted like decoding. x/image/draw's kernel scalers
// (CatmullRom, BiLinear) keep a float64 buffer of dstWidth × srcHeight × 4
// samples: 150 MB to scale a 3000×3000 photo to a 1600-pixel background,
// more than the whole decoding budget and outside it, so six parallel
// uploads took the process past 800 MB (TestImageBombsBounded in
// cmd/linkd). Instead an image is first shrunk by a whole factor with a box
// filter (the average of each f×f block, which is what a good downscaler
// does) until it is at most twice the target, and the last step of at most
// 2× uses draw.ApproxBiLinear, which needs no buffer. Every allocation
// is then an image of known size, counted in Process's cost.

// shrinkFactor is the whole factor that brings the longest side of a w×h
// image to at most 2×max (1: no pre-shrink).
func shrinkFactor(w, h, max int) int {
	side := w
	if h > side {
		side = h
	}
	f := (side + 2*max - 1) / (2 * max)
	if f < 1 {
		f = 1
	}
	return f
}

// shrinkCost is the size of the pre-shrunk copy of a w×h image for a
// target of max, in bytes (0 when there is none).
func shrinkCost(w, h, max int) int64 {
	f := shrinkFactor(w, h, max)
	if f == 1 {
		return 0
	}
	return int64(w/f+1) * int64(h/f+1) * 4
}

// boxShrink averages each f×f block of img into one pixel (premultiplied
// RGBA, as image/color's RGBA method returns it); edge blocks average the
// pixels they have.
func boxShrink(img image.Image, f int) *image.RGBA {
	b := img.Bounds()
	w, h := (b.Dx()+f-1)/f, (b.Dy()+f-1)/f
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for oy := 0; oy < h; oy++ {
		y0, y1 := b.Min.Y+oy*f, min(b.Min.Y+(oy+1)*f, b.Max.Y)
		for ox := 0; ox < w; ox++ {
			x0, x1 := b.Min.X+ox*f, min(b.Min.X+(ox+1)*f, b.Max.X)
			var r, g, bl, a, n uint64
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					cr, cg, cb, ca := img.At(x, y).RGBA()
					r, g, bl, a, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca), n+1
				}
			}
			out.SetRGBA(ox, oy, color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), uint8(a / n >> 8)})
		}
	}
	return out
}
