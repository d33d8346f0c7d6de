package imaging

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"runtime"
	"testing"
	"time"
)

// pngHeader returns a valid 1×1 PNG whose IHDR is rewritten to claim w×h
// pixels of the given bit depth and colour type, as an attacker would send:
// the file stays tiny, the decoded image would not.
func pngHeader(t *testing.T, w, h uint32, depth, colorType byte) []byte {
	t.Helper()
	b := mustPNG(t, 1, 1, 0xff)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	b[24], b[25] = depth, colorType
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestDecodeCostCountsBytesPerPixel(t *testing.T) {
	for name, c := range map[string]struct {
		data []byte
		want int64
	}{
		"8-bit RGBA":  {pngHeader(t, 1000, 1000, 8, 6), 4_000_000},
		"16-bit RGBA": {pngHeader(t, 1000, 1000, 16, 6), 8_000_000},
		"8-bit gray":  {pngHeader(t, 1000, 1000, 8, 0), 1_000_000},
		"16-bit gray": {pngHeader(t, 1000, 1000, 16, 0), 2_000_000},
	} {
		cfg, format, err := image.DecodeConfig(bytes.NewReader(c.data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := DecodeCost(c.data, format, cfg); got != c.want {
			t.Errorf("%s: cost %d, want %d", name, got, c.want)
		}
	}
}

func TestDecodeCostJPEG(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 800, 600), image.YCbCrSubsampleRatio420)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	baseline := b.Bytes()
	cfg, format, _ := image.DecodeConfig(bytes.NewReader(baseline))
	px := int64(800 * 600)
	// 4:2:0 is 1.5 samples a pixel; the estimate adds an eighth for padding.
	got := DecodeCost(baseline, format, cfg)
	if got < px*3/2 || got > px*2 {
		t.Errorf("baseline 4:2:0 cost %d, want about %d", got, px*3/2)
	}
	// The same frame marked progressive (SOF2) keeps coefficients too.
	prog := bytes.Replace(baseline, []byte{0xFF, 0xC0}, []byte{0xFF, 0xC2}, 1)
	if p := DecodeCost(prog, format, cfg); p != got*5 {
		t.Errorf("progressive cost %d, want %d", p, got*5)
	}
	// A header that cannot be read is costed as the worst case.
	if w := DecodeCost([]byte{0xFF, 0xD8, 0xFF}, "jpeg", cfg); w != px*20 {
		t.Errorf("unreadable header cost %d, want %d", w, px*20)
	}
}

// TestSixteenBitBombRefusedCheaply is the attack from the security review:
// a 6300×6300 16-bit RGBA PNG passes a 40-megapixel check but decodes to
// 317 MB. It must be refused from its header, allocating next to nothing.
func TestSixteenBitBombRefusedCheaply(t *testing.T) {
	bomb := pngHeader(t, 6300, 6300, 16, 6)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Process(bomb, Background)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("got %v, want ErrTooManyPixels", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Fatalf("refusing the bomb allocated %d bytes", d)
	}
	// Around the limit, with forged headers (the pixel data is missing, so
	// an image the budget lets through fails to decode instead).
	// 4400² × 4 = 77 MB, plus the 10 MB result, plus the 19 MB box-shrunk
	// copy (2201² × 4, see shrink.go) is over 96 MiB.
	if _, err := Process(pngHeader(t, 4400, 4400, 8, 6), Background); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("4400² RGBA: %v, want ErrTooManyPixels", err)
	}
	// 4200² × 4 = 71 MB plus 10 MB plus 18 MB is under it.
	if _, err := Process(pngHeader(t, 4200, 4200, 8, 6), Background); !errors.Is(err, ErrNotImage) {
		t.Fatalf("4200² RGBA: %v, want the budget to pass and the decode to fail", err)
	}
}

// TestDecodesShareOneBudget holds the whole budget, as concurrent uploads
// would, and checks that another upload waits and is then refused with
// ErrBusy, and succeeds once the budget is free.
func TestDecodesShareOneBudget(t *testing.T) {
	old := queueWait
	queueWait = 150 * time.Millisecond
	defer func() { queueWait = old }()
	if err := decoding.Acquire(context.Background(), MaxDecodeBytes); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Process(mustPNG(t, 100, 100, 0xff), Avatar)
	if !errors.Is(err, ErrBusy) || time.Since(start) < queueWait {
		t.Fatalf("with the budget held: %v after %v, want ErrBusy after %v", err, time.Since(start), queueWait)
	}
	decoding.Release(MaxDecodeBytes)
	if _, err := Process(mustPNG(t, 100, 100, 0xff), Avatar); err != nil {
		t.Fatalf("with the budget free: %v", err)
	}
}
