package main

import (
	"flag"
	"net/url"
)

// The domain commands (admins): linkd domain add|list|get|update|rm.
func init() {
	clientCmds["domain"] = map[string]clientCmd{
		"add": {"linkd domain add HOST [--kind links|profiles|both] [--root URL] [--not-found URL] [--delegate USER_ID] [--https-redirect] [--hsts]",
			1, domainAddFlags},
		"list":   {"linkd domain list", 0, simple("GET", "/api/v1/domains")},
		"get":    {"linkd domain get HOST", 1, simple("GET", "/api/v1/domains/%s")},
		"update": {"linkd domain update HOST [--kind K] [--root URL] [--not-found URL] [--delegate USER_ID (0: none)]", 1, domainUpdateFlags},
		"rm":     {"linkd domain rm HOST (its links stay, and serve again if it is added back)", 1, simple("DELETE", "/api/v1/domains/%s")},
	}
}

// domainFlags registers the flags add and update share; set fills the
// body with the ones given on the command line.
func domainFlags(fs *flag.FlagSet, kindDefault string) (set func(map[string]any)) {
	kind := fs.String("kind", kindDefault, "links (/{code}), profiles (/{handle}) or both")
	root := fs.String("root", "", "where / redirects on the domain")
	notFound := fs.String("not-found", "", "where an unknown code redirects on the domain")
	delegate := fs.Uint64("delegate", 0, "the user id who may create links on it (besides admins)")
	httpsRedirect := fs.Bool("https-redirect", false, "opt in to HTTP→HTTPS redirects on this domain")
	hsts := fs.Bool("hsts", false, "opt in to Strict-Transport-Security on this domain")
	return func(b map[string]any) {
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		setIf(b, "kind", *kind)
		setIf(b, "rootUrl", *root)
		setIf(b, "notFoundUrl", *notFound)
		if given["delegate"] {
			b["delegate"] = *delegate
		}
		if given["https-redirect"] {
			b["httpsRedirect"] = *httpsRedirect
		}
		if given["hsts"] {
			b["hsts"] = *hsts
		}
	}
}

func domainAddFlags(fs *flag.FlagSet) func([]string) (request, error) {
	set := domainFlags(fs, "links")
	return func(pos []string) (request, error) {
		b := map[string]any{"host": pos[0]}
		set(b)
		return request{method: "POST", path: "/api/v1/domains", body: b}, nil
	}
}

func domainUpdateFlags(fs *flag.FlagSet) func([]string) (request, error) {
	set := domainFlags(fs, "")
	return func(pos []string) (request, error) {
		b := map[string]any{}
		set(b)
		return request{method: "PATCH", path: "/api/v1/domains/" + url.PathEscape(pos[0]), body: b}, nil
	}
}
