#!/bin/sh
# run.sh measures `sock resolve` against `dnf install --assumeno` on a
# distribution-sized repository (Debian's index turned into repodata by
# bench/debrepo): wall time and peak RSS, cold (fresh cache) and warm
# (second run on the same cache), and whether both choose the same
# packages. Runs alternate dnf and sock, ROUNDS times each (default 3);
# each round also measures the floor of a cold load: zcat of the primary,
# and, from BenchmarkColdPrimary in the same process, decompression alone
# and decompression on its goroutine plus a bare XML scan. It prints
# markdown tables (min / median of the rounds) on stdout; details go to
# $WORK.
#
#   sh bench/resolve/run.sh [REPO_DIR]
#
# REPO_DIR defaults to $WORK/debrepo, generated when missing from
# `apt-cache dumpavail` with Debian's long descriptions and file lists
# (Translation-en and Contents indexes, fetched by `apt-get update` with
# a configuration that asks for them), so that the metadata has the shape
# of a real distribution's. Requests are set with REQUESTS
# (";"-separated lists of package names). SOCK_BEFORE names another sock
# binary (an older build) to measure alongside, alternating with the
# others, so that before and after share the run's load. Needs dnf, GNU
# time (/usr/bin/time) and Go.
set -eu

cd "$(dirname "$0")/../.."
if [ -z "${WORK:-}" ]; then
	# A tmpfs: after a large rm -rf this VM's disk slows down for a while.
	WORK=/tmp/sock-bench-resolve
	[ -d /dev/shm ] && WORK=/dev/shm/sock-bench-resolve
fi
REPO=${1:-$WORK/debrepo}
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-"bash coreutils;nginx;openssh-server python3 curl"}
mkdir -p "$WORK"
REPO=$(cd "$(dirname "$REPO")" && pwd)/$(basename "$REPO")

if [ ! -f "$REPO/repodata/repomd.xml" ]; then
	echo "generating $REPO from apt's lists" >&2
	conf=$WORK/apt.conf
	cat >"$conf" <<-'EOF'
		#clear Acquire::Languages;
		Acquire::Languages { "en"; };
		Acquire::IndexTargets::deb::Contents-deb {
		  MetaKey "$(COMPONENT)/Contents-$(ARCHITECTURE)";
		  ShortDescription "Contents-$(ARCHITECTURE)";
		  Description "$(RELEASE)/$(COMPONENT) $(ARCHITECTURE) Contents (deb)";
		  flatMetaKey "Contents-$(ARCHITECTURE)";
		  flatDescription "$(RELEASE) Contents (deb)";
		  PDiffs "false";
		  KeepCompressed "true";
		};
	EOF
	apt-get -c "$conf" update >&2
	# apt-get indextargets lists where each index is; cat-file reads any
	# compression apt keeps.
	cat_targets() {
		apt-get -c "$conf" indextargets --format '$(FILENAME)' "Created-By: $1" |
			while read -r f; do [ -f "$f" ] && /usr/lib/apt/apt-helper cat-file "$f" && echo; done
	}
	cat_targets Translations >"$WORK/Translation-en.txt"
	cat_targets Contents-deb >"$WORK/Contents.txt"
	apt-cache dumpavail | go run ./bench/debrepo -o "$REPO" \
		-descriptions "$WORK/Translation-en.txt" -contents "$WORK/Contents.txt" >&2
	rm -f "$WORK/Translation-en.txt" "$WORK/Contents.txt"
