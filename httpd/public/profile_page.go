package public

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/httpd/social"
	"github.com/linkd/linkd/httpd/theme"
	"github.com/linkd/linkd/httpd/ui"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// Profile page tuning, kept together.
const (
	// profileCacheControl: see httpx.ProfileCacheControl.
	profileCacheControl = httpx.ProfileCacheControl
	// maxCachedPages bounds the rendered-page cache.
	maxCachedPages = 20000
)

// profileCSS is the page's layout; the theme supplies the variables.
const profileCSS = `*{box-sizing:border-box}html{background:var(--bg-solid)}` +
	`body{margin:0;min-height:100vh;background:var(--bg);background-attachment:fixed;color:var(--text);font:17px/1.5 var(--font)}` +
	`main{max-width:38rem;margin:0 auto;padding:2.5rem 1rem 1rem;text-align:center}` +
	`.avatar{width:96px;height:96px;border-radius:50%;object-fit:cover;border:3px solid var(--accent)}` +
	`.ph{display:inline-grid;place-items:center;background:var(--btn);color:var(--btn-text);font-size:2.6rem;font-weight:700}` +
	`h1{font-size:1.4rem;margin:.6rem 0 .2rem}.bio{margin:.2rem auto 1rem;max-width:30rem;white-space:pre-line}` +
	`ul{list-style:none;margin:0;padding:0}.social{display:flex;flex-wrap:wrap;justify-content:center;gap:.6rem;margin:0 0 1.2rem}` +
	`.social a{display:block;width:40px;height:40px;padding:8px;color:var(--text)}.social svg{width:24px;height:24px;fill:currentColor}` +
	`.links li{margin:0 0 .8rem}.btn{display:flex;align-items:center;gap:.7rem;min-height:3.4rem;padding:.5rem 1rem;` +
	`border:2px solid var(--btn-border);border-radius:var(--radius);background:var(--btn);color:var(--btn-text);` +
	`text-decoration:none;font-weight:600;text-align:left}.btn:hover,.btn:focus{transform:translateY(-1px);outline:3px solid var(--accent);outline-offset:2px}` +
	`.btn svg{width:22px;height:22px;fill:currentColor;flex:none}.btn img{width:40px;height:40px;border-radius:6px;object-fit:cover;flex:none}` +
	`.btn span{flex:1;text-align:center}.btn small{font-weight:400;font-size:.75rem;opacity:.8}` +
	`footer{text-align:center;padding:1rem;font-size:.8rem}footer a{color:var(--text);opacity:.7}`

var (
	profileTmpl = template.Must(template.New("").ParseFS(ui.FS, "public/profile.html"))
	warnTmpl    = template.Must(template.New("").ParseFS(ui.FS, "public/warn.html"))
)

// profilePage is the data of a rendered profile page.
type profilePage struct {
	Name, Handle, Description, URL, Image, Card string
	Avatar, Bio                                 string
	// Initial is the placeholder avatar's letter (no avatar uploaded).
	Initial       string
	CSS           template.CSS
	LD            any
	Social, Links []pageLink
	Icons         []pageIcon
}

type pageLink struct {
	Href, Title, Label, Icon, Thumb string
	Sensitive                       bool
}

type pageIcon struct {
	ID, ViewBox string
	Body        template.HTML // from the bundled icon sets, not from users
}

// renderedPage is a cached page with what its response needs.
type renderedPage struct {
	body, gzip []byte
	etag, csp  string
	gzipETag   string // the gzip body's own strong ETag
}

// renderCache holds rendered pages and images by a key that names their
// version (handle, profile version, and for pages which scheduled links
// show), so an edit is a miss and nothing needs purging. It is dropped
// whole when full: entries re-render in about a millisecond.
type renderCache[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]V
}

func (c *renderCache[V]) get(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *renderCache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = map[string]V{}
	}
	c.m[k] = v
}

