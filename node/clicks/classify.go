package clicks

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/mssola/useragent"
	"github.com/phuslu/iploc"

	"github.com/linkd/linkd/internal/clientaddr"
)

// Classes of visit.
const (
	ClassHuman   uint8 = 1
	ClassBot     uint8 = 2
	ClassPreview uint8 = 3 // link unfurlers: chat apps and social networks fetching a preview
)

// previewAgents are substrings of the User-Agents of link-preview fetchers.
// The UA library tells bots from browsers but not unfurlers from crawlers;
// previews are counted apart because every share in a chat triggers one.
var previewAgents = []string{
	"Slackbot-LinkExpanding", "Slack-ImgProxy", "Twitterbot", "facebookexternalhit", "Facebot",
	"WhatsApp", "Discordbot", "TelegramBot", "LinkedInBot", "SkypeUriPreview", "Iframely",
	"redditbot", "Pinterestbot", "vkShare", "Mastodon", "Embedly", "Snapchat", "Viber",
	"Google-PageRenderer", "Applebot", "bitlybot", "Teams",
}

// uaInfo is what a User-Agent says about a visit (as bytes, so records are
// built without allocating).
type uaInfo struct {
	class                   uint8
	device, browser, osName []byte
}

// classify parses a User-Agent. Empty agents are bots: browsers always
// send one.
func classify(ua string) uaInfo {
	if strings.TrimSpace(ua) == "" {
		return uaInfo{class: ClassBot, device: []byte("bot"), browser: []byte("unknown"), osName: []byte("unknown")}
	}
	p := useragent.New(ua)
	name, _ := p.Browser()
	info := uaInfo{class: ClassHuman, browser: []byte(orUnknown(name)), osName: []byte(orUnknown(p.OSInfo().Name))}
	device := "desktop"
	switch {
	case isPreview(ua):
		info.class, device = ClassPreview, "bot"
	case p.Bot() || !browserLike(ua):
		info.class, device = ClassBot, "bot"
	case strings.Contains(ua, "iPad") || strings.Contains(ua, "Tablet"):
		device = "tablet"
	case p.Mobile():
		device = "mobile"
	}
	info.device = []byte(device)
	return info
}

// browserLike reports whether ua looks like a browser's: every browser (and
// in-app web view) since the 1990s starts with Mozilla/ (old Opera with
// Opera/), while HTTP libraries and scripts (curl, python-requests,
// Go-http-client, okhttp...) do not; the UA library calls those browsers.
// Headless browsers are automation.
func browserLike(ua string) bool {
	return (strings.HasPrefix(ua, "Mozilla/") || strings.HasPrefix(ua, "Opera/")) && !strings.Contains(ua, "Headless")
}

