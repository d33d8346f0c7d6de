// Package ui holds the web console's templates and static assets, embedded
// in the binary so that the console needs no files and no CDN. It has no
// logic: httpd parses the templates and serves the assets.
package ui

import "embed"

// FS holds the console's templates/*.html and static/*, and public/*.html,
// the templates of public profile pages (which load nothing from static).
//
//go:embed templates/*.html static/* public/*.html
var FS embed.FS