// Profile serves /@{handle}[/og.png|/go/{code}].
func (h *Handler) Profile(ctx *fasthttp.RequestCtx, rest string) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		httpx.WritePage(ctx, fasthttp.StatusMethodNotAllowed, httpx.Page{Title: "Method not allowed", Message: "Profile pages can only be read."})
		return
	}
	handle, sub, _ := strings.Cut(rest, "/")
	p, err := h.st.ProfileByHandle(strings.ToLower(handle))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.log.Error("reading profile", "err", err)
		}
		httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NoProfile)
		return
	}
	switch {
	case sub == "":
		h.profilePage(ctx, p)
	case sub == "og.png":
		h.shareImage(ctx, p)
	case strings.HasPrefix(sub, "go/"):
		h.sensitiveWarning(ctx, p, strings.TrimPrefix(sub, "go/"))
	default:
		httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NoProfile)
	}
}

func (h *Handler) profilePage(ctx *fasthttp.RequestCtx, p *store.Profile) {
	now := time.Now()
	key := p.Handle + "\x00" + strconv.FormatInt(p.UpdatedAt, 36) + "\x00" + visibility(p, now.UnixMilli())
	page, ok := h.profiles.get(key)
	if !ok {
		var err error
		if page, err = h.renderProfile(p, now.UnixMilli()); err != nil {
			h.log.Error("rendering profile", "handle", p.Handle, "err", err)
			httpx.WritePage(ctx, fasthttp.StatusInternalServerError, httpx.Page{Title: "Something went wrong", Message: "Please try again in a moment."})
			return
		}
		h.profiles.put(key, page)
	}
	kind := clicks.KindClick
	if ctx.IsHead() {
		kind = clicks.KindPreview
	}
	h.record(ctx, []byte(p.PageCode), kind, now) // a page view
	hd := &ctx.Response.Header
	hd.Set("Content-Security-Policy", page.csp)
	hd.Set("Cache-Control", profileCacheControl)
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	// The gzip and identity bodies are different bytes, so they carry
	// different strong ETags (RFC 9110 8.8.3): a cache that stored one may
	// not answer a conditional request for the other with it.
	body, etag := page.body, page.etag
	gz := ctx.Request.Header.HasAcceptEncoding("gzip")
	if gz {
		body, etag = page.gzip, page.gzipETag
	}
	hd.Set("ETag", etag)
	if etagMatches(ctx.Request.Header.Peek("If-None-Match"), etag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetContentType("text/html; charset=utf-8")
	if gz {
		hd.Set("Content-Encoding", "gzip")
	}
	ctx.SetBody(body)
}

// etagMatches is If-None-Match's weak comparison: any listed tag (W/ or
// not) equal to etag, or "*".
func etagMatches(inm []byte, etag string) bool {
	for _, t := range strings.Split(string(inm), ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// initial is the first letter of name, upper-cased, for the placeholder
// avatar ("?" when the name has no letter or digit).
func initial(name string) string {
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return string(unicode.ToUpper(r))
		}
	}
	return "?"
}

// visibility fingerprints which links show at now.
func visibility(p *store.Profile, now int64) string {
	b := make([]byte, len(p.Links))
	for i := range p.Links {
		b[i] = '0'
		if p.Links[i].Visible(now) {
			b[i] = '1'
		}
	}
	return string(b)
}

// renderProfile renders the page, its gzip form, ETag and CSP (which
// allows exactly the page's own inline style, by hash).
func (h *Handler) renderProfile(p *store.Profile, now int64) (*renderedPage, error) {
	d := h.profileData(p, now)
	var b bytes.Buffer
	if err := profileTmpl.ExecuteTemplate(&b, "page", d); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b.Bytes())
	return &renderedPage{body: b.Bytes(), gzip: fasthttp.AppendGzipBytesLevel(nil, b.Bytes(), fasthttp.CompressBestCompression),
		etag: `"` + hex.EncodeToString(sum[:12]) + `"`, gzipETag: `"` + hex.EncodeToString(sum[:12]) + `-gz"`,
		csp: profileCSP(string(d.CSS))}, nil
}

