#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything that runs inside the VM, in one boot: the kselftests, the
# KUnit tests (debug kernel only), the vchanctl end-to-end test and
# libvchan's device tests.  Each prints TAP;
# a program that fails also adds a "not ok" line of its own (so that one
# that dies before printing TAP still counts).  Run as root with the module
# loaded, e.g. tools/vm-run --kernel 6.1 -- scripts/vm-tests.sh
set -u
cd "$(dirname "$0")/.."
status=0

run() {	# run NAME CMD...
	local name=$1 rc
	shift
	echo "# vm-tests: $name"
	"$@"
	rc=$?
	if [[ $rc != 0 ]]; then
		echo "not ok - $name (exit $rc)"
		status=1
	fi
}

run selftests make -s -C selftests run_tests
# KUnit exists only in the debug kernel (its ring and framing tests).
if [[ ${VCHAN_VM_KERNEL-} = debug ]]; then
	run kunit selftests/vchan_kunit.sh
fi
run vchanctl tools/tests/vchanctl-test.sh
run libvchan userlib/tests/vm_wts_test
run libvchan-dynamic userlib/tests/vm_dyn_test
exit $status
