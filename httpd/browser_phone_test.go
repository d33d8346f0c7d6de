//go:build browser

package httpd_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// layoutJS measures the page: horizontal overflow, the header's height,
// and the smallest rendered chart text (an SVG's 11-unit font scaled by
// its drawn width over its viewBox width), over visible charts only, and
// the page's height, and table headings with a word broken across lines.
const layoutJS = `(function(){
  var de = document.documentElement, min = 1e9, cut = 0;
  document.querySelectorAll("svg.svgchart").forEach(function(s){
    if (!s.getClientRects().length) return;
    var k = s.getBoundingClientRect().width / s.viewBox.baseVal.width;
    s.querySelectorAll("text").forEach(function(t){ min = Math.min(min, parseFloat(getComputedStyle(t).fontSize) * k); if (t.textContent.indexOf("\u2026") >= 0) cut++; });
  });
  var broken = [];
  document.querySelectorAll("th").forEach(function(th){
    if (!th.getClientRects().length) return;
    for (var w = document.createTreeWalker(th, NodeFilter.SHOW_TEXT), n; (n = w.nextNode());) {
      var p = n.parentElement.getBoundingClientRect();
      if (p.width <= 1 || p.right <= 0) continue; // a visually hidden label (.vh, .skip)
      for (var re = /\S+/g, m; (m = re.exec(n.data));) {
        var r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        if (r.getClientRects().length > 1) broken.push(m[0]);
      }
    }
  });
  return {overflow: de.scrollWidth - de.clientWidth, header: document.querySelector("header.top").getBoundingClientRect().height,
          minFont: min === 1e9 ? 0 : min, width: de.clientWidth, height: de.scrollHeight, truncated: cut, brokenHeads: broken};
})()`

type layout struct {
	Overflow, Header, MinFont, Width, Height float64
	Truncated                                int      // chart labels cut with "…"
	BrokenHeads                              []string // words of table headings split over two lines
}

// Every console page fits a 390 px phone without horizontal scrolling, with
// the menu folded (no script needed: <details>), and chart text is at
// least 11 px there and on a desktop; the analytics class bar adds up to
// the requests.
func TestBrowserPhoneLayout(t *testing.T) {
	n := httpdtest.Start(t, "")
	b := newBrowser(t, n.URL)
	c, tok := n.User(t, "ada@example.com", pw)
	code := mustCreateLink(t, n, tok, `{"url":"https://example.com/a/very/long/path/that/could/overflow/a/phone/screen?with=query&and=more","title":"A link with a rather long title"}`)
	for i, ua := range []string{firefox, iphone, iphone, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"} {
		path := "/" + code
		if i == 2 {
			path += "?qr"
		}
		n.Do("GET", path, nil, "Authorization", "", "User-Agent", ua, "Referer", "https://a-very-long-referrer-host-name.example.org/x")
	}
	n.Do("HEAD", "/"+code, nil, "Authorization", "")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(string(c.Get("/app/links/"+code+"/analytics").Body), "All 5 requests") {
		if time.Now().After(deadline) {
			t.Fatal("the clicks never showed")
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.login("ada@example.com", pw)
	b.checkLayout("ada", "/app/links", "/app/links/"+code, "/app/links/"+code+"/analytics", "/app/profile", "/app/keys",
		"/app/links/"+code+"/delete", "/app/transfer", "/app/webhooks")

	// The folded menu opens without script and lists every page.
	b.run("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(n.URL+"/app/links"), chromedp.Click("details.menu summary", chromedp.ByQuery),
		chromedp.WaitVisible(`details.menu a[href="/app/keys"]`, chromedp.ByQuery))
	b.shot("21-phone-menu-open")
	// The class bar's parts add up to the requests it is about.
	var desc string
	b.run("class chart", chromedp.Navigate(n.URL+"/app/links/"+code+"/analytics"), chromedp.WaitVisible("main h1", chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("section[aria-labelledby=h-class] svg")).filter(function(s){return s.getClientRects().length})[0].querySelector("desc").textContent`, &desc))
	var h, bots, prev int
	if _, err := fmt.Sscanf(strings.NewReplacer(",", "", "(", "", ")", "").Replace(desc), "Humans %d %s Bots %d %s Link previews %d", &h, new(string), &bots, new(string), &prev); err != nil {
		t.Fatalf("class chart %q: %v", desc, err)
	}
	if h+bots+prev != 5 || strings.Contains(desc, "QR") {
		t.Fatalf("class chart %q does not add up to the 5 requests", desc)
	}

	b.run("admin claim", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(n.URL+"/app/signup?invite="+n.AdminInvite()), b.fill("#f-email", "root@example.com"),
		b.fill("#f-password", "operator password"), chromedp.Submit("#f-password", chromedp.ByQuery), chromedp.WaitVisible(".alert.ok", chromedp.ByQuery))
	b.checkLayout("admin", "/app/admin/users", "/app/admin/cluster", "/app/admin/domains", "/app/admin/moderation")
	// On the desktop the admin pages are one dropdown, which opens
	// without script.
	b.run("admin menu", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(n.URL+"/app/links"),
		chromedp.Click("nav.main details.admin summary", chromedp.ByQuery),
		chromedp.WaitVisible(`nav.main details.admin a[href="/app/admin/moderation"]`, chromedp.ByQuery))
	b.shot("22-desktop-admin-menu-open")
}

// checkLayout opens each page at phone and desktop widths, saves a
// screenshot and fails on horizontal overflow, chart text under 11 px or
// a header over one line (an unfolded phone menu, a wrapped desktop bar).
func (b *browser) checkLayout(who string, pages ...string) {
	b.t.Helper()
	for _, size := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		b.run(size.name, chromedp.EmulateViewport(size.w, size.h))
		for i, p := range pages {
			b.run(p, chromedp.Navigate(b.url+p), chromedp.WaitVisible("main h1", chromedp.ByQuery))
			b.shot(fmt.Sprintf("20-%s-%s-%02d", who, size.name, i))
			b.checkFit(p + " at " + size.name)
		}
	}
}

// checkFit measures the page in the browser and fails on horizontal
// overflow, chart text under 11 px, truncated chart labels, table
// headings broken mid-word or a header over one line (an unfolded phone menu, a wrapped desktop bar).
func (b *browser) checkFit(where string) layout {
	b.t.Helper()
	var l layout
	b.run("measure "+where, chromedp.Evaluate(layoutJS, &l))
	if l.Overflow > 0 {
		b.t.Errorf("%s: %.0f px of horizontal overflow", where, l.Overflow)
	}
	if l.MinFont > 0 && l.MinFont < 11 {
		b.t.Errorf("%s: chart text drawn at %.1f px", where, l.MinFont)
	}
	if l.Truncated > 0 {
		b.t.Errorf("%s: %d truncated chart labels", where, l.Truncated)
	}
	if len(l.BrokenHeads) > 0 {
		b.t.Errorf("%s: table headings broken mid-word: %q", where, l.BrokenHeads)
	}
	if l.Header > 80 { // one line: the phone menu, or the desktop bar with its Admin dropdown
		b.t.Errorf("%s: the header is %.0f px tall (wrapped or menu not folded)", where, l.Header)
	}
	b.t.Logf("%s: width %.0f px, page height %.0f px, overflow %.0f px, header %.0f px, smallest chart text %.1f px",
		where, l.Width, l.Height, l.Overflow, l.Header, l.MinFont)
	return l
}
