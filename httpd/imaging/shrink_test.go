package imaging

import (
	"image"
	"image/color"
	"testing"
)

func TestBoxShrinkAverages(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 5; x++ {
			v := uint8(0)
			if x < 2 {
				v = 200
			}
			img.SetNRGBA(x, y, color.NRGBA{v, 100, 0, 255})
		}
	}
	img.SetNRGBA(2, 0, color.NRGBA{100, 100, 0, 255}) // one pixel of the middle block differs
	out := boxShrink(img, 2)
	if out.Bounds().Dx() != 3 || out.Bounds().Dy() != 2 {
		t.Fatalf("size %v, want 3×2 (edge blocks kept)", out.Bounds())
	}
	for _, c := range []struct {
		x, y int
		want color.RGBA
	}{
		{0, 0, color.RGBA{200, 100, 0, 255}},
		{1, 0, color.RGBA{25, 100, 0, 255}}, // (100+0+0+0)/4
		{2, 1, color.RGBA{0, 100, 0, 255}},  // a 1×2 edge block
	} {
		if got := out.RGBAAt(c.x, c.y); got != c.want {
			t.Errorf("(%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	if f := shrinkFactor(3000, 1000, 1600); f != 1 {
		t.Errorf("3000 wide to 1600: factor %d, want 1 (within 2×)", f)
	}
	if f := shrinkFactor(6000, 4000, 400); f != 8 {
		t.Errorf("6000 wide to 400: factor %d, want 8", f)
	}
}
