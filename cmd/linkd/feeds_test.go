package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// feedServer serves one mutable feed body (a 500 while failing is set).
type feedServer struct {
	mu      sync.Mutex
	body    string
	failing bool
	hits    int
}

func (s *feedServer) set(body string, failing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.failing = body, failing
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	if s.failing {
		http.Error(w, "feed broken", http.StatusInternalServerError)
		return
	}
	fmt.Fprint(w, s.body)
}

type feedView struct {
	ID        string `json:"id"`
	Entries   int    `json:"entries"`
	Error     string `json:"error"`
	CheckedAt string `json:"checkedAt"`
}

func feedsOn(t *testing.T, p *proc) []feedView {
	var out struct{ Items []feedView }
	if err := json.Unmarshal(mustAPI(t, 200, "GET", p.URL+"/api/v1/feeds", testToken, ""), &out); err != nil {
		t.Fatal(err)
	}
	return out.Items
}

// answers waits until code answers status on every live node.
func answers(t *testing.T, procs []*proc, code string, status int) {
	t.Helper()
	for _, p := range procs {
		eventually(t, 20*time.Second, fmt.Sprintf("%s to answer %d on %s", code, status, p.id), func() bool {
			st, _ := location(t, p.URL, code)
			return st == status
		})
	}
}

// Trust and safety on a real 3-node cluster (one cluster for both, to
// spare the CPU): the daily link quota, then threat feeds.
//
// The daily quota (--user-daily-links 2) is counted in replicated state:
// a user's creates through different nodes add up, and the third answers
// 429 daily-link-quota on any node. An admin's per-user override, set
// through any node, is the limit on every node.
//
// A threat feed, served from a local server: the
// leader alone fetches it; a listed destination answers 451 on every node
// and cannot be created; an entry that leaves the feed unblocks the links
// the feed blocked (an admin's takedown stays); a failing fetch keeps the
// last good list and shows the error; after the leader dies the new leader
// carries on fetching.
func TestTrustOnCluster(t *testing.T) {
	fs := &feedServer{body: "# test feed\nevil.test\nhttps://phish.test/login\n"}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	procs := startCluster(t, 3, "--feed-allow-private", "--feed-min-interval", "1s", "--user-daily-links", "2")
	dailyQuotaAcrossNodes(t, procs)
	leader := leaderOf(t, procs)
	follower := followersOf(procs, leader)[0]

	evil := mustCreateOn(t, follower, "https://a.evil.test/x")
	phish := mustCreateOn(t, follower, "https://phish.test/login?id=1")
	hand := mustCreateOn(t, follower, "https://b.evil.test/")
	later := mustCreateOn(t, follower, "https://later.test/")
	ok := mustCreateOn(t, follower, "https://ok.test/")
	mustAPI(t, 200, "PUT", follower.URL+"/api/v1/links/"+hand+"/takedown", testToken, `{"reason":"by hand"}`)

	// Feeds are refused from loopback without --feed-allow-private: see
	// node/feeds' tests. Here they are allowed; add one through a follower.
	var added feedView
	body := fmt.Sprintf(`{"name":"test","url":%q,"format":"list","intervalSeconds":1,"reason":"phishing"}`, srv.URL+"/feed.txt")
	if err := json.Unmarshal(mustAPI(t, 201, "POST", follower.URL+"/api/v1/feeds", testToken, body), &added); err != nil {
		t.Fatal(err)
	}
	answers(t, procs, evil, 451)
	answers(t, procs, phish, 451)
	answers(t, procs, ok, 302)
	if st, b := apiDo(t, "POST", leader.URL+"/api/v1/links", testToken, `{"url":"https://new.evil.test/"}`); st != 422 ||
		!strings.Contains(string(b), "blocked-destination") {
		t.Fatalf("creating a listed destination: %d %s", st, b)
	}
	for _, p := range followersOf(procs, leader) {
		if strings.Contains(p.logs.String(), "feeds: fetching as the leader") {
			t.Fatalf("follower %s fetches feeds:\n%s", p.id, p.logs)
		}
	}

	// evil.test leaves the feed: the feed's takedowns are lifted, the
	// admin's is not.
	fs.set("phish.test/login\nhttps://phish.test/login\n", false)
	answers(t, procs, evil, 302)
	answers(t, procs, hand, 451)
	answers(t, procs, phish, 451)

	// A failing fetch keeps the last good list and says why.
	fs.set("", true)
	eventually(t, 20*time.Second, "the fetch error in GET /feeds", func() bool {
		f := feedsOn(t, follower)
		return len(f) == 1 && strings.Contains(f[0].Error, "500") && f[0].Entries == 1
	})
	answers(t, procs, phish, 451)

	// The leader dies; the new one fetches the next version.
	leader.kill()
	live := followersOf(procs, leader)
	newLeader := leaderOf(t, live)
	fs.set("later.test\nhttps://phish.test/login\n", false)
	answers(t, live, later, 451)
	answers(t, live, phish, 451)
	if f := feedsOn(t, newLeader); len(f) != 1 || f[0].Error != "" || f[0].Entries != 2 {
		t.Fatalf("feeds after failover: %+v", f)
	}
	if !strings.Contains(newLeader.logs.String(), "feeds: fetching as the leader") {
		t.Fatal("the new leader does not say it fetches")
	}

	// Deleting the feed lifts its takedowns.
	mustAPI(t, 204, "DELETE", newLeader.URL+"/api/v1/feeds/"+added.ID, testToken, "")
	answers(t, live, later, 302)
	answers(t, live, hand, 451)
}

