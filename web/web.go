// Package web holds the embedded templates and static files of the checkout page and
// the dashboard, so the binary and the Docker image are one file. No handlers here.
package web

import "embed"

// FS holds templates/ and static/.
//
//go:embed templates static
var FS embed.FS
