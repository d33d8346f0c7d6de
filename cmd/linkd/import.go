package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/linkd/linkd/httpd/importer"
)

// importChunk is how many rows one POST /api/v1/imports carries: one raft
// entry's worth, so progress shows per entry.
const importChunk = 1000

// importCmd is `linkd import --from SOURCE FILE`: it reads FILE here, sends
// its rows to POST /api/v1/imports in chunks of importChunk (as linkd JSON
// lines), shows a progress line on stderr and prints the per-row report.
// Rerunning it is safe: rows done before are reported unchanged, so an
// interrupted import is resumed by running it again.
func importCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("linkd import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := clientFlags(fs)
	c.out = stdout
	from := fs.String("from", "", "source: "+strings.Join(importer.Sources, ", "))
	collisions := fs.String("collisions", "skip", "when a code is taken: skip, rename (a new code) or fail")
	mapping := fs.String("map", "", "CSV columns for linkd fields, e.g. url=Destination,code=Slug,title=Label")
	domain := fs.String("domain", "", "the domain (host) the imported codes go to; default: the default domain")
	quiet := fs.Bool("quiet", false, "print only the summary, not every row")
	shlinkAPI := fs.String("shlink-api", "", "with --from shlink and no FILE: read the short URLs from this Shlink server's REST API (/rest/v3/short-urls)")
	apiKey := fs.String("api-key", "", "the Shlink server's API key (--shlink-api)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: linkd import --from bitly|yourls|shlink|kutt|csv|linkd FILE [--collisions skip|rename|fail] [--domain HOST] [--map field=column,...]  [--server URL] [--token TOKEN]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	fromAPI := *from == "shlink" && *shlinkAPI != "" && len(pos) == 0
	if !fromAPI && (len(pos) != 1 || !slices.Contains(importer.Sources, *from)) {
		fs.Usage()
		return errors.New("give --from SOURCE and one FILE (or --from shlink --shlink-api URL --api-key KEY)")
	}
	if c.token == "" {
		return errors.New("no API token: pass --token or set LINKD_TOKEN")
	}
	m := map[string]string{}
	for _, pair := range strings.Split(*mapping, ",") {
		if k, v, ok := strings.Cut(pair, "="); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	imp := &cliImport{c: c, from: *from, collisions: *collisions, domain: *domain, stdout: stdout, stderr: stderr, quiet: *quiet, counts: map[string]int{}}
	if fromAPI {
		err = shlinkPages(*shlinkAPI, *apiKey, imp.add)
	} else {
		var f *os.File
		if f, err = os.Open(pos[0]); err != nil {
			return err
		}
		defer f.Close()
		err = importer.Read(*from, f, m, imp.add)
	}
	if err == nil {
		err = imp.flush()
	}
	fmt.Fprintln(stderr)
	var parts []string
	for _, s := range []string{"created", "unchanged", "renamed", "skipped", "failed"} {
		parts = append(parts, fmt.Sprintf("%d %s", imp.counts[s], s))
	}
	fmt.Fprintf(stdout, "%d rows: %s\n", imp.done, strings.Join(parts, ", "))
	return err
}

// cliImport sends rows in chunks and prints what became of them.
type cliImport struct {
	c              *apiClient
	from           string // the source read here: the server labels the rows' click totals with it (origin)
	collisions     string
	domain         string
	stdout, stderr io.Writer
	quiet          bool
	rows           []importer.Row
	done           int
	counts         map[string]int
}

func (imp *cliImport) add(r importer.Row) error {
	if r.Err != nil {
		imp.report(r.N, "failed", "", "could not be read: "+r.Err.Error())
		return nil
	}
	if imp.rows = append(imp.rows, r); len(imp.rows) == importChunk {
		return imp.flush()
	}
	return nil
}

func (imp *cliImport) flush() error {
	if len(imp.rows) == 0 {
		return nil
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for _, r := range imp.rows {
		enc.Encode(r.LinkdJSON())
	}
	req, err := http.NewRequest("POST", strings.TrimRight(imp.c.server, "/")+"/api/v1/imports?from=linkd&origin="+url.QueryEscape(imp.from)+
		"&collisions="+url.QueryEscape(imp.collisions)+"&domain="+url.QueryEscape(imp.domain), &body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+imp.c.token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var ans struct {
		Rows []struct {
			Row     int
			Status  string
			Code    string
			From    string
			Problem *struct{ Title, Detail string }
		}
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &ans) != nil || len(ans.Rows) != len(imp.rows) {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	for j, r := range ans.Rows {
		why := ""
		if r.Problem != nil {
			why = r.Problem.Title + ": " + r.Problem.Detail
		} else if r.From != "" {
			why = "was " + r.From
		}
		imp.report(imp.rows[j].N, r.Status, r.Code, why)
	}
	imp.rows = imp.rows[:0]
	return nil
}

// report prints one row (unless --quiet) and the progress line.
func (imp *cliImport) report(n int, status, code, why string) {
	imp.done++
	imp.counts[status]++
	if !imp.quiet {
		fmt.Fprintf(imp.stdout, "row %d: %s %s %s\n", n, status, code, why)
	}
	fmt.Fprintf(imp.stderr, "\rimported %d rows: %d created, %d unchanged, %d renamed, %d skipped, %d failed",
		imp.done, imp.counts["created"], imp.counts["unchanged"], imp.counts["renamed"], imp.counts["skipped"], imp.counts["failed"])
}

// shlinkPerPage is the page size asked of Shlink's API.
const shlinkPerPage = 100

// shlinkPages reads every page of a Shlink server's GET
// /rest/v3/short-urls (X-Api-Key), handing the rows to fn numbered across
// pages.
func shlinkPages(base, key string, fn func(importer.Row) error) error {
	hc := &http.Client{Timeout: time.Minute}
	done := 0
	for page := 1; ; page++ {
		req, err := http.NewRequest("GET", fmt.Sprintf("%s/rest/v3/short-urls?page=%d&itemsPerPage=%d", strings.TrimRight(base, "/"), page, shlinkPerPage), nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-Api-Key", key)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("shlink page %d: %s: %s", page, resp.Status, bytes.TrimSpace(body))
		}
		n := 0
		err = importer.Read("shlink-api", bytes.NewReader(body), nil, func(r importer.Row) error {
			n++
			r.N += done
			return fn(r)
		})
		if err != nil {
			return err
		}
		done += n
		var p struct {
			ShortURLs struct {
				Pagination struct{ CurrentPage, PagesCount int }
			} `json:"shortUrls"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return err
		}
		if pg := p.ShortURLs.Pagination; n == 0 || pg.CurrentPage >= pg.PagesCount {
			return nil
		}
	}
}
