package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

func mustPNG(t *testing.T, w, h int, alpha uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = alpha
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestProcessScalesCropsAndReencodes(t *testing.T) {
	r, err := Process(mustPNG(t, 1200, 800, 0xff), Avatar)
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "image/jpeg" || r.Width != 400 || r.Height != 400 {
		t.Fatalf("avatar: %s %dx%d", r.Type, r.Width, r.Height)
	}
	if _, err := jpeg.Decode(bytes.NewReader(r.Data)); err != nil {
		t.Fatal(err)
	}
	r, err = Process(mustPNG(t, 3000, 1000, 0x80), Background)
	if err != nil || r.Type != "image/png" || r.Width != 1600 || r.Height != 533 {
		t.Fatalf("background: %s %dx%d %v", r.Type, r.Width, r.Height, err)
	}
	r, err = Process(mustPNG(t, 50, 20, 0xff), Thumbnail)
	if err != nil || r.Width != 20 || r.Height != 20 {
		t.Fatalf("small thumbnail is cropped, not enlarged: %dx%d %v", r.Width, r.Height, err)
	}
}

func TestStripsMetadataAndTrailers(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 10, 10))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	jpeg.Encode(&b, img, nil)
	// An EXIF-like APP1 segment with a secret after SOI, and a payload after EOI.
	secret := []byte("GPS 52.52N 13.40E secret")
	app1 := append([]byte{0xFF, 0xE1, 0, byte(len(secret) + 2)}, secret...)
	in := append(append(append([]byte{}, b.Bytes()[:2]...), app1...), b.Bytes()[2:]...)
	in = append(in, []byte("<?php echo 1; ?>")...)
	r, err := Process(in, Avatar)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(r.Data, []byte("GPS")) || bytes.Contains(r.Data, []byte("php")) {
		t.Fatal("metadata or trailer survived re-encoding")
	}
}

func TestRefuses(t *testing.T) {
	// A PNG header claiming 100000 x 100000 pixels: refused before decoding.
	bomb := mustPNG(t, 1, 1, 0xff)
	copy(bomb[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(bomb[29:33], crc32.ChecksumIEEE(bomb[12:29])) // a valid IHDR
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"html":      {[]byte("<html><script>alert(1)</script></html>"), ErrNotImage},
		"svg":       {[]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), ErrNotImage},
		"empty":     {nil, ErrNotImage},
		"bomb":      {bomb, ErrTooManyPixels},
		"huge":      {make([]byte, MaxUpload+1), ErrTooLarge},
		"truncated": {mustPNG(t, 100, 100, 0xff)[:60], ErrNotImage},
	} {
		if _, err := Process(c.data, Avatar); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
