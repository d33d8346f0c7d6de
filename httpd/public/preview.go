package public

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/destination"
	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// previewPage serves /{code}+: where the link goes and, for a link with
// options, the options and which of them would apply to the person
// looking. A password-protected link's destinations are not shown.
// Every preview carries the "Report this link" form.
func (h *Handler) previewPage(ctx *fasthttp.RequestCtx, code string, e *store.Entry) {
	l, err := h.st.Link(code)
	if err != nil || l.LinkOptions.IsDefault() {
		v := previewView{Code: code, Short: h.ops.ShortURL(code), URL: string(e.URL)}
		if err == nil {
			v.Title = l.Title
		}
		h.renderPreview(ctx, v)
		return
	}
	now := time.Now()
	v := previewView{Code: code, Short: h.ops.ShortURL(code), Title: l.Title, URL: l.URL, Locked: l.PasswordHash != ""}
	o, _ := destination.Decompile(l.Program)
	if !v.Locked {
		for i, r := range o.Rules {
			v.Rules = append(v.Rules, previewItem{Label: fmt.Sprintf("Rule %d: if %s", i+1, describeCond(r.If)), URL: r.URL})
		}
		for i, va := range o.Variants {
			v.Variants = append(v.Variants, previewItem{Label: fmt.Sprintf("Variant %c: %d%% of visitors", 'A'+i, va.Weight), URL: va.URL})
		}
		var ev clicks.Event
		h.event(ctx, &ev, []byte(code), clicks.KindPreview, now)
		var dv destination.Visitor
		h.visitor(ctx, &ev, []byte(code), now.UnixMilli(), &dv, make([]byte, 0, 16))
		_, c, ok := destination.Match(l.Program, &dv)
		switch {
		case ok && c.Rule >= 0:
			v.Applies = fmt.Sprintf("Rule %d applies to you.", c.Rule+1)
		case ok && c.Variant >= 0:
			v.Applies = fmt.Sprintf("You would see variant %c.", 'A'+c.Variant)
		default:
			v.Applies = "No rule applies to you: you would go to the link's own destination."
		}
	}
	if l.StartsAt != 0 {
		v.Notes = append(v.Notes, "Available from "+time.UnixMilli(l.StartsAt).UTC().Format(time.RFC1123)+".")
	}
	if l.ExpiresAt != 0 {
		v.Notes = append(v.Notes, "Expires "+time.UnixMilli(l.ExpiresAt).UTC().Format(time.RFC1123)+".")
	}
	if l.MaxVisits != 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("Limited to %d visits.", l.MaxVisits))
	}
	if l.FallbackURL != "" && !v.Locked {
		v.Notes = append(v.Notes, "Afterwards it leads to "+l.FallbackURL+".")
	}
	if v.Locked {
		v.Notes = append(v.Notes, "This link is password protected; its destination is shown only after the password.")
		v.URL = ""
	}
	if !l.DropQuery {
		v.Notes = append(v.Notes, "Query parameters you add are passed on.")
	}
	if l.ForwardPath {
		v.Notes = append(v.Notes, "A path after the code is passed on.")
	}
	h.renderPreview(ctx, v)
}

func (h *Handler) renderPreview(ctx *fasthttp.RequestCtx, v previewView) {
	var b bytes.Buffer
	if err := previewTmpl.ExecuteTemplate(&b, "preview", v); err != nil {
		h.log.Error("rendering preview", "err", err)
		httpx.WritePage(ctx, fasthttp.StatusInternalServerError, httpx.Page{Title: "Something went wrong", Message: "Please try again in a moment."})
		return
	}
	httpx.WriteHTML(ctx, fasthttp.StatusOK, b.Bytes())
}

type previewItem struct{ Label, URL string }

type previewView struct {
	Code, Short, Title, URL string
	Locked                  bool
	Rules, Variants         []previewItem
	Applies                 string
	Notes                   []string
}

func describeCond(c destination.Cond) string {
	var parts []string
	add := func(name string, vals []string) {
		if len(vals) > 0 {
			parts = append(parts, name+" is "+strings.Join(vals, " or "))
		}
	}
	add("device", c.Device)
	add("OS", c.OS)
	add("language", c.Language)
	add("country", c.Country)
	for k, vs := range c.Query {
		if len(vs) == 0 {
			parts = append(parts, "query has "+k)
		} else {
			add("query "+k, vs)
		}
	}
	if c.From != "" {
		parts = append(parts, "from "+c.From)
	}
	if c.Until != "" {
		parts = append(parts, "until "+c.Until)
	}
	return strings.Join(parts, " and ")
}

// previewTmpl is the /{code}+ page: where the link goes, its options, and
// the report form (reportFormTmpl, shared with the 451 page).
var previewTmpl = template.Must(template.New("preview").Parse(reportFormTmpl + `{{define "preview"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Where this link goes · linkd</title>
<style>:root{color-scheme:light dark}body{margin:0;font:16px/1.5 system-ui,sans-serif;padding:1rem;display:grid;place-items:center}
main{max-width:40rem;width:100%}.dest{word-break:break-all;font-family:ui-monospace,monospace;font-size:.9rem}li{margin:.4rem 0}</style>
</head><body><main><h1>Where this link goes</h1><p>{{.Short}}{{if .Title}} · <strong>{{.Title}}</strong>{{end}}</p>
{{if .URL}}<p>Destination: <span class="dest">{{.URL}}</span></p>
<p><a href="{{.URL}}" rel="noopener noreferrer nofollow">Continue to this site</a></p>{{end}}
{{if .Rules}}<h2>Rules (first match wins)</h2><ol>{{range .Rules}}<li>{{.Label}} → <span class="dest">{{.URL}}</span></li>{{end}}</ol>{{end}}
{{if .Variants}}<h2>A/B split</h2><ul>{{range .Variants}}<li>{{.Label}} → <span class="dest">{{.URL}}</span></li>{{end}}</ul>{{end}}
{{if .Applies}}<p><strong>{{.Applies}}</strong></p>{{end}}
{{if .Notes}}<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p><small>linkd shows this preview because the link ends in “+”. Nothing was counted.</small></p>
{{template "report" .Code}}</main></body></html>{{end}}`))
