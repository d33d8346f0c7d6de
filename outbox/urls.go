package outbox

import (
	"net/url"

	"github.com/linkd/linkd/store"
)

// Hosts are the public addresses whose cached answers a change affects.
// The per-domain hosts of a link (once links belong to domains) plug in
// here: AffectedURLs is the one place that maps a change to URLs.
type Hosts struct {
	// Public is the base URL of short links and of /@{handle} pages
	// (--public-url), e.g. https://sho.rt.
	Public string
	// ProfileHost serves profile pages at /{handle} (--profile-host).
	ProfileHost string
}

// AffectedURLs returns every public URL whose answer c changes: a link's
// short URL and its preview (/{code}+); a profile's page, its share image
// and, on the profile host, /{handle}, for the handle before and after.
func (h Hosts) AffectedURLs(c *store.Change) []string {
	switch c.Kind {
	case store.ChangeClicks:
		return nil
	case store.ChangeProfile:
		var out []string
		for _, handle := range []string{c.Handle, c.OldHandle} {
			if handle == "" {
				continue
			}
			out = append(out, h.Public+"/@"+handle, h.Public+"/@"+handle+"/og.png")
			if h.ProfileHost != "" {
				out = append(out, h.profileBase()+"/"+handle)
			}
		}
		return out
	}
	return []string{h.Public + "/" + c.Code, h.Public + "/" + c.Code + "+"}
}

// profileBase is the profile host with the public URL's scheme.
func (h Hosts) profileBase() string {
	scheme := "https"
	if u, err := url.Parse(h.Public); err == nil && u.Scheme != "" {
		scheme = u.Scheme
	}
	return scheme + "://" + h.ProfileHost
}
