package destination

import "bytes"

// Classify tells a User-Agent's device and OS by byte scans, without
// allocating. It is deliberately simple: the strings it looks for are the
// ones every current browser on those platforms sends.
func Classify(ua []byte) (device uint8, os uint16) {
	// Platforms are named in the first parenthesised part ("(iPhone; CPU
	// iPhone OS 18_1 like Mac OS X)"): scan only that.
	plat := ua
	if i := bytes.IndexByte(ua, '('); i >= 0 {
		plat = ua[i:]
		if j := bytes.IndexByte(plat, ')'); j >= 0 {
			plat = plat[:j]
		}
	}
	has := func(s string) bool { return bytes.Contains(plat, []byte(s)) }
	switch {
	case has("iPhone") || has("iPod"):
		os = OSiOS
	case has("iPad"):
		os = OSiOS
	case has("Android"):
		os = OSAndroid
	case has("CrOS"):
		os = OSChromeOS
	case has("Windows"):
		os = OSWindows
	case has("Macintosh") || has("Mac OS X"):
		os = OSMacOS
	case has("Linux") || has("X11"):
		os = OSLinux
	default:
		os = OSOther
	}
	switch {
	case has("iPad") || has("Tablet") || os == OSAndroid && !has("Mobile") && !bytes.Contains(ua, []byte("Mobile")):
		device = DeviceTablet
	case os == OSiOS || os == OSAndroid || bytes.Contains(ua, []byte("Mobi")):
		device = DeviceMobile
	default:
		device = DeviceDesktop
	}
	return device, os
}

// PreferredLanguage returns the tag with the highest q-value in an
// Accept-Language header (the first of equals; "*" and q=0 never),
// lower-cased into buf, or nil. It does not allocate when buf has room
// (maxLangTag bytes).
func PreferredLanguage(buf, header []byte) []byte {
	var best []byte
	bestQ := -1
	for len(header) > 0 {
		var item []byte
		if i := bytes.IndexByte(header, ','); i >= 0 {
			item, header = header[:i], header[i+1:]
		} else {
			item, header = header, nil
		}
		tag, params, _ := bytes.Cut(item, []byte{';'})
		tag = bytes.TrimSpace(tag)
		q := 1000
		for len(params) > 0 {
			var p []byte
			p, params, _ = bytes.Cut(params, []byte{';'})
			p = bytes.TrimSpace(p)
			if len(p) > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=' {
				q = parseQ(p[2:])
			}
		}
		if q > bestQ && q > 0 && len(tag) > 0 && len(tag) <= maxLangTag && !bytes.Equal(tag, []byte{'*'}) {
			best, bestQ = tag, q
		}
	}
	if best == nil {
		return nil
	}
	buf = buf[:0]
	for _, c := range best {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '_' {
			c = '-'
		}
		buf = append(buf, c)
	}
	return buf
}

// parseQ reads a q-value ("1", "0.8", "0.125") as thousandths; anything
// malformed counts as 0.
func parseQ(b []byte) int {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 5 || (b[0] != '0' && b[0] != '1') {
		return 0
	}
	q := int(b[0]-'0') * 1000
	if len(b) == 1 {
		return q
	}
	if b[1] != '.' {
		return 0
	}
	scale := 100
	for _, c := range b[2:] {
		if c < '0' || c > '9' {
			return 0
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	return min(q, 1000)
}
