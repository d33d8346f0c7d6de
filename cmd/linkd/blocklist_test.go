package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The blocklist CLI against a real process: add blocks existing links
// (451), list shows the entry, delete lifts it.
func TestBlocklistCLI(t *testing.T) {
	p := mustStart(t, t.TempDir())
	admin := []string{"LINKD_SERVER=" + p.URL, "LINKD_TOKEN=" + testToken}
	mustCLI(t, admin, "link", "create", "https://www.spam.test/x", "--alias", "spammy")
	out := mustCLI(t, admin, "blocklist", "add", "domain", "spam.test", "--reason", "spam")
	var b struct{ ID, Value string }
	if json.Unmarshal([]byte(out), &b) != nil || b.ID == "" || b.Value != "spam.test" {
		t.Fatalf("blocklist add printed %s", out)
	}
	if r := get(t, p.URL+"/spammy"); r != 451 {
		t.Fatalf("after add: %d", r)
	}
	if out := mustCLI(t, admin, "blocklist", "list"); !strings.Contains(out, "spam.test") {
		t.Fatalf("blocklist list: %s", out)
	}
	if out, code := cli(t, admin, "blocklist", "add", "regex", "x"); code == 0 || !strings.Contains(out, "kind") {
		t.Fatalf("bad kind: exit %d: %s", code, out)
	}
	mustCLI(t, admin, "blocklist", "delete", b.ID)
	if r := get(t, p.URL+"/spammy"); r != 302 {
		t.Fatalf("after delete: %d", r)
	}
}

// get returns the status of a GET without following redirects.
func get(t *testing.T, u string) int {
	t.Helper()
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
