package httpd_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

type report struct {
	Total, Humans, Bots, Previews, Scans, UniqueVisitors uint64
	Series                                               []struct {
		T      string
		Clicks uint64
	}
	Referrers, Countries, Devices, Browsers, OS []struct {
		Key   string
		Count uint64
	}
}

const (
	firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
	iphone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)

func TestAnalyticsAPI(t *testing.T) {
	n := httpdtest.Start(t, "")
	l := mustCreate(t, n, `{"url":"https://e.test/a"}`)
	visit := func(method, path string, header ...string) {
		t.Helper()
		if r := n.Do(method, path, nil, append([]string{"Authorization", ""}, header...)...); r.Status != 302 && r.Status != 404 {
			t.Fatalf("%s %s: %d", method, path, r.Status)
		}
	}
	visit("GET", "/"+l.Code, "User-Agent", firefox, "Referer", "https://www.google.com/search?q=x", "X-Forwarded-For", "1.1.1.1", "CF-IPCountry", "DE")
	visit("GET", "/"+l.Code, "User-Agent", iphone, "Referer", "https://t.co/abc", "X-Forwarded-For", "8.8.4.4")
	visit("GET", "/"+l.Code+"?qr", "User-Agent", iphone, "X-Forwarded-For", "9.9.9.9")
	visit("GET", "/"+l.Code, "User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	visit("GET", "/"+l.Code, "User-Agent", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
	visit("HEAD", "/"+l.Code, "User-Agent", firefox)
	visit("GET", "/"+l.Code, "User-Agent", firefox, "DNT", "1", "X-Forwarded-For", "5.5.5.5")
	visit("GET", "/nosuchcode", "User-Agent", firefox)

	var rep report
	deadline := time.Now().Add(10 * httpdtest.AnalyticsLag)
	for rep.Total+rep.Previews < 7 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		rep = mustJSON[report](t, n.Do("GET", "/api/v1/links/"+l.Code+"/analytics?interval=hour", nil), 200)
	}
	if rep.Total != 5 || rep.Humans != 4 || rep.Bots != 1 || rep.Previews != 2 || rep.Scans != 1 {
		t.Fatalf("counts: %+v", rep)
	}
	if rep.UniqueVisitors < 3 || rep.UniqueVisitors > 5 {
		t.Fatalf("unique visitors %d (the DNT visit and the bot are not both visitors)", rep.UniqueVisitors)
	}
	keys := func(kc []struct {
		Key   string
		Count uint64
	}) string {
		var s []string
		for _, k := range kc {
			s = append(s, fmt.Sprintf("%s=%d", k.Key, k.Count))
		}
		return strings.Join(s, ",")
	}
	// The DNT visit has no dimensions; the bot has no referrer.
	if got := keys(rep.Referrers); got != "(direct)=2,google.com=1,t.co=1" {
		t.Errorf("referrers: %s", got)
	}
	if got := keys(rep.Countries); !strings.Contains(got, "DE=1") || !strings.Contains(got, "US=") {
		t.Errorf("countries (CF-IPCountry from a trusted proxy, else the embedded database): %s", got)
	}
	if got := keys(rep.Devices); got != "mobile=2,bot=1,desktop=1" {
		t.Errorf("devices: %s", got)
	}
	var sum uint64
	for _, p := range rep.Series {
		sum += p.Clicks
	}
	if sum != rep.Total {
		t.Errorf("series sums to %d, total %d", sum, rep.Total)
	}
	if got := mustJSON[link](t, n.Do("GET", "/api/v1/links/"+l.Code, nil), 200); got.Clicks != 5 {
		t.Errorf("link clicks = %d", got.Clicks)
	}
	orphans := mustJSON[struct{ Total uint64 }](t, n.Do("GET", "/api/v1/analytics/orphans", nil), 200)
	if orphans.Total != 1 {
		t.Errorf("orphan visits: %d", orphans.Total)
	}

	mustProblem(t, n.Do("GET", "/api/v1/links/"+l.Code+"/analytics?interval=week", nil), 422, "interval")
	mustProblem(t, n.Do("GET", "/api/v1/links/"+l.Code+"/analytics?from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z", nil), 422, "from")
	mustProblem(t, n.Do("GET", "/api/v1/links/"+l.Code+"/analytics?tz=Mars/Olympus", nil), 422, "tz")
	mustProblem(t, n.Do("GET", "/api/v1/links/"+l.Code+"/analytics?interval=minute&from=2020-01-01T00:00:00Z", nil), 422, "interval")
	mustProblem(t, n.Do("GET", "/api/v1/links/nosuchcode/analytics", nil), 404, "")
	tz := mustJSON[report](t, n.Do("GET", "/api/v1/links/"+l.Code+"/analytics?interval=day&tz=America/New_York", nil), 200)
	if tz.Total != 5 || !strings.HasSuffix(tz.Series[0].T, "-05:00") && !strings.HasSuffix(tz.Series[0].T, "-04:00") {
		t.Errorf("local days: total %d, first bucket %v", tz.Total, tz.Series[:1])
	}

	if r := n.Do("DELETE", "/api/v1/links/"+l.Code, nil); r.Status != 204 {
		t.Fatal(r.Status)
	}
	mustProblem(t, n.Do("GET", "/api/v1/links/"+l.Code+"/analytics", nil), 410, "")
}
