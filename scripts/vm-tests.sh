#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything that runs inside the VM, in one boot: the kselftests, the
# vchanctl end-to-end test and libvchan's device tests.  Each prints TAP;
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
run vchanctl tools/tests/vchanctl-test.sh
run libvchan userlib/tests/vm_wts_test
# The soak, timed: 60 s on the stock kernels, 30 s on the (slower) debug one.
stress_s=60
[[ ${VCHAN_VM_KERNEL:-} = debug ]] && stress_s=30
run stress env VCHAN_STRESS_SECONDS=$stress_s selftests/vchan_stress_test
exit $status
