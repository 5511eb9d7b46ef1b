#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/run-check.sh UNIT_TEST...   (run by "make check" in userlib/)
#
# Header and export checks, then each native unit test program; all print
# kselftest-style TAP ("ok N name" / "not ok N name" at column 0).  The last
# line counts every result: "N passed, N failed, N skipped".  Exit status 1
# if anything failed.

set -u
cd "$(dirname "$0")/.."
CC=${CC:-cc}
CXX=${CXX:-c++}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
log=$out/tap

n=0
step() {	# step NAME CMD...: one TAP line for CMD
	local name=$1; shift
	n=$((n + 1))
	if "$@" >"$out/step" 2>&1; then
		echo "ok $n $name"
	else
		sed 's/^/# /' "$out/step"
		echo "not ok $n $name"
	fi
}

hdr() {		# hdr LANG STD HEADER...: compile these includes
	local lang=$1 std=$2 src=; shift 2
	for h in "$@"; do src+="#include <vchan/$h>"$'\n'; done
	local comp=$CC; [ "$lang" = c++ ] && comp=$CXX
	printf '%s' "$src" | $comp -x "$lang" -std="$std" -Wall -Wextra -Werror \
		-Iinclude -I../uapi -fsyntax-only -
}

exports() {	# the shared library exports exactly libvchan.map's names
	local want got
	want=$(sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' libvchan.map | sort)
	got=$(nm -D --defined-only libvchan.so.1 | awk '$3 !~ /^VCHAN_/ { sub(/@.*/, "", $3); print $3 }' | sort)
	diff <(echo "$want") <(echo "$got")
}

{
	echo "TAP version 13"
	echo "1..14"
	for h in winbase.h wtsapi32.h pchannel.h vchan.h; do
		step "header_${h%.h}_alone_c99" hdr c c99 "$h"
		step "header_${h%.h}_alone_cxx11" hdr c++ c++11 "$h"
	done
	step headers_together_c99 $CC -std=c99 -Wall -Wextra -Werror -Iinclude -I../uapi -c -o "$out/h.o" tests/headers.c
	step headers_together_c11 $CC -std=c11 -Wall -Wextra -Werror -Iinclude -I../uapi -c -o "$out/h.o" tests/headers.c
	step headers_together_cxx11 $CXX -x c++ -std=c++11 -Wall -Wextra -Werror -Iinclude -I../uapi -c -o "$out/h.o" tests/headers.c
	step headers_together_cxx17 $CXX -x c++ -std=c++17 -Wall -Wextra -Werror -Iinclude -I../uapi -c -o "$out/h.o" tests/headers.c
	step exports_only_the_api exports
	step static_library_links test -s libvchan.a
} | tee "$log"

for t in "$@"; do
	echo "# $t"
	./"$t" | tee -a "$log"
done

awk '
	/^(not )?ok([ \t]|$)/ {
		if (toupper($0) ~ /[ \t]#[ \t]*(SKIP|TODO)/) skipped++
		else if ($1 == "ok") passed++
		else failed++
	}
	END {
		printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
		exit failed ? 1 : 0
	}
' "$log"
