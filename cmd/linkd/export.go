package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// linkExportFlags is `linkd link export`: the links (or, with
// --analytics, their daily analytics) streamed to stdout or -o FILE.
func linkExportFlags(fs *flag.FlagSet) func([]string) (request, error) {
	format := fs.String("format", "csv", "csv or json (JSON lines)")
	analytics := fs.Bool("analytics", false, "export daily analytics (CSV) instead of the links")
	code := fs.String("code", "", "with --analytics: only this link")
	from := fs.String("from", "", "with --analytics: first day, YYYY-MM-DD")
	to := fs.String("to", "", "with --analytics: last day, YYYY-MM-DD")
	q := fs.String("q", "", "only links whose code, URL or title contain this")
	tag := fs.String("tag", "", "only links with this tag")
	out := fs.String("o", "", "write to this file instead of standard output")
	return func([]string) (request, error) {
		v := url.Values{}
		set := func(k, val string) {
			if val != "" {
				v.Set(k, val)
			}
		}
		p := "/api/v1/links/export"
		if *analytics {
			p = "/api/v1/analytics/export"
			set("code", *code)
			set("from", *from)
			set("to", *to)
		} else {
			set("format", *format)
			set("q", *q)
			set("tag", *tag)
		}
		if len(v) > 0 {
			p += "?" + v.Encode()
		}
		return request{method: "GET", path: p, download: *out, stream: true}, nil
	}
}

// download streams the answer to GET path into file (standard output when
// empty), without the client's overall timeout: an export takes as long
// as it takes. A file is written only for a successful answer.
func (c *apiClient) download(path, file string) error {
	resp, err := c.stream(path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	w := c.out
	if file != "" {
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, resp.Body)
		if err = errors.Join(err, f.Close()); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "wrote %s: %d bytes\n", file, n)
		return nil
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// stream sends an authenticated GET of path without an overall timeout
// (downloads take as long as they take) and returns a 200 answer for the
// caller to read and close; any other answer is an error with its text.
func (c *apiClient) stream(path string) (*http.Response, error) {
	if c.token == "" {
		return nil, errors.New("no API token: pass --token or set LINKD_TOKEN")
	}
	req, err := http.NewRequest("GET", strings.TrimRight(c.server, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return resp, nil
}
