//go:build browser

package httpd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/httpdtest"
)

// previewJS reads the titles of the links the editor's preview iframe (the
// real page, rendered from the unsaved form) shows, in order.
const previewJS = `(function(){var f=document.getElementById("preview"),d=f&&f.contentDocument;
  if(!d)return "";return Array.from(d.querySelectorAll("ul.links a span")).map(function(s){return s.textContent}).join(",")})()`

// editorMaxHeight bounds the editor's page height with five links: the
// old editor (every field of every row open, three blank rows) measured
// about 4,800 px at 390 px.
const editorMaxHeight = 3200

// The profile editor walked at a desktop width and at 390 px: add five
// links (one blank row, then "Add link" four times, without a round trip),
// move one up, hide one, watch the preview (the real page) follow, press
// Enter in a field (it saves; it must not press a row's ↑), then read the
// public page.
func TestBrowserEditor(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Registration: httpd.RegistrationOpen})
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			handle := "ed" + size.name
			n.User(t, handle+"@example.com", pw)
			b := newBrowser(t, n.URL)
			b.run("log in", chromedp.EmulateViewport(size.w, size.h), chromedp.Navigate(n.URL+"/app/login"),
				b.fill("#f-email", handle+"@example.com"), b.fill("#f-password", pw),
				chromedp.Submit("#f-password", chromedp.ByQuery), chromedp.WaitVisible("main h1", chromedp.ByQuery))
			b.run("editor", chromedp.Navigate(n.URL+"/app/profile"), chromedp.WaitVisible("#f-handle", chromedp.ByQuery),
				b.fill("#f-handle", handle), b.fill("#f-displayName", "Ed "+size.name))
			var rows int
			b.run("rows", chromedp.Evaluate(`document.querySelectorAll("li.plink").length`, &rows))
			if rows != 1 {
				t.Fatalf("a new profile offers %d rows, want one blank row", rows)
			}
			titles := []string{"One", "Two", "Three", "Four", "Five"}
			for i, title := range titles {
				if i > 0 {
					b.run("add link", chromedp.Click("#add-link", chromedp.ByQuery))
				}
				id := "#l" + string(rune('0'+i))
				b.run("fill "+title, b.fill(id+"_title", title), b.fill(id+"_url", "https://example.com/"+strings.ToLower(title)))
			}
			if got := b.location(); !strings.HasSuffix(got, "/app/profile") {
				t.Fatalf("adding rows left the editor: %s", got)
			}
			// Five up one: One,Two,Three,Five,Four. Hide Two.
			b.run("move up", chromedp.Click(`li.plink[data-row="4"] button[value$=":up"]`, chromedp.ByQuery))
			b.run("hide", chromedp.Click(`input[name=l1_enabled]`, chromedp.ByQuery))
			if size.name == "phone" {
				b.run("show preview", chromedp.Evaluate(`window.scrollTo(0,0)`, nil), chromedp.Click(`label[for=pv-show]`, chromedp.ByQuery),
					chromedp.WaitVisible("#preview", chromedp.ByQuery))
			}
			want := "One,Three,Five,Four"
			var got string
			for deadline := time.Now().Add(15 * time.Second); got != want; time.Sleep(100 * time.Millisecond) {
				b.run("preview", chromedp.Evaluate(previewJS, &got))
				if time.Now().After(deadline) {
					t.Fatalf("the preview shows %q, want %q", got, want)
				}
			}
			var l struct{ Overflow, Height, Width float64 }
			b.run("measure", chromedp.Evaluate(`({overflow:document.documentElement.scrollWidth-document.documentElement.clientWidth,
				height:document.documentElement.scrollHeight,width:document.documentElement.clientWidth})`, &l))
			b.shot("30-editor-" + size.name)
			t.Logf("%s: width %.0f px, page height %.0f px, overflow %.0f px", size.name, l.Width, l.Height, l.Overflow)
			if l.Overflow > 0 {
				t.Errorf("%.0f px of horizontal overflow at %s", l.Overflow, size.name)
			}
			if l.Height > editorMaxHeight {
				t.Errorf("the editor is %.0f px tall at %s (limit %d)", l.Height, size.name, editorMaxHeight)
			}
			// Enter in a field saves the form (the first row's ↑ would
			// move it instead).
			b.run("enter", chromedp.Evaluate(`document.querySelectorAll(".alert").forEach(function(a){a.remove()})`, nil),
				chromedp.Focus("#l0_title", chromedp.ByQuery), chromedp.KeyEvent(kb.Enter),
				chromedp.WaitVisible(".alert.ok", chromedp.ByQuery))
			b.shot("31-editor-saved-" + size.name)
			page := string(n.Do("GET", "/@"+handle, nil, "Authorization", "").Body)
			if got := pageTitles(page); got != want {
				t.Fatalf("/@%s shows %q, want %q", handle, got, want)
			}
			var hidden bool
			b.run("hidden kept", chromedp.Evaluate(`!document.querySelector("li.plink:nth-child(2) input[name$=_enabled]").checked &&
				document.querySelector("li.plink:nth-child(2) input[name$=_title]").value==="Two"`, &hidden))
			if !hidden {
				t.Fatal("after saving, the editor does not show Two as hidden in second place")
			}
			b.run("public", chromedp.Navigate(n.URL+"/@"+handle), chromedp.WaitVisible("ul.links", chromedp.ByQuery))
			b.shot("32-page-" + size.name)
		})
	}
}
