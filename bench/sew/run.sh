#!/bin/sh
# run.sh measures `sock sew` against `dnf --installroot install` on the
# same generated repository and request (bench-root, which requires every
# other package), in the same run, warm caches for both, each N times,
# interleaved: wall time, user and system CPU and peak RSS from GNU time,
# and the load average when each run starts. It also times the floor
# (decompressing every payload of the transaction into io.Discard with
# sew's decoder, and with one reused zstd decoder: bench/sew/floor) and
# `sock sew --jobs 1`, and checks that dnf's and
# sock's trees hold the same paths, types, modes, owners, sizes, link
# targets, mtimes and contents. A markdown report goes to stdout; details
# (GNU time reports, stderr, listings) to $WORK.
#
#   sudo sh bench/sew/run.sh
#
# sh reads this script as it runs: do not edit it while a run is going.
#
# Settings (environment): WORK (default /tmp/sock-bench-sew), TARGET (where
# the trees land, so the filesystem measured; default $WORK; on a tmpfs
# such as /dev/shm each tree is deleted right after its run, elsewhere
# they are kept until the end, about 1 GB each), N (runs of each, default
# 3), SETTLE (seconds of quiet before the runs, default 70), PACKAGES
# (400), MB (installed size, 1024), PAYLOAD (rpmbuild's _binary_payload,
# default w19.zstdio as on Fedora and EL9). The generated repository is
# kept in $WORK/repo and reused while those settings are unchanged
# (bench/sew/gen checks $WORK/repo/gen.json). Needs root, Go, rpmbuild,
# createrepo_c, dnf, rpm and GNU time (/usr/bin/time).
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
TARGET=${TARGET:-$WORK}
mkdir -p "$TARGET"
TARGET=$(cd "$TARGET" && pwd)
FSTYPE=$(df --output=fstype "$TARGET" | tail -1)

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
# "LABEL wall user system rss_MiB load1" to $WORK/results.
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
		END { printf "%s %.2f %.2f %.2f %.0f %s\n", label, s, u, y, m, load }' "$WORK/$label.time" >>"$WORK/results"
}

