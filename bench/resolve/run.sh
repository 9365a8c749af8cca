#!/bin/sh
# run.sh measures `sock resolve` against `dnf install --assumeno` on a
# distribution-sized repository (Debian's index turned into repodata by
# bench/debrepo): wall time and peak RSS, cold (fresh cache) and warm
# (second run, same cache), and whether both choose the same packages.
# It prints a markdown table on stdout; details go to $WORK.
#
#   sh bench/resolve/run.sh [REPO_DIR]
#
# REPO_DIR defaults to $WORK/debrepo, generated from `apt-cache dumpavail`
# when missing. Requests are set with REQUESTS (";"-separated lists of
# package names). Needs dnf, GNU time (/usr/bin/time) and Go.
set -eu

cd "$(dirname "$0")/../.."
WORK=${WORK:-/tmp/sock-bench-resolve}
REPO=${1:-$WORK/debrepo}
REQUESTS=${REQUESTS:-"bash coreutils;openjdk-17-jdk;xfce4;cinnamon-core;python3-numpy;nginx;vim;openssh-server python3 curl;inkscape"}
mkdir -p "$WORK"
REPO=$(cd "$(dirname "$REPO")" && pwd)/$(basename "$REPO")

if [ ! -f "$REPO/repodata/repomd.xml" ]; then
	echo "generating $REPO from apt-cache dumpavail" >&2
	apt-cache dumpavail | go run ./bench/debrepo -o "$REPO" >&2
fi
CGO_ENABLED=0 go build -o bin/sock ./cmd/sock
SOCK=$(pwd)/bin/sock

# measure LABEL CMD... runs CMD under GNU time; prints "seconds MiB",
# keeps stdout in $WORK/LABEL.out and time's report in $WORK/LABEL.time.
measure() {
	label=$1
	shift
	/usr/bin/time -v -o "$WORK/$label.time" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || true
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
		/Maximum resident set size/ { m = $2 / 1024 }
		END { printf "%.2f %.0f\n", s, m }' "$WORK/$label.time"
}

# dnf_set FILE: sorted name-[epoch:]version-release.arch from dnf's table.
dnf_set() {
	awk '/^Installing/ { on = 1; next }
		/^[^ ]/ || /^$/ { on = 0; next }
		on { line = carry " " $0; n = split(line, f, " ")
			if (n == 1) { carry = f[1]; next }
			carry = ""; print f[1] "-" f[3] "." f[2] }' "$1" | sort
}

# sock_set FILE: the same from sock resolve's table (epoch 0 dropped).
sock_set() {
	awk '{ evr = $2; e = evr; sub(/:.*/, "", e); sub(/^[0-9]+:/, "", evr)
		print $1 "-" (e == "0" ? "" : e ":") evr }' "$1" | sort
}

echo "| request | packages dnf / sock | dnf cold | dnf warm | sock cold | sock warm | same set |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
i=0
echo "$REQUESTS" | tr ';' '\n' | while read -r req; do
	[ -n "$req" ] || continue
	i=$((i + 1))
	dnfargs="--installroot=$WORK/dnf-root-$i --setopt=reposdir=/nonexistent --setopt=cachedir=$WORK/dnf-cache-$i
		--setopt=gpgcheck=0 --setopt=best=True --repofrompath=t,file://$REPO --repo=t --releasever=9 --forcearch=x86_64 --assumeno"
	rm -rf "$WORK/dnf-root-$i" "$WORK/dnf-cache-$i" "$WORK/sock-cache-$i"
	# shellcheck disable=SC2086
	dc=$(measure "dnf-cold-$i" dnf $dnfargs install $req)
	# shellcheck disable=SC2086
	dw=$(measure "dnf-warm-$i" dnf $dnfargs install $req)
	nail=$WORK/req-$i.toml
	{
		echo 'arch = "x86_64"'
		echo 'releasever = "9"'
		printf 'rpms = ['
		sep=
		for p in $req; do printf '%s"%s"' "$sep" "$p"; sep=', '; done
		echo ']'
		echo
		echo '[[repo]]'
		echo 'id = "t"'
		echo "baseurl = \"file://$REPO/\""
		echo 'gpgcheck = false'
	} >"$nail"
	sc=$(measure "sock-cold-$i" "$SOCK" resolve --cache-dir "$WORK/sock-cache-$i" "$nail")
	sw=$(measure "sock-warm-$i" "$SOCK" resolve --cache-dir "$WORK/sock-cache-$i" "$nail")
	dnf_set "$WORK/dnf-warm-$i.out" >"$WORK/dnf-$i.set"
	sock_set "$WORK/sock-warm-$i.out" >"$WORK/sock-$i.set"
	nd=$(wc -l <"$WORK/dnf-$i.set")
	ns=$(wc -l <"$WORK/sock-$i.set")
	if [ "$nd" -eq 0 ] || [ "$ns" -eq 0 ]; then
		same="no (a side failed: see $WORK/*-$i.err)"
	elif diff "$WORK/dnf-$i.set" "$WORK/sock-$i.set" >"$WORK/diff-$i.txt"; then
		same=yes
	else
		same="no: $(grep -c '^<' "$WORK/diff-$i.txt") only dnf, $(grep -c '^>' "$WORK/diff-$i.txt") only sock ($WORK/diff-$i.txt)"
	fi
	fmt() { echo "$1" | awk '{ printf "%.2f s, %d MiB", $1, $2 }'; }
	echo "| \`$req\` | $nd / $ns | $(fmt "$dc") | $(fmt "$dw") | $(fmt "$sc") | $(fmt "$sw") | $same |"
done
