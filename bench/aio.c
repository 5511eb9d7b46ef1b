// SPDX-License-Identifier: GPL-2.0
/*
 * vbench: vchan with libaio, DEPTH requests in flight: each io_getevents()
 * batch of completions is resubmitted with one io_submit().  A batch is at
 * least BATCH completions (or all that are in flight): the writer's and the
 * reader's requests pair up, so the wait always ends, and neither side is
 * woken for every single message.
 */
#include <errno.h>
#include <libaio.h>
#include <string.h>
#include <unistd.h>

#include "vbench.h"

struct aio_state {
	io_context_t ctx;
	struct iocb cbs[DEPTH];
	struct io_event evs[DEPTH];
	char *bufs;
	unsigned int inflight;
};

static void aio_start(struct aio_state *s, int fd, size_t size, char *bufs, bool write)
{
	struct iocb *list[DEPTH];

	memset(s, 0, sizeof(*s));
	if (io_setup(DEPTH, &s->ctx))
		die("io_setup failed");
	s->bufs = bufs;
	for (unsigned int i = 0; i < DEPTH; i++) {
		if (write)
			io_prep_pwrite(&s->cbs[i], fd, s->bufs + i * size, size, 0);
		else
			io_prep_pread(&s->cbs[i], fd, s->bufs + i * size, size, 0);
		list[i] = &s->cbs[i];
	}
	if (io_submit(s->ctx, DEPTH, list) != DEPTH)
		die("io_submit of %d failed", DEPTH);
	s->inflight = DEPTH;
}

/* Wait for a batch of completions; returns how many are in s->evs. */
static int aio_reap(struct aio_state *s)
{
	int n, min = s->inflight < BATCH ? s->inflight : BATCH;

	do
		n = io_getevents(s->ctx, min, DEPTH, s->evs, NULL);
	while (n == -EINTR);
	if (n < 0)
		die("io_getevents: %s", strerror(-n));
	s->inflight -= n;
	return n;
}

static void aio_resubmit(struct aio_state *s, struct iocb **list, int n)
{
	int r = io_submit(s->ctx, n, list);

	if (r != n)
		die("io_submit: %s", r < 0 ? strerror(-r) : "short");
	s->inflight += n;
}

static void aio_end(struct aio_state *s)
{
	io_destroy(s->ctx);
}

void aio_writer(struct link *l, size_t size, char *bufs, double deadline)
{
	struct iocb *list[DEPTH];
	struct aio_state s;

	aio_start(&s, l->wfd, size, bufs, true);
	while (s.inflight) {
		int n = aio_reap(&s), k = 0;
		bool more = now() < deadline;

		for (int i = 0; i < n; i++) {
			if (s.evs[i].res != size)
				die("aio write: %ld", (long)s.evs[i].res);
			if (more)
				list[k++] = s.evs[i].obj;
		}
		if (k)
			aio_resubmit(&s, list, k);
	}
	aio_end(&s);
	close(l->wfd);
}

/* Queued reads end with 0 once the writer closed and the queue is drained. */
void aio_reader(struct link *l, size_t size, char *bufs, struct tally *t)
{
	struct iocb *list[DEPTH];
	struct aio_state s;
	bool eof = false;

	l->rfd = open_node(l);
	aio_start(&s, l->rfd, size, bufs, false);
	while (s.inflight) {
		int n = aio_reap(&s), k = 0;

		for (int i = 0; i < n; i++) {
			long res = s.evs[i].res;

			if (res < 0)
				die("aio read: %s", strerror(-res));
			if (!res) {
				eof = true;
				continue;
			}
			t->msgs++;
			t->bytes += res;
			if (!eof)
				list[k++] = s.evs[i].obj;
		}
		t->t_end = now();
		if (k)
			aio_resubmit(&s, list, k);
	}
	aio_end(&s);
	close(l->rfd);
}
