// SPDX-License-Identifier: GPL-2.0
/*
 * vbench: ping-pong round trips with blocking write() and read().  An echo
 * child sends every message back; the parent times each round trip.  The
 * links of all transports are up at once and take turns, one round trip
 * each, so that a change in the machine's load hits them alike.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vbench.h"

#define WARMUP	200

struct pinger {
	const struct transport *tr;
	int r, w;		/* the parent's ends */
	pid_t child;
};

/* Read exactly @n bytes (a byte stream may split a message); false at EOF. */
static bool read_msg(int fd, char *buf, size_t n)
{
	size_t got = 0, r;

	while (got < n) {
		r = read_some(fd, buf + got, n - got);
		if (!r)
			return false;
		got += r;
	}
	return true;
}

/*
 * Make @tr's link and fork its echo child, which closes the parent's ends of
 * the @nprev links made before (else their children would never see EOF).
 */
static void ping_start(struct pinger *p, const struct transport *tr, size_t size, char *buf,
		       const struct pinger *prev, unsigned int nprev)
{
	int its_r, its_w;
	struct link l, back;

	p->tr = tr;
	if (tr->kind == PIPE) {			/* one pipe each way */
		pipe_link(&l, size);
		pipe_link(&back, size);
		p->w = l.wfd, its_r = l.rfd;
		its_w = back.wfd, p->r = back.rfd;
	} else {				/* one two-way link */
		tr->setup(&l, size);
		p->r = p->w = l.wfd;
		its_r = its_w = l.rfd;		/* -1 for vchan: the child opens it */
	}
	p->child = fork();
	if (p->child < 0)
		die("fork: %s", strerror(errno));
	if (!p->child) {
		for (unsigned int j = 0; j < nprev; j++) {
			close(prev[j].r);
			if (prev[j].w != prev[j].r)
				close(prev[j].w);
		}
		close(p->r);
		if (p->w != p->r)
			close(p->w);
		if (its_r < 0)
			its_r = its_w = open_node(&l);
		while (read_msg(its_r, buf, size))
			write_all(its_w, buf, size);
		_exit(0);
	}
	if (its_r >= 0) {
		close(its_r);
		close(its_w);
	}
}

static double ping_once(struct pinger *p, char *buf, size_t size)
{
	double t0 = now();

	write_all(p->w, buf, size);
	if (!read_msg(p->r, buf, size))
		die("%s ping-pong: the echo child went away", p->tr->name);
	return now() - t0;
}

static void ping_stop(struct pinger *p)
{
	int status;

	close(p->w);
	if (p->r != p->w)
		close(p->r);
	if (waitpid(p->child, &status, 0) != p->child || status)
		die("%s ping-pong: the echo child failed", p->tr->name);
}

void ping_pong(const struct transport **trs, unsigned int ntr, size_t size, unsigned int n,
	       double **rtt)
{
	struct pinger *p = calloc(ntr, sizeof(*p));
	char *buf = xmalloc(size);

	if (!p)
		die("out of memory");
	for (unsigned int t = 0; t < ntr; t++)
		ping_start(&p[t], trs[t], size, buf, p, t);
	for (unsigned int i = 0; i < WARMUP + n; i++)
		for (unsigned int t = 0; t < ntr; t++) {
			double d = ping_once(&p[t], buf, size);

			if (i >= WARMUP)
				rtt[t][i - WARMUP] = d;
		}
	for (unsigned int t = 0; t < ntr; t++)
		ping_stop(&p[t]);
	free(p);
	free(buf);
}
