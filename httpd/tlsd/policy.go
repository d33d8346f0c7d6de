package tlsd

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// Policy decides, per host name, everything HTTPS does for it. It is the
// one place the host list lives: certificates are ordered, loaded and
// served only for Allowed hosts, so an unknown SNI gets no certificate and
// never causes an order.
//
// StaticHosts backs it with the host of --public-url and --profile-host
// and the global --https-redirect and --hsts flags; WithDomains adds the
// replicated domain table (each domain's host, with its own redirect and
// HSTS opt-ins) and refreshes the server when the table changes.
type Policy interface {
	// Hosts lists the host names to hold certificates for.
	Hosts() []string
	// Allowed reports whether host (lower case, no port) is one of them.
	Allowed(host string) bool
	// Redirect reports whether plain HTTP requests for host are answered
	// with a 308 to HTTPS.
	Redirect(host string) bool
	// HSTS reports whether HTTPS answers for host carry
	// Strict-Transport-Security.
	HSTS(host string) bool
}

// StaticHosts is a fixed host list with one redirect and one HSTS choice
// for all of them.
type StaticHosts struct {
	List        []string
	RedirectAll bool
	HSTSAll     bool
}

// NewStaticHosts returns the policy for the hosts of the given URLs or host
// names (empty ones are skipped; IP addresses and "localhost" too, as no
// public CA issues for them), with one redirect and HSTS choice.
func NewStaticHosts(redirect, hsts bool, urlsOrHosts ...string) *StaticHosts {
	p := &StaticHosts{RedirectAll: redirect, HSTSAll: hsts}
	for _, s := range urlsOrHosts {
		h := HostOf(s)
		if h == "" || h == "localhost" || net.ParseIP(h) != nil || slices.Contains(p.List, h) {
			continue
		}
		p.List = append(p.List, h)
	}
	return p
}

// HostOf returns the lower-case host name of a URL ("https://sho.rt:8443/x")
// or of a bare host name ("bio.example").
func HostOf(s string) string {
	if s == "" {
		return ""
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		return strings.ToLower(u.Hostname())
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

func (p *StaticHosts) Hosts() []string           { return slices.Clone(p.List) }
func (p *StaticHosts) Allowed(host string) bool  { return slices.Contains(p.List, host) }
func (p *StaticHosts) Redirect(host string) bool { return p.RedirectAll && p.Allowed(host) }
func (p *StaticHosts) HSTS(host string) bool     { return p.HSTSAll && p.Allowed(host) }
