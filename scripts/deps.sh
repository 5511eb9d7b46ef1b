#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/deps.sh — install the Debian (bookworm) packages the project needs.
# Run as root.  Silent, and touches nothing, when all of them are installed.

set -euo pipefail

# Everything the build, the lint lane and the VM tests use, in one place.
PACKAGES=(
	linux-image-amd64 linux-headers-amd64		# 6.1: booted in the VM, built against
	linux-image-6.12-amd64 linux-headers-6.12-amd64	# 6.12: the same
	linux-source-6.1 linux-source-6.12		# kselftest_harness.h, checkpatch.pl
	qemu-system-x86 busybox-static			# tools/vm-run: the VM and its initramfs
	kmod cpio xz-utils				# tools/vm-run: modprobe -S, cpio, .ko.xz
	libaio-dev liburing-dev				# selftests: AIO and io_uring
	valgrind					# libvchan's VM tests under valgrind
	sparse build-essential perl gawk		# make lint, builds, checkpatch, TAP counting
	gnuplot-nox					# make bench: bench/throughput.svg
	bc bison flex libelf-dev libssl-dev dwarves	# kernel/build-debug.sh: the debug kernel
	dkms dh-dkms debhelper fakeroot lintian		# scripts/pkg-check.sh: .debs, DKMS,
	pkg-config man-db udev adduser			# the smoke test of the installed packages
)

missing=()
for p in "${PACKAGES[@]}"; do
	# "ii" only: a package removed but not purged still has a database entry.
	if [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) != ii* ]]; then
		missing+=("$p")
	fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "deps.sh: missing packages: ${missing[*]}; run this script as root" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
