// Package validate checks and normalises user input that becomes a link:
// destination URLs, custom aliases, profile handles, titles and tags.
//
// Every function is pure (no I/O) and never panics, whatever its input.
// The texts of the exported errors are shown to API users as they are.
package validate

import (
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxURLLen is the longest destination URL accepted, in bytes.
const MaxURLLen = 8 << 10

// Lengths of a custom alias, in characters.
const MinAliasLen, MaxAliasLen = 3, 64

// Lengths of a profile handle, in characters.
const MinHandleLen, MaxHandleLen = 3, 30

// MaxTitleLen is the longest link title accepted, in bytes of UTF-8.
const MaxTitleLen = 256

// MaxTags is the most tags a link may carry.
const MaxTags = 20

// MaxTagLen is the longest tag accepted, in characters.
const MaxTagLen = 40

var (
	// ErrURLEmpty means no destination URL was given.
	ErrURLEmpty = errors.New("a destination URL is required")
	// ErrURLTooLong means the destination URL is longer than MaxURLLen bytes.
	ErrURLTooLong = errors.New("the URL is longer than 8192 bytes")
	// ErrURLParse means the destination is not a well-formed absolute URL.
	ErrURLParse = errors.New("the URL is not valid")
	// ErrURLScheme means the URL does not use http or https.
	ErrURLScheme = errors.New("the URL must start with http:// or https://")
	// ErrURLUserinfo means the URL carries a user name or password (user:pass@host).
	ErrURLUserinfo = errors.New("the URL must not contain a user name or password")
	// ErrURLControl means the URL contains whitespace or control characters.
	ErrURLControl = errors.New("the URL must not contain spaces or control characters")
	// ErrURLHost means the URL's host is missing or is not a valid host
	// name or IP address, or its port is not between 1 and 65535.
	ErrURLHost = errors.New("the URL must have a valid host name and port")
	// ErrURLLoop means the URL points at this service's own public host,
	// which would make the redirect loop or chain short links.
	ErrURLLoop = errors.New("the URL must not point at this service")

	// ErrAliasLength means an alias is shorter than MinAliasLen or longer
	// than MaxAliasLen characters.
	ErrAliasLength = errors.New("the alias must be 3 to 64 characters long")
	// ErrAliasChars means an alias contains a character other than ASCII
	// letters, digits, '-' and '_'.
	ErrAliasChars = errors.New("the alias may only contain letters A-Z and a-z, digits, '-' and '_'")
	// ErrAliasReserved means the alias is a reserved word (see Reserved).
	ErrAliasReserved = errors.New("this alias is reserved")

	// ErrHandleLength means a handle is shorter than MinHandleLen or longer
	// than MaxHandleLen characters.
	ErrHandleLength = errors.New("the handle must be 3 to 30 characters long")
	// ErrHandleChars means a handle contains characters other than a-z,
	// 0-9, '_' and '.', does not start with a letter or digit, ends with
	// '.' or contains "..".
	ErrHandleChars = errors.New("the handle may only contain letters a-z, digits, '_' and '.', must start with a letter or digit, and must not end with '.' or contain '..'")
	// ErrHandleReserved means the handle is a reserved word (see Reserved).
	ErrHandleReserved = errors.New("this handle is reserved")

	// ErrTitleTooLong means a title is longer than MaxTitleLen bytes.
	ErrTitleTooLong = errors.New("the title is longer than 256 bytes")
	// ErrTitleControl means a title is not valid UTF-8 or contains control
	// characters (including line breaks and tabs).
	ErrTitleControl = errors.New("the title must be valid text on one line, without control characters")

	// ErrTooManyTags means more than MaxTags tags were given.
	ErrTooManyTags = errors.New("a link may have at most 20 tags")
	// ErrTagInvalid means a tag is empty, longer than MaxTagLen characters
	// or contains characters other than letters, digits, '-', '_' and '.'.
	ErrTagInvalid = errors.New("each tag must be 1 to 40 letters, digits, '-', '_' or '.'")
)

// asciiSpace is what URL trims from both ends of its input.
const asciiSpace = " \t\n\v\f\r"

// URL validates a destination URL and normalises it: surrounding ASCII
// whitespace is trimmed and the scheme and host are lowercased; the port,
// path, query and fragment are kept byte for byte, because redirects send
// them verbatim. The normalisation is idempotent.
//
// selfHosts are this service's own host names, each optionally with a
// port; a URL pointing at one of them is rejected with ErrURLLoop. Host
// names compare case-insensitively and ignoring a trailing dot; IP
// addresses compare as addresses. A self host without a port, or with
// port 80 or 443, matches URLs without a port or with port 80 or 443; a
// self host with any other port matches only URLs with that port.
func URL(raw string, selfHosts []string) (string, error) {
	s := strings.Trim(raw, asciiSpace)
	if s == "" {
		return "", ErrURLEmpty
	}
	if len(s) > MaxURLLen {
		return "", ErrURLTooLong
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return "", ErrURLControl
		}
	}
	if !utf8.ValidString(s) {
		return "", ErrURLParse
	}
	// Non-ASCII whitespace and C1 controls are as dangerous in a Location
	// header as their ASCII cousins.
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return "", ErrURLControl
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", ErrURLParse
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", ErrURLScheme
	}
	// "http:host/path" and "http:/path" have no authority.
	if !strings.HasPrefix(s[len(u.Scheme):], "://") {
		return "", ErrURLParse
	}
	if u.User != nil {
		return "", ErrURLUserinfo
	}
	// Work on the raw authority rather than u.Host, which net/url has
	// unescaped. Like net/url, the authority ends at the first '/', '?'
	// or '#'; it holds no '@' since there is no userinfo.
	after := s[len(u.Scheme)+len("://"):]
	end := strings.IndexAny(after, "/?#")
	if end < 0 {
		end = len(after)
	}
	authority, rest := after[:end], after[end:]
	// Lowercasing must not turn a host into another one: Go maps "İ" and
	// the Kelvin sign "K" onto ASCII "i" and "k", browsers do not.
	if strings.IndexFunc(authority, func(r rune) bool {
		return r >= utf8.RuneSelf && unicode.ToLower(r) < utf8.RuneSelf
	}) >= 0 {
		return "", ErrURLHost
	}
	authority = strings.ToLower(authority)
	host, port, ok := splitAuthority(authority)
	if !ok {
		return "", ErrURLHost
	}
	// Internationalised names are stored and redirected to in their ASCII
	// (punycode) form: Location carries no raw UTF-8, the preview page shows
	// what DNS will be asked, and a homograph cannot pass for the name it
	// imitates. UTS 46 also refuses malformed xn-- labels.
	if host.name != "" {
		ascii, err := idna.Lookup.ToASCII(host.name)
		if err != nil {
			return "", ErrURLHost
		}
		if ascii != host.name {
			authority = strings.Replace(authority, host.name, ascii, 1)
			host.name = ascii
		}
	}
	if isSelf(host, port, selfHosts) {
		return "", ErrURLLoop
	}
	out := scheme + "://" + authority + rest
	if len(out) > MaxURLLen { // lowercasing may lengthen non-ASCII letters
		return "", ErrURLTooLong
	}
	return out, nil
}

