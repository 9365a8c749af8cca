#!/usr/bin/env bash
# The sleepd example, end to end and offline: build the example's RPMs
# from source, index them, then lint -> foot -> resolve -> sew -> run ->
# darn -> pair -> install the package into a scratch root (when rpm is
# installed). Each step is printed before it runs; every output is left in
# one folder (OUT, default out/sleepd).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
sock=${SOCK:-$top/bin/sock}
out=${OUT:-$top/out/sleepd}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export GOFLAGS=${GOFLAGS:--mod=mod}
rm -rf "$out"
mkdir -p "$out"
cd "$top"

# The banner goes to stderr, so that a step's stdout can go to a file.
step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}" >&2; "${@:2}"; }
nail=$here/sleepd.toml
flags=(--set "repo=file://$out/repo/" --cache-dir "$out/cache")

step "build sleepd from source (a static Go program)" \
  env CGO_ENABLED=0 go build -trimpath -o "$out/build/sleepd" ./examples/sleepd/src/sleepd
step "package it and its data as RPMs, with nfpm" \
  go run ./examples/sleepd/src/mkrepo -bin "$out/build/sleepd" -o "$out/repo"
step "index them into a yum repository" "$sock" index "$out/repo"
step "lint the nail" "$sock" lint "$nail"
echo "ok: no problems"
step "resolve it into a FOOT" "$sock" foot "$nail" "${flags[@]:0:2}"
"$sock" foot "$nail" "${flags[@]:0:2}" >"$out/sleepd.foot.toml"
step "the packages sew will install" "$sock" resolve "$nail" "${flags[@]}"
step "sew the SOCK" "$sock" sew "$nail" "${flags[@]}" --root "$out/sock" --json >"$out/sew.json"
echo "summary in $out/sew.json"

user=()
if [ "$(id -u)" = 0 ]; then user=(--user sleepd); fi
go build -o "$out/build/logcatch" ./examples/sleepd/src/logcatch
"$out/build/logcatch" -addr 127.0.0.1:5514 -n 1 -timeout 20s -ready "$out/build/listening" >"$out/syslog.txt" &
catcher=$!
for _ in $(seq 50); do [ -e "$out/build/listening" ] && break; sleep 0.1; done
# sock run gives the SOCK a network of its own (loopback only); sleepd's
# syslog line goes to the catcher on the host's 127.0.0.1, so this run
# opts in to the host's network.
step "run sleepd inside the SOCK${user:+ as its user}, once, on the host's network" \
  "$sock" run --root "$out/sock" --network host "${user[@]}" -- /usr/sbin/sleepd -once
wait "$catcher"
echo "its syslog line, caught on 127.0.0.1:5514:"
cat "$out/syslog.txt"

step "darn: pin what the SOCK holds that the nail does not name" \
  "$sock" darn "$nail" "${flags[@]}" --root "$out/sock" -o "$out/sleepd.lock.toml"
cat "$out/sleepd.lock.toml"
step "pair: package the SOCK as an RPM" "$sock" pair "$nail" "${flags[@]:0:2}" --root "$out/sock" -o "$out/pkg"
pkg=$(ls "$out"/pkg/*.rpm)
if command -v rpm >/dev/null; then
  step "its install scripts" rpm -qp --scripts "$pkg"
  scratch=$out/scratch
  mkdir -p "$scratch"
  rpm --root "$scratch" --dbpath /var/lib/rpm --initdb
  step "install it into a scratch root" rpm --root "$scratch" --dbpath /var/lib/rpm -i --nodeps --noscripts "$pkg"
  step "and list it" rpm --root "$scratch" --dbpath /var/lib/rpm -qa
else
  echo "(rpm is not installed: skipping the install into a scratch root)"
fi

step "pair: the SOCK as an OCI image, config from the nail's [image]" \
  "$sock" pair "$nail" "${flags[@]:0:2}" --root "$out/sock" -o "$out/image" --format oci
image=$(ls -d "$out"/image/*.oci)
if command -v skopeo >/dev/null; then
  step "skopeo reads it" skopeo inspect "oci:$image:1.0-1"
else
  echo "(skopeo is not installed: not inspecting the image)"
fi

printf '\noutputs in %s:\n' "$out"
ls -l "$out"