fi
CGO_ENABLED=0 go build -o bin/sock ./cmd/sock
SOCK=$(pwd)/bin/sock
go test -c -o "$WORK/yum.test" ./internal/yum
PRIMARY=$(ls "$REPO"/repodata/*-primary.xml.*)
case $PRIMARY in
*.gz) ZCAT="zcat" ;;
*.xz) ZCAT="xzcat" ;;
*.zst) ZCAT="zstdcat" ;;
esac

# measure LABEL CMD... runs CMD under GNU time, appends "wall-seconds
# MiB cpu-seconds" (cpu: user + system) to $WORK/LABEL.runs, keeps stdout
# in $WORK/LABEL.out, stderr in .err.
measure() {
	label=$1
	shift
	/usr/bin/time -v -o "$WORK/$label.time" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || true
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
		/Maximum resident set size/ { m = $2 / 1024 }
		/User time|System time/ { c += $2 }
		END { printf "%.2f %.0f %.2f\n", s, m, c }' "$WORK/$label.time" >>"$WORK/$label.runs"
}

# stat LABEL: "min / median s wall (min / median s CPU), max MiB" of
# LABEL's runs.
stat() {
	sort -n -k3 "$WORK/$1.runs" | awk '{ c[NR] = $3 }
		END { printf "%.2f / %.2f\n", c[1], (NR % 2) ? c[(NR + 1) / 2] : (c[NR / 2] + c[NR / 2 + 1]) / 2 }' >"$WORK/$1.cpu"
	sort -n "$WORK/$1.runs" | awk -v cpu="$(cat "$WORK/$1.cpu")" '{ t[NR] = $1; if ($2 > m) m = $2 }
		END { med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
			printf "%.2f / %.2f s (CPU %s s), %d MiB", t[1], med, cpu, m }'
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

rm -f "$WORK"/*.runs
echo "$REQUESTS" | tr ';' '\n' | grep -v '^$' >"$WORK/requests"
round=0
while [ "$round" -lt "$ROUNDS" ]; do
	round=$((round + 1))
	echo "round $round of $ROUNDS (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	i=0
	while read -r req; do
		i=$((i + 1))
		dnfargs="--installroot=$WORK/dnf-root-$i --setopt=reposdir=/nonexistent --setopt=cachedir=$WORK/dnf-cache-$i
			--setopt=gpgcheck=0 --setopt=best=True --repofrompath=t,file://$REPO --repo=t --releasever=9 --forcearch=x86_64 --assumeno"
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
		rm -rf "$WORK/dnf-root-$i" "$WORK/dnf-cache-$i" "$WORK/sock-cache-$i"
		# shellcheck disable=SC2086
		measure "dnf-cold-$i" dnf $dnfargs install $req
		measure "sock-cold-$i" "$SOCK" resolve --cache-dir "$WORK/sock-cache-$i" "$nail"
		if [ -n "${SOCK_BEFORE:-}" ]; then
			rm -rf "$WORK/before-cache-$i"
			measure "before-cold-$i" "$SOCK_BEFORE" resolve --cache-dir "$WORK/before-cache-$i" "$nail"
		fi
		# shellcheck disable=SC2086
		measure "dnf-warm-$i" dnf $dnfargs install $req
		measure "sock-warm-$i" "$SOCK" resolve --cache-dir "$WORK/sock-cache-$i" "$nail"
		if [ -n "${SOCK_BEFORE:-}" ]; then
			measure "before-warm-$i" "$SOCK_BEFORE" resolve --cache-dir "$WORK/before-cache-$i" "$nail"
		fi
	done <"$WORK/requests"
	measure zcat sh -c "$ZCAT <'$PRIMARY' >/dev/null"
	SOCK_BENCH_PRIMARY=$PRIMARY "$WORK/yum.test" -test.run '^$' -test.bench 'ColdPrimary/(inflate|scan)$' -test.benchtime 1x >"$WORK/floor.out" 2>&1 || true
	for f in inflate scan; do
		awk -v f="$f" '$1 ~ "/" f "-" { printf "%.2f 0 0\n", $3 / 1e9 }' "$WORK/floor.out" >>"$WORK/floor-$f.runs"
	done
done

echo "Input: $PRIMARY ($(wc -c <"$PRIMARY") bytes), $ROUNDS rounds, load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| request | packages dnf / sock | dnf cold | sock cold | dnf warm | sock warm | same set |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
i=0
while read -r req; do
	i=$((i + 1))
	dnf_set "$WORK/dnf-warm-$i.out" >"$WORK/dnf-$i.set"
	sock_set "$WORK/sock-warm-$i.out" >"$WORK/sock-$i.set"
	sock_set "$WORK/sock-cold-$i.out" >"$WORK/sock-cold-$i.set"
	nd=$(wc -l <"$WORK/dnf-$i.set")
	ns=$(wc -l <"$WORK/sock-$i.set")
	if [ "$nd" -eq 0 ] || [ "$ns" -eq 0 ]; then
		same="no (a side failed: see $WORK/*-$i.err)"
	elif ! cmp -s "$WORK/sock-$i.set" "$WORK/sock-cold-$i.set"; then
		same="no: sock cold and warm differ"
	elif diff "$WORK/dnf-$i.set" "$WORK/sock-$i.set" >"$WORK/diff-$i.txt"; then
		same=yes
	else
		same="no: $(grep -c '^<' "$WORK/diff-$i.txt") only dnf, $(grep -c '^>' "$WORK/diff-$i.txt") only sock ($WORK/diff-$i.txt)"
	fi
	echo "| \`$req\` | $nd / $ns | $(stat "dnf-cold-$i") | $(stat "sock-cold-$i") | $(stat "dnf-warm-$i") | $(stat "sock-warm-$i") | $same |"
done <"$WORK/requests"
if [ -n "${SOCK_BEFORE:-}" ]; then
	echo
	echo "| request | before ($SOCK_BEFORE) cold | before warm | same output as sock |"
	echo "| --- | --- | --- | --- |"
	i=0
	while read -r req; do
		i=$((i + 1))
		same=no
		cmp -s "$WORK/before-warm-$i.out" "$WORK/sock-warm-$i.out" && cmp -s "$WORK/before-cold-$i.out" "$WORK/sock-cold-$i.out" && same=yes
		echo "| \`$req\` | $(stat "before-cold-$i") | $(stat "before-warm-$i") | $same |"
	done <"$WORK/requests"
fi
echo
echo "| floor (min / median) | time |"
echo "| --- | --- |"
echo "| \`$ZCAT\` of the primary | $(stat zcat) |"
echo "| decompress (in process, into io.Discard) | $(stat floor-inflate | sed 's/ (CPU.*//') |"
echo "| decompress on a goroutine + bare XML scan | $(stat floor-scan | sed 's/ (CPU.*//') |"
