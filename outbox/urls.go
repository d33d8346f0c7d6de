package outbox

import (
	"net/url"

	"github.com/linkd/linkd/store"
)

// Hosts are the public addresses whose cached answers a change affects:
// AffectedURLs is the one place that maps a change to URLs.
type Hosts struct {
	// Public is the base URL of short links and of /@{handle} pages
	// (--public-url), e.g. https://sho.rt.
	Public string
	// ProfileHost serves profile pages at /{handle} (--profile-host).
	ProfileHost string
	// Domains, when set, are the configured domains: a link on one is
	// purged under its host, and a profile on every profile domain.
	Domains func() *store.DomainSet
}

// Batch is what one pass purges: URLs, and hosts whose every URL goes (a
// domain changed or was deleted) with the URLs on them the runner could
// name, for targets that purge single URLs only.
type Batch struct {
	URLs     []string
	Hosts    []string
	HostURLs []string
}

// MaxHostLinks bounds the links of one purged host named to a target that
// purges single URLs (a bounded prefix scan per host, per batch).
const MaxHostLinks = 1000

// enumerate sets b.HostURLs: each purged host's root, and the short URL
// and preview of up to MaxHostLinks of its links (a deleted domain's links
// stay in the store, so they are found too).
func (r *Runner) enumerate(b *Batch) error {
	for _, host := range b.Hosts {
		b.HostURLs = append(b.HostURLs, r.cfg.Hosts.base(host)+"/")
		keys, err := r.st.DomainLinkKeys(host, MaxHostLinks)
		if err != nil {
			return err
		}
		for _, k := range keys {
			u := store.ShortURL(r.cfg.Hosts.Public, k)
			b.HostURLs = append(b.HostURLs, u, u+"+")
		}
	}
	return nil
}

// Batch maps queued changes to what to purge, without repeats.
func (h Hosts) Batch(cs []*store.Change) Batch {
	var b Batch
	seen := map[string]bool{}
	add := func(to *[]string, s string) {
		if !seen[s] {
			seen[s] = true
			*to = append(*to, s)
		}
	}
	for _, c := range cs {
		if c.Kind == store.ChangeDomain {
			add(&b.Hosts, c.Host)
			continue
		}
		for _, u := range h.AffectedURLs(c) {
			add(&b.URLs, u)
		}
	}
	return b
}

// AffectedURLs returns every public URL whose answer c changes: a link's
// short URL and its preview (/{code}+); a profile's page, its share image
// and, on the profile host, /{handle}, for the handle before and after.
func (h Hosts) AffectedURLs(c *store.Change) []string {
	switch c.Kind {
	case store.ChangeClicks, store.ChangeDomain:
		return nil // a domain's host is purged whole (Batch)
	case store.ChangeProfile:
		var out []string
		for _, handle := range []string{c.Handle, c.OldHandle} {
			if handle == "" {
				continue
			}
			out = append(out, h.Public+"/@"+handle, h.Public+"/@"+handle+"/og.png")
			for _, host := range h.profileHosts() {
				out = append(out, h.base(host)+"/"+handle)
			}
		}
		return out
	}
	u := store.ShortURL(h.Public, c.Code) // on its domain's host
	return []string{u, u + "+"}
}

// profileHosts are the hosts serving profile pages at /{handle}: the
// profile host and every domain of kind profiles or both.
func (h Hosts) profileHosts() []string {
	var out []string
	if h.ProfileHost != "" {
		out = append(out, h.ProfileHost)
	}
	if h.Domains != nil {
		for _, d := range h.Domains().All() {
			if d.Kind.Profiles() && d.Host != h.ProfileHost {
				out = append(out, d.Host)
			}
		}
	}
	return out
}

// base is host with the public URL's scheme.
func (h Hosts) base(host string) string {
	scheme := "https"
	if u, err := url.Parse(h.Public); err == nil && u.Scheme != "" {
		scheme = u.Scheme
	}
	return scheme + "://" + host
}
