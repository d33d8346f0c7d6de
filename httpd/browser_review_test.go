//go:build browser

package httpd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// The admin's Safety page in Chromium: a reported link is reviewed and its
// domain blocked from the queue (every link to that domain then answers
// 451), and a new user's held link is approved from the review queue (it
// then redirects).
func TestBrowserReviewQueue(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{ReviewNewUsers: time.Hour})
	mustStatusIs(t, "admin", n.Do("POST", "/api/v1/users", []byte(`{"email":"mod@example.com","password":"correct horse battery","role":"admin"}`)), 201)
	scam1 := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://login.scam.test/bank"}`)), 201).Code
	scam2 := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://scam.test/other"}`)), 201).Code
	mustStatusIs(t, "report", n.Do("POST", "/api/v1/reports", []byte(`{"code":"`+scam1+`","reason":"phishing","note":"asks for my PIN"}`),
		"Authorization", ""), 202)
	_, tok := n.User(t, "new@example.com", "correct horse battery")
	held := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://fine.test/"}`), httpdtest.As(tok)...), 201).Code
	mustStatusIs(t, "held", n.Do("GET", "/"+held, nil), 403)

	b := newBrowser(t, n.URL)
	b.run("log in", chromedp.Navigate(n.URL+"/app/login"), b.fill("#f-email", "mod@example.com"),
		b.fill("#f-password", "correct horse battery"), chromedp.Submit("#f-password", chromedp.ByQuery),
		chromedp.WaitVisible("nav", chromedp.ByQuery))
	b.run("safety page", chromedp.Navigate(n.URL+"/app/admin/moderation"), chromedp.WaitVisible("h1", chromedp.ByQuery))
	b.shot("review-01-queues")
	if body := b.text("main"); !strings.Contains(body, "asks for my PIN") || !strings.Contains(body, "fine.test") {
		t.Fatalf("queues: %s", body)
	}
	b.run("block the reported domain", chromedp.Click(`button[value="block-domain"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//td[contains(., "No open reports.")]`, chromedp.BySearch))
	for _, code := range []string{scam1, scam2} {
		mustStatusIs(t, "blocked "+code, n.Do("GET", "/"+code, nil), 451)
	}
	b.run("approve the held link", chromedp.Click(`form[action="/app/admin/review/`+held+`"] button[value="approve"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//td[contains(., "No links are waiting for review.")]`, chromedp.BySearch))
	b.shot("review-02-decided")
	mustStatusIs(t, "approved", n.Do("GET", "/"+held, nil), 302)
	if audit := b.text("main"); !strings.Contains(audit, "review.approve") || !strings.Contains(audit, "report.block-domain") {
		t.Fatalf("audit trail: %s", audit)
	}
}
