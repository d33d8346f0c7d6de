package httpx

import (
	"sort"
	"strconv"
	"strings"

	"github.com/linkd/linkd/httpd/ops"
)

// Budget is the request budget a route spends before its handler runs.
type Budget uint8

// Budgets.
const (
	// NoBudget is for reads.
	NoBudget Budget = iota
	// Writes spends one write of the client address's and the
	// principal's budgets (admins are exempt).
	Writes
	// Logins spends one attempt of the client address's and the form
	// email's login budgets.
	Logins
)

// DefaultBodyLimit is the body limit of a route that declares none other
// and accepts a body: JSON requests and urlencoded forms.
const DefaultBodyLimit = 64 << 10

// Route is one entry of a front end's route table: a method and a path
// pattern, what the caller must hold (Scope; Public routes need no
// credential), the budget it spends and the largest body it accepts. The
// front end applies all of it before the handler runs, so a handler cannot
// forget a check. H is the front end's handler type.
type Route[H any] struct {
	Method  string
	Pattern string // segments; {code}, {uid}, {id} and {handle} match one segment each
	Public  bool   // no credential needed
	Scope   ops.Scope
	Budget  Budget
	Body    int // bytes; 0: the request must have no body
	Handle  H
}

// IsWrite reports whether the route changes state (any method but GET and
// HEAD).
func (r *Route[H]) IsWrite() bool { return r.Method != "GET" && r.Method != "HEAD" }

// Params are the values of a matched pattern's {name} segments.
type Params struct {
	Code, ID, Handle string
	UID              uint64
	Sub              string // {sub}: an id under {id}, e.g. a webhook delivery
}

// Table is a route table. Lookup walks it in order.
type Table[H any] []Route[H]

// Lookup finds the route for method and path (without the front end's
// prefix). It returns the route, its parameters, and, when the path
// matched but the method did not, the methods that would have.
func (t Table[H]) Lookup(method, path string) (r *Route[H], ps Params, allowed []string) {
	for i := range t {
		p, ok := match(t[i].Pattern, path)
		if !ok {
			continue
		}
		if t[i].Method == method {
			return &t[i], p, nil
		}
		allowed = append(allowed, t[i].Method)
	}
	sort.Strings(allowed)
	return nil, Params{}, allowed
}

// match matches path against pattern segment by segment.
func match(pattern, path string) (Params, bool) {
	var ps Params
	for {
		pseg, prest, pmore := strings.Cut(pattern, "/")
		seg, rest, more := strings.Cut(path, "/")
		if pmore != more {
			return ps, false
		}
		switch pseg {
		case "{code}":
			if !ops.ValidCode([]byte(seg)) {
				return ps, false
			}
			ps.Code = seg
		case "{uid}":
			n, err := strconv.ParseUint(seg, 10, 64)
			if err != nil {
				return ps, false
			}
			ps.UID = n
		case "{id}":
			if seg == "" {
				return ps, false
			}
			ps.ID = seg
		case "{handle}":
			if seg == "" {
				return ps, false
			}
			ps.Handle = seg
		case "{sub}":
			if seg == "" {
				return ps, false
			}
			ps.Sub = seg
		default:
			if pseg != seg {
				return ps, false
			}
		}
		if !more {
			return ps, true
		}
		pattern, path = prest, rest
	}
}
