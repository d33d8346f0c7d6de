package public

import (
	"errors"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/profilepage"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// pixelGIF is a transparent 1×1 GIF, the view beacon's body.
var pixelGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// beacon serves /_/v/{handle}.gif, the view beacon a profile page loads
// (profilepage.BeaconPath). It, not the page, counts the view, so a page
// served from a CDN's cache is still counted, exactly once per load; it
// is sent with no-store so that no cache ever answers it. The event is
// classified like a page request (its User-Agent, DNT, forwarded address;
// HEAD is a preview), without the Referer, which is the page itself. An
// unknown handle counts nothing and leaves nothing behind: a view is
// counted under the profile's page code, which exists only for profiles.
func (h *Handler) beacon(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	handle, ok := strings.CutSuffix(strings.TrimPrefix(string(ctx.Path()), profilepage.BeaconPrefix), profilepage.BeaconSuffix)
	var p *store.Profile
	var err error
	if ok {
		p, err = h.st.ProfileByHandle(strings.ToLower(handle))
	}
	if !ok || err != nil {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.log.Error("reading profile", "err", err)
		}
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("no such profile\n")
		return
	}
	if h.clicks != nil {
		kind := clicks.KindClick
		if ctx.IsHead() {
			kind = clicks.KindPreview
		}
		var e clicks.Event
		h.event(ctx, &e, []byte(p.PageCode), kind, time.Now())
		e.SetReferer(nil)
		h.clicks.Record(&e)
	}
	ctx.SetContentType("image/gif")
	ctx.SetBody(pixelGIF)
}
