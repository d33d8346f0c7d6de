package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
)

// listFlag collects a repeatable flag (--tag a --tag b).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// request is what one client subcommand sends.
type request struct {
	method, path string
	body         map[string]any
	stream       bool   // copy the answer as it comes (exports), not as JSON
	download     string // with stream: the file to write; empty for stdout
}

// clientCmd is one `linkd <noun> <verb>` command.
type clientCmd struct {
	usage string
	args  int // positional arguments after the verb
	// flags registers the command's own flags; build turns the parsed
	// flags and positionals into a request.
	flags func(fs *flag.FlagSet) func(pos []string) (request, error)
}

// clientCmds are the API client commands, by noun and verb.
var clientCmds = map[string]map[string]clientCmd{
	"link": {
		"create":  {"linkd link create URL [--alias A] [--domain HOST] [--title T] [--tag T]... [--expires RFC3339] [--redirect 301|302|307|308] " + linkOptionUsage, 1, linkCreateFlags},
		"list":    {"linkd link list [--q TEXT] [--tag T] [--domain HOST] [--limit N] [--cursor C]", 0, linkListFlags},
		"get":     {"linkd link get CODE [--domain HOST]", 1, linkOnDomain("GET")},
		"update":  {"linkd link update CODE [--domain HOST] [--url U] [--title T] [--tag T]... [--expires RFC3339|never] [--redirect N] " + linkOptionUsage, 1, linkUpdateFlags},
		"promote": {"linkd link promote CODE VARIANT (A, B, ... or 0, 1, ...): make the variant the link's URL and end the A/B split", 2, linkPromoteFlags},
		"export":  {"linkd link export [--format csv|json] [--q TEXT] [--tag T] [--analytics [--code C] [--from D] [--to D]] [-o FILE]", 0, linkExportFlags},
		"delete":  {"linkd link delete CODE [--domain HOST]", 1, linkOnDomain("DELETE")},
	},
	"key": {
		"create": {"linkd key create NAME --scope S [--scope S]... [--expires RFC3339]", 1, keyCreateFlags},
		"list":   {"linkd key list", 0, simple("GET", "/api/v1/keys")},
		"delete": {"linkd key delete ID", 1, simple("DELETE", "/api/v1/keys/%s")},
	},
	"user": {
		"create": {"linkd user create EMAIL [--role admin|user] (password from --password-stdin or LINKD_PASSWORD)", 1, userCreateFlags},
		"list":   {"linkd user list", 0, simple("GET", "/api/v1/users")},
	},
}

// simple is a command without flags whose path takes the positionals.
func simple(method, path string) func(*flag.FlagSet) func([]string) (request, error) {
	return func(*flag.FlagSet) func([]string) (request, error) {
		return func(pos []string) (request, error) {
			args := make([]any, len(pos))
			for i, p := range pos {
				args[i] = url.PathEscape(p)
			}
			return request{method: method, path: fmt.Sprintf(path, args...)}, nil
		}
	}
}

func linkCreateFlags(fs *flag.FlagSet) func([]string) (request, error) {
	alias := fs.String("alias", "", "custom alias")
	domain := fs.String("domain", "", "the domain (host) of the link; default: the default domain")
	title := fs.String("title", "", "title")
	expires := fs.String("expires", "", "expiry, RFC 3339")
	redirect := fs.Int("redirect", 0, "redirect status (default 302)")
	var tags listFlag
	fs.Var(&tags, "tag", "tag (repeatable)")
	opts := linkOptionFlags(fs)
	return func(pos []string) (request, error) {
		b := map[string]any{"url": pos[0]}
		if err := opts(b); err != nil {
			return request{}, err
		}
		setIf(b, "alias", *alias)
		setIf(b, "domain", *domain)
		setIf(b, "title", *title)
		setIf(b, "expiresAt", *expires)
		if *redirect != 0 {
			b["redirectStatus"] = *redirect
		}
		if len(tags) > 0 {
			b["tags"] = tags
		}
		return request{method: "POST", path: "/api/v1/links", body: b}, nil
	}
}

func linkListFlags(fs *flag.FlagSet) func([]string) (request, error) {
	q := fs.String("q", "", "search code, URL and title")
	tag := fs.String("tag", "", "only links with this tag")
	domain := fs.String("domain", "", "only links on this domain (host)")
	limit := fs.String("limit", "", "links per page (1-100)")
	cursor := fs.String("cursor", "", "nextCursor of the previous page")
	return func([]string) (request, error) {
		v := url.Values{}
		for k, val := range map[string]string{"q": *q, "tag": *tag, "domain": *domain, "limit": *limit, "cursor": *cursor} {
			if val != "" {
				v.Set(k, val)
			}
		}
		p := "/api/v1/links"
		if len(v) > 0 {
			p += "?" + v.Encode()
		}
		return request{method: "GET", path: p}, nil
	}
}

