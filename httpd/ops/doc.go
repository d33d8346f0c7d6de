// Package ops is linkd's HTTP-free operations layer: who a request acts
// for (Principal, Scope), and the domain operations both front ends call —
// create, change and delete links, API keys, users, invites, sessions and
// profiles, store images, read analytics. The JSON API (httpd/api) and the
// console (httpd/console) are two ways of calling the same functions here,
// so a rule (a key never holds a scope its creator lacks, other users'
// links are "not found") is written once.
//
// ops validates input, decides everything non-deterministic (time, codes,
// tokens, password hashes) and proposes commands through the cluster; it
// reads state from the store. It never imports fasthttp or net/http, never
// writes to the store and never talks to raft directly.
//
// Every failure leaves ops as an error that Classify turns into one *Error:
// a Kind (what went wrong, in terms a client can act on), a detail sentence
// and per-field messages. Each front end maps a Kind to its wire form once
// (problem+json, a form re-rendered with the fields marked). Classify is
// the only place that knows fsm, node and cluster error values.
//
// See DESIGN.md beside this file.
package ops
