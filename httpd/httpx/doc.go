// Package httpx is the fasthttp plumbing the three front ends (public, api,
// console) share, so that central policy is written once: the route table
// type and its matcher, the body-size policy (checked against the declared
// Content-Length before a byte of the body is read), client addresses,
// request budgets (rate limits), the problem catalogue that maps each
// ops.Kind to its HTTP status and problem type, and the small HTML pages
// of the public side.
//
// httpx may import fasthttp, httpd/ops and the leaf packages; it never
// imports a front end.
package httpx
