package main

import (
	"flag"
	"strings"
	"time"
)

// The blocklist and threat-feed commands (admins): linkd blocklist
// add|list|delete, linkd feed add|list|delete.
func init() {
	clientCmds["feed"] = map[string]clientCmd{
		"add":    {"linkd feed add NAME hosts|list|urlhaus URL [--interval D] [--reason R]", 3, feedAddFlags},
		"list":   {"linkd feed list", 0, simple("GET", "/api/v1/feeds")},
		"delete": {"linkd feed delete ID", 1, simple("DELETE", "/api/v1/feeds/%s")},
	}
	clientCmds["blocklist"] = map[string]clientCmd{
		"add":    {"linkd blocklist add url|host|domain VALUE [--reason R]", 2, blockAddFlags},
		"list":   {"linkd blocklist list", 0, simple("GET", "/api/v1/blocklist")},
		"delete": {"linkd blocklist delete ID", 1, simple("DELETE", "/api/v1/blocklist/%s")},
	}
}

func blockAddFlags(fs *flag.FlagSet) func([]string) (request, error) {
	reason := fs.String("reason", "", "why (shown on the 451 pages of the links it blocks)")
	return func(pos []string) (request, error) {
		b := map[string]any{"kind": pos[0], "value": pos[1]}
		setIf(b, "reason", *reason)
		return request{method: "POST", path: "/api/v1/blocklist", body: b}, nil
	}
}

func feedAddFlags(fs *flag.FlagSet) func([]string) (request, error) {
	every := fs.Duration("interval", time.Hour, "how often the leader fetches the feed")
	reason := fs.String("reason", "", "why (shown on the 451 pages of the links it blocks)")
	return func(pos []string) (request, error) {
		b := map[string]any{"name": pos[0], "format": pos[1], "url": pos[2], "intervalSeconds": int64(every.Seconds())}
		setIf(b, "reason", *reason)
		return request{method: "POST", path: "/api/v1/feeds", body: b}, nil
	}
}

// shortenerList parses --refuse-shorteners: "" is nil (the built-in
// list), "none" an empty list.
func shortenerList(v string) []string {
	switch strings.TrimSpace(v) {
	case "":
		return nil
	case "none":
		return []string{}
	}
	var out []string
	for _, h := range strings.Split(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}
