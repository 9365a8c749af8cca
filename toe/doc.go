// Package toe turns TOENAILs into FOOTs. It owns the TOENAIL format:
// decoding (rejecting unknown keys, checking types and ranges with
// positions), includes (a nail's folder, --nails folders, the standard
// nails of package toenails), merging, ${variable} expansion, validation,
// and the canonical FOOT writer (TOML and JSON).
//
// It leaves everything after the FOOT to others: resolving packages
// (internal/solve), assembling the SOCK (sew), packaging it (pair). It
// does no network I/O; it reads nails and stats [[file]] sources.
//
// Start with Load, which returns a *Foot or an ErrorList of every
// problem, sorted; Lint does the same for many nails. decode.go walks the
// decoded TOML with positions from index.go; resolve.go expands, checks
// and merges; write.go writes the FOOT.
package toe
