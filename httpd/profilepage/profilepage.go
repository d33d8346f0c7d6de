// Package profilepage renders a link-in-bio page: the one renderer behind
// the public /@handle page (httpd/public) and the console editor's live
// preview (httpd/console), so the preview is the page. It knows nothing of
// HTTP; it imports the store's profile, the theme and the icon sets, and
// nothing above them but ops' image URLs.
package profilepage

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"maps"
	"slices"
	"unicode"

	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/httpd/social"
	"github.com/linkd/linkd/httpd/theme"
	"github.com/linkd/linkd/httpd/ui"
	"github.com/linkd/linkd/store"
)

// layoutCSS is the page's layout; the theme supplies the variables.
const layoutCSS = `*{box-sizing:border-box}html{background:var(--bg-solid)}` +
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
	`footer{text-align:center;padding:1rem;font-size:.8rem}footer a{color:var(--text);opacity:.7}.vb{position:absolute;opacity:0}`

var (
	pageTmpl = template.Must(template.New("").ParseFS(ui.FS, "public/profile.html"))
	warnTmpl = template.Must(template.New("").ParseFS(ui.FS, "public/warn.html"))
)

// page is the data of a rendered profile page.
type page struct {
	Name, Handle, Description, URL, Image, Card string
	Avatar, Bio                                 string
	// Initial is the placeholder avatar's letter (no avatar uploaded).
	Initial       string
	CSS           template.CSS
	LD            any
	Social, Links []pageLink
	Icons         []pageIcon
	// Beacon is the view beacon's path (BeaconPath), empty for the
	// console's preview.
	Beacon string
}

type pageLink struct {
	Href, Title, Label, Icon, Thumb string
	Sensitive                       bool
}

type pageIcon struct {
	ID, ViewBox string
	Body        template.HTML // from the bundled icon sets, not from users
}

// BeaconPrefix and BeaconSuffix frame a handle in the view beacon's path.
const BeaconPrefix, BeaconSuffix = "/_/v/", ".gif"

// BeaconPath is the path of p's view beacon: a 1×1 image the page loads
// from its own origin (relative, so img-src 'self' allows it on every
// host the page is served from), which counts the view even when a CDN
// served the page from its cache.
func BeaconPath(handle string) string { return BeaconPrefix + handle + BeaconSuffix }

// Render writes p's page as it shows at now (Unix ms) to w, with links
// absolute under public (the page may be served on --profile-host or
// through a CDN). With beacon the page carries its view beacon (the public
// page); without it (the console's live preview) loading it counts
// nothing. It returns the page's one inline style sheet, for CSP.
func Render(w *bytes.Buffer, p *store.Profile, public string, now int64, beacon bool) (css string, err error) {
	d := data(p, public, now)
	if beacon {
		d.Beacon = BeaconPath(p.Handle)
	}
	return string(d.CSS), pageTmpl.ExecuteTemplate(w, "page", d)
}

// RenderWarning writes the click-through warning shown before a link
// marked sensitive (l) and returns its style sheet.
func RenderWarning(w *bytes.Buffer, p *store.Profile, l *store.ProfileLink, public string) (css string, err error) {
	d := struct {
		Name, Title, Href, Back string
		CSS                     template.CSS
	}{DisplayName(p), l.Title, public + "/" + l.Code, public + "/@" + p.Handle, CSS(p)}
	return string(d.CSS), warnTmpl.ExecuteTemplate(w, "page", d)
}

// CSP allows no script at all, the one inline style by its hash, and images
// from this origin only. frameAncestors is the frame-ancestors source list:
// "'none'" for the public page, "'self'" for the console's preview.
func CSP(css, frameAncestors string) string {
	h := sha256.Sum256([]byte(css))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(h[:]) +
		"'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors " + frameAncestors
}

// Visibility fingerprints which links show at now (a cache key part).
func Visibility(p *store.Profile, now int64) string {
	b := make([]byte, len(p.Links))
	for i := range p.Links {
		b[i] = '0'
		if p.Links[i].Visible(now) {
			b[i] = '1'
		}
	}
	return string(b)
}

// data assembles what the template shows.
func data(p *store.Profile, public string, now int64) page {
	name := DisplayName(p)
	url := public + "/@" + p.Handle
	d := page{Name: name, Handle: p.Handle, URL: url, Bio: p.Bio, Description: p.Bio,
		Image: url + "/og.png", Card: "summary_large_image"}
	if d.Description == "" {
		d.Description = "Links of " + name + "."
	}
	if p.Avatar != "" {
		d.Avatar = ops.ImageURL(p.Avatar)
		d.Image, d.Card = public+d.Avatar, "summary"
	} else {
		d.Initial = initial(name)
	}
	d.CSS = CSS(p)
	used := map[string]bool{}
	for _, l := range p.Links {
		if !l.Visible(now) {
			continue
		}
		pf := social.Detect(l.URL)
		pl := pageLink{Href: public + "/" + l.Code, Title: l.Title, Label: pf.Name, Icon: pf.ID, Sensitive: l.Sensitive}
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
	d.Icons = icons(used)
	d.LD = linkedData(d)
	return d
}

// CSS is a page's whole style sheet: its theme's variables and the
// layout. Every value in it is a validated token.
func CSS(p *store.Profile) template.CSS {
	return template.CSS(":root{" + Theme(p).Vars(bgImage(p)) + "}" + layoutCSS)
}

// Theme is p's theme with its customisations applied.
func Theme(p *store.Profile) theme.Theme {
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

// icons returns the symbols for the icons a page uses, each once.
func icons(used map[string]bool) []pageIcon {
	var out []pageIcon
	for _, id := range slices.Sorted(maps.Keys(used)) {
		if ic, ok := social.Lookup(id); ok {
			out = append(out, pageIcon{ID: id, ViewBox: ic.ViewBox, Body: template.HTML(ic.Body)})
		}
	}
	return out
}

// linkedData is the schema.org ProfilePage of the page, as JSON-LD.
func linkedData(d page) any {
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

// DisplayName is the name a page shows: the display name, or @handle.
func DisplayName(p *store.Profile) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return "@" + p.Handle
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
