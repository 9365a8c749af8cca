#!/bin/sh
# Packaging a ~1 GB SOCK three ways, side by side, in one run:
#   sock pair (its streaming RPM writer, zstd:3), tar -c | zstd -3,
#   rpmbuild (w3.zstdio).
# Usage: bench/pair/run.sh [WORKDIR] [MB]   (as root; needs rpmbuild,
# createrepo_c, zstd, GNU time). Prints a Markdown table on stdout.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/sock-bench-pair}
mb=${2:-1024}
export SOURCE_DATE_EPOCH=1700000000
rm -rf "$work"
mkdir -p "$work/src" "$work/repo" "$work/out" "$work/home"
cd "$here" && CGO_ENABLED=0 go build -o "$work/sock" ./cmd/sock
export HOME="$work/home"
echo '%_dbpath /var/lib/rpm' > "$HOME/.rpmmacros"

# Eight packages of MB/8 each: 16 files of random bytes (incompressible, the
# worst case for memory) per package.
per=$((mb / 8))
for p in 1 2 3 4 5 6 7 8; do
	mkdir -p "$work/src/big$p"
	for f in $(seq 1 16); do
		head -c $((per * 1024 * 1024 / 16)) /dev/urandom > "$work/src/big$p/f$f"
	done
	cat > "$work/src/big$p.spec" <<SPEC
Name: big$p
Version: 1
Release: 1
Summary: bench payload $p
License: MIT
BuildArch: x86_64
%description
bench
%install
mkdir -p %{buildroot}/usr/share/big$p
cp $work/src/big$p/* %{buildroot}/usr/share/big$p/
%files
/usr/share/big$p
SPEC
	rpmbuild -bb --quiet --define "_topdir $work/src/top" --define "_rpmdir $work/repo" \
		--define '_binary_payload w1.zstdio' --define 'debug_package %{nil}' \
		--define '__os_install_post %{nil}' "$work/src/big$p.spec" >/dev/null
	rm -rf "$work/src/big$p"
done
createrepo_c --quiet "$work/repo"
cat > "$work/big.toml" <<NAIL
package = "big-sock"
version = "1"
release = "1"
arch = "x86_64"
releasever = "9"
sock_dir = "/opt/big"
rpms = ["big1", "big2", "big3", "big4", "big5", "big6", "big7", "big8"]
[[repo]]
id = "bench"
baseurl = "file://$work/repo/"
gpgcheck = false
NAIL
"$work/sock" sew --cache-dir "$work/cache" --scripts=never "$work/big.toml" --root "$work/sock-dir" 2>/dev/null
size=$(du -sm --exclude=.sock "$work/sock-dir" | cut -f1)

measure() { # name, then the command
	name=$1; shift
	sync
	load=$(cut -d' ' -f1 /proc/loadavg)
	/usr/bin/time -v -o "$work/time.$name" "$@"
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.$name")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.$name")
	cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.1f s", s}' "$work/time.$name")
	echo "$name|$wall|$cpu|$((rss / 1024))|$load" >> "$work/results"
}
: > "$work/results"
# Two rounds, interleaved: the first runs of a fresh tree pay for the
# sew's writeback on these VMs' disks.
for round in 1 2; do
	rm -f "$work"/out/*.rpm "$work"/out/*.zst
	measure pair "$work/sock" pair "$work/big.toml" --root "$work/sock-dir" -o "$work/out"
	measure tar sh -c "tar -C '$work/sock-dir' --exclude=./.sock -cf - . | zstd -3 -q -T1 -o '$work/out/sock.tar.zst'"
	measure tarzstd2 sh -c "tar -C '$work/sock-dir' --exclude=./.sock -cf - . | zstd -3 -q -T0 -o '$work/out/sock-mt.tar.zst'"
done
mkdir -p "$work/rb"
cat > "$work/rb/sock.spec" <<SPEC
Name: big-sock-rb
Version: 1
Release: 1
Summary: the SOCK by rpmbuild
License: MIT
%description
bench
%install
mkdir -p %{buildroot}/opt
cp -al $work/sock-dir %{buildroot}/opt/big
rm -rf %{buildroot}/opt/big/.sock
%files
/opt/big
SPEC
measure rpmbuild rpmbuild -bb --quiet --define "_topdir $work/rb/top" --define "_rpmdir $work/out" \
	--define '_binary_payload w3.zstdio' --define 'debug_package %{nil}' --define '__os_install_post %{nil}' \
	--define '_build_id_links none' "$work/rb/sock.spec"

echo "SOCK: ${size} MB of files (du), $(find "$work/sock-dir" -path "$work/sock-dir/.sock" -prune -o -print | wc -l) paths"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB RAM, $(sed -n 's/model name\t: //p' /proc/cpuinfo | head -1)"
echo
echo "| packager | wall time | user+sys CPU | peak RSS (MB) | output (MB) | load before |"
echo "| --- | --- | --- | --- | --- | --- |"
out() { du -m "$@" 2>/dev/null | awk '{s+=$1} END {print s}'; }
while IFS='|' read -r name wall cpu rss load; do
	case $name in
	pair) label='`sock pair` (streaming writer, zstd:3)'; o=$(out "$work"/out/big-sock-1-1.x86_64.rpm) ;;
	tar) label='`tar -c \| zstd -3` (1 thread)'; o=$(out "$work/out/sock.tar.zst") ;;
	tarzstd2) label='`tar -c \| zstd -3 -T0` (all cores)'; o=$(out "$work/out/sock-mt.tar.zst") ;;
	rpmbuild) label='`rpmbuild` (w3.zstdio, %files of the tree)'; o=$(out "$work"/out/x86_64/big-sock-rb-1-1.x86_64.rpm) ;;
	esac
	echo "| $label | $wall | $cpu | $rss | $o | $load |"
done < "$work/results"
