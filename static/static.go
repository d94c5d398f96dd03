// Package static holds the console's browser assets (stylesheet, scripts,
// vendored libraries, icon), embedded into the binary.
package static

import "embed"

// FS holds every asset, by its path under static/ (e.g. "css/app.css").
//
//go:embed css js vendor favicon.svg
var FS embed.FS
