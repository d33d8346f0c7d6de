//go:build browser

// The browser suite drives Debian's Chromium through the console like a
// person would. It needs `chromium` on PATH (or LINKD_CHROMIUM) and fails,
// never skips, without it. Run: go test -tags browser -run Browser ./httpd/
// Screenshots go to $LINKD_TEST_OUTPUT/screenshots (default: a temp dir,
// printed in the log).
package httpd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/httpdtest"
)

// desktopUA is an ordinary Chrome: headless Chromium announces itself as
// HeadlessChrome, which analytics rightly counts as a bot.
const desktopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

type browser struct {
	t   *testing.T
	ctx context.Context
	out string
	url string
}

func mustChromium(t *testing.T) string {
	if p := os.Getenv("LINKD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found: install Debian's chromium (.ci/run does) or set LINKD_CHROMIUM")
	return ""
}

func newBrowser(t *testing.T, base string) *browser {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(mustChromium(t)), chromedp.NoSandbox, chromedp.UserAgent(desktopUA),
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel3)
	// Confirm dialogs ("Revoke this key?") are accepted.
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(true))
		}
	})
	out := os.Getenv("LINKD_TEST_OUTPUT")
	if out == "" {
		out = t.TempDir()
	}
	out = filepath.Join(out, "screenshots")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", out)
	return &browser{t: t, ctx: ctx, out: out, url: base}
}

