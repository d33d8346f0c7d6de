package validate

import (
	"errors"
	"strings"

	"golang.org/x/net/idna"
)

var (
	// ErrMailto means a mailto: link is not "mailto:" followed by exactly
	// one plain address.
	ErrMailto = errors.New("must be mailto: followed by one plain email address, like mailto:ada@example.com")
	// ErrTel means a tel: link is not "tel:" followed by a phone number.
	ErrTel = errors.New("must be tel: followed by a phone number")
)

// maxLocalPart and maxAddress are RFC 5321's limits on a mailbox.
const maxLocalPart, maxAddress = 64, 254

// LinkURL validates a link on a profile page: what URL accepts, plus
// mailto: and tel: links, which link-in-bio pages commonly carry. Every
// form it returns is ASCII and safe to send verbatim in a Location header.
func LinkURL(raw string, selfHosts []string) (string, error) {
	s := strings.Trim(raw, asciiSpace)
	scheme, rest, _ := strings.Cut(s, ":")
	switch strings.ToLower(scheme) {
	case "mailto":
		return Mailto(rest)
	case "tel":
		return Tel(rest)
	}
	return URL(raw, selfHosts)
}

// Mailto validates the address part of a mailto: link and returns the
// whole link. The local part is a dot-atom of RFC 5322's ASCII atext minus
// the characters mailto: URIs give a meaning ('%', '?'); quoted local
// parts, display names, comments, several addresses and headers (?subject=)
// are refused, so no quote, control, bidi or line-separator character can
// reach a Location header. The domain is checked as URL checks a host and
// returned in its ASCII form.
func Mailto(addr string) (string, error) {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || len(addr) > maxAddress || !dotAtom(local) {
		return "", ErrMailto
	}
	k, ok := checkHostName(strings.ToLower(domain))
	if !ok || k.name == "" || strings.HasSuffix(domain, ".") {
		return "", ErrMailto
	}
	ascii, err := idna.Lookup.ToASCII(k.name)
	if err != nil {
		return "", ErrMailto
	}
	return "mailto:" + local + "@" + ascii, nil
}

// dotAtom reports whether s is 1-64 atext characters in dot-separated runs.
func dotAtom(s string) bool {
	if s == "" || len(s) > maxLocalPart || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".!#$&'*+-/=^_`{|}~", c) >= 0) {
			return false
		}
	}
	return true
}

// telSeparators are dropped from numbers: they are only for reading.
var telSeparators = strings.NewReplacer(" ", "", "(", "", ")", "", ".", "")

// Tel validates the number part of a tel: link and returns the whole link
// with the visual separators (spaces, dots, parentheses) dropped. The
// lengths are checked after dropping them, so the result validates again.
func Tel(num string) (string, error) {
	if len(num) > 40 || strings.Trim(num, "+0123456789-. ()") != "" {
		return "", ErrTel
	}
	num = telSeparators.Replace(num)
	if len(num) < 3 || len(num) > 20 || strings.Count(num, "+") > 1 || strings.Trim(num, "+-") == "" {
		return "", ErrTel
	}
	return "tel:" + num, nil
}
