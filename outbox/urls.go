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
// domain changed or was deleted).
type Batch struct {
	URLs  []string
	Hosts []string
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
