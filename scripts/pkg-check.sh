#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/pkg-check.sh — proof that vchan installs the way Debian admins
# install out-of-tree drivers.  Run as root on a Debian bookworm machine (it
# installs and purges packages on it):
#
#   1. builds the .debs (dpkg-buildpackage -b -us -uc, in a copy of the tree
#      under build/pkg/), checks that each carries VERSION's version, and
#      runs lintian on them (errors and warnings fail);
#   2. installs them with apt-get: DKMS builds vchan.ko for both Debian
#      kernels; then removes one kernel's build and runs the hook a kernel
#      upgrade runs (/etc/kernel/postinst.d/dkms), which must rebuild it;
#   3. compiles a WTS program through `pkg-config --cflags --libs vchan`;
#   4. boots each kernel without the tree's module (tools/vm-run
#      --no-module) and, in the guest (this script with --guest): modprobe
#      loads the DKMS-built module, udev gives /dev/vchan/control to the
#      vchan group, `vchanctl serve --echo` runs as an unprivileged member of
#      that group, and the program, as another user, does an
#      open/write/read round trip over the session node, whose owner and mode
#      are the daemon's;
#   5. purges the packages and checks that nothing is left behind (files
#      under /usr and /etc, /var/lib/dkms/vchan, the module in each kernel's
#      modules.dep, the group).
#
# Prints TAP ("ok - NAME" / "not ok - NAME"); exit status non-zero if any
# check failed.
set -uo pipefail

TOP=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$TOP" || exit 1
PKGS=(vchan-dkms libvchan1 libvchan-dev vchan-tools)
SESSION=5
failed=0

check() {	# check NAME CMD...: one TAP line for CMD's status
	local name=$1
	shift
	if "$@"; then
		echo "ok - pkg: $name"
	else
		echo "not ok - pkg: $name"
		failed=1
	fi
}

same() {	# same WHAT GOT WANT
	[[ $2 == "$3" ]] && return 0
	echo "# $1: got '$2', want '$3'"
	return 1
}

# --- in the guest: tools/vm-run ... -- scripts/pkg-check.sh --guest DIR ---------

node_of() {	# node_of PID PATH: PATH appears while PID lives (hang guard: 60 s)
	local i
	for ((i = 0; i < 600; i++)); do
		[[ -c $2 ]] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

guest() {
	local dir=$1 k=$VCHAN_VM_KERNEL rel gid pid
	rel=$(uname -r)
	check "$k: modprobe vchan" modprobe vchan
	check "$k: the module is DKMS's" same "module file" \
		"$(modinfo -n vchan 2>&1)" "$(ls /lib/modules/"$rel"/updates/dkms/vchan.ko*)"
	check "$k: it is live" same initstate "$(cat /sys/module/vchan/initstate 2>&1)" live

	# udev as on a real system: the rule applies to the control node, and
	# leaves the nodes the daemon creates as the daemon asked.
	# (systemd tools refuse to act in a chroot unless told to.)
	export SYSTEMD_IGNORE_CHROOT=1
	/lib/systemd/systemd-udevd --daemon
	udevadm trigger --subsystem-match=vchan --action=add && udevadm settle --timeout=60
	check "$k: udev gives /dev/vchan/control to the vchan group" same "control node" \
		"$(stat -c '%U:%G %a' /dev/vchan/control)" "root:vchan 660"

	gid=$(getent group vchan | cut -d: -f3)
	# EACCES on the control node: exit status 1 and vchanctl's message.
	check "$k: a user outside the group cannot create channels" bash -c \
		'out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
			/usr/bin/vchanctl serve "$1" smoke --echo 2>&1)
		rc=$?
		[[ $rc == 1 && $out == "vchanctl: /dev/vchan/control: permission denied"* ]] ||
			{ echo "# exit $rc: $out"; exit 1; }' _ "$SESSION"
	setpriv --reuid=65534 --regid=65534 --groups="$gid" /usr/bin/vchanctl serve "$SESSION" smoke \
		--echo --owner 65534:65534 --mode 0640 &
	pid=$!
	check "$k: vchanctl serve as a member of the group" node_of "$pid" /dev/vchan/$SESSION/smoke
	udevadm settle --timeout=60
	check "$k: the session node keeps the daemon's owner and mode" same "session node" \
		"$(stat -c '%u:%g %a' /dev/vchan/$SESSION/smoke 2>&1)" "65534:65534 640"
	check "$k: WTS round trip with the installed libvchan" \
		setpriv --reuid=65534 --regid=65534 --clear-groups env VCHAN_SESSION=$SESSION "$dir/smoke"
	kill -TERM "$pid"
	check "$k: vchanctl serve exits on SIGTERM" wait "$pid"
	udevadm control --exit
	check "$k: rmmod vchan" rmmod vchan
	return $failed
}