func linkUpdateFlags(fs *flag.FlagSet) func([]string) (request, error) {
	domain := fs.String("domain", "", "the link's domain (host); default: the default domain")
	u := fs.String("url", "", "new destination")
	title := fs.String("title", "", "new title")
	expires := fs.String("expires", "", `new expiry (RFC 3339), or "never"`)
	redirect := fs.Int("redirect", 0, "new redirect status")
	var tags listFlag
	fs.Var(&tags, "tag", "replace the tags (repeatable)")
	opts := linkOptionFlags(fs)
	return func(pos []string) (request, error) {
		b := map[string]any{}
		if err := opts(b); err != nil {
			return request{}, err
		}
		setIf(b, "url", *u)
		setIf(b, "title", *title)
		switch *expires {
		case "":
		case "never":
			b["expiresAt"] = nil
		default:
			b["expiresAt"] = *expires
		}
		if *redirect != 0 {
			b["redirectStatus"] = *redirect
		}
		if len(tags) > 0 {
			b["tags"] = tags
		}
		if len(b) == 0 {
			return request{}, errors.New("nothing to change: give at least one of --url --title --tag --expires --redirect or a link option")
		}
		return request{method: "PATCH", path: linkPath(pos[0], *domain), body: b}, nil
	}
}

func keyCreateFlags(fs *flag.FlagSet) func([]string) (request, error) {
	expires := fs.String("expires", "", "expiry, RFC 3339")
	var scopes listFlag
	fs.Var(&scopes, "scope", "links:read, links:write, analytics:read, profile:write, keys:write or admin (repeatable)")
	return func(pos []string) (request, error) {
		b := map[string]any{"name": pos[0], "scopes": scopes}
		setIf(b, "expiresAt", *expires)
		return request{method: "POST", path: "/api/v1/keys", body: b}, nil
	}
}

func userCreateFlags(fs *flag.FlagSet) func([]string) (request, error) {
	role := fs.String("role", "user", "admin or user")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	return func(pos []string) (request, error) {
		pw := os.Getenv("LINKD_PASSWORD")
		if *fromStdin {
			var err error
			if pw, err = readPasswordLine(os.Stdin); err != nil {
				return request{}, err
			}
		}
		if pw == "" {
			return request{}, errors.New("no password: use --password-stdin or set LINKD_PASSWORD")
		}
		return request{method: "POST", path: "/api/v1/users",
			body: map[string]any{"email": pos[0], "password": pw, "role": *role}}, nil
	}
}

func setIf(b map[string]any, k, v string) {
	if v != "" {
		b[k] = v
	}
}

// apiCmd runs `linkd <noun> <verb> ...` for the nouns of clientCmds.
func apiCmd(noun string, args []string, stdout, stderr io.Writer) error {
	verbs := clientCmds[noun]
	if len(args) == 0 || verbs[args[0]].flags == nil {
		help := len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help")
		w := stderr
		if help {
			w = stdout
		}
		fmt.Fprintf(w, "usage:\n")
		for _, v := range slices.Sorted(maps.Keys(verbs)) {
			fmt.Fprintf(w, "  %s\n", verbs[v].usage)
		}
		fmt.Fprintf(w, "\nEach takes --server URL and --token TOKEN (or LINKD_SERVER, LINKD_TOKEN); linkd %s VERB -h for its flags.\n", noun)
		switch {
		case help:
			return flag.ErrHelp
		case len(args) == 0:
			return fmt.Errorf("%s needs a command", noun)
		}
		return fmt.Errorf("unknown %s command %q", noun, args[0])
	}
	cmd := verbs[args[0]]
	fs := flag.NewFlagSet("linkd "+noun+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s  [--server URL] [--token TOKEN]\n", cmd.usage)
		fs.PrintDefaults()
	}
	c := clientFlags(fs)
	c.out = stdout
	build := cmd.flags(fs)
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != cmd.args {
		fs.Usage()
		return fmt.Errorf("want %d argument(s), got %d", cmd.args, len(pos))
	}
	req, err := build(pos)
	if err != nil {
		return err
	}
	if req.stream {
		return c.download(req.path, req.download)
	}
	var body any
	if req.body != nil {
		body = req.body
	}
	if err := c.do(req.method, req.path, body); err != nil {
		return err
	}
	if req.method == "DELETE" {
		fmt.Fprintf(stdout, "deleted %s\n", pos[0])
	}
	return nil
}

// linkPath is the API path of the link with code on domain ("" for the
// default domain).
func linkPath(code, domain string) string {
	p := "/api/v1/links/" + url.PathEscape(code)
	if domain != "" {
		p += "?domain=" + url.QueryEscape(domain)
	}
	return p
}

// linkOnDomain is a command on one link (CODE) with a --domain flag.
func linkOnDomain(method string) func(*flag.FlagSet) func([]string) (request, error) {
	return func(fs *flag.FlagSet) func([]string) (request, error) {
		domain := fs.String("domain", "", "the link's domain (host); default: the default domain")
		return func(pos []string) (request, error) {
			return request{method: method, path: linkPath(pos[0], *domain)}, nil
		}
	}
}
