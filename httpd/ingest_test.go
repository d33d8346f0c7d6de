package httpd_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/cdnlog"
	"github.com/linkd/linkd/httpd/httpdtest"
)

type ingestResult struct{ Accepted, Duplicates, Rejected, Skipped int }

// fixture reads a CDN log from testdata with its times set to now.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	b = bytes.ReplaceAll(b, []byte("__UNIXNANO__"), []byte(strconv.FormatInt(now.UnixNano(), 10)))
	return bytes.ReplaceAll(b, []byte("__RFC3339__"), []byte(now.UTC().Format(time.RFC3339)))
}

// CDN log batches count the redirects the CDN served from its cache, for
// known codes on known hosts, once per batch id, through the replicated
// click path; bad lines are counted as rejected, bad bodies change nothing.
func TestIngestCDNLogs(t *testing.T) {
	n := httpdtest.Start(t, "")
	mustStatusIs(t, "add links.example", n.Do("POST", "/api/v1/domains", []byte(`{"host":"links.example","kind":"links"}`)), http.StatusCreated)
	mustCreate(t, n, `{"url":"https://a.test/","alias":"same"}`)
	mustCreate(t, n, `{"url":"https://b.test/","alias":"same","domain":"links.example"}`)
	mustCreate(t, n, `{"url":"https://c.test/","alias":"other"}`)
	ingest := func(query string, body []byte, header ...string) httpdtest.Response {
		return n.Do("POST", "/api/v1/analytics/ingest?"+query, body, header...)
	}
	counts := func(query string) report {
		return mustJSON[report](t, n.Do("GET", "/api/v1/links/same/analytics?interval=hour"+query, nil), 200)
	}
	check := func(what string, r httpdtest.Response, want ingestResult) {
		t.Helper()
		if got := mustJSON[ingestResult](t, r, 200); got != want {
			t.Fatalf("%s: %+v, want %+v", what, got, want)
		}
	}
	want := func(what string, def, dom [4]uint64) {
		t.Helper()
		d, o := counts(""), counts("&domain=links.example")
		if got := [4]uint64{d.Total, d.Bots, d.Previews, d.Scans}; got != def {
			t.Fatalf("%s: sho.rt/same total, bots, previews, scans = %v, want %v", what, got, def)
		}
		if got := [4]uint64{o.Total, o.Bots, o.Previews, o.Scans}; got != dom {
			t.Fatalf("%s: links.example/same total, bots, previews, scans = %v, want %v", what, got, dom)
		}
	}

	cf := fixture(t, "cdn_cloudflare.jsonl")
	check("cloudflare", ingest("format=cloudflare&batchId=cf-0001", cf), ingestResult{Accepted: 5, Rejected: 3, Skipped: 5})
	want("cloudflare", [4]uint64{2, 1, 1, 0}, [4]uint64{2, 0, 0, 1})
	if rep := counts(""); len(rep.Referrers) == 0 || rep.Referrers[len(rep.Referrers)-1].Key != "google.com" && rep.Referrers[0].Key != "google.com" {
		t.Fatalf("referrers %+v", rep.Referrers)
	}
	// The same batch again, by header this time: nothing more counts.
	check("cloudflare again", ingest("format=cloudflare", cf, "Linkd-Batch-Id", "cf-0001"), ingestResult{Duplicates: 5, Rejected: 3, Skipped: 5})
	want("cloudflare again", [4]uint64{2, 1, 1, 0}, [4]uint64{2, 0, 0, 1})

	fastly := fixture(t, "cdn_fastly.jsonl")
	check("fastly", ingest("format=fastly&batchId=fastly_2026-11-30T15.log", fastly), ingestResult{Accepted: 2, Rejected: 1, Skipped: 4})
	want("fastly", [4]uint64{3, 1, 1, 0}, [4]uint64{3, 0, 0, 1})
	check("fastly again", ingest("format=fastly&batchId=fastly_2026-11-30T15.log", fastly), ingestResult{Duplicates: 2, Rejected: 1, Skipped: 4})
	if other := mustJSON[report](t, n.Do("GET", "/api/v1/links/other/analytics?interval=hour", nil), 200); other.Total != 0 {
		t.Fatalf("other: %+v (its only line is on another domain)", other)
	}

	// Refused, changing nothing.
	mustProblem(t, ingest("format=cloudflare&batchId=x", []byte("not a log\nat all\n")), 400, "")
	mustProblem(t, ingest("format=cloudflare&batchId=x", nil), 400, "")
	mustProblem(t, ingest("format=cloudflare&batchId=x", append(bytes.Repeat([]byte("x"), cdnlog.MaxLineBytes+1), '\n')), 400, "")
	mustProblem(t, ingest("format=splunk&batchId=x", cf), 422, "format")
	mustProblem(t, ingest("format=cloudflare", cf), 422, "batchId")
	mustProblem(t, ingest("format=cloudflare&batchId=a/b", cf), 422, "batchId")
	mustProblem(t, ingest("format=cloudflare&batchId="+strings.Repeat("b", 65), cf), 422, "batchId")
	check("64-character batch id", ingest("format=fastly&batchId="+strings.Repeat("b", 64), fastly), ingestResult{Accepted: 2, Rejected: 1, Skipped: 4})
	want("after refusals", [4]uint64{4, 1, 1, 0}, [4]uint64{4, 0, 0, 1})

	// Admins only.
	_, tok := n.User(t, "ops@example.com", pw)
	mustProblem(t, ingest("format=fastly&batchId=user", fastly, httpdtest.As(tok)...), 403, "")
	mustProblem(t, ingest("format=fastly&batchId=anon", fastly, "Authorization", ""), 401, "")

	// The body limit, 8 MiB: at it (blank lines pad a real batch) and past it.
	at := append(append([]byte{}, fastly...), bytes.Repeat([]byte("\n"), 8<<20-len(fastly))...)
	check("8 MiB", ingest("format=fastly&batchId=at-limit", at), ingestResult{Accepted: 2, Rejected: 1, Skipped: 4})
	if st := declareBody(t, n.URL, "/api/v1/analytics/ingest?format=fastly&batchId=past-limit", 8<<20+1); st != "HTTP/1.1 413 Request Entity Too Large" {
		t.Fatalf("a body of 8 MiB + 1: %s", st)
	}
	want("after the limit", [4]uint64{5, 1, 1, 0}, [4]uint64{5, 0, 0, 1})
}

// The Fastly log format operators are told to configure is the one the
// parser reads.
func TestIngestFastlyFormatDocumented(t *testing.T) {
	spec, err := os.ReadFile("api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := json.Marshal(cdnlog.FastlyFormat)
	if !bytes.Contains(spec, q[1:len(q)-1]) {
		t.Fatal("openapi.json does not document cdnlog.FastlyFormat")
	}
}
