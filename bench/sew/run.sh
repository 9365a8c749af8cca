#!/bin/sh
# run.sh measures `sock sew` against `dnf --installroot install` on the
# same generated repository and request (bench-root, which requires every
# other package), in the same run, warm caches for both, each N times,
# interleaved: wall time, user+sys CPU and peak RSS from GNU time, and the
# load average when each run starts. It also times the floor (decompressing
# every payload of the transaction into io.Discard with sew's decoder,
# bench/sew/floor) and `sock sew --jobs 1`, and checks that dnf's and
# sock's trees hold the same paths, types, modes, owners, sizes, link
# targets, mtimes and contents. A markdown report goes to stdout; details
# (GNU time reports, stderr, listings) to $WORK.
#
#   sudo sh bench/sew/run.sh
#
# Settings (environment): WORK (default /tmp/sock-bench-sew; the trees land
# there, so its filesystem is the one measured), N (runs of each, default
# 3), PACKAGES (400), MB (installed size, 1024), PAYLOAD (rpmbuild's
# _binary_payload, default w19.zstdio as on Fedora and EL9). The generated
# repository is kept in $WORK/repo and reused while those settings are
# unchanged (bench/sew/gen checks $WORK/repo/gen.json). Needs root, Go,
# rpmbuild, createrepo_c, dnf, rpm and GNU time (/usr/bin/time).
set -eu

cd "$(dirname "$0")/../.."
WORK=${WORK:-/tmp/sock-bench-sew}
N=${N:-3}
PACKAGES=${PACKAGES:-400}
MB=${MB:-1024}
PAYLOAD=${PAYLOAD:-w19.zstdio}
REPO=$WORK/repo
if [ "$(id -u)" != 0 ]; then
	echo "run.sh: run as root: both tools install as root here" >&2
	exit 1
fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
REPO=$WORK/repo

go build -o "$WORK/gen" ./bench/sew/gen
go build -o "$WORK/floor" ./bench/sew/floor
"$WORK/gen" -o "$REPO" -packages "$PACKAGES" -mb "$MB" -payload "$PAYLOAD" >&2
CGO_ENABLED=0 go build -o bin/sock ./cmd/sock
SOCK=$(pwd)/bin/sock

# dnf runs with a HOME whose .rpmmacros puts the target's rpmdb where EL9
# keeps it (Debian's rpm defaults to ~/.rpmdb).
export HOME="$WORK/home"
mkdir -p "$HOME"
echo '%_dbpath /var/lib/rpm' >"$HOME/.rpmmacros"

NAIL=$WORK/bench.toml
cat >"$NAIL" <<EOF
arch = "x86_64"
releasever = "9"
rpms = ["bench-root"]

[[repo]]
id = "bench"
baseurl = "file://$REPO/"
gpgcheck = false
EOF

# The generated packages have no scriptlets, so both tools run with their
# default scriptlet policy and it makes no difference. Paths in $WORK must
# not hold spaces: these lists are split on them.
DNF="dnf -y -q --setopt=reposdir=/nonexistent --setopt=cachedir=$WORK/dnf-cache
	--repofrompath=bench,file://$REPO --repo=bench --releasever=9 --forcearch=x86_64
	--setopt=gpgcheck=0 install bench-root --installroot"
SEW="$SOCK sew $NAIL --cache-dir $WORK/sock-cache --root"

# measure LABEL CMD...: runs CMD under GNU time and appends
# "LABEL wall cpu rss_MiB load1" to $WORK/results.
measure() {
	label=$1
	shift
	load=$(cut -d' ' -f1 /proc/loadavg)
	/usr/bin/time -v -o "$WORK/$label.time" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || {
		echo "run.sh: $label failed, see $WORK/$label.err" >&2
		exit 1
	}
	awk -F': ' -v label="$label" -v load="$load" '
		/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
		/User time/ { u = $2 }
		/System time/ { y = $2 }
		/Maximum resident set size/ { m = $2 / 1024 }
		END { printf "%s %.2f %.2f %.0f %s\n", label, s, u + y, m, load }' "$WORK/$label.time" >>"$WORK/results"
}

