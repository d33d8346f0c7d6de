package clicks

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"net/url"
	"strings"

	"github.com/mssola/useragent"
	"github.com/phuslu/iploc"
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

// uaInfo is what a User-Agent says about a visit.
type uaInfo struct {
	class                   uint8
	device, browser, osName string
}

// classify parses a User-Agent. Empty agents are bots: browsers always
// send one.
func classify(ua string) uaInfo {
	if strings.TrimSpace(ua) == "" {
		return uaInfo{class: ClassBot, device: "bot", browser: "unknown", osName: "unknown"}
	}
	p := useragent.New(ua)
	name, _ := p.Browser()
	info := uaInfo{class: ClassHuman, browser: orUnknown(name), osName: orUnknown(p.OSInfo().Name)}
	switch {
	case isPreview(ua):
		info.class, info.device = ClassPreview, "bot"
	case p.Bot() || !browserLike(ua):
		info.class, info.device = ClassBot, "bot"
	case strings.Contains(ua, "iPad") || strings.Contains(ua, "Tablet"):
		info.device = "tablet"
	case p.Mobile():
		info.device = "mobile"
	default:
		info.device = "desktop"
	}
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
func clientAddr(e *Event, trusted []netip.Prefix) netip.Addr {
	peer := netip.AddrFrom16(e.IP).Unmap()
	if e.Flags&FlagTrusted == 0 || e.fwdLen == 0 {
		return peer
	}
	hops := strings.Split(e.Forwarded(), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a
		}
	}
	return peer
}

// IsTrusted reports whether a is in one of the trusted prefixes.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// country returns the visitor's ISO country code, "" when unknown.
func country(e *Event, addr netip.Addr) string {
	if e.Flags&FlagTrusted != 0 && e.Country[0] != 0 {
		c := strings.ToUpper(string(e.Country[:]))
		if c != "XX" && c != "T1" {
			return c
		}
	}
	if !addr.IsValid() || addr.IsPrivate() || addr.IsLoopback() {
		return ""
	}
	return iploc.IPCountry(addr)
}

// referrerHost reduces a Referer to its host; "" for none or unparsable.
func referrerHost(ref string) string {
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// visitorHash identifies a visitor within one day without storing who they
// are: a hash of the day's salt (replicated, deleted after two days), the
// address and the User-Agent.
func visitorHash(salt []byte, addr netip.Addr, ua string) uint64 {
	h := sha256.New()
	h.Write(salt)
	b := addr.As16()
	h.Write(b[:])
	h.Write([]byte(ua))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}
