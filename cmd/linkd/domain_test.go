package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The domain CLI against a real process: add a domain, create a link on it
// with link create --domain, list, follow it by Host, remove the domain.
func TestDomainCLI(t *testing.T) {
	p := mustStart(t, t.TempDir())
	admin := []string{"LINKD_SERVER=" + p.URL, "LINKD_TOKEN=" + testToken}
	out := mustCLI(t, admin, "domain", "add", "Go.Example", "--root", "https://home.test/", "--hsts")
	var d struct {
		Host, Kind, RootURL string
		HSTS                bool
	}
	if json.Unmarshal([]byte(out), &d) != nil || d.Host != "go.example" || d.Kind != "links" || !d.HSTS || d.RootURL != "https://home.test/" {
		t.Fatalf("domain add printed %s", out)
	}
	if out, code := cli(t, admin, "domain", "add", "go.example"); code == 0 || !strings.Contains(out, "domain-exists") {
		t.Fatalf("second add: exit %d: %s", code, out)
	}
	out = mustCLI(t, admin, "link", "create", "https://dest.test/", "--alias", "clidom", "--domain", "go.example")
	var l struct{ Domain, ShortURL string }
	if json.Unmarshal([]byte(out), &l) != nil || l.Domain != "go.example" || !strings.HasSuffix(l.ShortURL, "://go.example/clidom") {
		t.Fatalf("link create --domain printed %s", out)
	}
	mustCLI(t, admin, "link", "update", "clidom", "--domain", "go.example", "--url", "https://dest2.test/")
	if out := mustCLI(t, admin, "link", "get", "clidom", "--domain", "go.example"); !strings.Contains(out, "https://dest2.test/") {
		t.Fatalf("link get --domain: %s", out)
	}
	if out := mustCLI(t, admin, "domain", "list"); !strings.Contains(out, `"go.example"`) {
		t.Fatalf("domain list: %s", out)
	}
	if out := mustCLI(t, admin, "link", "list", "--domain", "go.example"); !strings.Contains(out, "clidom") {
		t.Fatalf("link list --domain: %s", out)
	}
	if s := getHost(t, p.URL+"/clidom", "go.example"); s != 302 {
		t.Fatalf("by Host: %d", s)
	}
	mustCLI(t, admin, "domain", "rm", "go.example")
	if s := getHost(t, p.URL+"/clidom", "go.example"); s != 404 {
		t.Fatalf("after rm: %d", s)
	}
}

func getHost(t *testing.T, u, host string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Host = host
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