func (b *browser) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	var s string
	b.run("reading "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

func (b *browser) location() string {
	var s string
	b.run("location", chromedp.Location(&s))
	return s
}

// shot saves a full-page screenshot.
func (b *browser) shot(name string) {
	b.t.Helper()
	var png []byte
	b.run("screenshot "+name, chromedp.FullScreenshot(&png, 100)) // 100 means PNG; lower is JPEG
	if err := os.WriteFile(filepath.Join(b.out, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// saved clicks a submit button and waits for the next page's confirmation
// (the current page's is removed first, so it cannot be mistaken for it).
func (b *browser) saved(button string) chromedp.Action {
	return chromedp.Tasks{chromedp.Evaluate(`document.querySelectorAll(".alert").forEach(function(a){a.remove()})`, nil),
		chromedp.Click(button, chromedp.ByQuery), chromedp.WaitVisible(".alert.ok", chromedp.ByQuery)}
}

// login logs in through the form and waits for the console page it leads
// to (its Log out button): the login page has a "main h1" too, and
// navigating away before the POST is answered aborts it.
func (b *browser) login(email, password string) {
	b.t.Helper()
	b.run("log in", chromedp.Navigate(b.url+"/app/login"), b.fill("#f-email", email), b.fill("#f-password", password),
		chromedp.Submit("#f-password", chromedp.ByQuery), chromedp.WaitVisible(`form[action="/app/logout"]`, chromedp.ByQuery))
}

func (b *browser) fill(sel, value string) chromedp.Action {
	return chromedp.Tasks{chromedp.WaitVisible(sel, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector(`+jsString(sel)+`).value=""`, nil), chromedp.SendKeys(sel, value, chromedp.ByQuery)}
}

func TestBrowserConsole(t *testing.T) {
	landing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>Landing</title><h1>You arrived</h1>")
	}))
	defer landing.Close()
	n := httpdtest.StartWith(t, httpdtest.Options{Registration: httpd.RegistrationOpen, Limits: httpd.DefaultLimits()})
	b := newBrowser(t, n.URL)

	// Sign up.
	b.run("sign up page", chromedp.Navigate(n.URL+"/app/signup"), chromedp.WaitVisible("#f-email", chromedp.ByQuery))
	b.shot("01-signup")
	b.run("sign up", b.fill("#f-email", "ada@example.com"), b.fill("#f-password", "analytical engine"),
		chromedp.Submit("#f-password", chromedp.ByQuery), chromedp.WaitVisible(".alert.ok", chromedp.ByQuery))
	if got := b.text(".alert.ok"); !strings.Contains(got, "Welcome") {
		t.Fatalf("after sign-up: %q", got)
	}

	// Log out and in again.
	b.run("log out", chromedp.Click(`form[action="/app/logout"] button`, chromedp.ByQuery), chromedp.WaitVisible("#f-email", chromedp.ByQuery))
	b.shot("02-login")
	b.run("log in", b.fill("#f-email", "ada@example.com"), b.fill("#f-password", "wrong password!"),
		chromedp.Submit("#f-password", chromedp.ByQuery), chromedp.WaitVisible(".alert.error", chromedp.ByQuery))
	if got := b.text(".alert.error"); !strings.Contains(got, "not correct") {
		t.Fatalf("wrong password: %q", got)
	}
	b.run("log in", b.fill("#f-email", "ada@example.com"), b.fill("#f-password", "analytical engine"),
		chromedp.Submit("#f-password", chromedp.ByQuery), chromedp.WaitVisible("main summary", chromedp.ByQuery))

	// A bad URL shows a field error and creates nothing.
	b.run("bad create", chromedp.Navigate(n.URL+"/app/links?new"), chromedp.WaitVisible("#f-url", chromedp.ByQuery), b.fill("#f-url", "javascript:alert(1)"),
		chromedp.Submit("#f-url", chromedp.ByQuery), chromedp.WaitVisible("#e-url", chromedp.ByQuery))
	b.shot("03-create-error")

	// Create a link, then follow it.
	b.run("create", b.fill("#f-url", landing.URL+"/hello"), b.fill("#f-alias", "ada-hello"), b.fill("#f-tags", "launch, docs"),
		chromedp.Submit("#f-url", chromedp.ByQuery), chromedp.WaitVisible(".qr svg", chromedp.ByQuery))
	if !strings.HasSuffix(strings.Split(b.location(), "?")[0], "/app/links/ada-hello") {
		t.Fatalf("after create: %s", b.location())
	}
	b.shot("04-link")
	b.run("follow", chromedp.Navigate(n.URL+"/ada-hello"), chromedp.WaitVisible("h1", chromedp.ByQuery))
	if got := b.text("h1"); got != "You arrived" {
		t.Fatalf("the short link led to %q", got)
	}

	// The click shows on the analytics page once the compactor folds it in.
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.run("analytics", chromedp.Navigate(n.URL+"/app/links/ada-hello/analytics"), chromedp.WaitVisible(".stat b", chromedp.ByQuery))
		if b.text(".stat b") == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the click never showed: humans = %q", b.text(".stat b"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	b.shot("05-analytics")

	// The list shows it with its click.
	b.run("list", chromedp.Navigate(n.URL+"/app/links"), chromedp.WaitVisible("table.links", chromedp.ByQuery))
	if got := b.text("table.links tbody"); !strings.Contains(got, "ada-hello") || !strings.Contains(got, "launch") {
		t.Fatalf("list: %q", got)
	}
	b.shot("06-links")
	b.run("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(n.URL+"/app/links"), chromedp.WaitVisible("table.links", chromedp.ByQuery))
	b.shot("07-links-phone")
	b.run("desktop", chromedp.EmulateViewport(1280, 900))

	// Create an API key, use it, revoke it.
	b.run("keys", chromedp.Navigate(n.URL+"/app/keys"), b.fill("#f-name", "deploy script"),
		chromedp.Submit("#f-name", chromedp.ByQuery), chromedp.WaitVisible("#new-token", chromedp.ByQuery))
	token := b.text("#new-token")
	b.shot("08-keys")
	mustStatus(t, "the new key works", n.Do("GET", "/api/v1/links", nil, httpdtest.As(token)...), http.StatusOK)
	b.run("revoke", chromedp.Navigate(n.URL+"/app/keys"), chromedp.Click(`form[action^="/app/keys/"][action$="/delete"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(".alert.ok", chromedp.ByQuery))
	mustStatus(t, "the revoked key", n.Do("GET", "/api/v1/links", nil, httpdtest.As(token)...), http.StatusUnauthorized)

	// Delete the link with confirmation.
	b.run("delete", chromedp.Navigate(n.URL+"/app/links/ada-hello/delete"), chromedp.WaitVisible("button.danger", chromedp.ByQuery))
	b.shot("09-delete")
	b.run("confirm delete", chromedp.Click("button.danger", chromedp.ByQuery), chromedp.WaitVisible(".alert.ok", chromedp.ByQuery))
	mustStatus(t, "deleted link", n.Do("GET", "/ada-hello", nil), http.StatusGone)

	b.run("log out", chromedp.Click(`form[action="/app/logout"] button`, chromedp.ByQuery), chromedp.WaitVisible("#f-email", chromedp.ByQuery))
	mustStatus(t, "after logout", func() httpdtest.Response { return n.NewConsole(t).Get("/app/links") }(), http.StatusSeeOther)

	// The admin claims the bootstrap account and sees the admin pages.
	b.run("admin claim", chromedp.Navigate(n.URL+"/app/signup?invite="+n.AdminInvite()), b.fill("#f-email", "root@example.com"),
		b.fill("#f-password", "operator password"), chromedp.Submit("#f-password", chromedp.ByQuery), chromedp.WaitVisible(".alert.ok", chromedp.ByQuery))
	b.run("users", chromedp.Navigate(n.URL+"/app/admin/users"), chromedp.WaitVisible("table", chromedp.ByQuery))
	if got := b.text("table"); !strings.Contains(got, "ada@example.com") || !strings.Contains(got, "root@example.com") {
		t.Fatalf("users page: %q", got)
	}
	b.shot("10-admin-users")
	b.run("cluster", chromedp.Navigate(n.URL+"/app/admin/cluster"), chromedp.WaitVisible("table", chromedp.ByQuery))
	if got := b.text("table"); !strings.Contains(got, "n1") || !strings.Contains(got, "Leader") {
		t.Fatalf("cluster page: %q", got)
	}
	b.shot("11-admin-cluster")
}

// center returns the viewport coordinates of the middle of sel's first match.
func (b *browser) center(sel string) (float64, float64) {
	b.t.Helper()
	var xy []float64
	b.run("locate "+sel, chromedp.Evaluate(
		`(function(){var r=document.querySelector(`+jsString(sel)+`).getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2]})()`, &xy))
	return xy[0], xy[1]
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// drag drags from onto to with real mouse input. Headless Chromium has no
// OS drag loop, so the drag it starts is intercepted and replayed as drag
// events over the target (what Puppeteer does); the page's own dragstart,
// dragover, drop and dragend handlers run as they would for a person.
func (b *browser) drag(from, to string) {
	b.t.Helper()
	// Both ends must be on screen before either is located: scrolling
	// after locating one would move it.
	b.run("scroll", chromedp.Evaluate(`document.querySelector(`+jsString(to)+`).scrollIntoView({block:"start"})`, nil))
	fx, fy := b.center(from)
	tx, ty := b.center(to)
	got := make(chan *input.DragData, 1)
	chromedp.ListenTarget(b.ctx, func(ev any) {
		if e, ok := ev.(*input.EventDragIntercepted); ok {
			select {
			case got <- e.Data:
			default:
			}
		}
	})
	b.run("start drag", input.SetInterceptDrags(true),
		input.DispatchMouseEvent(input.MousePressed, fx, fy).WithButton(input.Left).WithClickCount(1),
		input.DispatchMouseEvent(input.MouseMoved, fx+8, fy+8).WithButton(input.Left),
		input.DispatchMouseEvent(input.MouseMoved, tx, ty).WithButton(input.Left))
	var data *input.DragData
	select {
	case data = <-got:
	case <-time.After(5 * time.Second):
		b.t.Fatalf("dragging %s started no drag", from)
	}
	b.run("drop", input.DispatchDragEvent(input.DragEnter, tx, ty, data), input.DispatchDragEvent(input.DragOver, tx, ty, data),
		input.DispatchDragEvent(input.Drop, tx, ty, data),
		input.DispatchMouseEvent(input.MouseReleased, tx, ty).WithButton(input.Left).WithClickCount(1),
		input.SetInterceptDrags(false))
}

func TestBrowserProfile(t *testing.T) {
	landing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>Landing</title><h1>Landed on "+r.URL.Path+"</h1>")
	}))
	defer landing.Close()
	n := httpdtest.StartWith(t, httpdtest.Options{Registration: httpd.RegistrationOpen})
	c, tok := n.User(t, "ada@example.com", pw)
	_ = c
	b := newBrowser(t, n.URL)
	b.run("log in", chromedp.Navigate(n.URL+"/app/login"), b.fill("#f-email", "ada@example.com"), b.fill("#f-password", pw),
		chromedp.Submit("#f-password", chromedp.ByQuery), chromedp.WaitVisible("main summary", chromedp.ByQuery))

	// Build the profile in the editor.
	b.run("editor", chromedp.Navigate(n.URL+"/app/profile"), chromedp.WaitVisible("#f-handle", chromedp.ByQuery),
		b.fill("#f-handle", "ada"), b.fill("#f-displayName", "Ada Lovelace"), b.fill("#f-bio", "Notes on the engine."),
		b.fill("#l0_title", "First"), b.fill("#l0_url", landing.URL+"/first"), chromedp.Click("#add-link", chromedp.ByQuery),
		b.fill("#l1_title", "Second"), b.fill("#l1_url", landing.URL+"/second"), chromedp.Click("#add-link", chromedp.ByQuery),
		b.fill("#l2_title", "GitHub"), b.fill("#l2_url", "https://github.com/ada"),
		b.saved(`#save-profile`))
	b.shot("20-profile-editor")
	order := func() string {
		var p struct{ Links []struct{ Title string } }
		json.Unmarshal(n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok)...).Body, &p)
		var ts []string
		for _, l := range p.Links {
			ts = append(ts, l.Title)
		}
		return strings.Join(ts, ",")
	}
	if got := order(); got != "First,Second,GitHub" {
		t.Fatalf("saved order %q", got)
	}

	// Reorder by drag and drop: GitHub to the top.
	b.drag(`li.plink[data-row="2"] .handle`, `li.plink[data-row="0"] .handle`)
	b.run("save order", b.saved(`#save-profile`))
	if got := order(); got != "GitHub,First,Second" {
		t.Fatalf("order after drag and drop: %q", got)
	}
	// The keyboard-accessible fallback: the ↓ button of the first row
	// (it moves the row in place; without script it submits the move).
	b.run("move down", chromedp.Click(`li.plink:first-child button[value$=":down"]`, chromedp.ByQuery), b.saved(`#save-profile`))
	if got := order(); got != "First,GitHub,Second" {
		t.Fatalf("order after the down button: %q", got)
	}

	// Switch theme: the preview (the page itself) follows before saving.
	var bg string
	b.run("pick sunset", chromedp.Click(`input[name=theme][value=sunset]`, chromedp.ByQuery))
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(bg, "linear-gradient"); time.Sleep(100 * time.Millisecond) {
		b.run("preview style", chromedp.Evaluate(`(function(){var d=document.getElementById("preview").contentDocument;
			return d&&d.body?getComputedStyle(d.body).backgroundImage:""})()`, &bg))
		if time.Now().After(deadline) {
			t.Fatalf("preview background after picking Sunset: %q", bg)
		}
	}
	b.run("save theme", b.saved(`#save-profile`))

	// Open the public page and click a link.
	b.run("public page", chromedp.Navigate(n.URL+"/@ada"), chromedp.WaitVisible("ul.links", chromedp.ByQuery))
	b.shot("21-profile-sunset-desktop")
	// Links point at the public URL (http://sho.rt in tests): follow the
	// first through this node instead.
	var href string
	b.run("first link", chromedp.AttributeValue(`ul.links a`, "href", &href, nil, chromedp.ByQuery))
	code := href[strings.LastIndex(href, "/")+1:]
	b.run("click", chromedp.Navigate(n.URL+"/"+code), chromedp.WaitVisible("h1", chromedp.ByQuery))
	if got := b.text("h1"); got != "Landed on /first" {
		t.Fatalf("the profile link led to %q", got)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.run("editor stats", chromedp.Navigate(n.URL+"/app/profile"), chromedp.WaitVisible("#plinks", chromedp.ByQuery))
		if strings.Contains(b.text(`li.plink:first-child`), "1 clicks") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the click was never counted: %q", b.text(`li.plink:first-child`))
		}
		time.Sleep(300 * time.Millisecond)
	}

	// Screenshots of the page in several themes, desktop and phone.
	for _, th := range []string{"classic", "midnight", "paper", "terminal", "candy"} {
		mustPutProfile(t, n, tok, `{"handle":"ada","displayName":"Ada Lovelace","bio":"Notes on the engine.","theme":"`+th+`","links":[
			{"title":"Instagram","url":"https://instagram.com/ada","social":true},{"title":"","url":"https://github.com/ada","social":true},
			{"title":"","url":"mailto:ada@example.com","social":true},
			{"title":"Read my notes","url":"https://ada.example/notes"},{"title":"Watch the talk","url":"https://youtube.com/watch?v=1"},
			{"title":"Listen","url":"https://soundcloud.com/ada"},{"title":"Support me","url":"https://patreon.com/ada"},
			{"title":"Spoilers","url":"https://ada.example/spoilers","sensitive":true}]}`)
		b.run("desktop "+th, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(n.URL+"/@ada"), chromedp.WaitVisible("ul.links", chromedp.ByQuery))
		b.shot("22-profile-" + th + "-desktop")
		b.run("phone "+th, chromedp.EmulateViewport(390, 844), chromedp.Navigate(n.URL+"/@ada"), chromedp.WaitVisible("ul.links", chromedp.ByQuery))
		b.shot("23-profile-" + th + "-phone")
	}
}
