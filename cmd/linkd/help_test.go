package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelpAndVersion runs the help and version paths a newcomer tries
// first: each succeeds (exit 0) and says something useful.
func TestHelpAndVersion(t *testing.T) {
	for _, c := range []struct {
		args     []string
		code     int
		want     string // in stdout or stderr
		notWant  string
		inStdout bool
	}{
		{[]string{"-h"}, 0, "linkd link create URL", "", false}, // subcommands and...
		{[]string{"-h"}, 0, "-data-dir", "", false},             // ...serve's flags
		{[]string{"help"}, 0, "linkd cluster status", "", true},
		{[]string{"--version"}, 0, "linkd ", "", true},
		{[]string{"version"}, 0, "linkd ", "", true},
		{[]string{"link", "-h"}, 0, "linkd link update CODE", "bad link command", true},
		{[]string{"key", "--help"}, 0, "linkd key create NAME", "", true},
		{[]string{"link"}, 1, "needs a command", "", false},
		{[]string{"link", "frobnicate"}, 1, `unknown link command "frobnicate"`, "", false},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`, "", false},
	} {
		var out, errOut bytes.Buffer
		code := run(c.args, &out, &errOut)
		got := errOut.String()
		if c.inStdout {
			got = out.String()
		}
		if code != c.code || !strings.Contains(got, c.want) || c.notWant != "" && strings.Contains(out.String()+errOut.String(), c.notWant) {
			t.Errorf("linkd %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, out.String(), errOut.String(), c.code, c.want)
		}
	}
}

// The usage text's command list is two columns: every description starts
// at the same column, on the command's line or on the next one.
func TestUsageColumns(t *testing.T) {
	var b bytes.Buffer
	usage(&b)
	const col = len("  linkd [serve] [flags]    ")
	_, list, _ := strings.Cut(b.String(), "Usage:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	for _, l := range strings.Split(list, "\n") {
		if strings.HasPrefix(l, strings.Repeat(" ", col)) {
			continue // the description of a long command, on its own line
		}
		_, rest, ok := strings.Cut(strings.TrimPrefix(l, "  "), "  ")
		if !ok {
			continue // a long command: its description is on the next line
		}
		if got := len(l) - len(strings.TrimLeft(rest, " ")); got != col {
			t.Errorf("%q: description at column %d, want %d", l, got, col)
		}
	}
}
