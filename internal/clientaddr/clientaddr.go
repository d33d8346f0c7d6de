// Package clientaddr decides which address a request comes from: the peer,
// or, when the peer is a trusted proxy, the last untrusted hop it forwarded.
// It is the one trusted-proxy list of a node: rate limits (httpd) and
// analytics (node/clicks) both ask it, so they never disagree about who a
// visitor is. It knows nothing about HTTP libraries; callers pass the
// forwarded header's value.
package clientaddr

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/linkd/linkd/internal/textlist"
)

// Proxies is the list of trusted proxy prefixes. The zero value trusts no
// one, so forwarded headers are ignored.
type Proxies []netip.Prefix

// Parse reads a comma-separated list of CIDRs (the --trusted-proxies flag).
func Parse(s string) (Proxies, error) {
	var out Proxies
	for _, c := range textlist.Split(s) {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %w", err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Trusted reports whether a is one of the trusted proxies.
func (ps Proxies) Trusted(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve returns the client's address for a request from peer that
// carried forwarded (the value of CF-Connecting-IP or X-Forwarded-For):
// peer itself unless it is trusted; otherwise forwarded is walked from the
// right, skipping trusted proxies, and the first other address is the
// client. A hop that does not parse ends the walk at peer.
func (ps Proxies) Resolve(peer netip.Addr, forwarded string) netip.Addr {
	peer = peer.Unmap()
	if !ps.Trusted(peer) {
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
