package console

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/destination"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/store"
)

// The link page's option fields. Rules and variants are JSON textareas;
// the password is write-only (empty keeps it, "removePassword" drops it).
var linkOptionFields = []string{"password", "removePassword", "startsAt", "fallbackUrl", "maxVisits",
	"forwardQuery", "forwardPath", "queryPrecedence", "rules", "variants"}

func init() {
	for name, s := range map[string]fieldSpec{
		"password":    {Label: "Password", Type: "password", Hint: "optional; empty keeps the current one", Auto: "new-password", Secret: true},
		"startsAt":    {Label: "Available from", Type: "datetime-local", Hint: "optional, UTC; before it visitors see “not yet available”"},
		"fallbackUrl": {Label: "Fallback URL", Type: "url", Hint: "optional; after expiry or the visit limit, instead of “gone”"},
		"maxVisits":   {Label: "Visit limit", Type: "number", Hint: "human visits; empty or 0 for none"},
	} {
		fieldSpecs["link"][name] = s
	}
}

// optionForm adds l's options to the edit form's values.
func optionForm(l *store.Link, f map[string]string) {
	v := ops.OptionsView(&l.LinkOptions)
	f["startsAt"] = localTime(l.StartsAt)
	f["fallbackUrl"] = l.FallbackURL
	if l.MaxVisits > 0 {
		f["maxVisits"] = strconv.FormatUint(l.MaxVisits, 10)
	}
	f["forwardQuery"], f["forwardPath"] = checked(v.ForwardQuery), checked(v.ForwardPath)
	f["queryPrecedence"] = v.QueryPrecedence
	if len(v.Rules) > 0 {
		b, _ := json.MarshalIndent(v.Rules, "", "  ")
		f["rules"] = string(b)
	}
	if len(v.Variants) > 0 {
		b, _ := json.MarshalIndent(v.Variants, "", "  ")
		f["variants"] = string(b)
	}
}

func checked(b bool) string {
	if b {
		return "on"
	}
	return ""
}

// optionPatch reads the option fields of the edit form (which sets every
// option, as the rest of the form does).
func optionPatch(form map[string]string, p *ops.LinkPatch) {
	o := &p.Options
	switch {
	case form["removePassword"] == "on":
		o.Password = new(string)
	case form["password"] != "":
		pw := form["password"]
		o.Password = &pw
	}
	starts, err := formExpiry(form["startsAt"])
	p.Invalid.Add("startsAt", err)
	fb := strings.TrimSpace(form["fallbackUrl"])
	o.StartsAt, o.FallbackURL = &starts, &fb
	var maxv uint64
	if s := strings.TrimSpace(form["maxVisits"]); s != "" {
		if maxv, err = strconv.ParseUint(s, 10, 64); err != nil {
			p.Invalid.Add("maxVisits", errNotCount)
		}
	}
	o.MaxVisits = &maxv
	fq, fp, qp := form["forwardQuery"] == "on", form["forwardPath"] == "on", form["queryPrecedence"]
	if qp == "" {
		qp = ops.PrecedenceDestination
	}
	o.ForwardQuery, o.ForwardPath, o.QueryPrecedence = &fq, &fp, &qp
	rules, variants := []destination.Rule{}, []destination.Variant{}
	if s := strings.TrimSpace(form["rules"]); s != "" && json.Unmarshal([]byte(s), &rules) != nil {
		p.Invalid.Add("rules", errNotJSON)
	}
	if s := strings.TrimSpace(form["variants"]); s != "" && json.Unmarshal([]byte(s), &variants) != nil {
		p.Invalid.Add("variants", errNotJSON)
	}
	o.Rules, o.Variants = &rules, &variants
}

type formErr string

func (e formErr) Error() string { return string(e) }

const (
	errNotCount = formErr("must be a whole number")
	errNotJSON  = formErr(`must be a JSON list, like [{"if": {"os": ["ios"]}, "url": "https://…"}]`)
)

// promoteVariant makes a variant the link's URL (the analytics page's
// "promote winner").
func (c *Console) promoteVariant(ctx *fasthttp.RequestCtx, rq request, l *store.Link) {
	i, err := strconv.Atoi(string(ctx.PostArgs().Peek("variant")))
	if err == nil {
		_, err = c.ops.PromoteVariant(rq.se.p, l.Code, i)
	} else {
		err = ops.Fail(ops.KindValidation, "Say which variant to promote.")
	}
	if err != nil {
		c.failPage(ctx, rq.se, "Not promoted", err)
		return
	}
	seeOther(ctx, c.ops.ConsolePath(l.Code, "", "done=saved"))
}

// foldOptionFields shows errors inside the rules and variants lists
// ("rules[2].if.os: ...") on their textarea.
func foldOptionFields(v *view) {
	for k, msg := range v.Fields {
		for _, list := range []string{"rules", "variants"} {
			if strings.HasPrefix(k, list+"[") {
				v.Fields[list] = strings.TrimSpace(v.Fields[list] + " " + k + ": " + msg)
			}
		}
	}
}
