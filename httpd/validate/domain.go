package validate

import (
	"errors"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxDomainHostLen is the longest domain host linkd serves links on: a
// link on it is keyed "<host>/<code>", and the click pipeline carries that
// key in a fixed-size event (host + '/' + a 64-byte code).
const MaxDomainHostLen = 100

// ErrDomainHost explains what a domain host must be.
var ErrDomainHost = errors.New("must be a host name like sho.rt (no scheme, port, path or IP address; at most 100 characters)")

// DomainHost normalises a domain's host name: lower case, without a
// trailing dot, internationalised names in their ASCII (punycode) form,
// which is what browsers send in Host. It refuses ports, IP literals,
// paths and anything that is not a valid DNS name.
func DomainHost(s string) (string, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" || !utf8.ValidString(s) || strings.ContainsAny(s, ":/[]@?# ") {
		return "", ErrDomainHost
	}
	// As in URL: lowercasing must not turn a letter into ASCII.
	if strings.IndexFunc(s, func(r rune) bool { return r >= utf8.RuneSelf && unicode.ToLower(r) < utf8.RuneSelf }) >= 0 {
		return "", ErrDomainHost
	}
	s = strings.ToLower(s)
	if _, err := netip.ParseAddr(s); err == nil {
		return "", ErrDomainHost
	}
	ascii, err := idna.Lookup.ToASCII(s)
	if err != nil || len(ascii) > MaxDomainHostLen {
		return "", ErrDomainHost
	}
	if k, ok := checkHostName(ascii); !ok || k.name == "" {
		return "", ErrDomainHost
	}
	return ascii, nil
}