// profileCSP allows no script at all, the one inline style by its hash,
// and images from this origin only.
func profileCSP(css string) string {
	h := sha256.Sum256([]byte(css))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(h[:]) +
		"'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// profileData assembles what the template shows.
func (h *Handler) profileData(p *store.Profile, now int64) profilePage {
	name := displayName(p)
	url := h.public + "/@" + p.Handle
	d := profilePage{Name: name, Handle: p.Handle, URL: url, Bio: p.Bio, Description: p.Bio,
		Image: url + "/og.png", Card: "summary_large_image"}
	if d.Description == "" {
		d.Description = "Links of " + name + "."
	}
	if p.Avatar != "" {
		d.Avatar = ops.ImageURL(p.Avatar)
		d.Image, d.Card = h.public+d.Avatar, "summary"
	} else {
		d.Initial = initial(name)
	}
	d.CSS = pageCSS(p)
	used := map[string]bool{}
	for _, l := range p.Links {
		if !l.Visible(now) {
			continue
		}
		pf := social.Detect(l.URL)
		// Absolute links: the page may be served on --profile-host or
		// through a CDN, where /{code} would not be the short link.
		pl := pageLink{Href: h.public + "/" + l.Code, Title: l.Title, Label: pf.Name, Icon: pf.ID, Sensitive: l.Sensitive}
		if l.Sensitive {
			pl.Href = url + "/go/" + l.Code
		}
		if l.Thumbnail != "" {
			pl.Thumb = ops.ImageURL(l.Thumbnail)
		} else {
			used[pf.ID] = true
		}
		if pl.Title == "" {
			pl.Title = pf.Name
		}
		if l.Social {
			used[pf.ID] = true
			d.Social = append(d.Social, pl)
		} else {
			d.Links = append(d.Links, pl)
		}
	}
	d.Icons = pageIcons(used)
	d.LD = profileLD(d)
	return d
}

// pageCSS is a page's whole style sheet: its theme's variables and the
// layout. Every value in it is a validated token.
func pageCSS(p *store.Profile) template.CSS {
	return template.CSS(":root{" + profileTheme(p).Vars(bgImage(p)) + "}" + profileCSS)
}

func profileTheme(p *store.Profile) theme.Theme {
	t, ok := theme.Find(p.Theme)
	if !ok {
		t = theme.Builtin[0]
	}
	return t.Apply(ops.ThemeCustom(p.Custom))
}

func bgImage(p *store.Profile) string {
	if p.Custom.BackgroundImage == "" {
		return ""
	}
	return ops.ImageURL(p.Custom.BackgroundImage)
}

// pageIcons returns the symbols for the icons a page uses, each once.
func pageIcons(used map[string]bool) []pageIcon {
	var out []pageIcon
	for _, id := range slices.Sorted(maps.Keys(used)) {
		if ic, ok := social.Lookup(id); ok {
			out = append(out, pageIcon{ID: id, ViewBox: ic.ViewBox, Body: template.HTML(ic.Body)})
		}
	}
	return out
}

// profileLD is the schema.org ProfilePage of the page, as JSON-LD.
func profileLD(d profilePage) any {
	person := map[string]any{"@type": "Person", "name": d.Name, "alternateName": "@" + d.Handle, "url": d.URL}
	if d.Bio != "" {
		person["description"] = d.Bio
	}
	if d.Avatar != "" {
		person["image"] = d.Image
	}
	var same []string
	for _, l := range d.Social {
		same = append(same, l.Href)
	}
	if same != nil {
		person["sameAs"] = same
	}
	return map[string]any{"@context": "https://schema.org", "@type": "ProfilePage", "mainEntity": person}
}

// warnPage is the model of the sensitive-link warning.
type warnPage struct {
	Name, Title, Href, Back string
	CSS                     template.CSS
}

// sensitiveWarning serves /@{handle}/go/{code}: a click-through warning
// before a link its owner marked sensitive.
func (h *Handler) sensitiveWarning(ctx *fasthttp.RequestCtx, p *store.Profile, code string) {
	for _, l := range p.Links {
		if l.Code != code || !l.Sensitive || !l.Visible(time.Now().UnixMilli()) {
			continue
		}
		d := warnPage{Name: displayName(p), Title: l.Title, Href: h.public + "/" + l.Code, Back: h.public + "/@" + p.Handle,
			CSS: pageCSS(p)}
		var b bytes.Buffer
		if err := warnTmpl.ExecuteTemplate(&b, "page", d); err != nil {
			h.log.Error("rendering warning", "err", err)
			return
		}
		ctx.Response.Header.Set("Content-Security-Policy", profileCSP(string(d.CSS)))
		ctx.Response.Header.Set("Cache-Control", profileCacheControl)
		ctx.SetContentType("text/html; charset=utf-8")
		ctx.SetBody(b.Bytes())
		return
	}
	httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NoProfile)
}

func displayName(p *store.Profile) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return "@" + p.Handle
}