func isPreview(ua string) bool {
	for _, p := range previewAgents {
		if strings.Contains(ua, p) {
			return true
		}
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// clientAddr returns the visitor's address: the peer, or, when the peer is
// a trusted proxy, the last address in its forwarding header that is not
// itself a trusted proxy.
func clientAddr(e *Event, trusted clientaddr.Proxies) netip.Addr {
	peer := netip.AddrFrom16(e.IP).Unmap()
	if e.Flags&FlagTrusted == 0 || e.fwdLen == 0 {
		return peer
	}
	return trusted.Resolve(peer, e.Forwarded())
}

// country returns the visitor's ISO country code; ok is false when unknown.
func country(e *Event, addr netip.Addr) (c [2]byte, ok bool) {
	if e.Flags&FlagTrusted != 0 && e.Country[0] != 0 {
		c = [2]byte{upper(e.Country[0]), upper(e.Country[1])}
		if c != [2]byte{'X', 'X'} && c != [2]byte{'T', '1'} {
			return c, true
		}
	}
	if !addr.IsValid() || addr.IsPrivate() || addr.IsLoopback() {
		return c, false
	}
	s := iploc.IPCountry(addr)
	if len(s) != 2 {
		return c, false
	}
	return [2]byte{s[0], s[1]}, true
}

func upper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

// InvalidHost is counted for a Referer or Host header whose host is not a
// syntactically valid host name or IP address, so that junk sent by a
// client can neither pose as a host nor add values of its own.
const InvalidHost = "(invalid)"

// maxHostLen is the longest DNS name (RFC 1035); a bracketed IPv6 address
// with a zone fits too.
const maxHostLen = 253

// referrerHost appends the host of a Referer (lowercased, without "www."
// and port) to dst; nothing for none or one without scheme://host, and
// InvalidHost for a host that is not a valid name or address.
func referrerHost(dst, ref []byte) []byte {
	i := bytes.Index(ref, []byte("://"))
	if i <= 0 {
		return dst
	}
	host := ref[i+3:]
	if j := bytes.IndexAny(host, "/?#"); j >= 0 {
		host = host[:j]
	}
	if j := bytes.LastIndexByte(host, '@'); j >= 0 {
		host = host[j+1:]
	}
	start := len(dst)
	dst = appendHost(dst, host)
	if bytes.HasPrefix(dst[start:], []byte("www.")) && len(dst)-start > 4 {
		dst = append(dst[:start], dst[start+4:]...)
	}
	return dst
}

// appendHost appends host (a Host header or the authority of a URL without
// its user info) lowercased, without port or trailing dot, to dst; or
// InvalidHost when it is not a valid host name, IPv4 address or bracketed
// IPv6 address. Nothing for an empty host.
func appendHost(dst, host []byte) []byte {
	if j := bytes.LastIndexByte(host, ':'); j >= 0 && !bytes.HasSuffix(host, []byte("]")) {
		host = host[:j]
	}
	host = bytes.TrimSuffix(host, []byte("."))
	if len(host) == 0 {
		return dst
	}
	if len(host) > maxHostLen {
		return append(dst, InvalidHost...)
	}
	start := len(dst)
	for _, c := range host {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	if !validHost(dst[start:]) {
		return append(dst[:start], InvalidHost...)
	}
	return dst
}

// validHost reports whether h (lowercased) is a bracketed IPv6 address, an
// IPv4 address, or a host name: dot-separated labels of 1 to 63 letters,
// digits, hyphens and underscores, not starting or ending with a hyphen.
// Browsers send international names as punycode, so no other byte is valid.
func validHost(h []byte) bool {
	if h[0] == '[' {
		if len(h) < 2 {
			return false
		}
		a, err := netip.ParseAddr(string(h[1 : len(h)-1]))
		return h[len(h)-1] == ']' && err == nil && a.Is6()
	}
	if last := h[len(h)-1]; last >= '0' && last <= '9' { // a name's last label is not numeric
		a, err := netip.ParseAddr(string(h))
		return err == nil && a.Is4()
	}
	for label := range bytes.SplitSeq(h, []byte(".")) {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// visitorHash identifies a visitor within one day without storing who they
// are: a hash of the day's secret salt (replicated, deleted after two days),
// the address and the User-Agent. The hash only feeds HyperLogLog sketches,
// which keep a few bits of it; xxhash is fast enough for the click path's
// budget, and without the salt the address cannot be searched for.
func visitorHash(salt []byte, addr netip.Addr, ua []byte) uint64 {
	var d xxhash.Digest
	d.ResetWithSeed(binary.LittleEndian.Uint64(salt))
	d.Write(salt[8:])
	b := addr.As16()
	d.Write(b[:])
	d.Write(ua)
	return d.Sum64()
}

// VisitorHash returns what link options need to know about the visitor
// of e, on the redirect path: a hash that is stable for this visitor and
// code within a day (the analytics' salted daily visitor hash, mixed with
// the code, so that the A/B splits of different links are independent)
// and the country (0 when unknown). It is safe for concurrent use; r may
// be nil (analytics off), and until the writer has read a day's salt the
// hash is unsalted. It allocates only to parse a trusted proxy's
// forwarding header.
func (r *Recorder) VisitorHash(e *Event, trusted clientaddr.Proxies, code []byte) (hash uint64, ctry [2]byte) {
	addr := clientAddr(e, trusted)
	ctry, _ = country(e, addr)
	var salt []byte
	if r != nil {
		if p := r.daySalt.Load(); p != nil {
			salt = *p
		}
	}
	var d xxhash.Digest
	if len(salt) >= 8 {
		d.ResetWithSeed(binary.LittleEndian.Uint64(salt))
		d.Write(salt[8:])
	} else {
		d.Reset()
	}
	b := addr.As16()
	d.Write(b[:])
	d.Write(e.ua[:e.uaLen])
	d.Write(code)
	return d.Sum64(), ctry
}
