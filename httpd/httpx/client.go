package httpx

import (
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/internal/clientaddr"
)

// Peer is the address of the TCP peer.
func Peer(ctx *fasthttp.RequestCtx) netip.Addr {
	var a netip.Addr
	if ta, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		a, _ = netip.AddrFromSlice(ta.IP)
		a = a.Unmap()
	}
	return a
}

// Forwarded is the value of the one client-address header proxies are
// trusted for (--client-ip-header); nil when none is.
func Forwarded(ctx *fasthttp.RequestCtx, proxies clientaddr.Proxies) []byte {
	if proxies.Header() == "" {
		return nil
	}
	return ctx.Request.Header.Peek(proxies.Header())
}

// ClientKey is the address a request's budgets are kept under: the client
// as proxies resolves it, with IPv6 clients keyed by their /64, which one
// subscriber usually holds whole. It allocates only when the peer is a
// trusted proxy.
func ClientKey(ctx *fasthttp.RequestCtx, proxies clientaddr.Proxies) netip.Addr {
	a := Peer(ctx)
	if proxies.Trusted(a) {
		a = proxies.Resolve(a, string(Forwarded(ctx, proxies)))
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return a
}