// hostKey is a host reduced for comparison with a self host.
type hostKey struct {
	name string     // lowercased, without a trailing dot; empty for IPs
	ip   netip.Addr // unmapped; invalid for names
}

// splitAuthority validates a lowercased host[:port] and returns the host
// and the port (0 when absent).
func splitAuthority(a string) (hostKey, int, bool) {
	var host, portStr string
	hasPort := false
	if strings.HasPrefix(a, "[") {
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return hostKey{}, 0, false
		}
		host, portStr = a[1:i], a[i+1:]
		if portStr != "" {
			if portStr[0] != ':' {
				return hostKey{}, 0, false
			}
			portStr, hasPort = portStr[1:], true
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return hostKey{}, 0, false
		}
		port, ok := parsePort(portStr, hasPort)
		return hostKey{ip: ip.Unmap()}, port, ok
	}
	host = a
	if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host, portStr, hasPort = a[:i], a[i+1:], true
	}
	port, ok := parsePort(portStr, hasPort)
	if !ok {
		return hostKey{}, 0, false
	}
	k, ok := checkHostName(host)
	return k, port, ok
}

// parsePort parses a decimal port of 1-65535; an absent port is 0.
func parsePort(s string, present bool) (int, bool) {
	if !present {
		return 0, true
	}
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
		if n > 65535 {
			return 0, false
		}
	}
	return n, n >= 1
}

