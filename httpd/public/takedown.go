package public

import (
	"bytes"
	"html/template"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
)

// takedownTmpl is the 451 page of a taken-down link: why, in plain words,
// and where the reporting policy is. It carries no script.
var takedownTmpl = template.Must(template.New("451").Parse(reportFormTmpl + `{{define "451"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Link unavailable · linkd</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}p{color:#57606a}</style>
</head><body><main>
<h1>Link unavailable</h1>
<p>This short link was taken down by the administrators of this service, so it no longer leads anywhere.</p>
<p><strong>Why:</strong> {{.Reason}}</p>
{{template "report" .Code}}
{{if .Contact}}<p>To report a link or to ask about this decision, read the <a href="{{.Contact}}">reporting policy</a>.</p>{{end}}
</main></body></html>
{{end}}`))

// blocked answers a taken-down link with 451 and why.
func (h *Handler) blocked(ctx *fasthttp.RequestCtx, code string) {
	reason := "It broke this service's rules on abuse (for example phishing, malware or spam)."
	if td, err := h.st.Takedown(code); err == nil && td.Reason != "" {
		reason = td.Reason + "."
	}
	var b bytes.Buffer
	if err := takedownTmpl.ExecuteTemplate(&b, "451", struct{ Code, Reason, Contact string }{code, reason, h.ops.AbuseContact()}); err != nil {
		httpx.WriteHTML(ctx, fasthttp.StatusUnavailableForLegalReasons, h.pages.Blocked)
		return
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	httpx.WriteHTML(ctx, fasthttp.StatusUnavailableForLegalReasons, b.Bytes())
}

// reportFormTmpl is the "Report this link" form of the preview and 451
// pages: a plain form posted to the reports API (no script).
const reportFormTmpl = `{{define "report"}}<details><summary>Report this link</summary>
<form method="post" action="/api/v1/reports"><input type="hidden" name="code" value="{{.}}">
<p><label>Reason <select name="reason" required><option value="phishing">Phishing</option><option value="malware">Malware</option>
<option value="spam">Spam</option><option value="illegal">Illegal content</option><option value="other">Other</option></select></label></p>
<p><label>Details (optional)<br><textarea name="note" maxlength="1000" rows="3" cols="40"></textarea></label></p>
<p><button type="submit">Send report</button></p></form></details>{{end}}`
