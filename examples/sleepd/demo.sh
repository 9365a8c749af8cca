#!/usr/bin/env bash
# The sleepd example, end to end and offline: each step is printed before
# it runs, and every output is left in one folder (OUT, default out/sleepd).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
sock=${SOCK:-$top/bin/sock}
out=${OUT:-$top/out/sleepd}
rm -rf "$out"
mkdir -p "$out"

step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "lint the nail" "$sock" lint "$here/sleepd.toml"
echo "ok: no problems"
step "resolve it into a FOOT" "$sock" foot "$here/sleepd.toml" --set releasever=9
"$sock" foot "$here/sleepd.toml" --set releasever=9 >"$out/sleepd.foot.toml"
"$sock" foot "$here/sleepd.toml" --set releasever=9 --json >"$out/sleepd.foot.json"

printf '\noutputs in %s:\n' "$out"
ls -l "$out"