// checkHostName validates a lowercased host name or dotted IPv4 address,
// allowing one trailing dot.
func checkHostName(h string) (hostKey, bool) {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return hostKey{}, false
	}
	labels := strings.Split(h, ".")
	// Browsers read a host whose last label is numeric as an IPv4 address
	// (including forms such as "127.1" or "0x7f.1"); accept only the
	// canonical dotted quad.
	if last := labels[len(labels)-1]; isNumericLabel(last) {
		ip, err := netip.ParseAddr(h)
		if err != nil || !ip.Is4() {
			return hostKey{}, false
		}
		return hostKey{ip: ip}, true
	}
	for _, label := range labels {
		if !validLabel(label) {
			return hostKey{}, false
		}
	}
	return hostKey{name: h}, true
}

func isNumericLabel(l string) bool {
	if l == "" {
		return false
	}
	digits := "0123456789"
	if len(l) >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X') {
		l, digits = l[2:], "0123456789abcdefABCDEF"
	}
	for i := 0; i < len(l); i++ {
		if strings.IndexByte(digits, l[i]) < 0 {
			return false
		}
	}
	return true
}

// validLabel accepts a DNS label of 1-63 bytes: ASCII letters, digits and
// hyphens, or, for internationalised names, letters, combining marks and
// digits of any script; it neither starts nor ends with a hyphen and does
// not start with a combining mark.
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i, r := range l {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
		case r < utf8.RuneSelf: // other ASCII, including '_' and uppercase
			return false
		case compatLetter(r):
			return false
		case unicode.IsLetter(r), unicode.IsDigit(r):
		case unicode.IsMark(r) && i > 0:
		default:
			return false
		}
	}
	return true
}

// compatLetter reports whether r is a non-ASCII letter or digit that
// browsers map onto another character when they convert a host name
// (UTS 46 / NFKC): such a host is not in canonical form and could dodge
// the self-host check, e.g. "ｓｈｏ.ｒｔ" or "ſho.rt". The list covers the
// common blocks, not every compatibility character.
func compatLetter(r rune) bool {
	switch {
	case r == 0xAA, r == 0xBA, // ª º
		r >= 0x1D00 && r <= 0x1DBF,   // phonetic extensions (modifier letters)
		r >= 0x2070 && r <= 0x209F,   // superscripts and subscripts
		r >= 0x2100 && r <= 0x214F,   // letterlike symbols
		r >= 0x2150 && r <= 0x218F,   // number forms (roman numerals)
		r >= 0x2460 && r <= 0x24FF,   // enclosed alphanumerics
		r >= 0xFB00 && r <= 0xFB4F,   // alphabetic presentation forms (ligatures)
		r >= 0xFE70 && r <= 0xFEFF,   // arabic presentation forms B
		r >= 0xFF00 && r <= 0xFFEF,   // halfwidth and fullwidth forms
		r >= 0x1D400 && r <= 0x1D7FF, // mathematical alphanumeric symbols
		r >= 0x1F100 && r <= 0x1F1FF: // enclosed alphanumeric supplement
		return true
	}
	// Non-ASCII letters that case-fold onto ASCII ones (ſ, K, Å...).
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return true
		}
	}
	return false
}

// isSelf reports whether host:port is one of selfHosts, under any of its
// names: names known to resolve to an address without asking DNS count as
// that address (see knownAddr), and every loopback or unspecified address
// is one machine, so "localhost:8080", "[::1]:8080" and
// "127.0.0.1.nip.io:8080" are all the self host "localhost:8080".
func isSelf(host hostKey, port int, selfHosts []string) bool {
	host = host.canonical()
	for _, sh := range selfHosts {
		k, p, ok := parseSelfHost(sh)
		if !ok {
			continue
		}
		if k = k.canonical(); k != host && !(k.local() && host.local()) {
			continue
		}
		if isDefaultPort(p) {
			if isDefaultPort(port) {
				return true
			}
		} else if p == port {
			return true
		}
	}
	return false
}

func isDefaultPort(p int) bool { return p == 0 || p == 80 || p == 443 }

