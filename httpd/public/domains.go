package public

import (
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// Host routing (issue 16). A request's Host header (port stripped, lower
// case, no trailing dot) picks its site:
//
//   - a configured domain: its links (keyed "<host>/<code>"), its root and
//     not-found redirects, and for kind profiles/both its profile pages at
//     /{handle};
//   - the default domain (the host of --public-url), any IP literal (nodes
//     are reached by address by operators and health checks), and every
//     host while no domain is configured (linkd's behaviour before
//     domains): the bare codes;
//   - any other host: a 404 page saying the domain is not served here,
//     counted as an orphan visit under that host (the orphan table keeps at
//     most 100 hosts a day, then "(other)").
//
// X-Forwarded-Host is not used: proxies in front of linkd (nginx, Varnish,
// CDNs) pass Host through, and a forwarded host would let any client that
// reaches linkd through a proxy pick another domain's links.
//
// The lookup reads the store's DomainSet, an immutable map swapped when a
// domain command is applied, so it takes no lock and allocates nothing.

// site is where a request's host leads.
type site uint8

const (
	siteDefault site = iota
	siteDomain
	siteUnknown
)

// hostBuf holds a normalised host: the longest domain host, so anything
// longer is no configured domain.
type hostBuf [validate.MaxDomainHostLen]byte

// keyBuf holds a link key "<host>/<code>". The redirect path takes one
// from keyBufs: a buffer on its stack would escape (the key reaches the
// click event and the pages), costing an allocation per request.
type keyBuf [validate.MaxDomainHostLen + 1 + 64]byte

var keyBufs = sync.Pool{New: func() any { return new(keyBuf) }}

// siteOf classifies the request's host, normalising it into hb.
func (h *Handler) siteOf(ctx *fasthttp.RequestCtx, hb *hostBuf) (host []byte, d *store.Domain, s site) {
	raw := ctx.Host()
	if len(raw) > 0 && raw[0] == '[' {
		return nil, nil, siteDefault // an IPv6 literal
	}
	for i := len(raw) - 1; i >= 0; i-- {
		if raw[i] == ':' {
			raw = raw[:i]
			break
		}
	}
	if n := len(raw); n > 0 && raw[n-1] == '.' {
		raw = raw[:n-1]
	}
	ds := h.st.Domains()
	if len(raw) == 0 || ds.Len() == 0 {
		return nil, nil, siteDefault
	}
	if len(raw) > len(hb) {
		return raw, nil, siteUnknown
	}
	n := 0
	for _, c := range raw {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		hb[n] = c
		n++
	}
	host = hb[:n]
	if d, ok := ds.Lookup(host); ok {
		return host, d, siteDomain
	}
	if string(host) == h.defaultHost || string(host) == h.profileHost || (host[n-1] >= '0' && host[n-1] <= '9') {
		// A last label of digits is an IPv4 address (no TLD is numeric).
		return host, nil, siteDefault
	}
	return host, nil, siteUnknown
}

// Site serves every public path that is not under /_/, /@ or /api/: the
// root, the links and the profile pages of the request's host.
func (h *Handler) Site(ctx *fasthttp.RequestCtx) {
	var hb hostBuf
	host, d, s := h.siteOf(ctx, &hb)
	path := ctx.Path()
	switch {
	case s == siteUnknown:
		h.unknownHost(ctx)
	case len(path) <= 1 && d != nil && d.RootURL != "":
		h.m.Redirects.Inc()
		h.domainRedirect(ctx, d.RootURL)
	case len(path) <= 1:
		h.Home(ctx)
	case d != nil && d.Kind == store.DomainProfiles:
		h.Profile(ctx, string(path[1:]))
	default:
		h.redirect(ctx, host, d)
	}
}

// unknownHost answers a host that is no configured domain.
func (h *Handler) unknownHost(ctx *fasthttp.RequestCtx) {
	h.m.NotFound.Inc()
	code := ctx.Path()
	if len(code) > 0 {
		code = code[1:]
	}
	h.record(ctx, code, clicks.KindOrphan, time.Now())
	httpx.WritePage(ctx, fasthttp.StatusNotFound, httpx.Page{Title: "Domain not served here",
		Message: "This address does not belong to any domain configured on this link service.",
		Detail:  "If you run it, add the domain with POST /api/v1/domains or linkd domain add."})
}

// notFound answers a code with no link on the site: the domain's
// not-found redirect, or the profile with that handle on a domain of kind
// both, or the 404 page.
func (h *Handler) notFound(ctx *fasthttp.RequestCtx, d *store.Domain, code []byte) {
	switch {
	case d != nil && d.Kind == store.DomainBoth && len(code) > 0:
		h.Profile(ctx, string(code))
	case d != nil && d.NotFoundURL != "":
		h.m.NotFound.Inc()
		h.domainRedirect(ctx, d.NotFoundURL)
	default:
		h.m.NotFound.Inc()
		httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NotFound)
	}
}

// domainRedirect answers with a domain's root or not-found redirect, never
// cacheable (whatever --redirect-max-age says): the answer follows the
// domain's settings, and no domain change purges the CDN (the outbox
// purges the URLs of links and profiles), so a cached copy would outlive
// a changed rootUrl or notFoundUrl by up to the max-age.
func (h *Handler) domainRedirect(ctx *fasthttp.RequestCtx, loc string) {
	h.redirectTo(ctx, fasthttp.StatusFound, []byte(loc))
	ctx.Response.Header.SetCanonical(hdrCacheControl, valNoStore)
}

// linkKey appends the store key of code on the site (host and d from
// siteOf) to kb: the bare code on the default domain.
func linkKey(kb *keyBuf, host []byte, d *store.Domain, code []byte) []byte {
	if d == nil {
		return code
	}
	return store.AppendDomainCode(kb[:0], host, code)
}
