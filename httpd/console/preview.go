package console

import (
	"bytes"
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/profilepage"
	"github.com/linkd/linkd/store"
)

// The editor's live preview is the public page itself: the same renderer
// (httpd/profilepage) fed with the editor's unsaved form. The editor shows
// it in an iframe named "preview"; its "Update preview" button submits the
// form there (formtarget), and the script presses it as the user types.
// Nothing is saved and no view is counted.

// previewSaved serves GET /app/profile/preview: the saved page (or the
// page a new profile would start as).
func (c *Console) previewSaved(ctx *fasthttp.RequestCtx, rq request) {
	p, err := c.ops.Store().Profile(rq.se.p.Owner())
	if errors.Is(err, store.ErrNotFound) {
		p = &store.Profile{Handle: suggestHandle(rq.se.p.User.Email)}
	} else if err != nil {
		c.log.Error("reading profile", "err", err)
		c.errorPage(ctx, rq.se, fasthttp.StatusInternalServerError, "Something went wrong", "The profile could not be read.")
		return
	}
	c.writePreview(ctx, rq, p)
}

// previewDraft serves POST /app/profile/preview: the page the submitted
// editor form would save. Uploaded files are not looked at (an image shows
// once saved).
func (c *Console) previewDraft(ctx *fasthttp.RequestCtx, rq request) {
	mf, err := ctx.MultipartForm()
	if err != nil {
		c.errorPage(ctx, rq.se, fasthttp.StatusBadRequest, "Form not understood", "The form could not be read; reload the page and try again.")
		return
	}
	req, _ := profileRequest(readProfilePost(mf))
	c.writePreview(ctx, rq, c.ops.PreviewProfile(rq.se.p, req))
}

// writePreview renders p with the public page's renderer; its CSP is the
// public page's, except that the console may frame it.
func (c *Console) writePreview(ctx *fasthttp.RequestCtx, rq request, p *store.Profile) {
	var b bytes.Buffer
	css, err := profilepage.Render(&b, p, c.ops.Public(), time.Now().UnixMilli(), false)
	if err != nil {
		c.log.Error("rendering preview", "err", err)
		c.errorPage(ctx, rq.se, fasthttp.StatusInternalServerError, "Something went wrong", "The preview could not be shown.")
		return
	}
	ctx.Response.Header.Set("Content-Security-Policy", profilepage.CSP(css, "'self'"))
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetBody(b.Bytes())
}
