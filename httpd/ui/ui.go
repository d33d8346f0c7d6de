// Package ui holds the web console's templates and static assets, embedded
// in the binary so that the console needs no files and no CDN. It has no
// logic: httpd parses the templates and serves the assets.
package ui

import "embed"

// FS holds templates/*.html and static/*.
//
//go:embed templates/*.html static/*
var FS embed.FS
