// Package destination decides where a redirect sends a visitor when its
// link carries options: ordered rules (first match wins) on device, OS,
// preferred language, country, time and query parameters; weighted A/B
// variants, stable for a visitor; and the merge of the visitor's extra path
// and query into the chosen URL.
//
// Options are compiled once, when a link is written, into a Program: a
// compact, versioned byte encoding that is both what the link record
// replicates and what the redirect path matches against, straight from the
// hot set's bytes. Matching never decodes JSON, never allocates and never
// looks anything up in a map; a visitor's facts (device, OS, language) are
// classified once per request by byte scans of its headers.
//
// The package is pure: no I/O, no clock (the caller passes the time), no
// randomness (the caller passes the visitor's hash). It imports nothing of
// linkd's.
package destination
