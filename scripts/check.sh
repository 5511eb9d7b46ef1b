#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check.sh — the body of `make check`; run as root from anywhere.
#
# deps, module builds, lint, selftest build, then the selftests in a VM on
# each Debian kernel, then the same selftests in a VM on the debug kernel
# (kernel/debug.config: built once in the background from the start, reused
# while unchanged), where any
# lockdep, KASAN, UBSAN or kmemleak report fails the kernel-log step.  The
# selftests print kselftest TAP to build/check/<kernel>.tap (6.1, 6.12,
# debug); every step adds one result of its own
# ("ok - lint", "not ok - vm 6.1 kernel log", ...) to build/check/steps.tap.
# The last line is scripts/tap-summary's "N passed, N failed, N skipped"
# over all of them.  Exit status: non-zero if anything failed or if the VMs
# ran no test at all.

set -euo pipefail

TOP=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$TOP"
OUT=$TOP/build/check
KERNELS=(6.1 6.12)

rm -rf "$OUT"
mkdir -p "$OUT"
steps=$OUT/steps.tap
: >"$steps"

step() {	# step ok|not-ok NAME [REASON]
	local line
	if [[ $1 = ok ]]; then line="ok - $2"; else line="not ok - $2${3:+ # $3}"; fi
	echo "$line" >>"$steps"
	echo "check: $line" >&2
}

# A failed build leaves nothing to test: print the summary of what ran and stop.
stop_early() {
	[[ -z ${debug_build-} ]] || kill "$debug_build" 2>/dev/null || true
	scripts/tap-summary "$steps" || true
	exit 1
}

run_step() {	# run_step NAME CMD...: one result for CMD's exit status
	local name=$1
	shift
	echo "check: == $name (at $SECONDS s)" >&2
	if "$@"; then step ok "$name"; return 0; fi
	step not-ok "$name"
	return 1
}

run_step deps scripts/deps.sh || stop_early

# The debug kernel (~6-9 min on 2 cores the first time, then cached under
# build/debug-kernel) builds in the background at the lowest priority while
# the host steps and the stock kernels' VM lanes run: it gets the CPU they
# leave idle (about a third of the build, measured) and takes little from
# them.  Its output is printed when the debug lane waits for it.
nice -n 19 make -s debug-kernel >"$OUT/debug-kernel.log" 2>&1 &
debug_build=$!
debug_kernel() {
	local rc=0
	wait "$debug_build" || rc=$?
	cat "$OUT/debug-kernel.log" >&2
	return "$rc"
}
run_step modules make modules || stop_early
run_step lint make lint || true
run_step selftests make selftests || stop_early
run_step "tools and libvchan" make tools userlib || stop_early
# libvchan's native unit tests run on the host; their TAP counts too.
run_step "libvchan unit tests" bash -c 'set -o pipefail; make -s -C userlib check | tee "$1"' _ "$OUT/userlib.tap" || true
# The same under AddressSanitizer and UndefinedBehaviorSanitizer (userlib/obj-asan/).
run_step "libvchan unit tests, ASan+UBSan" bash -c 'set -o pipefail; make -s -C userlib check-asan | tee "$1"' _ "$OUT/userlib-asan.tap" || true
# The .debs, DKMS for both kernels, the installed packages in a VM on each, purge (pkg-check.sh).
run_step packages bash -c 'set -o pipefail; scripts/pkg-check.sh | tee "$1"' _ "$OUT/pkg.tap" || true

vm_lane() {	# vm_lane KERNEL: the selftests in a VM, two results
	local k=$1 tap status command kernel_log
	echo "check: == vm $k (at $SECONDS s)" >&2
	tap=$OUT/$k.tap
	status=$OUT/$k.status
	# stdout is the TAP (tee'd to the file); vm-run's own messages and the
	# tests' stderr pass through on stderr.
	tools/vm-run --kernel "$k" --status-file "$status" -- scripts/vm-tests.sh | tee "$tap" || true
	command=$(sed -n 's/^command=//p' "$status" 2>/dev/null || true)
	kernel_log=$(sed -n 's/^kernel_log=//p' "$status" 2>/dev/null || true)

	if [[ $command = 0 ]]; then
		step ok "vm $k run_tests"
	else
		step not-ok "vm $k run_tests" "exit ${command:-unknown}"
	fi
	# "none": the VM never got as far as a console log (build or boot failed):
	# that is already counted above.
	case $kernel_log in
	clean) step ok "vm $k kernel log" ;;
	splat) step not-ok "vm $k kernel log" "splat, see vm-run's output above" ;;
	esac
}

for k in "${KERNELS[@]}"; do
	vm_lane "$k"
done
vm_kernels=("${KERNELS[@]}")

# A failed debug-kernel build is one failure; its VM lane then cannot run
# (and its missing TAP does not count as "no tests").
if run_step "debug kernel" debug_kernel; then
	vm_lane debug
	vm_kernels+=(debug)
fi

# Zero tests is a failure, not a pass: a broken runner must not look green.
vm_taps=("${vm_kernels[@]/#/$OUT/}")
vm_taps=("${vm_taps[@]/%/.tap}")
vm_rc=0
scripts/tap-summary "${vm_taps[@]}" >/dev/null || vm_rc=$?
if [[ $vm_rc = 2 ]]; then
	step not-ok "selftests ran" "no TAP result in ${vm_taps[*]}"
fi

echo "check: done at $SECONDS s" >&2
# The one summary line; tap-summary's status says whether anything failed.
scripts/tap-summary "$steps" "$OUT/userlib.tap" "$OUT/userlib-asan.tap" "$OUT/pkg.tap" "${vm_taps[@]}"
