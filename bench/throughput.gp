# SPDX-License-Identifier: GPL-2.0
# bench/throughput.gp: MB/s against message size, one line per transport,
# one panel per kernel.  files = "DATA1 KERNEL1 DATA2 KERNEL2 ...", each
# DATA a table with a header row: size, then one column per transport.
set terminal svg size 1100,450 dynamic font "sans,11"
n = words(files) / 2
set multiplot layout 1, n
set logscale xy
set xlabel "message size (bytes)"
set ylabel "MB/s"
set xtics ("64" 64, "1600" 1600, "64K" 65536, "1M" 1048576)
set key top left font ",9"
set grid
do for [p = 1:n] {
	f = word(files, 2 * p - 1)
	set title "kernel ".word(files, 2 * p)
	plot for [c = 2:8] f using 1:c with linespoints title columnheader(c)
}
unset multiplot
