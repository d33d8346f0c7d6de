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
	"strings"
	"time"
)

// apiClient talks to any node's public API.
type apiClient struct {
	server, token string
	hc            *http.Client
	out           io.Writer
}

// clientFlags registers --server and --token (LINKD_SERVER, LINKD_TOKEN).
func clientFlags(fs *flag.FlagSet) *apiClient {
	c := &apiClient{hc: &http.Client{Timeout: 30 * time.Second}}
	fs.StringVar(&c.server, "server", "http://localhost:8080", "base URL of any linkd node")
	fs.StringVar(&c.token, "token", "", "API token")
	return c
}

// do sends a request and prints the JSON reply; non-2xx replies become
// errors carrying the problem's title and detail.
func (c *apiClient) do(method, path string, body any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimRight(c.server, "/")+path, r)
	if err != nil {
		return err
	}
	if c.token == "" {
		return errors.New("no API token: pass --token or set LINKD_TOKEN")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var p struct{ Title, Detail string }
		if json.Unmarshal(b, &p) == nil && p.Title != "" {
			return fmt.Errorf("%s: %s %s", resp.Status, p.Title, strings.TrimSpace(string(b)))
		}
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	if len(b) > 0 {
		var v any
		if json.Unmarshal(b, &v) == nil {
			enc := json.NewEncoder(c.out)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
		c.out.Write(b)
	}
	return nil
}

// clusterCmd is `linkd cluster status|remove ID`.
func clusterCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("linkd cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: linkd cluster status | remove <node-id>  [--server URL] [--token TOKEN]")
		fs.PrintDefaults()
	}
	c := clientFlags(fs)
	c.out = stdout
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 1 && pos[0] == "status":
		return c.do("GET", "/api/v1/cluster", nil)
	case len(pos) == 2 && pos[0] == "remove":
		if err := c.do("DELETE", "/api/v1/cluster/members/"+url.PathEscape(pos[1]), nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s\n", pos[1])
		return nil
	}
	fs.Usage()
	return fmt.Errorf("bad cluster command: %s", strings.Join(args, " "))
}
