#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel/build-debug.sh [--force] — build (or reuse) the debug kernel.
#
# Extracts Debian's linux-source-6.12 under build/debug-kernel/ once,
# configures it with `make tinyconfig` + kernel/debug.config (merged with
# allnoconfig semantics: what the fragment does not ask for stays off), checks that every option the fragment asks for really is in the final
# .config, and runs `make` (bzImage, plus modpost for Module.symvers so that an
# out-of-tree module builds against the tree).
#
# The result is reused while the fragment, the source tarball and the
# compiler are unchanged (build/debug-kernel/stamp holds that key);
# otherwise the tree is reconfigured and rebuilt incrementally (re-extracted
# only when the tarball changed).  --force ignores the stamp.
#
# The tree is build/debug-kernel/linux-source-6.12 (KDIR for `make -C KDIR
# M=...`), its image arch/x86/boot/bzImage.  Compiler output goes to
# build/debug-kernel/build.log; its tail is printed on failure.  All
# messages go to stderr.  Concurrent runs wait for each other (flock).
#
# Environment: JOBS (default: nproc), VCHAN_LINUX_TARBALL (default
# /usr/src/linux-source-6.12.tar.xz, from the linux-source-6.12 package).

set -euo pipefail

TOP=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
FRAGMENT=$TOP/kernel/debug.config
TARBALL=${VCHAN_LINUX_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
OUT=$TOP/build/debug-kernel
TREE=$OUT/linux-source-6.12
LOG=$OUT/build.log
STAMP=$OUT/stamp
JOBS=${JOBS:-$(nproc)}

msg() { echo "debug-kernel: $*" >&2; }
die() { msg "$*"; exit 1; }

force=0
case ${1-} in
--force) force=1 ;;
'') ;;
*) echo "usage: kernel/build-debug.sh [--force]" >&2; exit 2 ;;
esac

[[ -r $FRAGMENT ]] || die "no config fragment $FRAGMENT"
[[ -r $TARBALL ]] || die "no $TARBALL: install linux-source-6.12 (scripts/deps.sh)"

mkdir -p "$OUT"
exec {lock}>"$OUT/.lock"
flock "$lock"

# What the built tree depends on.  The tarball is identified by its name,
# size and mtime (a package update replaces it): hashing 150 MB at every
# `tools/vm-run --kernel debug` would cost more than it is worth.
tarball_id=$(stat -L -c '%n %s %Y' "$TARBALL")
key=$({
	echo "tarball: $tarball_id"
	echo "compiler: $(${CC:-gcc} --version | head -n 1)"
	echo "fragment: $(sha256sum <"$FRAGMENT")"
} | sha256sum | cut -d' ' -f1)

image=$TREE/arch/x86/boot/bzImage
if [[ $force = 0 && -r $image && -r $TREE/Module.symvers &&
      "$(cat "$STAMP" 2>/dev/null)" = "$key" ]]; then
	exit 0
fi
rm -f "$STAMP"
t0=$SECONDS

# ---- extract (once per tarball) ----------------------------------------------
if [[ "$(cat "$TREE/.vchan-tarball" 2>/dev/null)" != "$tarball_id" ]]; then
	msg "extracting $TARBALL"
	rm -rf "$TREE" "$OUT"/extract.*
	tmp=$(mktemp -d "$OUT/extract.XXXXXX")
	tar -xJf "$TARBALL" -C "$tmp"
	[[ -f $tmp/linux-source-6.12/Makefile ]] || die "$TARBALL has no linux-source-6.12/Makefile"
	mv "$tmp/linux-source-6.12" "$TREE"
	rmdir "$tmp"
	echo "$tarball_id" >"$TREE/.vchan-tarball"
fi

# ---- configure ------------------------------------------------------------------
kmake() { make -C "$TREE" -j"$JOBS" "$@"; }

# merge_config.sh -n: `make allnoconfig` with tinyconfig's .config plus the
# fragment as KCONFIG_ALLCONFIG, so that options which only become visible
# through the fragment (INET under NET, input and VT drivers, ...) default to
# off rather than to their usual y, as olddefconfig would have it.  It warns
# that tinyconfig's UNWINDER_GUESS was overridden: expected.
msg "configuring: tinyconfig + kernel/debug.config"
{
	kmake tinyconfig
	(cd "$TREE" && scripts/kconfig/merge_config.sh -n .config "$FRAGMENT")
} >"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; die "configuration failed; log: $LOG"; }

# Every line of the fragment must hold in the final .config: "CONFIG_X=v"
# literally, "# CONFIG_X is not set" as the absence of CONFIG_X=.
bad=()
while IFS= read -r line; do
	if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=.*$ ]]; then
		grep -qxF -- "$line" "$TREE/.config" ||
			bad+=("$line (have: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$TREE/.config" || echo unset))")
	elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
		! grep -q -- "^${BASH_REMATCH[1]}=" "$TREE/.config" ||
			bad+=("$line (have: $(grep -- "^${BASH_REMATCH[1]}=" "$TREE/.config"))")
	fi
done <"$FRAGMENT"
if [[ ${#bad[@]} -gt 0 ]]; then
	msg "these options of kernel/debug.config did not make it into .config (a dependency is missing?):"
	printf '  %s\n' "${bad[@]}" >&2
	exit 1
fi

# ---- build ------------------------------------------------------------------------
# `make` with no target: bzImage, and modpost, which writes Module.symvers.
msg "building with $JOBS jobs (log: $LOG)"
kmake >>"$LOG" 2>&1 || { tail -n 60 "$LOG" >&2; die "build failed; log: $LOG"; }
[[ -r $image && -r $TREE/Module.symvers ]] || die "the build left no bzImage or Module.symvers"

echo "$key" >"$STAMP"
msg "$(cat "$TREE/include/config/kernel.release") built in $((SECONDS - t0)) s: $image"
