# SPDX-License-Identifier: GPL-2.0
# Included by the top Makefile: `make bench` (a benchmark, not part of make check).
.PHONY: bench
bench:
	scripts/deps.sh
	bench/run.sh
