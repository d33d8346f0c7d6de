package console

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/internal/textlist"
	"github.com/linkd/linkd/store"
)

// Console list limits.
const (
	pageSize    = 50
	maxPageSize = 1000
)

func nowMs() int64 { return time.Now().UnixMilli() }

// formValues copies the named form fields.
func formValues(ctx *fasthttp.RequestCtx, names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = string(ctx.PostArgs().Peek(n))
	}
	return out
}

// formExpiry turns a datetime-local value (UTC) into RFC 3339; "" stays "".
func formExpiry(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if s, ok := localToRFC3339(v); ok {
		return s, nil
	}
	return "", errors.New("must be a date and time")
}

// localToRFC3339 reads a datetime-local form value (the console's times
// are UTC) as RFC 3339.
func localToRFC3339(v string) (string, bool) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339), true
		}
	}
	return "", false
}

func localTime(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04")
}

func (c *Console) linksPage(ctx *fasthttp.RequestCtx, rq request) { c.renderLinks(ctx, rq, view{}) }

func (c *Console) renderLinks(ctx *fasthttp.RequestCtx, rq request, v view) {
	args := ctx.QueryArgs()
	q, tag := strings.TrimSpace(string(args.Peek("q"))), strings.TrimSpace(string(args.Peek("tag")))
	domain := strings.TrimSpace(string(args.Peek("domain")))
	limit, err := strconv.Atoi(string(args.Peek("limit")))
	if err != nil || limit < 1 || limit > maxPageSize {
		limit = pageSize
	}
	cursor, _ := decodeCursor(string(args.Peek("cursor")))
	page, err := c.ops.Links(rq.se.p, ops.LinkQuery{All: args.Has("all"), After: cursor, Limit: limit, Q: q, Tag: tag, Domain: domain})
	if err != nil {
		c.log.Error("listing links", "err", err)
		c.errorPage(ctx, rq.se, fasthttp.StatusInternalServerError, "Something went wrong", "The links could not be listed.")
		return
	}
	keep := url.Values{}
	for k, val := range map[string]string{"q": q, "tag": tag, "domain": domain} {
		if val != "" {
			keep.Set(k, val)
		}
	}
	if limit != pageSize {
		keep.Set("limit", strconv.Itoa(limit))
	}
	data := &linksPage{Links: page.Links, Q: q, Tag: tag, Statuses: redirectChoices, First: cursor == nil, FirstQuery: keep.Encode(),
		OpenCreate: args.Has("new") || (len(page.Links) == 0 && cursor == nil && q == "" && tag == "" && domain == ""),
		Domains:    c.ops.UsableDomains(rq.se.p), Domain: domain}
	if page.Next != nil {
		next := url.Values{}
		for k, vs := range keep {
			next[k] = vs
		}
		next.Set("cursor", base64.RawURLEncoding.EncodeToString(page.Next))
		data.Next = next.Encode()
	}
	if v.Form == nil {
		v.Form = map[string]string{"redirectStatus": "302"}
	}
	v.Data = data
	c.renderForm(ctx, rq.se, "links", "Links", v)
}

func (c *Console) createLink(ctx *fasthttp.RequestCtx, rq request) {
	form := formValues(ctx, "url", "alias", "title", "tags", "expiresAt", "redirectStatus", "domain")
	req := ops.NewLink{URL: form["url"], Alias: strings.TrimSpace(form["alias"]), Title: form["title"], Tags: textlist.Split(form["tags"]),
		Domain: form["domain"]}
	var err error
	if exp := form["expiresAt"]; exp != "" {
		var e string
		if e, err = formExpiry(exp); err != nil {
			err = ops.Fail(ops.KindValidation, "The expiry is not a date and time.",
				ops.FieldError{Field: "expiresAt", Message: "must be a date and time"})
		}
		req.ExpiresAt = &e
	}
	if rs, convErr := strconv.Atoi(form["redirectStatus"]); convErr == nil {
		req.RedirectStatus = &rs
	}
	var l *store.Link
	if err == nil {
		l, _, err = c.ops.CreateLink(rq.se.p, req, ops.Idempotency{})
	}
	if err != nil {
		v := view{Form: form}
		c.show(&v, err)
		c.renderLinks(ctx, rq, v)
		return
	}
	seeOther(ctx, c.ops.ConsolePath(l.Code, "", "done=created"))
}

