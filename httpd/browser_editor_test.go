//go:build browser

package httpd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
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
			b.run("viewport", chromedp.EmulateViewport(size.w, size.h))
			b.login(handle+"@example.com", pw)
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
			b.shot("30-editor-" + size.name)
			l := b.checkFit("the editor at " + size.name)
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
			// The analytics of a link just added, at the same width: chart
			// text at least 11 px, no overflow.
			var code string
			b.run("code", chromedp.Navigate(n.URL+"/app/profile"), chromedp.WaitVisible("#l0_title", chromedp.ByQuery),
				chromedp.Value("input[name=l0_code]", &code, chromedp.ByQuery))
			if code == "" {
				t.Fatal("the saved first link has no code")
			}
			b.run("analytics", chromedp.Navigate(n.URL+"/app/links/"+code+"/analytics"), chromedp.WaitVisible("section[aria-labelledby=h-class]", chromedp.ByQuery))
			b.shot("33-analytics-" + size.name)
			if l := b.checkFit("the analytics of " + code + " at " + size.name); l.MinFont == 0 {
				t.Errorf("no chart measured on the analytics page at %s", size.name)
			}
		})
	}
}

// Without script, "+ Add link" is a round trip that brings one more row,
// and Enter in a field saves the whole form: implicit submission presses
// the form's first submit button, which must be a Save, not the first
// row's ↑. (A ↑ without script also saves, after a move that is a no-op
// for the first row, so this holds with or without the hidden Save.)
func TestBrowserEditorWithoutScript(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Registration: httpd.RegistrationOpen})
	n.User(t, "noscript@example.com", pw)
	b := newBrowser(t, n.URL)
	b.login("noscript@example.com", pw)
	b.run("editor", emulation.SetScriptExecutionDisabled(true), chromedp.Navigate(n.URL+"/app/profile"),
		chromedp.WaitVisible("#f-handle", chromedp.ByQuery), b.fill("#f-handle", "noscript"), b.fill("#f-displayName", "No script"),
		b.fill("#l0_title", "One"), b.fill("#l0_url", "https://example.com/one"))
	b.run("add link", chromedp.Click("#add-link", chromedp.ByQuery), chromedp.WaitVisible("#l1_title", chromedp.ByQuery),
		b.fill("#l1_title", "Two"), b.fill("#l1_url", "https://example.com/two"))
	var scripted bool // the script turns ↑ ↓ into plain buttons
	b.run("script off?", chromedp.Evaluate(`document.querySelector(".move button").type!=="submit"`, &scripted))
	if scripted {
		t.Fatal("the editor's script ran")
	}
	// Mark this document, press Enter, wait for the next one.
	b.run("enter", chromedp.Evaluate(`document.body.dataset.old="1"`, nil),
		chromedp.Focus("#l1_title", chromedp.ByQuery), chromedp.KeyEvent(kb.Enter))
	next := false
	for deadline := time.Now().Add(15 * time.Second); !next; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Enter did not submit the form")
		}
		b.run("next page", chromedp.Evaluate(`!!document.body && !document.body.dataset.old && document.readyState==="complete"`, &next))
	}
	b.shot("34-editor-noscript-enter")
	var saved bool
	b.run("saved?", chromedp.Evaluate(`!!document.querySelector(".alert.ok")`, &saved))
	page := string(n.Do("GET", "/@noscript", nil, "Authorization", "").Body)
	if got := pageTitles(page); !saved || got != "One,Two" {
		t.Fatalf("Enter in a field did not save the profile (confirmation shown: %v; /@noscript shows %q, want \"One,Two\")", saved, got)
	}
}
