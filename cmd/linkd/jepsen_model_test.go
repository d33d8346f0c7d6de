//go:build jepsen

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/anishathalye/porcupine"
)

// The history the jepsen suite checks: operations on a small, sliding set of
// links named by alias. Each key is an independent register with three
// states (absent, live with a URL, deleted for ever), so porcupine checks
// each key's sub-history on its own.

type opKind uint8

const (
	opCreate opKind = iota // POST /links {url, alias} with a fresh Idempotency-Key
	opPatch                // PATCH /links/{alias} {url}
	opDelete               // DELETE /links/{alias}
	opRead                 // GET /links/{alias}?consistency=linearizable
)

func (k opKind) String() string { return [...]string{"create", "patch", "delete", "read"}[k] }

type jIn struct {
	Key  string
	Kind opKind
	URL  string // create, patch
}

// jOut is what the client saw. Unknown marks a write whose outcome is not
// known (timeout, connection error, a 5xx that does not say "not applied"):
// it is pending for ever, so the checker may place it anywhere after its
// call, or nowhere.
type jOut struct {
	Status  int
	URL     string // read
	Unknown bool
}

type linkState struct {
	state byte // 0 absent, 1 live, 2 deleted
	url   string
}

// apply is the specification: the next state and the answer.
func (s linkState) apply(in jIn) (linkState, int, string) {
	switch in.Kind {
	case opCreate:
		if s.state == 0 {
			return linkState{1, in.URL}, 201, ""
		}
		return s, 409, ""
	case opPatch:
		switch s.state {
		case 1:
			return linkState{1, in.URL}, 200, ""
		case 2:
			return s, 410, ""
		}
		return s, 404, ""
	case opDelete: // deleting twice is deleting once
		if s.state == 0 {
			return s, 404, ""
		}
		return linkState{2, ""}, 204, ""
	}
	switch s.state {
	case 1:
		return s, 200, s.url
	case 2:
		return s, 410, ""
	}
	return s, 404, ""
}

// legacyDelete (LINKD_JEPSEN_LEGACY_DELETE=1) also accepts 410 for a
// delete of a deleted link, the answer of releases before deletes were
// idempotent on every node, so that an older binary is judged on its
// consistency, not on that change of the API.
var legacyDelete = os.Getenv("LINKD_JEPSEN_LEGACY_DELETE") == "1"

var linkModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(jIn).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return linkState{} },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(linkState), input.(jIn), output.(jOut)
		next, status, url := s.apply(in)
		if out.Unknown {
			return true, next
		}
		if legacyDelete && in.Kind == opDelete && s.state == 2 && out.Status == 410 {
			return true, next
		}
		return out.Status == status && out.URL == url, next
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(jIn), output.(jOut)
		res := fmt.Sprint(out.Status)
		if out.Unknown {
			res = "unknown"
		} else if out.URL != "" {
			res += " " + out.URL
		}
		arg := ""
		if in.URL != "" {
			arg = " " + in.URL
		}
		return fmt.Sprintf("%s(%s%s) -> %s", in.Kind, in.Key, arg, res)
	},
	DescribeState: func(state any) string {
		s := state.(linkState)
		return [...]string{"absent", "live " + s.url, "deleted"}[s.state]
	},
}

// history collects operations from concurrent clients.
type history struct {
	start   time.Time
	mu      sync.Mutex
	ops     []porcupine.Operation
	unknown int
	dropped int // writes answered "not applied": they had no effect
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, node string, in jIn, out jOut, call int64) {
	ret := h.now()
	if out.Unknown {
		ret = math.MaxInt64 // pending for ever
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if out.Unknown {
		h.unknown++
	}
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret, Metadata: node})
}

func (h *history) drop() {
	h.mu.Lock()
	h.dropped++
	h.mu.Unlock()
}

// check runs porcupine; on a violation it writes the visualization to
// $LINKD_TEST_OUTPUT (or the temp dir) and returns its path.
func (h *history) check(name string) (porcupine.CheckResult, string) {
	h.mu.Lock()
	ops := slices.Clone(h.ops)
	h.mu.Unlock()
	res, info := porcupine.CheckOperationsVerbose(linkModel, ops, 3*time.Minute)
	if res == porcupine.Ok {
		return res, ""
	}
	dir := os.Getenv("LINKD_TEST_OUTPUT")
	if dir == "" {
		dir = os.TempDir()
	}
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, name+".html")
	if err := porcupine.VisualizePath(linkModel, info, path); err != nil {
		return res, "visualization failed: " + err.Error()
	}
	return res, path + "; " + dumpIllegal(ops, filepath.Join(dir, name))
}

// dumpIllegal writes, for each key whose sub-history is not linearizable,
// its operations in call order to <prefix>-<key>.txt, and returns the names.
func dumpIllegal(ops []porcupine.Operation, prefix string) string {
	var names []string
	for _, part := range linkModel.Partition(ops) {
		if porcupine.CheckOperationsTimeout(linkModel, part, time.Minute) != porcupine.Illegal {
			continue
		}
		slices.SortFunc(part, func(a, b porcupine.Operation) int { return int(a.Call - b.Call) })
		var b strings.Builder
		for _, op := range part {
			ret := "pending"
			if op.Return != math.MaxInt64 {
				ret = fmt.Sprintf("%.3f", float64(op.Return)/1e9)
			}
			fmt.Fprintf(&b, "%.3f..%s c%d %v %s\n", float64(op.Call)/1e9, ret, op.ClientId, op.Metadata,
				linkModel.DescribeOperation(op.Input, op.Output))
		}
		name := prefix + "-" + part[0].Input.(jIn).Key + ".txt"
		os.WriteFile(name, []byte(b.String()), 0o644)
		names = append(names, name)
	}
	return "illegal keys: " + strings.Join(names, ", ")
}

// problemType reads the type of a problem+json answer.
func problemType(b []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	json.Unmarshal(b, &p)
	return p.Type
}

// classify turns an HTTP answer to a write into an outcome: definite, not
// applied (the answer says so: nothing to record), or unknown.
func classify(resp *http.Response, err error) (out jOut, notApplied bool) {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return jOut{}, true // never reached a node
	}
	if err != nil {
		return jOut{Unknown: true}, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case 200, 201, 204, 404, 409, 410:
		out := jOut{Status: resp.StatusCode}
		if resp.StatusCode == 200 && resp.Request.Method == "GET" {
			var l struct {
				URL string `json:"url"`
			}
			json.Unmarshal(b, &l)
			out.URL = l.URL
		}
		return out, false
	case 429:
		return jOut{}, true
	}
	// Only an answer that says "not applied" is taken at its word; the
	// base code's "unavailable" said so for every failed write.
	t := problemType(b)
	if strings.HasSuffix(t, "/not-applied") || strings.HasSuffix(t, "/unavailable") {
		return jOut{}, true
	}
	return jOut{Unknown: true}, false
}
