package validate

import (
	"encoding/hex"
	"net/netip"
	"strings"
)

// loopbackDomains are names (with all their subdomains) that resolve to
// the loopback address everywhere: "localhost" by RFC 6761, the others by
// the public DNS services that exist for local development.
var loopbackDomains = []string{"localhost", "localtest.me", "lvh.me", "vcap.me", "lacolhost.com", "fuf.me"}

// ipDomains are wildcard DNS services that answer a name with the address
// written inside it: 127.0.0.1.nip.io, app-127-0-0-1.sslip.io,
// 7f000001.nip.io, --1.sslip.io (::1).
var ipDomains = []string{"nip.io", "sslip.io", "xip.io", "traefik.me", "backname.io"}

// canonical returns k as an address when its name is known to resolve to
// one without asking DNS, and k unchanged otherwise.
func (k hostKey) canonical() hostKey {
	if k.name == "" {
		return k
	}
	if a, ok := knownAddr(k.name); ok {
		return hostKey{ip: a.Unmap()}
	}
	return k
}

// local reports whether k is an address of the machine it is used on.
func (k hostKey) local() bool {
	return k.ip.IsValid() && (k.ip.IsLoopback() || k.ip.IsUnspecified())
}

// knownAddr returns the address name resolves to when that is known from
// the name alone.
func knownAddr(name string) (netip.Addr, bool) {
	for _, d := range loopbackDomains {
		if name == d || strings.HasSuffix(name, "."+d) {
			return netip.AddrFrom4([4]byte{127, 0, 0, 1}), true
		}
	}
	for _, d := range ipDomains {
		if prefix, ok := strings.CutSuffix(name, "."+d); ok {
			return embeddedAddr(prefix)
		}
	}
	return netip.Addr{}, false
}

// embeddedAddr finds the address in the labels before a wildcard DNS
// domain, in the forms those services document: the last four labels as a
// dotted quad, or the last label as a dashed quad (optionally after a name
// and a dash), eight hex digits, or a dashed IPv6 address.
func embeddedAddr(prefix string) (netip.Addr, bool) {
	labels := strings.Split(prefix, ".")
	if n := len(labels); n >= 4 {
		if a, err := netip.ParseAddr(strings.Join(labels[n-4:], ".")); err == nil && a.Is4() {
			return a, true
		}
	}
	last := labels[len(labels)-1]
	if parts := strings.Split(last, "-"); len(parts) >= 4 {
		if a, err := netip.ParseAddr(strings.Join(parts[len(parts)-4:], ".")); err == nil && a.Is4() {
			return a, true
		}
	}
	if len(last) == 8 {
		if b, err := hex.DecodeString(last); err == nil {
			return netip.AddrFrom4([4]byte(b)), true
		}
	}
	if strings.Contains(last, "--") || strings.Count(last, "-") >= 2 {
		if a, err := netip.ParseAddr(strings.ReplaceAll(last, "-", ":")); err == nil && a.Is6() {
			return a, true
		}
	}
	return netip.Addr{}, false
}
