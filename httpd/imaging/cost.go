package imaging

import (
	"encoding/binary"
	"image"
	"image/color"
)

// DecodeCost is how many bytes decoding data will allocate, from its header
// alone: the decoded pixels at the bytes per pixel its colour model needs,
// plus what the decoder keeps beside them (a progressive JPEG holds every
// DCT coefficient, 4 bytes per sample, until the last scan). Scaling and
// re-encoding work on the much smaller result and are not counted.
func DecodeCost(data []byte, format string, cfg image.Config) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	switch format {
	case "jpeg":
		return jpegCost(data, px)
	case "webp":
		// Lossless WebP decodes to NRGBA; lossy to YCbCr with alpha.
		return px * 4
	case "png":
		// An interlaced PNG decodes its seven passes into images of their
		// own before assembling the whole one.
		if len(data) > 28 && data[28] == 1 {
			return px * bytesPerPixel(cfg.ColorModel) * 2
		}
	}
	return px * bytesPerPixel(cfg.ColorModel)
}

// bytesPerPixel is the storage the standard decoders use for a model.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4 // RGBA, NRGBA, CMYK and anything unknown
}

// jpegCost reads the frame header (SOFn) for the sampling factors of each
// component: a component sampled at h×v of the largest factors holds
// px·h·v/(hmax·vmax) samples of one byte each, and a progressive frame
// keeps a 4-byte coefficient for every sample as well. An unreadable header
// is costed as a progressive 4-component frame, the worst case.
func jpegCost(data []byte, px int64) int64 {
	worst := px * 4 * 5
	progressive, factors, ok := jpegFrame(data)
	if !ok {
		return worst
	}
	var hmax, vmax int64 = 1, 1
	for _, f := range factors {
		hmax, vmax = max(hmax, int64(f[0])), max(vmax, int64(f[1]))
	}
	var samples int64
	for _, f := range factors {
		// Rounded up: the decoder allocates whole 8×8 blocks per MCU.
		samples += (px*int64(f[0])*int64(f[1]) + hmax*vmax - 1) / (hmax * vmax)
	}
	samples += samples / 8 // MCU padding at the right and bottom edges, generously
	if progressive {
		return samples * 5
	}
	return samples
}

// jpegFrame walks the marker segments up to the first SOFn and returns
// whether it is progressive and each component's (h, v) sampling factors.
func jpegFrame(d []byte) (progressive bool, factors [][2]byte, ok bool) {
	if len(d) < 4 || d[0] != 0xFF || d[1] != 0xD8 {
		return false, nil, false
	}
	for i := 2; i+4 <= len(d); {
		if d[i] != 0xFF {
			return false, nil, false
		}
		m := d[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		n := int(binary.BigEndian.Uint16(d[i+2:]))
		if n < 2 || i+2+n > len(d) {
			return false, nil, false
		}
		seg := d[i+4 : i+2+n]
		switch m {
		case 0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			if len(seg) < 6 {
				return false, nil, false
			}
			nc := int(seg[5])
			if nc < 1 || nc > 4 || len(seg) < 6+3*nc {
				return false, nil, false
			}
			for c := 0; c < nc; c++ {
				hv := seg[6+3*c+1]
				h, v := hv>>4, hv&0x0F
				if h < 1 || h > 4 || v < 1 || v > 4 {
					return false, nil, false
				}
				factors = append(factors, [2]byte{h, v})
			}
			progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
			return progressive, factors, true
		case 0xDA, 0xD9: // start of scan or end of image before any frame
			return false, nil, false
		}
		i += 2 + n
	}
	return false, nil, false
}
