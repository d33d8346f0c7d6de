// Package social recognises which platform a link points to (Instagram,
// YouTube, Mastodon-style servers, email, ...) and supplies its icon as an
// inline SVG symbol. The icons come from open sets that Debian packages
// (see LICENSE-icons.md); gen.go turns them into icons.go.
package social

//go:generate go run gen.go

import (
	"net/url"
	"strings"
)

// Icon is an SVG icon: its viewBox and the markup inside <svg>.
type Icon struct {
	ViewBox string
	Body    string
}

// Platform is a recognised service.
type Platform struct {
	ID   string // stable name, also the icon's
	Name string // shown to people (and screen readers)
}

// Lookup returns the icon for a platform id; ok is false for unknown ids.
func Lookup(id string) (Icon, bool) {
	ic, ok := icons[iconFor(id)]
	return ic, ok
}

// iconFor maps platforms without their own icon in the bundled sets to a
// neutral one (see LICENSE-icons.md and the package tests).
func iconFor(id string) string {
	switch id {
	case "x":
		return "twitter"
	case "threads":
		return "at"
	case "bluesky":
		return "butterfly"
	case "substack":
		return "newspaper"
	case "website":
		return "link"
	}
	return id
}

// hostPlatforms maps a registrable host (and its subdomains) to a platform.
var hostPlatforms = map[string]Platform{
	"instagram.com": {"instagram", "Instagram"}, "instagr.am": {"instagram", "Instagram"},
	"youtube.com": {"youtube", "YouTube"}, "youtu.be": {"youtube", "YouTube"},
	"tiktok.com": {"tiktok", "TikTok"},
	"x.com":      {"x", "X"}, "twitter.com": {"x", "X"},
	"facebook.com": {"facebook", "Facebook"}, "fb.com": {"facebook", "Facebook"}, "fb.me": {"facebook", "Facebook"},
	"linkedin.com": {"linkedin", "LinkedIn"}, "lnkd.in": {"linkedin", "LinkedIn"},
	"github.com":  {"github", "GitHub"},
	"twitch.tv":   {"twitch", "Twitch"},
	"spotify.com": {"spotify", "Spotify"}, "spotify.link": {"spotify", "Spotify"},
	"soundcloud.com": {"soundcloud", "SoundCloud"},
	"pinterest.com":  {"pinterest", "Pinterest"}, "pin.it": {"pinterest", "Pinterest"},
	"snapchat.com": {"snapchat", "Snapchat"},
	"threads.net":  {"threads", "Threads"}, "threads.com": {"threads", "Threads"},
	"bsky.app":    {"bluesky", "Bluesky"},
	"discord.com": {"discord", "Discord"}, "discord.gg": {"discord", "Discord"},
	"t.me": {"telegram", "Telegram"}, "telegram.me": {"telegram", "Telegram"},
	"wa.me": {"whatsapp", "WhatsApp"}, "whatsapp.com": {"whatsapp", "WhatsApp"},
	"reddit.com":   {"reddit", "Reddit"},
	"patreon.com":  {"patreon", "Patreon"},
	"medium.com":   {"medium", "Medium"},
	"substack.com": {"substack", "Substack"},
	"behance.net":  {"behance", "Behance"},
	"dribbble.com": {"dribbble", "Dribbble"},
	"vimeo.com":    {"vimeo", "Vimeo"},
	"m.me":         {"messenger", "Messenger"},
	"signal.me":    {"signal", "Signal"},
	"paypal.me":    {"paypal", "PayPal"}, "paypal.com": {"paypal", "PayPal"},
	"mastodon.social": {"mastodon", "Mastodon"}, "mastodon.online": {"mastodon", "Mastodon"},
}

// Detect recognises the platform of a link; unknown http(s) links are a
// "website".
func Detect(raw string) Platform {
	u, err := url.Parse(raw)
	if err != nil {
		return Platform{"website", "Website"}
	}
	switch u.Scheme {
	case "mailto":
		return Platform{"email", "Email"}
	case "tel":
		return Platform{"phone", "Phone"}
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	for h := host; h != ""; {
		if p, ok := hostPlatforms[h]; ok {
			return p
		}
		_, rest, found := strings.Cut(h, ".")
		if !found || !strings.Contains(rest, ".") {
			break
		}
		h = rest
	}
	if mastodonStyle(host, u.Path) {
		return Platform{"mastodon", "Mastodon"}
	}
	return Platform{"website", "Website"}
}

// mastodonStyle spots fediverse profile URLs (https://host/@user) on hosts
// that look like Mastodon servers: the path is the only reliable sign.
func mastodonStyle(host, path string) bool {
	if !strings.HasPrefix(path, "/@") || len(path) < 3 || strings.Contains(path[2:], "/") {
		return false
	}
	return strings.Contains(host, "mastodon") || strings.HasSuffix(host, ".social") ||
		strings.Contains(host, "fosstodon") || strings.HasPrefix(host, "mas.") || strings.Contains(host, "toot")
}
