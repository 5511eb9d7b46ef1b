// SPDX-License-Identifier: GPL-2.0
/*
 * vbench --pair SIZE: what one message costs in the kernel, without the
 * scheduler.  One process writes a message and reads it back, over each
 * blocking transport in turn (the links are up at once and take turns, as
 * in latency.c), ROUNDS rounds of PAIRS pairs; a transport's fastest round
 * gives its nanoseconds per write+read pair.  A writer and a reader on two
 * vCPUs meet on locks and wake-ups, and under TCG their figures move by
 * 2-3x from run to run; these move by a few percent, enough to measure a
 * change to the data path.  SIZE must fit every transport's buffer at once
 * (a vchan message beside its length word in the default ring).
 */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "vbench.h"

#define ROUNDS	20
#define PAIRS	20000
#define MAX_PAIR_SIZE	16384

static double round_ns(const struct link *l, char *buf, size_t size)
{
	double t0 = now();

	for (unsigned int i = 0; i < PAIRS; i++) {
		write_all(l->wfd, buf, size);
		if (read_some(l->rfd, buf, size) != size)
			die("--pair: a message came back short");
	}
	return (now() - t0) / PAIRS * 1e9;
}

void pair_cost(const struct transport **trs, unsigned int ntr, size_t size, double *ns)
{
	struct link l[ntr];
	char *buf;

	if (!size || size > MAX_PAIR_SIZE)
		die("--pair takes a size of 1 to %u bytes", MAX_PAIR_SIZE);
	buf = xmalloc(size);
	for (unsigned int t = 0; t < ntr; t++) {
		trs[t]->setup(&l[t], size);
		if (l[t].rfd < 0)
			l[t].rfd = open_node(&l[t]);
		ns[t] = INFINITY;
	}
	for (unsigned int r = 0; r < ROUNDS; r++)
		for (unsigned int t = 0; t < ntr; t++)
			ns[t] = fmin(ns[t], round_ns(&l[t], buf, size));
	for (unsigned int t = 0; t < ntr; t++) {
		close(l[t].wfd);
		close(l[t].rfd);
	}
	free(buf);
}
