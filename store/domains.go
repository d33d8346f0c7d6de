package store

import (
	"encoding/binary"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Domains (issue 16). One table:
//
//	d<host>   a configured domain (Domain), host normalised by the proposer
//
// A link on the default domain (the host of --public-url) keeps its bare
// code as its key, exactly as before domains existed: nothing is migrated.
// A link on another domain is keyed by the code string "<host>/<code>"
// (DomainCode). Codes never contain '/', so the two never collide, and every
// table keyed by code (l, c, o, analytics M/H/D/X/Y/U/T, visits Q,
// takedowns F, the hot set) works on those links unchanged.
//
// Letter L, also allocated to domains, is unused.
const tDomain = 'd'

// DomainKind is what a domain serves. Numbers are stored: only add.
type DomainKind uint8

// Domain kinds.
const (
	DomainLinks    DomainKind = 1 // /{code} redirects
	DomainProfiles DomainKind = 2 // /{handle} profile pages
	DomainBoth     DomainKind = 3 // /{code}, and /{handle} where no link has that code
)

func (k DomainKind) String() string {
	switch k {
	case DomainLinks:
		return "links"
	case DomainProfiles:
		return "profiles"
	case DomainBoth:
		return "both"
	}
	return "unknown"
}

// ParseDomainKind parses "links", "profiles" or "both".
func ParseDomainKind(s string) (DomainKind, bool) {
	for _, k := range []DomainKind{DomainLinks, DomainProfiles, DomainBoth} {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Links reports whether the domain serves links.
func (k DomainKind) Links() bool { return k == DomainLinks || k == DomainBoth }

// Profiles reports whether the domain serves profile pages at /{handle}.
func (k DomainKind) Profiles() bool { return k == DomainProfiles || k == DomainBoth }

// Domain is a configured short or profile domain.
type Domain struct {
	Host          string
	Kind          DomainKind
	RootURL       string // where / redirects; "" for the built-in home page
	NotFoundURL   string // where an unknown code redirects; "" for the 404 page
	Delegate      uint64 // the user who may create links on it besides admins; 0: admins only
	HTTPSRedirect bool   // opt-in: HTTP requests redirect to HTTPS (wired by the TLS work)
	HSTS          bool   // opt-in: send Strict-Transport-Security (wired by the TLS work)
	CreatedBy     uint64
	CreatedAt     int64
	UpdatedAt     int64
}

// MarshalDomain encodes a domain record (version 1).
func MarshalDomain(d *Domain) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.str(d.Host)
	e.u8(uint8(d.Kind))
	e.str(d.RootURL)
	e.str(d.NotFoundURL)
	e.uv(d.Delegate)
	e.bool(d.HTTPSRedirect)
	e.bool(d.HSTS)
	e.uv(d.CreatedBy)
	e.iv(d.CreatedAt)
	e.iv(d.UpdatedAt)
	return e.b
}

// UnmarshalDomain decodes what MarshalDomain wrote.
func UnmarshalDomain(v []byte) (*Domain, error) {
	dc := decoder{b: v}
	dc.version(recordV1)
	d := &Domain{Host: dc.str(), Kind: DomainKind(dc.u8()), RootURL: dc.str(), NotFoundURL: dc.str(),
		Delegate: dc.uv(), HTTPSRedirect: dc.bool(), HSTS: dc.bool(), CreatedBy: dc.uv(), CreatedAt: dc.iv(),
		UpdatedAt: dc.iv()}
	return d, dc.err
}

func domainKey(host string) []byte { return append([]byte{tDomain}, host...) }

// DomainCode is the store key (the "code") of a link with code on host: the
// bare code on the default domain (host ""), "<host>/<code>" elsewhere.
func DomainCode(host, code string) string {
	if host == "" {
		return code
	}
	return host + "/" + code
}

// AppendDomainCode appends DomainCode(host, code) to dst without
// allocating when dst has room: the redirect path builds keys in a stack
// buffer.
func AppendDomainCode(dst, host, code []byte) []byte {
	if len(host) == 0 {
		return append(dst, code...)
	}
	dst = append(dst, host...)
	dst = append(dst, '/')
	return append(dst, code...)
}

// SplitDomainCode splits a link's store key into its domain host ("" for
// the default domain) and its code.
func SplitDomainCode(key string) (host, code string) {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

// ShortURL is the public URL of the link stored under key: publicURL (the
// --public-url base, no trailing slash) + "/" + code on the default
// domain, "<scheme of publicURL>://<host>/<code>" on another. It is what a
// CDN caches and must purge when the link changes.
func ShortURL(publicURL, key string) string {
	host, code := SplitDomainCode(key)
	if host == "" {
		return publicURL + "/" + code
	}
	scheme, _, ok := strings.Cut(publicURL, "://")
	if !ok {
		scheme = "https"
	}
	return scheme + "://" + host + "/" + code
}

// DomainFor reports whether host is a configured domain: host as a TLS
// server name or Host header (any case, optional port or trailing dot).
// It is the lookup a TLS host policy needs: certificates only for
// configured domains.
func (s *Store) DomainFor(host string) (*Domain, bool) {
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	return s.Domains().Lookup([]byte(strings.ToLower(strings.TrimSuffix(host, "."))))
}

// Domain returns the domain record of host, or ErrNotFound.
func (t *Txn) Domain(host string) (*Domain, error) {
	return decodeFrom(t.b, domainKey(host), UnmarshalDomain)
}

// CountDomains counts the configured domains.
func (t *Txn) CountDomains() (int, error) {
	n := 0
	err := scanPrefix(t.b, []byte{tDomain}, func(_, _ []byte) error { n++; return nil })
	return n, err
}

// PutDomain stores a domain record; the domain set is rebuilt when the Txn
// commits.
func (t *Txn) PutDomain(d *Domain) {
	t.set(domainKey(d.Host), MarshalDomain(d))
	t.domains = true
}

// DeleteDomain removes a domain record. The links on it stay (keyed under
// the host) and serve again if the domain is added back.
func (t *Txn) DeleteDomain(host string) {
	t.del(domainKey(host))
	t.domains = true
}

// DomainSet is an immutable view of the configured domains. The store swaps
// in a new one when a Txn that changed a domain commits (and after a
// restore), so readers (the redirect path) look hosts up without locks or
// allocations.
type DomainSet struct {
	byHost map[string]*Domain
	list   []*Domain // sorted by host
}

// Lookup returns the domain of a normalised host. It does not allocate.
func (ds *DomainSet) Lookup(host []byte) (*Domain, bool) {
	d, ok := ds.byHost[string(host)]
	return d, ok
}

// Len is the number of configured domains.
func (ds *DomainSet) Len() int { return len(ds.list) }

// All returns the domains sorted by host. The slice and records are shared:
// do not modify them.
func (ds *DomainSet) All() []*Domain { return ds.list }

// Domains returns the current domain set.
func (s *Store) Domains() *DomainSet { return s.domains.Load() }

// domainState holds the current DomainSet.
type domainState = atomic.Pointer[DomainSet]

// loadDomains reads every domain record into a new set and swaps it in.
func (s *Store) loadDomains() error {
	ds := &DomainSet{byHost: map[string]*Domain{}}
	err := s.view(func(r *pebble.DB) error {
		return scanPrefix(r, []byte{tDomain}, func(_, v []byte) error {
			d, err := UnmarshalDomain(v)
			if err == nil {
				ds.byHost[d.Host] = d
				ds.list = append(ds.list, d)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	s.domains.Store(ds)
	s.domainsChanged.notify()
	return nil
}

// DomainsChanged returns a channel closed when the next domain set is
// swapped in (a domain added, changed or deleted, or a restore). Take it
// before reading Domains, wait after.
func (s *Store) DomainsChanged() <-chan struct{} { return s.domainsChanged.wait() }

// ClicksByDomain sums every link's total clicks by the host part of its key
// ("" for the default domain): one scan of the totals table (T), so it costs
// one read per link that has clicks.
func (s *Store) ClicksByDomain() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.view(func(db *pebble.DB) error {
		return scanPrefix(db, []byte{tTotal}, func(k, v []byte) error {
			if len(v) != 8 {
				return ErrCorrupt
			}
			host, _ := SplitDomainCode(string(k[1:]))
			out[host] += binary.BigEndian.Uint64(v)
			return nil
		})
	})
	return out, err
}

// DomainLinkKeys returns the store keys ("<host>/<code>") of at most limit
// links on host, in key order: a prefix scan of the link table, so a purge
// of the host at a cache that takes only single URLs can name them.
func (s *Store) DomainLinkKeys(host string, limit int) ([]string, error) {
	prefix := linkKey(DomainCode(host, ""))
	var out []string
	err := s.view(func(db *pebble.DB) error {
		return scan(db, prefix, prefixEnd(prefix), func(k, _ []byte) error {
			if len(out) == limit {
				return errStopScan
			}
			out = append(out, string(k[1:]))
			return nil
		})
	})
	return out, err
}
