package httpx

import (
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/internal/clientaddr"
)

var (
	hdrCFConnecting = []byte("CF-Connecting-IP")
	hdrXFF          = []byte("X-Forwarded-For")
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

// Forwarded is the forwarding header a proxy sets: CF-Connecting-IP, or
// else X-Forwarded-For.
func Forwarded(ctx *fasthttp.RequestCtx) []byte {
	h := ctx.Request.Header.PeekBytes(hdrCFConnecting)
	if len(h) == 0 {
		h = ctx.Request.Header.PeekBytes(hdrXFF)
	}
	return h
}

// ClientKey is the address a request's budgets are kept under: the client
// as proxies resolves it, with IPv6 clients keyed by their /64, which one
// subscriber usually holds whole. It allocates only when the peer is a
// trusted proxy.
func ClientKey(ctx *fasthttp.RequestCtx, proxies clientaddr.Proxies) netip.Addr {
	a := Peer(ctx)
	if proxies.Trusted(a) {
		a = proxies.Resolve(a, string(Forwarded(ctx)))
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return a
}