// parseSelfHost leniently parses a configured self host: "host",
// "host:port", "[v6]:port", a bare IPv6 address or even a URL. An
// unparsable port counts as none, so the entry matches more rather than
// less.
func parseSelfHost(sh string) (hostKey, int, bool) {
	sh = strings.ToLower(strings.Trim(sh, asciiSpace))
	if strings.Contains(sh, "://") {
		u, err := url.Parse(sh)
		if err != nil {
			return hostKey{}, 0, false
		}
		sh = u.Host
	}
	var host, portStr string
	switch {
	case strings.HasPrefix(sh, "["):
		i := strings.IndexByte(sh, ']')
		if i < 0 {
			return hostKey{}, 0, false
		}
		host, portStr = sh[1:i], strings.TrimPrefix(sh[i+1:], ":")
	case strings.Count(sh, ":") == 1:
		host, portStr, _ = strings.Cut(sh, ":")
	default:
		host = sh
	}
	port, _ := parsePort(portStr, portStr != "")
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return hostKey{}, 0, false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return hostKey{ip: ip.WithZone("").Unmap()}, port, true
	}
	if ascii, err := idna.Lookup.ToASCII(host); err == nil {
		host = ascii
	}
	return hostKey{name: host}, port, true
}

func isAliasChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// Alias validates a custom alias: MinAliasLen to MaxAliasLen characters
// of [A-Za-z0-9_-], not a reserved word in any case. Aliases are otherwise
// case-sensitive and used as given.
func Alias(s string) error {
	if n := utf8.RuneCountInString(s); n < MinAliasLen || n > MaxAliasLen {
		return ErrAliasLength
	}
	for _, c := range s {
		if !isAliasChar(c) {
			return ErrAliasChars
		}
	}
	if Reserved(s) {
		return ErrAliasReserved
	}
	return nil
}

// Handle validates a profile handle and returns it lowercased: after
// lowercasing, MinHandleLen to MaxHandleLen characters of [a-z0-9_.],
// starting with a letter or digit, not ending with '.', without "..", and
// not a reserved word. Only ASCII letters are lowercased; any other
// letter is rejected.
func Handle(s string) (string, error) {
	if n := utf8.RuneCountInString(s); n < MinHandleLen || n > MaxHandleLen {
		return "", ErrHandleLength
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
			b[i] = c
		}
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '.')
		if !ok {
			return "", ErrHandleChars
		}
	}
	h := string(b)
	if strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return "", ErrHandleChars
	}
	if Reserved(h) {
		return "", ErrHandleReserved
	}
	return h, nil
}

// Title validates a link title and returns it with surrounding whitespace
// trimmed. It must be valid UTF-8 of at most MaxTitleLen bytes (after
// trimming) without control characters: line breaks and tabs are
// rejected, as are the Unicode line and paragraph separators and the
// bidirectional embedding, override and isolate controls, which could
// disguise the text around the title. The empty title is valid.
func Title(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrTitleControl
	}
	s = strings.TrimSpace(s)
	if len(s) > MaxTitleLen {
		return "", ErrTitleTooLong
	}
	if strings.IndexFunc(s, badTitleRune) >= 0 {
		return "", ErrTitleControl
	}
	return s, nil
}

func badTitleRune(r rune) bool {
	return unicode.IsControl(r) ||
		r == 0x2028 || r == 0x2029 || // line and paragraph separators
		r >= 0x202A && r <= 0x202E || // bidi embeddings and overrides
		r >= 0x2066 && r <= 0x2069 // bidi isolates
}

// Tags validates tags and returns them trimmed, lowercased and without
// duplicates, in the order of their first occurrence. At most MaxTags tags
// may be given; each must be 1 to MaxTagLen characters of letters (any
// script, with their combining marks), digits, '-', '_' and '.'. The
// result is never nil.
func Tags(tags []string) ([]string, error) {
	if len(tags) > MaxTags {
		return nil, ErrTooManyTags
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !utf8.ValidString(t) {
			return nil, ErrTagInvalid
		}
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || utf8.RuneCountInString(t) > MaxTagLen {
			return nil, ErrTagInvalid
		}
		for i, r := range t {
			ok := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' ||
				i > 0 && unicode.IsMark(r)
			if !ok {
				return nil, ErrTagInvalid
			}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}
