package main

import (
	"errors"
	"flag"
	"net/url"
	"strconv"
)

// The user trust commands (admins): linkd user trust ID [changes] reads
// or changes a user's daily link quota override and approval
// (GET/PATCH /api/v1/users/{uid}/trust).
func init() {
	clientCmds["user"]["trust"] = clientCmd{"linkd user trust ID [--daily-links N|unlimited|default] [--approve [--release-held] | --unapprove] (no flags: show)", 1, userTrustFlags}
}

func userTrustFlags(fs *flag.FlagSet) func([]string) (request, error) {
	daily := fs.String("daily-links", "", `the user's daily link quota: a number, "unlimited", or "default" (the server's --user-daily-links)`)
	approve := fs.Bool("approve", false, "approve the user: --review-new-users no longer holds their links")
	unapprove := fs.Bool("unapprove", false, "withdraw the approval")
	release := fs.Bool("release-held", false, "with --approve: also approve every link of the user held for review now")
	return func(pos []string) (request, error) {
		path := "/api/v1/users/" + url.PathEscape(pos[0]) + "/trust"
		b := map[string]any{}
		switch *daily {
		case "":
		case "default":
			b["dailyLinks"] = nil
		case "unlimited":
			b["dailyLinks"] = "unlimited"
		default:
			n, err := strconv.ParseUint(*daily, 10, 32)
			if err != nil {
				return request{}, errors.New(`--daily-links: a number, "unlimited" or "default"`)
			}
			b["dailyLinks"] = n
		}
		switch {
		case *approve && *unapprove:
			return request{}, errors.New("--approve and --unapprove contradict each other")
		case *release && !*approve:
			return request{}, errors.New("--release-held needs --approve")
		case *approve:
			b["approved"], b["releaseHeld"] = true, *release
		case *unapprove:
			b["approved"] = false
		}
		if len(b) == 0 {
			return request{method: "GET", path: path}, nil
		}
		return request{method: "PATCH", path: path, body: b}, nil
	}
}
