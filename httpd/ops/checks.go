package ops

import (
	"fmt"
	"strings"

	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/internal/destkey"
)

// DefaultShorteners are the other link shorteners a destination may not
// be (--refuse-shorteners): a short link to a short link hides where it
// goes, which is how blocklists are dodged.
var DefaultShorteners = []string{"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly",
	"rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "bl.ink", "s.id", "v.gd", "shorte.st", "adf.ly"}

// destURL validates a link's destination (validate.URL, which refuses this
// shortener's own host) and refuses another known shortener.
func (o *Ops) destURL(raw string) (string, error) {
	u, err := validate.URL(raw, o.selfHosts)
	if err != nil {
		return u, err
	}
	if p, ok := destkey.Of(u); ok {
		if _, own := o.st.Domains().Lookup([]byte(p.Host)); own {
			return u, validate.ErrURLLoop // a link to one of this instance's domains
		}
	}
	return u, o.notShortener(u)
}

// notShortener refuses a destination on a known shortener (or a subdomain
// of one).
func (o *Ops) notShortener(u string) error {
	p, ok := destkey.Of(u)
	if !ok {
		return nil
	}
	var hit string
	destkey.Suffixes(p.Host, func(d string) bool {
		if o.shorteners[d] {
			hit = d
		}
		return hit == ""
	})
	if hit != "" {
		return fmt.Errorf("is a link on another shortener (%s); link to where it leads instead", hit)
	}
	return nil
}

// shortenerSet builds the set of --refuse-shorteners; nil means the
// default list, an empty list none.
func shortenerSet(list []string) map[string]bool {
	if list == nil {
		list = DefaultShorteners
	}
	m := map[string]bool{}
	for _, h := range list {
		if h = destkey.Host(h); h != "" {
			m[strings.TrimPrefix(h, "www.")] = true
		}
	}
	return m
}
