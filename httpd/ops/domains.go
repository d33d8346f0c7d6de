package ops

import (
	"errors"
	"net"
	"net/url"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/internal/patch"
	"github.com/linkd/linkd/store"
)

// MaxDomains is the most domains a cluster holds (checked in Apply).
const MaxDomains = 100

// Domain is a domain as the API shows it.
type Domain struct {
	Host          string  `json:"host"`
	Kind          string  `json:"kind"`
	RootURL       string  `json:"rootUrl"`
	NotFoundURL   string  `json:"notFoundUrl"`
	Delegate      *uint64 `json:"delegate"`
	HTTPSRedirect bool    `json:"httpsRedirect"`
	HSTS          bool    `json:"hsts"`
	CreatedAt     string  `json:"createdAt"`
	UpdatedAt     string  `json:"updatedAt"`
}

// DomainView shows d.
func DomainView(d *store.Domain) Domain {
	v := Domain{Host: d.Host, Kind: d.Kind.String(), RootURL: d.RootURL, NotFoundURL: d.NotFoundURL,
		HTTPSRedirect: d.HTTPSRedirect, HSTS: d.HSTS, CreatedAt: MsTime(d.CreatedAt), UpdatedAt: MsTime(d.UpdatedAt)}
	if d.Delegate != 0 {
		id := d.Delegate
		v.Delegate = &id
	}
	return v
}

// DomainInput is a domain to add, or (with nil meaning "keep") a change.
type DomainInput struct {
	Host          string  `json:"host"`
	Kind          *string `json:"kind"`
	RootURL       *string `json:"rootUrl"`
	NotFoundURL   *string `json:"notFoundUrl"`
	Delegate      *uint64 `json:"delegate"` // 0 takes the delegation back
	HTTPSRedirect *bool   `json:"httpsRedirect"`
	HSTS          *bool   `json:"hsts"`
	Invalid       Fields  `json:"-"`
}

// domainFields validates the optional fields of in.
func (o *Ops) domainFields(in DomainInput, errs *Fields) (kind *uint8, root, nf *string) {
	if in.Kind != nil {
		k, ok := store.ParseDomainKind(*in.Kind)
		if !ok {
			errs.Add("kind", errors.New(`must be "links", "profiles" or "both"`))
		}
		u := uint8(k)
		kind = &u
	}
	check := func(field string, v *string) *string {
		if v == nil || *v == "" {
			return v
		}
		u, err := validate.URL(*v, nil)
		errs.Add(field, err)
		return &u
	}
	return kind, check("rootUrl", in.RootURL), check("notFoundUrl", in.NotFoundURL)
}

// CreateDomain adds a domain (admins).
func (o *Ops) CreateDomain(p Principal, in DomainInput) (*store.Domain, error) {
	errs := in.Invalid
	host, err := validate.DomainHost(in.Host)
	errs.Add("host", err)
	if err == nil && host == o.DefaultHost() {
		errs.Add("host", errors.New("is the default domain (--public-url), which serves links already"))
	}
	if in.Kind == nil {
		errs.Add("kind", errors.New(`is required: "links", "profiles" or "both"`))
	}
	kind, root, nf := o.domainFields(in, &errs)
	if err := Invalid("The domain was not added.", errs); err != nil {
		return nil, err
	}
	c := &fsm.CreateDomain{Now: time.Now().UnixMilli(), Actor: p.Owner(), Host: host, Kind: *kind, Max: MaxDomains}
	patch.Set(&c.RootURL, root)
	patch.Set(&c.NotFoundURL, nf)
	patch.Set(&c.Delegate, in.Delegate)
	patch.Set(&c.HTTPSRedirect, in.HTTPSRedirect)
	patch.Set(&c.HSTS, in.HSTS)
	res, err := o.propose(c)
	if err != nil {
		return nil, err
	}
	return res.Domain, nil
}

