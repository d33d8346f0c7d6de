//go:build browser

// The browser suite drives Debian's Chromium through the console like a
// person would. It needs `chromium` on PATH (or LINKD_CHROMIUM) and fails,
// never skips, without it. Run: go test -tags browser -run Browser ./httpd/
// Screenshots go to $LINKD_TEST_OUTPUT/screenshots (default: a temp dir,
// printed in the log).
package httpd_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

func (b *browser) fill(sel, value string) chromedp.Action {
	return chromedp.Tasks{chromedp.Clear(sel, chromedp.ByQuery), chromedp.SendKeys(sel, value, chromedp.ByQuery)}
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
		chromedp.Submit("#f-password", chromedp.ByQuery), chromedp.WaitVisible("summary", chromedp.ByQuery))

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
	b.run("revoke", chromedp.Navigate(n.URL+"/app/keys"), chromedp.Click(`form[action$="/delete"] button`, chromedp.ByQuery),
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
