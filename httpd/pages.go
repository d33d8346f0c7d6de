package httpd

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

type pageData struct {
	Title, Message, Detail string
	URL, LinkTitle         string
}

func renderPage(d pageData) []byte {
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, d); err != nil {
		panic(err) // the template and its data are ours; this is a bug
	}
	return b.Bytes()
}

// writePage answers with an HTML page.
func writePage(ctx *fasthttp.RequestCtx, status int, d pageData) {
	writeHTML(ctx, status, renderPage(d))
}

func writeHTML(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set("Content-Security-Policy", pageCSP)
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
	ctx.SetBody(body)
}

// statusPages are the redirect path's error pages, rendered once.
type statusPages struct{ notFound, gone, expired, blocked, noProfile []byte }

func newStatusPages() statusPages {
	return statusPages{
		notFound: renderPage(pageData{Title: "Link not found", Message: "There is no link at this address. Check it for typos."}),
		gone:     renderPage(pageData{Title: "Link deleted", Message: "This link was deleted by its owner and no longer leads anywhere."}),
		expired:  renderPage(pageData{Title: "Link expired", Message: "This link has expired and no longer leads anywhere."}),
		blocked: renderPage(pageData{Title: "Link unavailable",
			Message: "This link has been disabled for legal or abuse reasons and is unavailable."}),
		noProfile: renderPage(pageData{Title: "Page not found", Message: "There is no profile at this address. Check the handle for typos."}),
	}
}