# Warm-up, untimed: dnf's cachedir gets the repository's metadata and
# .solv files, sock's cache the metadata and a copy of every package (dnf
# reads a file:// repository's packages in place, so it has nothing more
# to cache), and the page cache holds the repository for both.
echo "warming caches" >&2
rm -rf "$WORK/dnf-cache" "$WORK/sock-cache" "$WORK"/t-*
# shellcheck disable=SC2086
$DNF "$WORK/t-dnf-0" >/dev/null
$SEW "$WORK/t-sock-0" 2>/dev/null
cat "$REPO"/Packages/*.rpm "$WORK"/sock-cache/packages/* >/dev/null

# Every run writes a fresh directory and nothing is deleted until all are
# done: on ext4 without a journal (as on the machine measured), creating
# an inode skips the inodes deleted in the last 35 seconds one by one
# (ext4's recently_deleted), so deleting the previous tree just before a
# run makes file creation several times slower. SETTLE seconds of quiet
# let the warm-up's own writes and any earlier deletions age out.
sync
sleep "${SETTLE:-40}"
: >"$WORK/results"
# shellcheck disable=SC2086 # $DNF and $SEW are argument lists
for r in $(seq 1 "$N"); do
	for tool in dnf sock sock-j1 floor; do
		dir=$WORK/t-$tool-$r
		# Write back what earlier runs left dirty, so that no run pays
		# for another's writes.
		sync
		echo "run $r: $tool" >&2
		case $tool in
		dnf) measure "$tool-$r" $DNF "$dir" ;;
		sock) measure "$tool-$r" $SEW "$dir" ;;
		sock-j1) measure "$tool-$r" $SEW "$dir" --jobs 1 ;;
		floor) measure "$tool-$r" "$WORK/floor" "$REPO"/Packages/*.rpm ;;
		esac
	done
done

# listing DIR: every path but the tools' own bookkeeping (dnf's logs,
# state and rpmdb, sock's .sock; the rpmdbs are compared by rpm -qa), with
# type, mode, owner, size, link target, and for non-directories mtime and
# sha256 of the contents.
listing() {
	(cd "$1" && find . \( -path ./var/lib/dnf -o -path ./var/lib/rpm -o -path ./var/log -o -path ./var/cache \
		-o -path ./etc/dnf -o -path ./.sock -o -path ./tmp -o -path ./var/lib/rpm-state \) -prune \
		-o -type d -printf '%p %y %m %u %g\n' -o -printf '%p %y %m %u %g %s %T@ %l\n' | sort)
	(cd "$1" && find ./usr ./etc -path ./etc/dnf -prune -o -type f -print0 | sort -z | xargs -0 sha256sum)
}
listing "$WORK/t-dnf-$N" >"$WORK/dnf.listing"
listing "$WORK/t-sock-$N" >"$WORK/sock.listing"
if cmp -s "$WORK/dnf.listing" "$WORK/sock.listing"; then
	same="yes ($(grep -c '^\./' "$WORK/dnf.listing") paths and digests)"
else
	diff "$WORK/dnf.listing" "$WORK/sock.listing" >"$WORK/listing.diff" || true
	same="NO: $(grep -c '^[<>]' "$WORK/listing.diff") lines differ, see $WORK/listing.diff"
fi
qa() { rpm --root "$1" --dbpath /var/lib/rpm -qa | sort; }
if [ "$(qa "$WORK/t-dnf-$N")" = "$(qa "$WORK/t-sock-$N")" ]; then
	sameqa="yes ($(qa "$WORK/t-sock-$N" | wc -l) packages)"
else
	sameqa=NO
fi

# Keep the last pair of trees for inspection; the rest goes.
for d in "$WORK"/t-*; do
	case $d in "$WORK/t-dnf-$N" | "$WORK/t-sock-$N") ;; *) rm -rf "$d" ;; esac
done

floorline=$(cat "$WORK/floor-1.out")
kv() { echo "$floorline" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
installed=$(kv installed)

echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
	"$(free -m | awk '/^Mem:/ { printf "%.1f GiB", $2 / 1024 }') memory;" \
	"$WORK on $(findmnt -no SOURCE,FSTYPE -T "$WORK" | tr -s ' ')" \
	"($(lsblk -dno ROTA "$(findmnt -no SOURCE -T "$WORK")" 2>/dev/null | tr -d ' ' | sed 's/1/rotational per the kernel/;s/0/non-rotational/'))."
echo "Tools: $(dnf --version | head -1 | sed 's/^/dnf /'), $(rpm --version), sock $(git rev-parse --short HEAD 2>/dev/null || echo '?') (+ working tree)."
echo "Input: $(kv packages) packages, $(kv files) regular files, $(find "$WORK/t-sock-$N" -path "$WORK/t-sock-$N/.sock" -prune -o -print | wc -l) paths;" \
	"$(kv compressed | awk '{ printf "%.0f MB", $1 / 1e6 }') of $PAYLOAD payloads, $(kv cpio | awk '{ printf "%.0f MB", $1 / 1e6 }') of cpio," \
	"$(echo "$installed" | awk '{ printf "%.0f MB", $1 / 1e6 }') installed."
echo "Same tree: $same. Same rpm -qa: $sameqa."
echo
echo "| run | wall min / median | user+sys CPU min / median | peak RSS median | installed MB/s (median wall) | load average at start |"
echo "| --- | --- | --- | --- | --- | --- |"
for tool in dnf sock sock-j1 floor; do
	case $tool in
	dnf) label='`dnf --installroot install`' ;;
	sock) label='`sock sew`' ;;
	sock-j1) label='`sock sew --jobs 1`' ;;
	floor) label='floor: decompress every payload (bench/sew/floor)' ;;
	esac
	awk -v tool="$tool" -v label="$label" -v bytes="$installed" '
		function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		{ split($1, p, "-"); name = $1; sub(/-[0-9]+$/, "", name) }
		name == tool { n++; w[n] = $2; c[n] = $3; m[n] = $4; l = l (l ? ", " : "") $5 }
		END {
			mw = med(w, n); mc = med(c, n); mm = med(m, n)
			# med sorted w in place, so w[1] is the minimum.
			printf "| %s | %.2f s / %.2f s | %.2f s / %.2f s | %d MiB | %.0f | %s |\n", label, w[1], mw, c[1], mc, mm, bytes / 1e6 / mw, l
		}' "$WORK/results"
done
