package httpx

import (
	"bytes"
	"embed"
	"html/template"

	"github.com/valyala/fasthttp"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageTmpl renders every small HTML page the public side shows (errors,
// previews). Parsed once; templates are immutable after parsing.
var pageTmpl = template.Must(template.ParseFS(templateFS, "templates/page.html"))

// pageCSP forbids everything a page might load except its own inline style:
// these pages show attacker-chosen URLs and must not run anything.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Page is the content of a small HTML page.
type Page struct {
	Title, Message, Detail string
	URL, LinkTitle         string
	// Action and ActionURL, when set, are a button to one of our own pages
	// (the home page's "Open the console").
	Action, ActionURL string
}

func renderPage(d Page) []byte {
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, d); err != nil {
		panic(err) // the template and its data are ours; this is a bug
	}
	return b.Bytes()
}

// WritePage answers with an HTML page.
func WritePage(ctx *fasthttp.RequestCtx, status int, d Page) {
	WriteHTML(ctx, status, renderPage(d))
}

// WriteHTML answers with a rendered HTML page under the public pages' CSP.
func WriteHTML(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set("Content-Security-Policy", pageCSP)
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
	ctx.SetBody(body)
}

// StatusPages are the redirect path's error pages, rendered once.
type StatusPages struct{ NotFound, Gone, Expired, Blocked, NoProfile []byte }

// NewStatusPages renders the status pages.
func NewStatusPages() StatusPages {
	return StatusPages{
		NotFound: renderPage(Page{Title: "Link not found", Message: "There is no link at this address. Check it for typos."}),
		Gone:     renderPage(Page{Title: "Link deleted", Message: "This link was deleted by its owner and no longer leads anywhere."}),
		Expired:  renderPage(Page{Title: "Link expired", Message: "This link has expired and no longer leads anywhere."}),
		Blocked: renderPage(Page{Title: "Link unavailable",
			Message: "This link has been disabled for legal or abuse reasons and is unavailable."}),
		NoProfile: renderPage(Page{Title: "Page not found", Message: "There is no profile at this address. Check the handle for typos."}),
	}
}

// ProfileCacheControl is the caching of a profile (page and API): a CDN
// may serve it for a minute and, while it revalidates, for ten more;
// browsers always revalidate (ETag), so an edit shows on the next load that
// reaches linkd.
const ProfileCacheControl = "public, max-age=0, s-maxage=60, stale-while-revalidate=600"
