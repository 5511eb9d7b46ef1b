#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/run.sh [KERNEL...] - the body of `make bench` (a benchmark, never a
# test): one VM boot per kernel (6.1 and 6.12 by default) runs bench/vbench;
# then bench/results.json (every figure of every kernel), bench/results.md
# (the tables for the README) and bench/throughput.svg (gnuplot).
# Extra vbench options may be given in $VBENCH_ARGS; --report redoes only
# the files from the last run's build/bench/<kernel>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
report_only=0
[[ ${1:-} != --report ]] || { report_only=1; shift; }
kernels=("$@")
[[ ${#kernels[@]} -gt 0 ]] || kernels=(6.1 6.12)
out=build/bench
mkdir -p "$out"

make -s -C userlib libvchan.a
make -s -C bench vbench
for k in "${kernels[@]}"; do
	[[ $report_only == 0 ]] || break
	echo "== bench: kernel $k" >&2
	# slub_debug=-: vm-run turns slab debugging on for the tests; a
	# benchmark measures the kernel as shipped.  transparent_hugepage=never:
	# under TCG a guest huge page makes QEMU flush its whole software TLB
	# for any flush inside it, and the large-buffer figures of every
	# transport swung 2-20x between runs (vchan-aio 64 KiB: 54-989 MB/s;
	# steady without, and the peers faster too).  tsc=reliable: the guest
	# finds its TCG vCPUs' TSCs unsynchronised and falls back to the HPET,
	# whose every read exits to QEMU; every transport but vchan-aio reads
	# the clock once per message, which then cost more than the message
	# (64 B: the pipe 9 MB/s with the HPET, 27 with the TSC).  QEMU's TCG
	# TSC is the host's, the same for every vCPU.
	# shellcheck disable=SC2086
	tools/vm-run --kernel "$k" --append 'slub_debug=- transparent_hugepage=never tsc=reliable' -- \
		bench/vbench --kernel "$k" --json "$out/$k.jsonl" ${VBENCH_ARGS:-} | tee "$out/$k.txt"
done

# results.json: the records of every kernel, one array.
for k in "${kernels[@]}"; do cat "$out/$k.jsonl"; done |
	awk 'BEGIN { print "[" } NR > 1 { print prev "," } { prev = "  " $0 }
	     END { if (NR) print prev; print "]" }' >bench/results.json

# results.md: MB/s and the ratio to the best peer, per kernel; then latency and scale.
for k in "${kernels[@]}"; do
	awk -v k="$k" -F'"' '
	function num(key,   r) { r = $0; sub(".*\"" key "\": ", "", r); sub("[,}].*", "", r); return r }
	{ transport = $8; metric = $14; size = num("size"); v = num("value"); ratio = num("ratio") }
	metric == "mb_per_s" {
		if (!(transport in seen)) { seen[transport] = 1; order[n++] = transport }
		if (!(size in sz)) { sz[size] = 1; sizes[m++] = size }
		cell[transport, size] = sprintf("%.1f (%.2fx)", v, ratio)
	}
	metric == "rtt_p50_us" { p50[transport] = sprintf("%.1f (%.2fx)", v, ratio); lat[nl++] = transport }
	metric == "rtt_p99_us" { p99[transport] = sprintf("%.1f (%.2fx)", v, ratio) }
	metric == "channels" { nch = v }
	metric == "create_channels_s" { create = v }
	metric == "kmem_channels_bytes" { kmem = v }
	metric == "bytes_per_idle_channel" { per = v; ring = size }
	END {
		printf "\n**Kernel %s**: MB/s (ratio to the best peer), median of 5 runs\n\n| transport |", k
		for (j = 0; j < m; j++)
			printf " %s |", sizes[j] % 1048576 == 0 ? sizes[j] / 1048576 " MiB" :
				sizes[j] % 1024 == 0 ? sizes[j] / 1024 " KiB" : sizes[j] " B"
		printf "\n| --- |"
		for (j = 0; j < m; j++) printf " ---: |"
		printf "\n"
		for (i = 0; i < n; i++) {
			printf "| %s |", order[i]
			for (j = 0; j < m; j++) printf " %s |", cell[order[i], sizes[j]]
			printf "\n"
		}
		printf "\n64 B round trip, µs: "
		for (i = 0; i < nl; i++) printf "%s%s p50 %s, p99 %s", i ? "; " : "", lat[i], p50[lat[i]], p99[lat[i]]
		printf ".  %d idle channels (rings %d B each way): created in %.2f s, %.1f MiB of kernel memory, %.0f B per channel.\n",
			nch, ring, create, kmem / 1048576, per
	}' "$out/$k.jsonl"
done >bench/results.md

# throughput.svg: MB/s against message size, one line per transport, one
# panel per kernel.
plot=()
for k in "${kernels[@]}"; do
	awk -F'"' -v k="$k" '
	$14 == "mb_per_s" {
		r = $0; sub(".*\"size\": ", "", r); sub(",.*", "", r); size = r
		r = $0; sub(".*\"value\": ", "", r); sub(",.*", "", r)
		if (!($8 in seen)) { seen[$8] = 1; order[n++] = $8 }
		if (!(size in sz)) { sz[size] = 1; sizes[m++] = size }
		v[$8, size] = r
	}
	END {
		printf "size"
		for (i = 0; i < n; i++) printf " %s", order[i]
		printf "\n"
		for (j = 0; j < m; j++) {
			printf "%s", sizes[j]
			for (i = 0; i < n; i++) printf " %s", v[order[i], sizes[j]]
			printf "\n"
		}
	}' "$out/$k.jsonl" >"$out/$k.dat"
	plot+=("$out/$k.dat" "$k")
done
gnuplot -e "files='${plot[*]}'" bench/throughput.gp >bench/throughput.svg
echo "bench: wrote bench/results.json, bench/results.md, bench/throughput.svg" >&2
