// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The completion ring of an aio context, read in user space.
 *
 * io_setup() maps the ring at the context address: a header (id, nr, head,
 * tail, magic, features, header_length) followed by nr struct io_event.
 * The kernel writes an event at tail and then advances tail (with a write
 * barrier between); whoever consumes events reads them from head and
 * advances head, which the kernel reads to know which slots are free again.
 * io_getevents() does the same under a lock of its own, so the ring must
 * have one consumer at a time: the caller holds vc_reap_lock and libvchan
 * never calls io_getevents() on a ring it reads here.
 *
 * Taking events this way costs no system call at all; a ring of an
 * unknown layout (magic or incompatible features) falls back to
 * io_getevents() with a zero timeout, and so does a process running under
 * valgrind: memcheck learns that the kernel filled a read's buffer from
 * io_getevents() only.
 */
#include "internal.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND	0
#endif

struct vc_aio_ring {
	unsigned int id;
	unsigned int nr;
	unsigned int head;
	unsigned int tail;
	unsigned int magic;
	unsigned int compat_features;
	unsigned int incompat_features;
	unsigned int header_length;
	struct io_event events[];
};

#define VC_AIO_RING_MAGIC	0xa10a10a1u

static bool vc_ring_known(const struct vc_aio_ring *r)
{
	if (RUNNING_ON_VALGRIND)
		return false;
	return r->magic == VC_AIO_RING_MAGIC && r->incompat_features == 0 &&
	       r->header_length == sizeof(*r);
}

bool vc_ring_readable(io_context_t ctx)
{
	return ctx && vc_ring_known((const void *)ctx);
}

bool vc_ring_empty(io_context_t ctx)
{
	const struct vc_aio_ring *r = (const void *)ctx;

	if (!ctx)
		return true;
	if (!vc_ring_known(r))
		return false;	/* cannot tell: let the caller look */
	return __atomic_load_n(&r->head, __ATOMIC_RELAXED) ==
	       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

unsigned int vc_ring_take(io_context_t ctx, struct io_event *evs,
			  unsigned int max)
{
	struct vc_aio_ring *r = (void *)ctx;
	unsigned int head, tail, nr, n = 0;

	if (!vc_ring_known(r)) {
		struct timespec zero = { 0, 0 };
		int got = io_getevents(ctx, 0, (long)max, evs, &zero);

		return got > 0 ? (unsigned int)got : 0;
	}
	nr = r->nr;
	head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (head >= nr || tail >= nr)
		return 0;	/* never seen; do not run off the ring */
	while (head != tail && n < max) {
		evs[n++] = r->events[head];
		if (++head == nr)
			head = 0;
	}
	/* The events are copied: the kernel may reuse their slots now. */
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	return n;
}