// UpdateDomain changes a domain (admins).
func (o *Ops) UpdateDomain(p Principal, host string, in DomainInput) (*store.Domain, error) {
	errs := in.Invalid
	kind, root, nf := o.domainFields(in, &errs)
	if err := Invalid("The domain was not changed.", errs); err != nil {
		return nil, err
	}
	c := &fsm.UpdateDomain{Now: time.Now().UnixMilli(), Host: normHost(host), Kind: kind, RootURL: root,
		NotFoundURL: nf, Delegate: in.Delegate, HTTPSRedirect: in.HTTPSRedirect, HSTS: in.HSTS}
	c.V = o.domainVersion(fsm.TypeUpdateDomain)
	res, err := o.propose(c)
	if err != nil {
		return nil, err
	}
	return res.Domain, nil
}

// DeleteDomain removes a domain (admins). Its links stay and serve again
// if the domain is added back.
func (o *Ops) DeleteDomain(p Principal, host string) error {
	c := &fsm.DeleteDomain{Now: time.Now().UnixMilli(), Host: normHost(host)}
	c.V = o.domainVersion(fsm.TypeDeleteDomain)
	_, err := o.propose(c)
	return err
}

// domainVersion is the version of a domain change to write: 2, which also
// purges the host at the CDNs, once every member applies it; until then 1,
// which purges nothing (a member applying only version 1 would write a
// different purge queue).
func (o *Ops) domainVersion(t fsm.Type) uint8 {
	if o.cl.Understands(t, 2) {
		return 2
	}
	return 1
}

// GetDomain returns a configured domain.
func (o *Ops) GetDomain(host string) (*store.Domain, error) {
	if d, ok := o.DomainFor(host); ok {
		return d, nil
	}
	return nil, Fail(KindNotFound, "No such domain.")
}

// normHost normalises a host named in a path; an invalid one matches no
// domain.
func normHost(h string) string {
	n, err := validate.DomainHost(h)
	if err != nil {
		return h
	}
	return n
}

// Domains lists the configured domains (admins: all; others: the ones
// delegated to them).
func (o *Ops) Domains(p Principal) []*store.Domain {
	var out []*store.Domain
	for _, d := range o.st.Domains().All() {
		if p.IsAdmin() || d.Delegate == p.Owner() {
			out = append(out, d)
		}
	}
	return out
}

// UsableDomains are the hosts p may create links on: the default host
// first, then every links domain p may use.
func (o *Ops) UsableDomains(p Principal) []string {
	out := []string{o.DefaultHost()}
	for _, d := range o.Domains(p) {
		if d.Kind.Links() {
			out = append(out, d.Host)
		}
	}
	return out
}

// DefaultHost is the host of --public-url (without a port): the default
// domain, whose links keep their bare codes as keys.
func (o *Ops) DefaultHost() string { return o.defaultHost }

// DomainFor reports whether host (any case, with or without a port) is a
// configured domain, and its record. This is the lookup TLS host policy
// uses: certificates are issued for configured domains only.
func (o *Ops) DomainFor(host string) (*store.Domain, bool) {
	h, err := validate.DomainHost(stripPort(host))
	if err != nil {
		return nil, false
	}
	return o.st.Domains().Lookup([]byte(h))
}

