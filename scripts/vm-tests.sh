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
	local name=$1 rc t0=$SECONDS
	shift
	echo "# vm-tests: $name"
	"$@"
	rc=$?
	echo "# vm-tests: $name took $((SECONDS - t0)) s"
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
# vchanctl's end-to-end test checks a userspace tool, and on the debug
# kernel each of its ~50 program starts is slow (80 s there, 25 s on the
# stock kernels): it runs on the stock kernels only.
if [[ ${VCHAN_VM_KERNEL-} != debug ]]; then
	run vchanctl tools/tests/vchanctl-test.sh
fi
run libvchan userlib/tests/vm_wts_test
run libvchan-dynamic userlib/tests/vm_dyn_test
# libvchan's soak: 10 s of mixed overlapped calls.
run libvchan-soak userlib/tests/vm_soak_test
# libvchan's device paths under valgrind, on one lane (it checks the library,
# not the kernel, and costs ~20 s to start on TCG plus ~8 s a test): any
# memory error or definite leak fails it.  --vgdb=no: no FIFOs on the shared
# /tmp.  The tests left out are the long ones, and their threads' scratch
# buffers are not freed (the test's own leak, vm_wts_test.c client_read()).
vg_tests=write_read_messages,client_gone_broken_pipe,more_data,pending_readfileex_fifo,cancel,pending_broken_pipe
if [[ ${VCHAN_VM_KERNEL:-} = 6.12 ]]; then
	run libvchan-valgrind bash -c 'VCHAN_TEST_ONLY=$1 valgrind -q --vgdb=no \
		--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-possibly-lost=no userlib/tests/vm_wts_test |
		grep -v "# SKIP not selected"; exit "${PIPESTATUS[0]}"' _ "$vg_tests"
	# The soak's threads, routines and cancels, 5 s under valgrind.
	run libvchan-soak-valgrind env VCHAN_SOAK_SECONDS=5 valgrind -q --vgdb=no \
		--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-possibly-lost=no userlib/tests/vm_soak_test
fi
# The driver's soak: 32 channels x 6 threads, every kind of call, random
# cancels; 60 s on the stock kernels, 30 s on the debug one (its defaults).
# A program of its own (TEST_GEN_PROGS_EXTENDED), not part of run_tests.
run stress selftests/vchan_stress_test
exit $status
