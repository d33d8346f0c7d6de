package tlsd

import (
	"slices"

	"github.com/linkd/linkd/store"
)

// changing is a Policy whose host list changes while the server runs;
// Server watches it and calls Refresh on every change.
type changing interface {
	Changed() <-chan struct{}
}

// WithDomains extends base (the hosts of the flags, with the global
// redirect and HSTS choices) with every domain of the replicated domain
// table: their certificates are ordered and served like base's, and a
// domain's own httpsRedirect and hsts opt-ins add to the global flags.
// Adding or deleting a domain refreshes the server (the leader orders the
// new host's certificate; every node loads it), without a restart.
func WithDomains(base Policy, st *store.Store) Policy { return &domainHosts{base: base, st: st} }

type domainHosts struct {
	base Policy
	st   *store.Store
}

func (p *domainHosts) domain(host string) (*store.Domain, bool) {
	return p.st.Domains().Lookup([]byte(host))
}

func (p *domainHosts) Hosts() []string {
	list := p.base.Hosts()
	for _, d := range p.st.Domains().All() {
		if !slices.Contains(list, d.Host) {
			list = append(list, d.Host)
		}
	}
	return list
}

func (p *domainHosts) Allowed(host string) bool {
	_, ok := p.domain(host)
	return ok || p.base.Allowed(host)
}

func (p *domainHosts) Redirect(host string) bool {
	d, ok := p.domain(host)
	return ok && d.HTTPSRedirect || p.base.Redirect(host) || ok && p.globalRedirect()
}

func (p *domainHosts) HSTS(host string) bool {
	d, ok := p.domain(host)
	return ok && d.HSTS || p.base.HSTS(host) || ok && p.globalHSTS()
}

// globalRedirect and globalHSTS are the flags' choices for every host,
// which apply to the domains too.
func (p *domainHosts) globalRedirect() bool {
	s, ok := p.base.(*StaticHosts)
	return ok && s.RedirectAll
}

func (p *domainHosts) globalHSTS() bool {
	s, ok := p.base.(*StaticHosts)
	return ok && s.HSTSAll
}

func (p *domainHosts) Changed() <-chan struct{} { return p.st.DomainsChanged() }

// watchPolicy refreshes the server whenever a changing Policy's host list
// changes.
func (s *Server) watchPolicy(p changing) {
	defer s.wg.Done()
	for {
		changed := p.Changed()
		select {
		case <-s.stop:
			return
		case <-changed:
			s.Refresh()
		}
	}
}
