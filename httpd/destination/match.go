package destination

import "bytes"

// Args is what matching needs of a request's query: fasthttp's *Args.
type Args interface {
	HasBytes(key []byte) bool
	PeekBytes(key []byte) []byte
}

// Visitor is what rules look at, classified once per request.
type Visitor struct {
	Device  uint8  // one Device* bit; 0 when unknown
	OS      uint16 // one OS* bit
	Lang    []byte // preferred language, lower case (see PreferredLanguage)
	Country [2]byte
	Now     int64  // Unix ms
	Hash    uint64 // stable for this visitor and link within a day; picks the variant
	Query   Args   // nil when the request has no query
}

// Choice says which option picked the destination.
type Choice struct {
	Rule    int // index of the matching rule, or -1
	Variant int // index of the chosen variant, or -1
}

// Match returns the URL p sends v to, and which rule or variant chose it;
// ok is false when no rule matches and there are no variants, or p is not a
// program this version understands: the link's own URL applies. The URL
// aliases p. Match does not allocate.
func Match(p Program, v *Visitor) (url []byte, c Choice, ok bool) {
	c = Choice{Rule: -1, Variant: -1}
	if len(p) == 0 || p[0] != programV1 {
		return nil, c, false
	}
	r := reader{b: p[1:]}
	n := r.count()
	for i := 0; i < n && r.ok(); i++ {
		rule := reader{b: r.str()}
		if u, hit := matchRule(&rule, v); hit {
			c.Rule = i
			return u, c, true
		}
	}
	nv := r.count()
	if nv == 0 || !r.ok() {
		return nil, c, false
	}
	point := int(v.Hash % 100)
	for i := 0; i < nv && r.ok(); i++ {
		w := int(r.u8())
		u := r.str()
		if point < w || i == nv-1 {
			if !r.ok() {
				break
			}
			c.Variant = i
			return u, c, true
		}
		point -= w
	}
	return nil, c, false
}

// matchRule reports whether v meets the rule in r (one rule's body), and
// its URL if so. It returns at the first condition that fails: the caller
// has already framed the rule, so nothing after it needs reading.
func matchRule(r *reader, v *Visitor) ([]byte, bool) {
	if m := r.u8(); m != 0 && m&v.Device == 0 {
		return nil, false
	}
	if m := uint16(r.uv()); m != 0 && m&v.OS == 0 {
		return nil, false
	}
	if n := r.count(); n > 0 {
		any := false
		for ; n > 0 && r.ok() && !any; n-- {
			any = langMatches(r.str(), v.Lang)
		}
		if !any {
			return nil, false
		}
		for ; n > 0 && r.ok(); n-- {
			r.str()
		}
	}
	if n := r.count(); n > 0 {
		cc := r.bytes(2 * n)
		any := false
		for i := 0; i+1 < len(cc) && !any; i += 2 {
			any = cc[i] == v.Country[0] && cc[i+1] == v.Country[1]
		}
		if !any {
			return nil, false
		}
	}
	for n := r.count(); n > 0 && r.ok(); n-- {
		key := r.str()
		present := v.Query != nil && v.Query.HasBytes(key)
		if !present {
			return nil, false
		}
		got := v.Query.PeekBytes(key)
		m := r.count()
		any := m == 0
		for ; m > 0 && r.ok(); m-- {
			if want := r.str(); !any && bytes.Equal(want, got) {
				any = true
			}
		}
		if !any {
			return nil, false
		}
	}
	if from := r.v(); from != 0 && v.Now < from {
		return nil, false
	}
	if until := r.v(); until != 0 && v.Now >= until {
		return nil, false
	}
	u := r.str()
	return u, r.ok()
}

// langMatches reports whether a rule's tag covers the visitor's: equal, or
// a prefix ending at a subtag boundary ("de" covers "de-at").
func langMatches(rule, visitor []byte) bool {
	if len(rule) == 0 || len(visitor) < len(rule) || !bytes.Equal(visitor[:len(rule)], rule) {
		return false
	}
	return len(visitor) == len(rule) || visitor[len(rule)] == '-'
}