func stripPort(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

// ShortURL is the public URL of the link stored under key (a bare code on
// the default domain, "<host>/<code>" on another): what a CDN caches and
// must purge when the link changes. It uses --public-url's scheme.
func (o *Ops) ShortURL(key string) string { return store.ShortURL(o.public, key) }

// linkKey resolves the domain a request names ("" or the default host for
// the default domain) and returns the store key of code on it.
func (o *Ops) linkKey(domain, code string) string {
	return store.DomainCode(o.domainKeyHost(domain), code)
}

// LinkKey is the store key of code on domain (for front ends addressing a
// link by ?domain= and its code).
func (o *Ops) LinkKey(domain, code string) string { return o.linkKey(domain, code) }

// domainKeyHost maps a domain named by a client to the host part of a
// store key: "" for the default domain.
func (o *Ops) domainKeyHost(domain string) string {
	if domain == "" {
		return ""
	}
	h := normHost(domain)
	if h == o.defaultHost {
		return ""
	}
	return h
}

// linkDomain validates the domain of a new link for p: it must be the
// default domain or a configured links domain p may use. The fsm checks
// again in Apply; this answers early with a field error.
func (o *Ops) linkDomain(p Principal, domain string, errs *Fields) string {
	host := o.domainKeyHost(domain)
	if host == "" {
		return ""
	}
	d, ok := o.st.Domains().Lookup([]byte(host))
	switch {
	case !ok:
		errs.Add("domain", errors.New("is not a configured domain"))
	case !d.Kind.Links():
		errs.Add("domain", errors.New("serves profiles only"))
	}
	return host
}

// servesLinks reports whether domain is a configured links domain (not
// the default one).
func (o *Ops) servesLinks(domain string) bool {
	host := o.domainKeyHost(domain)
	if host == "" {
		return false
	}
	d, ok := o.st.Domains().Lookup([]byte(host))
	return ok && d.Kind.Links()
}

// classifyDomain maps the domain errors.
func classifyDomain(err error) *Error {
	switch {
	case errors.Is(err, fsm.ErrDomainExists):
		return Fail(KindDomainExists, "The domain is configured already.", FieldError{Field: "host", Message: "already configured"})
	case errors.Is(err, fsm.ErrDomainLimit):
		return Fail(KindDomainLimit, "The cluster holds the most domains it may (100); delete one first.")
	case errors.Is(err, fsm.ErrDomainNotFound):
		return Fail(KindNotFound, "No such domain.", FieldError{Field: "domain", Message: "is not a configured domain"})
	case errors.Is(err, fsm.ErrDomainForbidden):
		return Fail(KindForbidden, "You may not create links on this domain: an admin must delegate it to you.",
			FieldError{Field: "domain", Message: "is not delegated to you"})
	case errors.Is(err, fsm.ErrDomainKind):
		return Fail(KindValidation, "The domain serves profiles only.", FieldError{Field: "domain", Message: "serves profiles only"})
	}
	return nil
}

// ClicksByDomain is every link's total clicks summed by domain host (the
// default domain under its host).
func (o *Ops) ClicksByDomain() (map[string]uint64, error) {
	raw, err := o.st.ClicksByDomain()
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64, len(raw))
	for host, n := range raw {
		if host == "" {
			host = o.defaultHost
		}
		out[host] += n
	}
	return out, nil
}

// domainFilter narrows a link list's filter to the links on domain (none:
// no narrowing).
func (o *Ops) domainFilter(domain string, match func(*store.Link) bool) func(*store.Link) bool {
	if domain == "" {
		return match
	}
	host := o.domainKeyHost(domain)
	return func(l *store.Link) bool {
		h, _ := store.SplitDomainCode(l.Code)
		return h == host && (match == nil || match(l))
	}
}

// DomainQuery is "?domain=<host>" for the link stored under key when it is
// off the default domain, "" otherwise: what addresses of the link's pages
// carry.
func (o *Ops) DomainQuery(key string) string {
	if host, _ := store.SplitDomainCode(key); host != "" {
		return "?domain=" + url.QueryEscape(host)
	}
	return ""
}

// ConsolePath is the console address of the link stored under key, with
// suffix (e.g. "/analytics") and query (e.g. "done=saved") appended.
func (o *Ops) ConsolePath(key, suffix, query string) string {
	host, code := store.SplitDomainCode(key)
	if host != "" {
		if query != "" {
			query += "&"
		}
		query += "domain=" + url.QueryEscape(host)
	}
	p := "/app/links/" + code + suffix
	if query != "" {
		p += "?" + query
	}
	return p
}

// UserByEmail is the id of the user with that email (any case), for forms
// that name a user by email.
func (o *Ops) UserByEmail(email string) (uint64, error) {
	u, err := o.st.UserByEmail(email)
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}
