// Package destkey turns a link's destination URL into the keys that trust
// and safety compares: its host and its comparison key (host and path,
// ignoring scheme, port defaults, query and fragment).
//
// Why not the exact URL: a takedown or a URL blocklist entry compared by
// exact string is undone by appending "?x". So a URL entry blocks every
// destination with the same host and path, and a taken-down link's
// destination is refused with any scheme, query or fragment. The rule is
// a pure function of its input and is used inside the fsm's Apply, so it
// must never depend on configuration or on data that changes between
// builds (the public suffix list is used only by the proposer, in
// Registrable).
//
// It must never do I/O.
package destkey

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Parts are a destination's comparison forms.
type Parts struct {
	Host string // lower case, no port, no trailing dot
	Key  string // Host + path without trailing slashes
}

// Of parses raw. ok is false when raw has no host (such a URL is never a
// valid destination, so it matches nothing).
func Of(raw string) (p Parts, ok bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return Parts{}, false
	}
	host := Host(u.Host)
	if host == "" {
		return Parts{}, false
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	return Parts{Host: host, Key: host + path}, true
}

// Host normalises a host (optionally with a port): lower case, without the
// port and a trailing dot, IPv6 without brackets.
func Host(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.TrimPrefix(strings.TrimSuffix(h, "]"), "[")
	return strings.TrimSuffix(h, ".")
}

// Suffixes calls fn with host and each of its parent domains, longest
// first ("a.b.c" → "a.b.c", "b.c", "c"), until fn returns false.
func Suffixes(host string, fn func(string) bool) {
	for {
		if !fn(host) {
			return
		}
		i := strings.IndexByte(host, '.')
		if i < 0 {
			return
		}
		host = host[i+1:]
	}
}

// Registrable returns the registrable domain (eTLD+1) of a host, using the
// public suffix list compiled into this binary: "www.evil.co.uk" →
// "evil.co.uk". A host that is itself a public suffix, or an IP address,
// is returned as it is.
func Registrable(host string) string {
	host = Host(host)
	if net.ParseIP(host) != nil {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}
