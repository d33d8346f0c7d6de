// Package validate checks and normalises user input that becomes a link:
// destination URLs, custom aliases, profile handles, titles and tags. It is
// pure (no I/O) and never panics, whatever the input; its error messages are
// shown to API users as they are.
package validate

import (
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits.
const (
	MaxURLLen   = 8 << 10 // bytes
	MinAliasLen = 3
	MaxAliasLen = 64
	MinHandle   = 3
	MaxHandle   = 30
	MaxTitleLen = 256 // bytes of UTF-8
	MaxTags     = 20
	MaxTagLen   = 40
)

// Errors; the texts are shown to users.
var (
	ErrURLEmpty       = errors.New("is required")
	ErrURLTooLong     = errors.New("is longer than 8 KiB")
	ErrURLParse       = errors.New("is not a valid URL")
	ErrURLScheme      = errors.New("must start with http:// or https://")
	ErrURLUserinfo    = errors.New("must not contain a user name or password")
	ErrURLControl     = errors.New("must not contain spaces or control characters")
	ErrURLHost        = errors.New("must have a valid host name")
	ErrURLLoop        = errors.New("must not point at this service (it would loop)")
	ErrAliasLength    = errors.New("must be 3 to 64 characters long")
	ErrAliasChars     = errors.New("may only contain letters, digits, '-' and '_'")
	ErrAliasReserved  = errors.New("is reserved")
	ErrHandleLength   = errors.New("must be 3 to 30 characters long")
	ErrHandleChars    = errors.New("may only contain letters, digits, '_' and '.', start with a letter or digit, and not end with '.' or contain '..'")
	ErrHandleReserved = errors.New("is reserved")
	ErrTitleTooLong   = errors.New("is longer than 256 bytes")
	ErrTitleControl   = errors.New("must be valid text without control characters")
	ErrTooManyTags    = errors.New("may hold at most 20 tags")
	ErrTagInvalid     = errors.New("each tag must be 1 to 40 letters, digits, '-', '_' or '.'")
)

// reservedWords may not be aliases or handles: they are, or may become,
// routes of the service, or would mislead visitors.
var reservedWords = func() map[string]bool {
	words := []string{
		".well-known", "_", "about", "abuse", "account", "admin", "api", "app", "assets", "console",
		"dashboard", "delete", "docs", "edit", "favicon.ico", "health", "healthz", "help", "l", "link",
		"linkd", "links", "login", "logout", "mail", "metrics", "new", "p", "privacy", "profile",
		"profiles", "qr", "readyz", "register", "robots.txt", "root", "s", "security", "settings",
		"signup", "sitemap.xml", "static", "status", "support", "terms", "u", "user", "users",
		"well-known", "www",
	}
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}()

// Reserved reports whether s is a reserved word (case-insensitively).
func Reserved(s string) bool { return reservedWords[strings.ToLower(s)] }

// URL validates a destination URL and normalises it: surrounding
// whitespace is trimmed and the scheme and host are lowercased; everything
// else is kept byte for byte, because redirects send it verbatim. selfHosts
// are this service's own hosts; pointing at one would loop.
func URL(raw string, selfHosts []string) (string, error) {
	s := strings.Trim(raw, " \t\r\n\f\v")
	switch {
	case s == "":
		return "", ErrURLEmpty
	case len(s) > MaxURLLen:
		return "", ErrURLTooLong
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return "", ErrURLControl
		}
	}
	if !utf8.ValidString(s) {
		return "", ErrURLParse
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", ErrURLParse
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", ErrURLScheme
	}
	if u.Opaque != "" || !strings.HasPrefix(s[len(u.Scheme):], "://") {
		return "", ErrURLParse
	}
	if u.User != nil {
		return "", ErrURLUserinfo
	}
	// Work on the raw authority, not u.Host, which net/url has unescaped.
	after := s[len(u.Scheme)+3:]
	end := strings.IndexAny(after, "/?#")
	if end < 0 {
		end = len(after)
	}
	authority, rest := after[:end], after[end:]
	host, err := checkHost(authority)
	if err != nil {
		return "", err
	}
	if isSelf(host, u.Port(), scheme, selfHosts) {
		return "", ErrURLLoop
	}
	// Only the scheme and authority are lowercased; path, query and
	// fragment stay exactly as given.
	return scheme + "://" + strings.ToLower(authority) + rest, nil
}

// checkHost validates an authority's host[:port] and returns the host.
func checkHost(hostport string) (string, error) {
	host, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(hostport, "[") || strings.Count(hostport, ":") > 0 {
		return "", ErrURLHost
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", ErrURLHost
		}
	}
	if strings.HasPrefix(hostport, "[") {
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return "", ErrURLHost
		}
		return strings.ToLower(host), nil
	}
	if !validDNSName(host) {
		return "", ErrURLHost
	}
	return strings.ToLower(host), nil
}

// validDNSName accepts host names of letters (any script), digits and
// hyphens in labels of 1–63 bytes, and dotted IPv4 literals.
func validDNSName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
				return false
			}
		}
	}
	return true
}

func isSelf(host, port, scheme string, selfHosts []string) bool {
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	for _, sh := range selfHosts {
		h, p, err := net.SplitHostPort(sh)
		if err != nil {
			h, p = sh, ""
		}
		if !strings.EqualFold(strings.Trim(h, "[]"), host) {
			continue
		}
		if p == "" || p == port {
			return true
		}
	}
	return false
}

func isAliasChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// Alias validates a custom alias. Aliases are case-sensitive.
func Alias(s string) error {
	if len(s) < MinAliasLen || len(s) > MaxAliasLen {
		return ErrAliasLength
	}
	for _, c := range s {
		if !isAliasChar(c) {
			return ErrAliasChars
		}
	}
	if Reserved(s) {
		return ErrAliasReserved
	}
	return nil
}

// Handle validates a profile handle and returns it lowercased.
func Handle(s string) (string, error) {
	h := strings.ToLower(s)
	if len(h) < MinHandle || len(h) > MaxHandle {
		return "", ErrHandleLength
	}
	for i, c := range h {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (i > 0 && (c == '_' || c == '.'))
		if !ok {
			return "", ErrHandleChars
		}
	}
	if strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return "", ErrHandleChars
	}
	if Reserved(h) {
		return "", ErrHandleReserved
	}
	return h, nil
}

// Title validates a link title and returns it trimmed.
func Title(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxTitleLen {
		return "", ErrTitleTooLong
	}
	if !utf8.ValidString(s) {
		return "", ErrTitleControl
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", ErrTitleControl
		}
	}
	return s, nil
}

// Tags validates tags and returns them trimmed, lowercased and without
// duplicates, in their first order.
func Tags(tags []string) ([]string, error) {
	if len(tags) > MaxTags {
		return nil, ErrTooManyTags
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || utf8.RuneCountInString(t) > MaxTagLen || !utf8.ValidString(t) {
			return nil, ErrTagInvalid
		}
		for _, r := range t {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
				return nil, ErrTagInvalid
			}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}
