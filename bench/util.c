// SPDX-License-Identifier: GPL-2.0
/* vbench: helpers shared by the transports: time, errors, making links. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/vchan.h>

#include "vbench.h"

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		die("out of memory (%zu bytes)", size);
	memset(p, 0x5a, size);	/* fault the pages in before any timing */
	return p;
}

/* A channel of session SESSION with default rings: client end -> session end. */
void vchan_link(struct link *l, size_t size)
{
	static unsigned int seq;
	struct vchan_create req;
	int ctl;

	(void)size;
	memset(&req, 0, sizeof(req));
	req.session = SESSION;
	snprintf(l->name, sizeof(l->name), "b%u", seq++ % 1000000);
	strcpy(req.name, l->name);
	ctl = open("/dev/vchan/control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("/dev/vchan/control: %s", strerror(errno));
	l->wfd = ioctl(ctl, VCHAN_IOC_CREATE, &req);
	if (l->wfd < 0)
		die("creating channel %u/%s: %s", SESSION, l->name, strerror(errno));
	close(ctl);
	snprintf(l->node, sizeof(l->node), "/dev/vchan/%u/%s", SESSION, l->name);
	l->rfd = -1;
}

/* The reader's end of a vchan link: the session end. */
int open_node(const struct link *l)
{
	int fd = open(l->node, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("%s: %s", l->node, strerror(errno));
	return fd;
}

void pipe_link(struct link *l, size_t size)
{
	int p[2];

	(void)size;
	if (pipe2(p, O_CLOEXEC))
		die("pipe2: %s", strerror(errno));
	l->rfd = p[0];
	l->wfd = p[1];
	l->node[0] = 0;
}

void socket_link(struct link *l, int type, size_t size)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		die("socketpair: %s", strerror(errno));
	/*
	 * A SOCK_SEQPACKET message must fit in the sender's buffer (about
	 * 208 KiB by default): make room for a few messages of 1 MiB.
	 */
	if (type == SOCK_SEQPACKET && size > 65536) {
		int v = (int)(4 * size);

		if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)))
			die("SO_SNDBUFFORCE: %s", strerror(errno));
	}
	l->wfd = sv[0];
	l->rfd = sv[1];
	l->node[0] = 0;
}

void write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write: %s", w ? strerror(errno) : "wrote nothing");
		p += w;
		n -= w;
	}
}

size_t read_some(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, buf, n);

		if (r >= 0)
			return r;
		if (errno != EINTR)
			die("read: %s", strerror(errno));
	}
}
