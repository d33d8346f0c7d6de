package console

import (
	"errors"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

// domainsPage is the admins' domains page: add, delegate, change and
// delete the domains links and profiles are served on.
type domainsPage struct {
	Default string
	Domains []domainRow
}

type domainRow struct {
	ops.Domain
	DelegateEmail string
}

func (c *Console) domainsPage(ctx *fasthttp.RequestCtx, rq request) { c.renderDomains(ctx, rq, view{}) }

func (c *Console) renderDomains(ctx *fasthttp.RequestCtx, rq request, v view) {
	data := &domainsPage{Default: c.ops.DefaultHost()}
	for _, d := range c.ops.Domains(rq.se.p) {
		row := domainRow{Domain: ops.DomainView(d)}
		if d.Delegate != 0 {
			if u, err := c.ops.User(d.Delegate); err == nil {
				row.DelegateEmail = u.Email
			}
		}
		data.Domains = append(data.Domains, row)
	}
	v.Data = data
	if v.Form == nil {
		v.Form = map[string]string{"kind": "links"}
	}
	c.renderForm(ctx, rq.se, "domains", "Domains", v)
}

// domainInput reads the add and change forms. The delegate is given by
// email (empty: admins only).
func (c *Console) domainInput(f map[string]string) ops.DomainInput {
	in := ops.DomainInput{Host: f["host"]}
	for name, dst := range map[string]**string{"kind": &in.Kind, "rootUrl": &in.RootURL, "notFoundUrl": &in.NotFoundURL} {
		v := strings.TrimSpace(f[name])
		*dst = &v
	}
	if *in.Kind == "" {
		in.Kind = nil
	}
	var id uint64
	if email := strings.TrimSpace(f["delegate"]); email != "" {
		u, err := c.ops.UserByEmail(email)
		if err != nil {
			in.Invalid.Add("delegate", errors.New("no user has this email"))
		}
		id = u
	}
	in.Delegate = &id
	return in
}

var domainFields = []string{"host", "kind", "rootUrl", "notFoundUrl", "delegate"}

func (c *Console) afterDomain(ctx *fasthttp.RequestCtx, rq request, f map[string]string, err error) {
	if err != nil {
		v := view{Form: f}
		c.show(&v, err)
		c.renderDomains(ctx, rq, v)
		return
	}
	seeOther(ctx, "/app/admin/domains?done=saved")
}

func (c *Console) addDomain(ctx *fasthttp.RequestCtx, rq request) {
	f := formValues(ctx, domainFields...)
	_, err := c.ops.CreateDomain(rq.se.p, c.domainInput(f))
	c.afterDomain(ctx, rq, f, err)
}

func (c *Console) changeDomain(ctx *fasthttp.RequestCtx, rq request) {
	f := formValues(ctx, domainFields...)
	_, err := c.ops.UpdateDomain(rq.se.p, rq.ID, c.domainInput(f))
	c.afterDomain(ctx, rq, nil, err)
}

func (c *Console) deleteDomain(ctx *fasthttp.RequestCtx, rq request) {
	c.afterDomain(ctx, rq, nil, c.ops.DeleteDomain(rq.se.p, rq.ID))
}