// linkForm is the edit form's values for l.
func linkForm(l *store.Link) map[string]string {
	f := map[string]string{"url": l.URL, "title": l.Title, "tags": strings.Join(l.Tags, ", "),
		"redirectStatus": strconv.Itoa(int(l.RedirectStatus))}
	if l.ExpiresAt != 0 {
		f["expiresAt"] = localTime(l.ExpiresAt)
	}
	optionForm(l, f)
	return f
}

func (c *Console) linkPage(ctx *fasthttp.RequestCtx, rq request, l *store.Link) {
	c.renderLink(ctx, rq, l, view{})
}

func (c *Console) renderLink(ctx *fasthttp.RequestCtx, rq request, l *store.Link, v view) {
	lv := c.ops.LinkView(l, nowMs())
	if v.Form == nil {
		v.Form = linkForm(l)
	}
	v.Data = &linkPage{Link: lv, Statuses: redirectChoices, QR: qrInline(lv.ShortURL)}
	c.renderForm(ctx, rq.se, "link", "Link "+l.Code, v)
}

func (c *Console) updateLink(ctx *fasthttp.RequestCtx, rq request, l *store.Link) {
	form := formValues(ctx, append([]string{"url", "title", "tags", "expiresAt", "redirectStatus"}, linkOptionFields...)...)
	patch := linkPatch(form)
	optionPatch(form, &patch)
	if _, err := c.ops.UpdateLink(rq.se.p, l.Code, patch); err != nil {
		v := view{Form: form}
		c.show(&v, err)
		foldOptionFields(&v)
		c.renderLink(ctx, rq, l, v)
		return
	}
	seeOther(ctx, c.ops.ConsolePath(l.Code, "", "done=saved"))
}

// linkPatch reads the edit form into a patch that sets every field.
func linkPatch(form map[string]string) ops.LinkPatch {
	p := ops.LinkPatch{}
	u, t := form["url"], form["title"]
	tags := textlist.Split(form["tags"])
	p.URL, p.Title, p.Tags = &u, &t, &tags
	exp, err := formExpiry(form["expiresAt"])
	p.Invalid.Add("expiresAt", err)
	p.ExpiresAt = &exp
	if rs, err := strconv.Atoi(form["redirectStatus"]); err == nil {
		p.RedirectStatus = &rs
	} else {
		p.Invalid.Add("redirectStatus", errors.New("must be one of 301, 302, 307, 308"))
	}
	return p
}

func (c *Console) deletePage(ctx *fasthttp.RequestCtx, rq request, l *store.Link) {
	c.render(ctx, rq.se, fasthttp.StatusOK, "delete", view{Title: "Delete " + l.Code, Nav: "links",
		Data: &deletePage{Link: c.ops.LinkView(l, nowMs())}})
}

func (c *Console) deleteLink(ctx *fasthttp.RequestCtx, rq request, l *store.Link) {
	if err := c.ops.DeleteLink(rq.se.p, l.Code); err != nil {
		c.failPage(ctx, rq.se, "Not deleted", err)
		return
	}
	seeOther(ctx, "/app/links?done=deleted")
}

func (c *Console) qrSVG(ctx *fasthttp.RequestCtx, _ request, l *store.Link) {
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="`+l.Code+`.svg"`)
	ctx.SetContentType("image/svg+xml")
	ctx.SetBody(qrSVG(c.ops.Public() + "/" + l.Code))
}

func (c *Console) qrPNG(ctx *fasthttp.RequestCtx, _ request, l *store.Link) {
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="`+l.Code+`.png"`)
	b, err := qrPNG(c.ops.Public()+"/"+l.Code, 512)
	if err != nil {
		c.log.Error("making QR PNG", "err", err)
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType("image/png")
	ctx.SetBody(b)
}

func decodeCursor(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) <= 8 {
		return nil, errors.New("bad cursor")
	}
	return b, nil
}

// linkCode is the code of the link stored under key (without its domain).
func linkCode(key string) string {
	_, code := store.SplitDomainCode(key)
	return code
}
