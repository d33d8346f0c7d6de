package main

import (
	"bytes"
	be "encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// rssSampler records the peak RSS of a process until stopped. It samples
// /proc, as a person watching top would; the figure is a measurement, not
// a consistency path.
type rssSampler struct {
	stop chan struct{}
	done chan int64
}

func sampleRSS(t *testing.T, pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan int64, 1)}
	go func() {
		peak := int64(0)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, vmRSS(t, pid))
			select {
			case <-s.stop:
				s.done <- max(peak, vmRSS(t, pid))
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) peak() int64 { close(s.stop); return <-s.done }

// postImage uploads body as a background image with the admin token.
func postImage(t *testing.T, base string, body []byte) (int, string) {
	req, _ := http.NewRequest("POST", base+"/api/v1/images?kind=background", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "image/png")
	resp, err := (&http.Client{Timeout: 90 * time.Second}).Do(req)
	if err != nil {
		t.Errorf("upload: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestImageBombsBounded is issue 12's image attack against a real linkd
// process: a 16-bit RGBA PNG whose header claims 6300×6300 pixels (320 MB
// decoded, a few hundred bytes sent) is refused with less than 200 MB of
// RSS growth, and six parallel uploads of real 3000×3000 images (36 MB
// decoded each, small files) all end within the process-wide decoding
// budget: each is stored or refused as busy, and RSS stays bounded.
func TestImageBombsBounded(t *testing.T) {
	p := mustStart(t, t.TempDir())
	pid := p.cmd.Process.Pid
	before := vmRSS(t, pid)

	s := sampleRSS(t, pid)
	status, body := postImage(t, p.URL, craftedPNG(t, 6300, 6300, 16, 6))
	bombPeak := s.peak()
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("16-bit 6300×6300 PNG: %d %s, want 422", status, body)
	}
	if g := bombPeak - before; g >= 200<<20 {
		t.Fatalf("refusing the 16-bit bomb grew RSS by %d MB", g>>20)
	}

	big := uniformPNG(t, 3000)
	s = sampleRSS(t, pid)
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = postImage(t, p.URL, big)
		}()
	}
	wg.Wait()
	parPeak := s.peak()
	stored := 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			stored++
		case http.StatusServiceUnavailable:
		default:
			t.Fatalf("parallel upload %d: %d", i, c)
		}
	}
	t.Logf("RSS before %d MB; peak refusing the 16-bit bomb %d MB; peak over six parallel 3000² uploads (%d KB each, %d stored, the rest busy) %d MB",
		before>>20, bombPeak>>20, len(big)>>10, stored, parPeak>>20)
	if stored == 0 {
		t.Fatal("no parallel upload was stored")
	}
	// Six decodes at once would hold 6 × 36 MB of pixels plus their
	// scaled copies; the budget lets through at most 96 MiB of decoding.
	if g := parPeak - before; g >= 300<<20 {
		t.Fatalf("six parallel uploads grew RSS by %d MB", g>>20)
	}
}

// craftedPNG is a valid 1×1 PNG whose IHDR claims w×h pixels of the given
// depth and colour type, as an attacker sends it.
func craftedPNG(t *testing.T, w, h uint32, depth, colorType byte) []byte {
	t.Helper()
	var b bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.White)
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	be.BigEndian.PutUint32(out[16:], w)
	be.BigEndian.PutUint32(out[20:], h)
	out[24], out[25] = depth, colorType
	be.BigEndian.PutUint32(out[29:33], crc32.ChecksumIEEE(out[12:29]))
	return out
}

// uniformPNG is a real side×side RGBA PNG of one colour: it compresses to
// little, and decodes to side² × 4 bytes.
func uniformPNG(t *testing.T, side int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
