#!/usr/bin/env bash
# The whole test suite: vet, unit and end-to-end tests, short fuzz runs.
set -euo pipefail
cd "$(dirname "$0")"
export CGO_ENABLED=0
go vet ./...
go test -count=1 -tags e2e -timeout 40m ./...
# Short, bounded fuzz runs of every fuzz target.
./scripts/fuzz-short.sh