if [[ ${1-} == --guest ]]; then
	guest "$2"
	exit
fi

# --- on the host -------------------------------------------------------------

[[ $(id -u) == 0 ]] || { echo "pkg-check: run as root (it installs packages)" >&2; exit 1; }
scripts/deps.sh || exit 1
VERSION=$(cat VERSION)
OUT=$TOP/build/pkg
start=$SECONDS

installed() { dpkg-query -W -f='${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null | grep -q '^[ihc]'; }
purge() { DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${PKGS[@]}" >"$OUT/purge.log" 2>&1; }
trap 'installed && purge' EXIT

rm -rf "$OUT"
mkdir -p "$OUT/src"
installed && purge	# a run that was interrupted

# What exists before, to compare with what is left after the purge.  /var
# only where DKMS keeps its trees: the rest (apt, dpkg, logs) changes anyway;
# and not the module signing key DKMS makes at its first build (mok.*: it is
# DKMS's, for every module, and stays with the dkms package).
snapshot() {
	find /usr /etc /var/lib/dkms -xdev \( -path /usr/lib/python3 -o -name __pycache__ \
		-o -path '/var/lib/dkms/mok.*' \) -prune -o -print 2>/dev/null | LC_ALL=C sort
	getent group vchan
}
snapshot >"$OUT/before"

# 1. Build (in a copy: dpkg-buildpackage cleans its tree and writes to ..).
tar -C "$TOP" --exclude=./build --exclude=./.git -cf - . | tar -C "$OUT/src" -xf -
check "dpkg-buildpackage -b" bash -c 'cd "$1/src" && dpkg-buildpackage -b -us -uc >"$1/build.log" 2>&1 ||
	{ tail -n 30 "$1/build.log" | sed "s/^/# /"; exit 1; }' _ "$OUT"
debs=()
for p in "${PKGS[@]}"; do
	debs+=("$(ls "$OUT"/"$p"_*.deb 2>/dev/null)")
	check "$p: version $VERSION" same "$p version" "$(dpkg-deb -f "${debs[-1]}" Version 2>&1)" "$VERSION"
done
check "dkms.conf in vchan-dkms says $VERSION" same "PACKAGE_VERSION" \
	"$(dpkg-deb --fsys-tarfile "${debs[0]}" | tar -xOf - "./usr/src/vchan-$VERSION/dkms.conf" | sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p')" "$VERSION"
lintian --no-cfg "$OUT"/vchan_"$VERSION"_*.changes >"$OUT/lintian.log" 2>&1
check "lintian: no error or warning" bash -c '! grep -E "^[EW]: " "$1" | sed "s/^/# /" | grep .' _ "$OUT/lintian.log"

# The man pages: no groff warnings, and libvchan(3) has a section for every
# exported call.
for m in man/vchan.4 man/libvchan.3 tools/vchanctl.8; do
	check "man --warnings $m" bash -c '! LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$1" 2>&1 >/dev/null | grep .' _ "$m"
done
undocumented=$(for f in $(sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' userlib/libvchan.map); do
	grep -Eq "^\.SS (.*[ ,])?$f(,|$)" man/libvchan.3 || echo "$f"; done)
check "libvchan(3) documents every exported call" same "calls without a section" "$undocumented" ""

phase() { echo "# pkg-check: $1 done at $((SECONDS - start)) s"; }
phase "build and lint"

# 2. Install: the DKMS postinst builds the module for every kernel.
rel61=$(cd /lib/modules && LC_ALL=C ls -d 6.1.*-amd64 | head -n 1)
rel612=$(cd /lib/modules && LC_ALL=C ls -d 6.12.*-amd64 | head -n 1)
check "apt-get install the packages" bash -c 'log=$1; shift
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 ||
	{ tail -n 30 "$log" | sed "s/^/# /"; exit 1; }' _ "$OUT/install.log" "${debs[@]}"
for rel in "$rel61" "$rel612"; do
	check "DKMS installed vchan for $rel" same "dkms status" \
		"$(dkms status -k "$rel" vchan/"$VERSION" 2>/dev/null)" "vchan/$VERSION, $rel, x86_64: installed"
	check "modules.dep of $rel lists it" bash -c '[[ $(modinfo -k "$1" -n vchan) == /lib/modules/$1/updates/dkms/vchan.ko* ]]' _ "$rel"
done
phase "install"
# A kernel upgrade runs this hook: it must build the module for that kernel.
dkms remove -q vchan/"$VERSION" -k "$rel612" >/dev/null 2>&1
check "after dkms remove -k $rel612 the module is gone" bash -c '! ls /lib/modules/"$1"/updates/dkms/vchan.ko* 2>/dev/null' _ "$rel612"
/etc/kernel/postinst.d/dkms "$rel612" >"$OUT/autoinstall.log" 2>&1
check "AUTOINSTALL: the kernel postinst hook rebuilds it" same "dkms status" \
	"$(dkms status -k "$rel612" vchan/"$VERSION" 2>/dev/null)" "vchan/$VERSION, $rel612, x86_64: installed"
check "group vchan exists" getent group vchan >/dev/null

phase "kernel upgrade"

# 3. A program built against the installed headers and library.
smoke_dir=$(mktemp -d /tmp/vchan-pkg.XXXXXX)
chmod 755 "$smoke_dir"
trap 'installed && purge; rm -rf "$smoke_dir"' EXIT
cat >"$smoke_dir/smoke.c" <<'EOF'
/* WTSVirtualChannelOpen/Write/Read/Close against `vchanctl serve --echo`. */
#include <stdio.h>
#include <string.h>
#include <wtsapi32.h>		/* -I$includedir/vchan, as ported code has it */
#include <vchan/vchan.h>	/* and <linux/vchan.h> through it */

int main(void)
{
	static const char msg[] = "hello through libvchan";
	char buf[64];
	ULONG n = 0;
	uint32_t session = 0;
	HANDLE ch;

	if (vchan_session_current(&session) || session != 5) {
		fprintf(stderr, "# session %u, want 5 ($VCHAN_SESSION)\n", session);
		return 1;
	}
	ch = WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, "nosuch");
	if (ch || GetLastError() != ERROR_FILE_NOT_FOUND) {
		fprintf(stderr, "# open nosuch: %p, error %u; want NULL, 2\n", ch, GetLastError());
		return 1;
	}
	ch = WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, "smoke");
	if (!ch) {
		fprintf(stderr, "# open smoke: error %u\n", GetLastError());
		return 1;
	}
	if (!WTSVirtualChannelWrite(ch, msg, sizeof(msg) - 1, &n) || n != sizeof(msg) - 1) {
		fprintf(stderr, "# write: %u bytes, error %u\n", n, GetLastError());
		return 1;
	}
	/* The time limit is a hang guard: the echo comes back whole or not at all. */
	if (!WTSVirtualChannelRead(ch, 60000, buf, sizeof(buf), &n) ||
	    n != sizeof(msg) - 1 || memcmp(buf, msg, n)) {
		fprintf(stderr, "# read: %u bytes '%.*s', error %u\n", n, (int)n, buf, GetLastError());
		return 1;
	}
	if (!WTSVirtualChannelClose(ch)) {
		fprintf(stderr, "# close: error %u\n", GetLastError());
		return 1;
	}
	return 0;
}
EOF
check "pkg-config --modversion vchan" same "vchan.pc" "$(pkg-config --modversion vchan 2>&1)" "$VERSION"
# shellcheck disable=SC2046 # pkg-config's output is a list of words
check "cc smoke.c \$(pkg-config --cflags --libs vchan)" \
	cc -Wall -Wextra -Werror -o "$smoke_dir/smoke" "$smoke_dir/smoke.c" $(pkg-config --cflags --libs vchan)
check "smoke links the installed libvchan.so.1" bash -c \
	'ldd "$1" | grep -Eq "libvchan.so.1 => (/usr)?/lib/x86_64-linux-gnu/libvchan.so.1 "' _ "$smoke_dir/smoke"

# 4. Each kernel with the DKMS-built module.
for k in 6.1 6.12; do
	check "$k: the guest's checks ran and its kernel log is clean" \
		tools/vm-run --kernel "$k" --no-module -- scripts/pkg-check.sh --guest "$smoke_dir"
done

phase "VM smoke tests"

# 5. Purge: nothing may be left.
check "apt-get purge the packages" purge
snapshot >"$OUT/after"
check "nothing left behind" bash -c 'diff "$1/before" "$1/after" | sed "s/^/# /" | { ! grep -E "^# [<>]"; }' _ "$OUT"
for rel in "$rel61" "$rel612"; do
	check "modules.dep of $rel no longer lists vchan" bash -c '! modinfo -k "$1" vchan >/dev/null 2>&1' _ "$rel"
done
phase "purge"
exit $failed
