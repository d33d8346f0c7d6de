package social

import (
	"encoding/xml"
	"strings"
	"testing"
)

// TestDetect is the icon detection table: one or more URLs per platform.
func TestDetect(t *testing.T) {
	table := map[string][]string{
		"instagram":  {"https://www.instagram.com/nasa/", "https://instagr.am/p/x"},
		"youtube":    {"https://www.youtube.com/@veritasium", "https://youtu.be/dQw4w9WgXcQ", "https://m.youtube.com/watch?v=1"},
		"tiktok":     {"https://www.tiktok.com/@khaby.lame"},
		"x":          {"https://x.com/golang", "https://twitter.com/golang", "https://mobile.twitter.com/golang"},
		"facebook":   {"https://www.facebook.com/zuck", "https://fb.me/x", "https://m.facebook.com/x"},
		"linkedin":   {"https://www.linkedin.com/in/someone", "https://lnkd.in/abc"},
		"github":     {"https://github.com/golang/go"},
		"twitch":     {"https://www.twitch.tv/shroud"},
		"spotify":    {"https://open.spotify.com/artist/1", "https://spotify.link/x"},
		"soundcloud": {"https://soundcloud.com/artist"},
		"pinterest":  {"https://www.pinterest.com/x/", "https://pin.it/abc"},
		"snapchat":   {"https://www.snapchat.com/add/x"},
		"threads":    {"https://www.threads.net/@zuck", "https://www.threads.com/@zuck"},
		"bluesky":    {"https://bsky.app/profile/jay.bsky.team"},
		"mastodon":   {"https://mastodon.social/@Gargron", "https://fosstodon.org/@someone", "https://hachyderm.social/@x"},
		"discord":    {"https://discord.gg/golang", "https://discord.com/invite/x"},
		"telegram":   {"https://t.me/durov", "https://telegram.me/x"},
		"whatsapp":   {"https://wa.me/15551234567", "https://chat.whatsapp.com/x"},
		"reddit":     {"https://www.reddit.com/r/golang/", "https://old.reddit.com/r/x"},
		"patreon":    {"https://www.patreon.com/someone"},
		"email":      {"mailto:hello@example.com"},
		"phone":      {"tel:+15551234567"},
		"medium":     {"https://medium.com/@x", "https://someone.medium.com/post"},
		"substack":   {"https://someone.substack.com/"},
		"behance":    {"https://www.behance.net/x"},
		"dribbble":   {"https://dribbble.com/x"},
		"vimeo":      {"https://vimeo.com/123"},
		"messenger":  {"https://m.me/someone"},
		"signal":     {"https://signal.me/#p/+1555"},
		"paypal":     {"https://paypal.me/someone"},
		"website":    {"https://example.com/", "https://notinstagram.com/", "https://example.social/about", "not a url %zz"},
	}
	if len(table)-2 < 25 { // phone and website are not platforms
		t.Fatalf("only %d platforms", len(table)-2)
	}
	for want, urls := range table {
		for _, u := range urls {
			if got := Detect(u); got.ID != want {
				t.Errorf("Detect(%q) = %s, want %s", u, got.ID, want)
			}
		}
		if _, ok := Lookup(want); !ok {
			t.Errorf("no icon for %s", want)
		}
	}
}

// Every icon is well-formed SVG markup.
func TestIconsAreValidSVG(t *testing.T) {
	if len(icons) < 30 {
		t.Fatalf("%d icons", len(icons))
	}
	for name, ic := range icons {
		svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="` + ic.ViewBox + `">` + ic.Body + `</svg>`
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Errorf("icon %s: %v", name, err)
				}
				break
			}
		}
	}
}
