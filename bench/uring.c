// SPDX-License-Identifier: GPL-2.0
/*
 * vbench: vchan with io_uring (IORING_OP_WRITE / IORING_OP_READ), DEPTH
 * requests in flight, completions resubmitted in batches.
 */
#include <liburing.h>
#include <string.h>
#include <unistd.h>

#include "vbench.h"

struct uring_state {
	struct io_uring ring;
	char *bufs;
	size_t size;
	int fd;
	bool write;
	unsigned int inflight;
};

static void uring_queue(struct uring_state *s, unsigned int slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	if (!sqe)
		die("io_uring: no free sqe");
	if (s->write)
		io_uring_prep_write(sqe, s->fd, s->bufs + slot * s->size, s->size, 0);
	else
		io_uring_prep_read(sqe, s->fd, s->bufs + slot * s->size, s->size, 0);
	io_uring_sqe_set_data64(sqe, slot);
	s->inflight++;
}

static void uring_start(struct uring_state *s, int fd, size_t size, char *bufs, bool write)
{
	int r;

	memset(s, 0, sizeof(*s));
	r = io_uring_queue_init(2 * DEPTH, &s->ring, 0);
	if (r)
		die("io_uring_queue_init: %s", strerror(-r));
	s->bufs = bufs;
	s->size = size;
	s->fd = fd;
	s->write = write;
	for (unsigned int i = 0; i < DEPTH; i++)
		uring_queue(s, i);
}

/*
 * Submit what is queued and wait for a batch of completions (BATCH, or all
 * in flight; see aio.c); then handle every completion there is with @fn,
 * which may queue the slot again.
 */
static void uring_step(struct uring_state *s, void (*fn)(struct uring_state *, unsigned int, int, void *),
		       void *arg)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int r = io_uring_submit_and_wait(&s->ring, s->inflight < BATCH ? s->inflight : BATCH);

	if (r < 0)
		die("io_uring_submit_and_wait: %s", strerror(-r));
	io_uring_for_each_cqe(&s->ring, head, cqe) {
		n++;
		s->inflight--;
		fn(s, (unsigned int)io_uring_cqe_get_data64(cqe), cqe->res, arg);
	}
	io_uring_cq_advance(&s->ring, n);
}

static void uring_end(struct uring_state *s)
{
	io_uring_queue_exit(&s->ring);
}

static void wrote(struct uring_state *s, unsigned int slot, int res, void *arg)
{
	const double *deadline = arg;

	if (res != (int)s->size)
		die("io_uring write: %s", res < 0 ? strerror(-res) : "short");
	if (now() < *deadline)
		uring_queue(s, slot);
}

void uring_writer(struct link *l, size_t size, char *bufs, double deadline)
{
	struct uring_state s;

	uring_start(&s, l->wfd, size, bufs, true);
	while (s.inflight)
		uring_step(&s, wrote, &deadline);
	uring_end(&s);
	close(l->wfd);
}

static void got(struct uring_state *s, unsigned int slot, int res, void *arg)
{
	struct tally *t = arg;

	if (res < 0)
		die("io_uring read: %s", strerror(-res));
	if (!res)
		return;		/* end of file: the slot retires */
	t->msgs++;
	t->bytes += res;
	t->t_end = now();
	uring_queue(s, slot);
}

void uring_reader(struct link *l, size_t size, char *bufs, struct tally *t)
{
	struct uring_state s;

	l->rfd = open_node(l);
	uring_start(&s, l->rfd, size, bufs, false);
	while (s.inflight)
		uring_step(&s, got, t);
	uring_end(&s);
	close(l->rfd);
}