# Warm-up, untimed: dnf's cachedir gets the repository's metadata and
# .solv files, sock's cache the metadata and a copy of every package (dnf
# reads a file:// repository's packages in place, so it has nothing more
# to cache), and the page cache holds the repository for both.
echo "warming caches" >&2
rm -rf "$WORK/dnf-cache" "$WORK/sock-cache" "$TARGET"/t-*
# shellcheck disable=SC2086
$DNF "$TARGET/t-dnf-0" >/dev/null
$SEW "$TARGET/t-sock-0" 2>/dev/null
cat "$REPO"/Packages/*.rpm "$WORK"/sock-cache/packages/* >/dev/null

# On a disk, every run writes a fresh directory and nothing is deleted
# until all are done: on ext4 without a journal (as on the machine
# measured), creating an inode skips, one by one, the inodes of its group
# deleted in the last 60 seconds (360 while their inode table block is
# dirty; ext4's recently_deleted), so deleting the previous tree just
# before a run makes file creation several times slower. SETTLE seconds
# after a sync let earlier deletions age out. A tmpfs has no such rule,
# and no room to keep every tree.
if [ "$FSTYPE" = tmpfs ]; then
	rm -rf "$TARGET"/t-*
fi
sync
sleep "${SETTLE:-70}"
: >"$WORK/results"
# shellcheck disable=SC2086 # $DNF and $SEW are argument lists
for r in $(seq 1 "$N"); do
	for tool in dnf sock sock-j1 floor floor-reuse; do
		dir=$TARGET/t-$tool-$r
		# Write back what earlier runs left dirty, so that no run pays
		# for another's writes.
		sync
		echo "run $r: $tool" >&2
		case $tool in
		dnf) measure "$tool-$r" $DNF "$dir" ;;
		sock) measure "$tool-$r" $SEW "$dir" ;;
		sock-j1) measure "$tool-$r" $SEW "$dir" --jobs 1 ;;
		floor) measure "$tool-$r" "$WORK/floor" "$REPO"/Packages/*.rpm ;;
		floor-reuse) measure "$tool-$r" "$WORK/floor" -reuse "$REPO"/Packages/*.rpm ;;
		esac
		if [ "$FSTYPE" = tmpfs ] && { [ "$r" != "$N" ] || [ "$tool" = sock-j1 ]; }; then
			rm -rf "$dir"
		fi
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
listing "$TARGET/t-dnf-$N" >"$WORK/dnf.listing"
listing "$TARGET/t-sock-$N" >"$WORK/sock.listing"
if cmp -s "$WORK/dnf.listing" "$WORK/sock.listing"; then
	same="yes ($(grep -c '^\./' "$WORK/dnf.listing") paths and digests)"
else
	diff "$WORK/dnf.listing" "$WORK/sock.listing" >"$WORK/listing.diff" || true
	same="NO: $(grep -c '^[<>]' "$WORK/listing.diff") lines differ, see $WORK/listing.diff"
fi
qa() { rpm --root "$1" --dbpath /var/lib/rpm -qa | sort; }
if [ "$(qa "$TARGET/t-dnf-$N")" = "$(qa "$TARGET/t-sock-$N")" ]; then
	sameqa="yes ($(qa "$TARGET/t-sock-$N" | wc -l) packages)"
else
	sameqa=NO
fi

# Keep the last pair of trees for inspection; the rest goes.
for d in "$TARGET"/t-*; do
	case $d in "$TARGET/t-dnf-$N" | "$TARGET/t-sock-$N") ;; *) rm -rf "$d" ;; esac
done

floorline=$(cat "$WORK/floor-1.out")
kv() { echo "$floorline" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
installed=$(kv installed)

src=$(df --output=source "$TARGET" | tail -1)
case $(lsblk -dno ROTA "$src" 2>/dev/null | tr -d ' ') in
1) disk=" (a rotational disk per the kernel)" ;;
0) disk=" (a non-rotational disk)" ;;
*) disk= ;;
esac
echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
	"$(free -m | awk '/^Mem:/ { printf "%.1f GiB", $2 / 1024 }') memory; trees in $TARGET on $src, $FSTYPE$disk."
echo "Tools: $(dnf --version | head -1 | sed 's/^/dnf /'), $(rpm --version), sock $(git rev-parse --short HEAD 2>/dev/null || echo '?') (+ working tree)."
echo "Input: $(kv packages) packages, $(kv files) regular files, $(find "$TARGET/t-sock-$N" -path "$TARGET/t-sock-$N/.sock" -prune -o -print | wc -l) paths;" \
	"$(kv compressed | awk '{ printf "%.0f MB", $1 / 1e6 }') of $PAYLOAD payloads, $(kv cpio | awk '{ printf "%.0f MB", $1 / 1e6 }') of cpio," \
	"$(echo "$installed" | awk '{ printf "%.0f MB", $1 / 1e6 }') installed."
echo "Same tree: $same. Same rpm -qa: $sameqa."
echo
echo "| run | wall min / median | user CPU min / median | system CPU min / median | peak RSS median | installed MB/s (median wall) | load average at start |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for tool in dnf sock sock-j1 floor floor-reuse; do
	case $tool in
	dnf) label='`dnf --installroot install`' ;;
	sock) label='`sock sew`' ;;
	sock-j1) label='`sock sew --jobs 1`' ;;
	floor) label='floor: decompress every payload, a decoder per package as sew (bench/sew/floor)' ;;
	floor-reuse) label='floor: the same, one zstd decoder reset per package (floor -reuse)' ;;
	esac
	awk -v tool="$tool" -v label="$label" -v bytes="$installed" '
		function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		{ name = $1; sub(/-[0-9]+$/, "", name) }
		name == tool { n++; w[n] = $2; u[n] = $3; y[n] = $4; m[n] = $5; l = l (l ? ", " : "") $6 }
		END {
			mw = med(w, n); mu = med(u, n); my = med(y, n); mm = med(m, n)
			# med sorts in place, so w[1], u[1] and y[1] are the minimums.
			printf "| %s | %.2f s / %.2f s | %.2f s / %.2f s | %.2f s / %.2f s | %d MiB | %.0f | %s |\n", label, w[1], mw, u[1], mu, y[1], my, mm, bytes / 1e6 / mw, l
		}' "$WORK/results"
done
