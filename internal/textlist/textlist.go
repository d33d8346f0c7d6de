// Package textlist reads the comma-separated lists people type: flags
// (--join, --trusted-proxies) and the console's tag field.
package textlist

import "strings"

// Split reads "a, b ,,c" as [a b c]: items trimmed, empty ones dropped.
func Split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
