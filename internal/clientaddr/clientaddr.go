// Package clientaddr decides which address a request comes from: the peer,
// or, when the peer is a trusted proxy, the last untrusted hop named in the
// one client-address header the operator configured. It is the one
// trusted-proxy policy of a node: rate limits (httpd) and analytics
// (node/clicks) both ask it, so they never disagree about who a visitor is.
// It knows nothing about HTTP libraries; callers peek the header Header
// names and pass its value.
//
// Exactly one header is believed, chosen by the operator
// (--client-ip-header): believing several (say CF-Connecting-IP first,
// X-Forwarded-For otherwise) lets a client behind a proxy that only
// maintains one of them set the other to any address it likes, and so
// rotate through per-address budgets.
package clientaddr

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/linkd/linkd/internal/textlist"
)

// The client-address headers a proxy may be trusted for.
const (
	HeaderXFF     = "X-Forwarded-For"
	HeaderCF      = "CF-Connecting-IP"
	HeaderXRealIP = "X-Real-IP"
)

// HeaderNames are the --client-ip-header values and the header each means
// ("" for none).
var HeaderNames = map[string]string{
	"x-forwarded-for":  HeaderXFF,
	"cf-connecting-ip": HeaderCF,
	"x-real-ip":        HeaderXRealIP,
	"none":             "",
}

// Proxies is the trusted-proxy policy: which peers are proxies and which
// header of theirs names the client. The zero value trusts no one, so
// forwarded headers are ignored.
type Proxies struct {
	nets   []netip.Prefix
	header string
}

// Parse reads a comma-separated list of CIDRs (the --trusted-proxies flag)
// whose X-Forwarded-For is believed; WithHeader picks another header.
func Parse(s string) (Proxies, error) {
	out := Proxies{header: HeaderXFF}
	for _, c := range textlist.Split(s) {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return Proxies{}, fmt.Errorf("trusted proxies: %w", err)
		}
		out.nets = append(out.nets, p.Masked())
	}
	return out, nil
}

// MustParse is Parse for tests and constants; it panics on a bad list.
func MustParse(s string) Proxies {
	ps, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return ps
}

// WithHeader returns ps believing the header named by a --client-ip-header
// value (case-insensitive): x-forwarded-for, cf-connecting-ip, x-real-ip or
// none.
func (ps Proxies) WithHeader(name string) (Proxies, error) {
	h, ok := HeaderNames[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Proxies{}, fmt.Errorf("client IP header %q: want x-forwarded-for, cf-connecting-ip, x-real-ip or none", name)
	}
	ps.header = h
	return ps, nil
}

// Header is the one header whose value Resolve reads ("" for none).
func (ps Proxies) Header() string { return ps.header }

// Trusted reports whether a is one of the trusted proxies.
func (ps Proxies) Trusted(a netip.Addr) bool {
	for _, p := range ps.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve returns the client's address for a request from peer that
// carried forwarded (the value of the header Header names): peer itself
// unless it is trusted and a header is configured; otherwise forwarded is
// walked from the right, skipping trusted proxies, and the first other
// address is the client. A hop that does not parse ends the walk at peer.
func (ps Proxies) Resolve(peer netip.Addr, forwarded string) netip.Addr {
	peer = peer.Unmap()
	if ps.header == "" || !ps.Trusted(peer) {
		return peer
	}
	for h := forwarded; h != ""; {
		hop := h
		if i := strings.LastIndexByte(h, ','); i >= 0 {
			hop, h = h[i+1:], h[:i]
		} else {
			h = ""
		}
		a, err := netip.ParseAddr(strings.TrimSpace(hop))
		if err != nil {
			break
		}
		if a = a.Unmap(); !ps.Trusted(a) {
			return a
		}
	}
	return peer
}
