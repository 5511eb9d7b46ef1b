// SPDX-License-Identifier: GPL-2.0
/*
 * vbench: ping-pong round trips with blocking write() and read().  The child
 * sends every message back; the parent times each round trip.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vbench.h"

#define WARMUP	200

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

void ping_pong(const struct transport *tr, size_t size, unsigned int n, double *rtt)
{
	int mine_r, mine_w, its_r, its_w, status;
	char *buf = xmalloc(size);
	struct link l, back;
	pid_t pid;

	if (tr->kind == PIPE) {			/* one pipe each way */
		pipe_link(&l, size);
		pipe_link(&back, size);
		mine_w = l.wfd, its_r = l.rfd;
		its_w = back.wfd, mine_r = back.rfd;
	} else {				/* one two-way link */
		tr->setup(&l, size);
		mine_r = mine_w = l.wfd;
		its_r = its_w = l.rfd;		/* -1 for vchan: the child opens it */
	}
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		close(mine_r);
		close(mine_w);
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
	for (unsigned int i = 0; i < WARMUP + n; i++) {
		double t0 = now();

		write_all(mine_w, buf, size);
		if (!read_msg(mine_r, buf, size))
			die("%s ping-pong: the echo child went away", tr->name);
		if (i >= WARMUP)
			rtt[i - WARMUP] = now() - t0;
	}
	close(mine_w);
	if (mine_r != mine_w)
		close(mine_r);
	if (waitpid(pid, &status, 0) != pid || status)
		die("%s ping-pong: the echo child failed", tr->name);
	free(buf);
}
