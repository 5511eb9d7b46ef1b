#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs vchan_kunit.ko (the KUnit tests of the ring and the message framing,
# driver/vchan_kunit.c) and prints one TAP line per KUnit test case, from the
# suite's KTAP results in debugfs.  Needs vchan.ko loaded and a kernel with
# KUnit: the debug kernel (tools/vm-run --kernel debug), where vm-tests.sh
# runs it; the module sits next to $VCHAN_KO (build/kmod/debug/driver/).
# Exit status: 0 when every case passed, 1 otherwise (a missing module or
# result file is a failure, not a skip: this only runs where KUnit exists).
set -u
suite=vchan_dir
ko=$(dirname "${VCHAN_KO:-}")/vchan_kunit.ko
results=/sys/kernel/debug/kunit/$suite/results

fail() { echo "not ok - kunit: $*"; exit 1; }

[[ -n ${VCHAN_KO:-} && -r $ko ]] || fail "no $ko (built only for kernels with CONFIG_KUNIT)"
[[ -d /sys/module/vchan ]] || fail "vchan.ko is not loaded"
/sbin/insmod "$ko" || fail "insmod $ko failed"
[[ -r $results ]] || { /sbin/rmmod vchan_kunit; fail "no $results"; }

# The cases are indented one level under the suite; their diagnostics
# ("# ...: EXPECTATION FAILED at ...") pass through as comments.
status=0 cases=0
while IFS= read -r line; do
	if [[ $line =~ ^\ {4}(not\ )?ok\ [0-9]+\ ([A-Za-z0-9_]+)(.*)$ ]]; then
		cases=$((cases + 1))
		echo "${BASH_REMATCH[1]}ok - kunit: $suite.${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
		[[ -z ${BASH_REMATCH[1]} ]] || status=1
	elif [[ $line =~ ^\ +#\  ]]; then
		echo "# ${line#"${line%%[! ]*}"}"
	fi
done <"$results"
grep -q "^ok [0-9]* $suite\$" "$results" || status=1
/sbin/rmmod vchan_kunit || { echo "not ok - kunit: rmmod vchan_kunit"; status=1; }
[[ $cases -gt 0 ]] || fail "no test case results in $results"
exit $status
