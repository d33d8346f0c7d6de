//go:build browser

package httpd_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/httpdtest"
)

// A visitor opens a password-protected link in Chromium, is refused with a
// wrong password, enters the right one in the no-script form and lands;
// opening the link again lands at once (the unlock cookie).
func TestBrowserLinkPassword(t *testing.T) {
	landing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>Landing</title><h1 id=\"arrived\">You arrived</h1>")
	}))
	defer landing.Close()
	n := httpdtest.StartWith(t, httpdtest.Options{Limits: httpd.DefaultLimits()})
	l := mustJSON[optLink](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"`+landing.URL+`/secret","password":"open sesame"}`)), 201)
	b := newBrowser(t, n.URL)
	b.run("open the link", chromedp.Navigate(n.URL+"/"+l.Code), chromedp.WaitVisible("#pw", chromedp.ByQuery))
	b.shot("options-01-password")
	b.run("wrong password", b.fill("#pw", "open barley"), chromedp.Submit("#pw", chromedp.ByQuery),
		chromedp.WaitVisible(".err", chromedp.ByQuery))
	if got := b.text(".err"); !strings.Contains(got, "not correct") {
		t.Fatalf("wrong password: %q", got)
	}
	b.run("right password", b.fill("#pw", "open sesame"), chromedp.Submit("#pw", chromedp.ByQuery),
		chromedp.WaitVisible("#arrived", chromedp.ByQuery))
	if got, loc := b.text("#arrived"), b.location(); got != "You arrived" || loc != landing.URL+"/secret" {
		t.Fatalf("after the password: %q at %s", got, loc)
	}
	b.shot("options-02-landed")
	b.run("again", chromedp.Navigate(n.URL+"/"+l.Code), chromedp.WaitVisible("#arrived", chromedp.ByQuery))
	if loc := b.location(); loc != landing.URL+"/secret" {
		t.Fatalf("the second visit asked again: %s", loc)
	}
}
