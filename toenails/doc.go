// Package toenails holds the standard TOENAILs that ship inside the sock
// binary, such as devices and root. A nail includes them by name
// (include = ["devices"]); package toe looks here after the including
// nail's folder and the --nails folders. This package only embeds the
// files; toe parses them and its tests lint each one.
package toenails

import "embed"

// FS holds the standard nails, one NAME.toml per nail, at its root.
//
//go:embed *.toml
var FS embed.FS