func dailyQuotaAcrossNodes(t *testing.T, procs []*proc) {
	t.Helper()
	// The console session and key are made on the leader, then each node
	// is waited for until it knows the key (followers read locally).
	leader := leaderOf(t, procs)
	var u struct{ ID uint64 }
	if err := json.Unmarshal(mustAPI(t, 201, "POST", leader.URL+"/api/v1/users", testToken,
		`{"email":"quota@x.test","password":"correct horse battery"}`), &u); err != nil {
		t.Fatal(err)
	}
	c := httpdtest.ConsoleAt(t, leader.URL)
	c.Login("quota@x.test", "correct horse battery")
	tok := c.NewKey("quota", "links:write", "links:read")
	for _, p := range procs {
		eventually(t, 10*time.Second, "the key on "+p.id, func() bool {
			st, _ := apiDo(t, "GET", p.URL+"/api/v1/links", tok, "")
			return st == 200
		})
	}
	for i, p := range procs[:2] {
		mustAPI(t, 201, "POST", p.URL+"/api/v1/links", tok, fmt.Sprintf(`{"url":"https://quota.test/%d"}`, i))
	}
	st, b := apiDo(t, "POST", procs[2].URL+"/api/v1/links", tok, `{"url":"https://quota.test/2"}`)
	if st != 429 || !strings.Contains(string(b), "daily-link-quota") {
		t.Fatalf("third create on a third node: %d %s", st, b)
	}
	st, _ = apiDo(t, "POST", procs[0].URL+"/api/v1/links", tok, `{"url":"https://quota.test/3"}`)
	if st != 429 {
		t.Fatalf("fourth create on the first node: %d", st)
	}
	// An admin's override, set through one node, is the limit through the
	// others from its commit on: 3 (one more), then unlimited.
	trust := fmt.Sprintf("/api/v1/users/%d/trust", u.ID)
	if b := mustAPI(t, 200, "PATCH", procs[1].URL+trust, testToken, `{"dailyLinks":3}`); !strings.Contains(string(b), `"dailyLinks":3`) {
		t.Fatalf("override through a follower or the leader: %s", b)
	}
	mustAPI(t, 201, "POST", procs[2].URL+"/api/v1/links", tok, `{"url":"https://quota.test/4"}`)
	if st, b := apiDo(t, "POST", procs[0].URL+"/api/v1/links", tok, `{"url":"https://quota.test/5"}`); st != 429 {
		t.Fatalf("past the override on another node: %d %s", st, b)
	}
	mustAPI(t, 200, "PATCH", procs[2].URL+trust, testToken, `{"dailyLinks":"unlimited"}`)
	for i, p := range procs {
		mustAPI(t, 201, "POST", p.URL+"/api/v1/links", tok, fmt.Sprintf(`{"url":"https://quota.test/u%d"}`, i))
	}
}
