package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
)

const linkOptionUsage = "[--password-stdin] [--starts RFC3339] [--fallback URL] [--max-visits N] [--no-forward-query] [--forward-path] [--rules-file FILE.json] [--variant URL=WEIGHT]..."

// linkOptionFlags registers the link option flags shared by `link create`
// and `link update`; the returned function adds the options given to a
// request body.
func linkOptionFlags(fs *flag.FlagSet) func(b map[string]any) error {
	pwStdin := fs.Bool("password-stdin", false, "protect the link with a password read from the first line of standard input")
	starts := fs.String("starts", "", "not available before this time, RFC 3339")
	fallback := fs.String("fallback", "", "URL to send visitors to after expiry or the visit limit, instead of 410")
	maxVisits := fs.String("max-visits", "", "stop after this many human visits (0: no limit)")
	noFwdQuery := fs.Bool("no-forward-query", false, "do not pass the visitor's query parameters on")
	fwdPath := fs.Bool("forward-path", false, "pass /CODE/extra/path on as /extra/path")
	rulesFile := fs.String("rules-file", "", `JSON file with the rules: [{"if": {"os": ["ios"]}, "url": "..."}, ...]`)
	var variants listFlag
	fs.Var(&variants, "variant", "A/B variant URL=WEIGHT (repeatable; weights add up to 100)")
	return func(b map[string]any) error {
		if *pwStdin {
			pw, err := readPasswordLine(os.Stdin)
			if err != nil {
				return err
			}
			b["password"] = pw
		}
		setIf(b, "startsAt", *starts)
		setIf(b, "fallbackUrl", *fallback)
		if *maxVisits != "" {
			n, err := strconv.ParseUint(*maxVisits, 10, 64)
			if err != nil {
				return fmt.Errorf("--max-visits: %q is not a whole number", *maxVisits)
			}
			b["maxVisits"] = n
		}
		if *noFwdQuery {
			b["forwardQuery"] = false
		}
		if *fwdPath {
			b["forwardPath"] = true
		}
		if *rulesFile != "" {
			raw, err := os.ReadFile(*rulesFile)
			if err != nil {
				return err
			}
			var rules []map[string]any
			if err := json.Unmarshal(raw, &rules); err != nil {
				return fmt.Errorf("--rules-file: %v", err)
			}
			b["rules"] = rules
		}
		var vs []map[string]any
		for _, v := range variants {
			i := strings.LastIndexByte(v, '=') // URLs may contain '=' too
			if i < 0 {
				return fmt.Errorf("--variant %q: want URL=WEIGHT", v)
			}
			u, w := v[:i], v[i+1:]
			n, err := strconv.Atoi(w)
			if err != nil {
				return fmt.Errorf("--variant %q: want URL=WEIGHT", v)
			}
			vs = append(vs, map[string]any{"url": u, "weight": n})
		}
		if vs != nil {
			b["variants"] = vs
		}
		return nil
	}
}

// readPasswordLine reads a password from the first line of r.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input")
	}
	return pw, nil
}

// linkPromoteFlags is `link promote CODE VARIANT`: variant is a letter
// (A, B, ...) or a 0-based index.
func linkPromoteFlags(*flag.FlagSet) func([]string) (request, error) {
	return func(pos []string) (request, error) {
		v := strings.ToUpper(pos[1])
		i, err := strconv.Atoi(v)
		if err != nil {
			if len(v) != 1 || v[0] < 'A' || v[0] > 'Z' {
				return request{}, fmt.Errorf("variant %q: give its letter (A, B, ...) or index (0, 1, ...)", pos[1])
			}
			i = int(v[0] - 'A')
		}
		return request{method: "POST", path: "/api/v1/links/" + url.PathEscape(pos[0]) + "/promote",
			body: map[string]any{"variant": i}}, nil
	}
}
