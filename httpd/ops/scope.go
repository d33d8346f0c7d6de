package ops

import (
	"errors"
	"strings"

	"github.com/linkd/linkd/store"
)

// Scope is a set of permissions an API key can carry.
type Scope uint16

// Scopes. A console session holds every scope of its user's role.
const (
	ScopeLinksRead Scope = 1 << iota
	ScopeLinksWrite
	ScopeAnalyticsRead
	ScopeProfileWrite
	ScopeAdmin
	// ScopeSignedIn is held by every principal: routes that need only a
	// login declare it, so that "no scope" is never an accident. It has
	// no API name and is never stored on a key.
	ScopeSignedIn
	// ScopeKeysWrite creates and revokes API keys. Without it a key that
	// leaks cannot mint itself successors or revoke its owner's other keys.
	ScopeKeysWrite
	// ScopeMetrics reads /_/metrics: cluster-wide figures, so admins only;
	// a key with only this scope is what a Prometheus scraper holds.
	ScopeMetrics

	ScopesUser = ScopeLinksRead | ScopeLinksWrite | ScopeAnalyticsRead | ScopeProfileWrite | ScopeKeysWrite
	ScopesAll  = ScopesUser | ScopeAdmin | ScopeMetrics
)

// ScopeName is one scope's API name and what it allows.
type ScopeName struct {
	Scope Scope
	Name  string
	Help  string
}

// ScopeNames are the API names of the scopes, in display order.
var ScopeNames = []ScopeName{
	{ScopeLinksRead, "links:read", "list and read links"},
	{ScopeLinksWrite, "links:write", "create, change and delete links"},
	{ScopeAnalyticsRead, "analytics:read", "read click analytics"},
	{ScopeProfileWrite, "profile:write", "edit the link-in-bio profile"},
	{ScopeKeysWrite, "keys:write", "create and revoke API keys (a key made by a key expires with it)"},
	{ScopeMetrics, "metrics:read", "read the Prometheus metrics at /_/metrics (admins only)"},
	{ScopeAdmin, "admin", "everything, for every user (admins only)"},
}

// ParseScopes turns API names into a set; unknown names are an error.
func ParseScopes(names []string) (Scope, error) {
	var set Scope
	for _, n := range names {
		found := false
		for _, sn := range ScopeNames {
			if sn.Name == n {
				set, found = set|sn.Scope, true
			}
		}
		if !found {
			return 0, errors.New(`unknown scope "` + n + `"; known: ` + strings.Join(ScopeList(ScopesAll), ", "))
		}
	}
	return set, nil
}

// ScopeList returns the API names of a set.
func ScopeList(set Scope) []string {
	out := []string{}
	for _, sn := range ScopeNames {
		if set&sn.Scope != 0 {
			out = append(out, sn.Name)
		}
	}
	return out
}

// RoleScopes is the most a user of role r may do; keys are clipped to it
// when used, so demoting a user takes effect on their keys at once.
func RoleScopes(r store.Role) Scope {
	if r == store.RoleAdmin {
		return ScopesAll | ScopeSignedIn
	}
	return ScopesUser | ScopeSignedIn
}

// effective is what a key may do for its user now.
func effective(key Scope, u *store.User) Scope {
	if key&ScopeAdmin != 0 {
		key = ScopesAll
	}
	return (key | ScopeSignedIn) & RoleScopes(u.Role)
}
