package destination

import "bytes"

// AppendURL appends to dst the destination dest with the visitor's extra
// path and query forwarded into it, and returns the extended buffer:
//
//   - extraPath ("/more/path" from /{code}/more/path; empty for none) is
//     appended to dest's path. It must start with '/', so that it can never
//     reach into dest's authority ("https://e.com" + "@evil" would).
//   - query (the visitor's raw query, without '?'; empty for none) is
//     merged with dest's own query: every parameter of both is kept, and
//     where both name a parameter, dest's wins when destWins, the
//     visitor's otherwise.
//   - dest's fragment stays last.
//
// Parameters are compared and copied as raw bytes, never decoded, so
// nothing is re-encoded. AppendURL does not allocate when dst has room.
func AppendURL(dst, dest, extraPath, query []byte, destWins bool) []byte {
	if len(query) == 0 && len(extraPath) == 0 {
		return append(dst, dest...) // verbatim
	}
	base, frag := dest, []byte(nil)
	if i := bytes.IndexByte(base, '#'); i >= 0 {
		base, frag = base[:i], base[i:]
	}
	own := []byte(nil)
	if i := bytes.IndexByte(base, '?'); i >= 0 {
		base, own = base[:i], base[i+1:]
	}
	dst = append(dst, base...)
	if len(extraPath) > 0 && extraPath[0] == '/' {
		if len(base) > 0 && base[len(base)-1] == '/' {
			extraPath = extraPath[1:]
		}
		dst = append(dst, extraPath...)
	}
	sep := byte('?')
	add := func(p []byte) {
		if len(p) == 0 {
			return
		}
		dst = append(dst, sep)
		dst = append(dst, p...)
		sep = '&'
	}
	for rest := own; len(rest) > 0; {
		var p []byte
		p, rest = cutParam(rest)
		if destWins || !hasParam(query, paramKey(p)) {
			add(p)
		}
	}
	for rest := query; len(rest) > 0; {
		var p []byte
		p, rest = cutParam(rest)
		if !destWins || !hasParam(own, paramKey(p)) {
			add(p)
		}
	}
	return append(dst, frag...)
}

func cutParam(q []byte) (param, rest []byte) {
	if i := bytes.IndexByte(q, '&'); i >= 0 {
		return q[:i], q[i+1:]
	}
	return q, nil
}

func paramKey(p []byte) []byte {
	if i := bytes.IndexByte(p, '='); i >= 0 {
		return p[:i]
	}
	return p
}

// hasParam reports whether the raw query q names key.
func hasParam(q, key []byte) bool {
	if len(key) == 0 {
		return false
	}
	for len(q) > 0 {
		var p []byte
		p, q = cutParam(q)
		if bytes.Equal(paramKey(p), key) {
			return true
		}
	}
	return false
}
