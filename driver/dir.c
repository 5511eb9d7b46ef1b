// SPDX-License-Identifier: GPL-2.0
/*
 * One direction of a channel.
 *
 * Messages are kept in two places, in order:
 *   - the ring: each message a 4-byte length word and its payload; last,
 *     possibly, the length word of a message whose payload is elsewhere;
 *   - the write queue: requests (req.c) whose messages are not yet wholly in
 *     the ring: the pinned pages of a blocking or asynchronous writer, or the
 *     kernel's copy for a non-blocking one (write-behind), or, for a
 *     blocking writer's message that fits the ring, a streaming request
 *     that holds its place while its writer copies it in.
 *
 * A write that fits in the ring while nothing is queued is copied in at once.
 * Otherwise it queues and settle() moves the queue forward whenever something
 * changes: the oldest request gets its length word into the ring as soon as
 * there is room for it ('started'), and its payload too if all of it fits.
 * A larger payload is copied by the reader straight from the writer's pages
 * once the reader reaches it: one copy, as with the writer's own buffer.
 *
 * A blocking write whose message would fit an empty ring beside its length
 * word streams instead, as a pipe's writer does (stream_write()): no pages
 * are pinned; the writer sleeps on swait until its request is the head of
 * the queue and the ring has room for the whole message, then copies it in
 * from its own buffer and returns.  settle() leaves a streaming request to
 * its writer; whoever makes that room or ends the request kicks the writer
 * (stream_check(), kick_stream()).  A message is put in the ring whole, never
 * in pieces: a reader whose buffer holds it reads it whole (PDU readers with
 * a chunk as large as the message rely on that).
 *
 * Queued requests complete in order and never interleave; a started request
 * whose length word the reader has not consumed can still be taken back
 * (signal, io_cancel, purge), so nothing of it is ever delivered.
 *
 * A read takes what is readable at once.  An asynchronous read that finds
 * nothing queues with its pinned buffer and is served, oldest first, by
 * whoever makes data readable.  A blocking read() sleeps on rwait.
 *
 * With CONFIG_KUNIT (the debug kernel) the direction's entry points are
 * exported to vchan_kunit.ko, which tests the ring and the framing.
 *
 * Wake-ups follow fs/pipe.c: readers when the direction becomes readable
 * (and by a reader that leaves data behind), pollers for EPOLLOUT when it
 * becomes writable, a streaming writer when it can go on; always after the
 * lock is dropped, as are completions.
 * Unlike a pipe's, one locked section may both fill and drain the ring
 * (requests are served by whoever holds the lock), so "becomes" is judged
 * over the whole section: see dir_unlock().
 */
#include <kunit/visibility.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vchan_priv.h"

#define HDR VCHAN_MSG_OVERHEAD

/* Under d->lock: the lockless checks are dir_readable() and dir_writable(). */
static inline u32 ring_used(const struct vchan_dir *d)
{
	return d->head - d->tail;
}

static inline u32 ring_free(const struct vchan_dir *d)
{
	return d->size - ring_used(d);
}

/*
 * The ring's indices move only through these, which note what the locked
 * section did for dir_unlock(): put bytes in (filled) or took bytes out
 * (drained: read, or a message taken back).
 */
static void set_head(struct vchan_dir *d, u32 head)
{
	if ((s32)(head - d->head) > 0)
		d->filled = true;
	else if (head != d->head)
		d->drained = true;
	WRITE_ONCE(d->head, head);
}

static void consume(struct vchan_dir *d, u32 n)
{
	WRITE_ONCE(d->tail, d->tail + n);
	d->drained = true;
}

/* Copy between the ring at position @pos and an iterator or a buffer. */
static size_t ring_to_iter(struct vchan_dir *d, u32 pos, size_t n,
			   struct iov_iter *to)
{
	u32 off = pos & (d->size - 1);
	size_t first = min_t(size_t, n, d->size - off);
	size_t done = copy_to_iter(d->buf + off, first, to);

	if (done == first && n > first)
		done += copy_to_iter(d->buf, n - first, to);
	return done;
}

static size_t ring_from_iter(struct vchan_dir *d, u32 pos, size_t n,
			     struct iov_iter *from)
{
	u32 off = pos & (d->size - 1);
	size_t first = min_t(size_t, n, d->size - off);
	size_t done = copy_from_iter(d->buf + off, first, from);

	if (done == first && n > first)
		done += copy_from_iter(d->buf, n - first, from);
	return done;
}

static void ring_put(struct vchan_dir *d, u32 pos, const void *src, u32 n)
{
	u32 off = pos & (d->size - 1);
	u32 first = min(n, d->size - off);

	memcpy(d->buf + off, src, first);
	memcpy(d->buf, src + first, n - first);
}

static void ring_get(struct vchan_dir *d, u32 pos, void *dst, u32 n)
{
	u32 off = pos & (d->size - 1);
	u32 first = min(n, d->size - off);

	memcpy(dst, d->buf + off, first);
	memcpy(dst + first, d->buf, n - first);
}

/* Move @n bytes from ring position @src back to @dst (dst before src). */
static void ring_move_back(struct vchan_dir *d, u32 dst, u32 src, u32 n)
{
	u32 mask = d->size - 1;

	while (n) {
		u32 step = min3(n, d->size - (src & mask), d->size - (dst & mask));

		memmove(d->buf + (dst & mask), d->buf + (src & mask), step);
		dst += step;
		src += step;
		n -= step;
	}
}

/* Length words: one fixed-size copy unless the word wraps. */
static u32 ring_peek_len(struct vchan_dir *d, u32 pos)
{
	u32 off = pos & (d->size - 1), len;

	if (likely(off <= d->size - HDR))
		memcpy(&len, d->buf + off, HDR);
	else
		ring_get(d, pos, &len, HDR);
	return len;
}

static void ring_append_len(struct vchan_dir *d, u32 len)
{
	u32 off = d->head & (d->size - 1);

	if (likely(off <= d->size - HDR))
		memcpy(d->buf + off, &len, HDR);
	else
		ring_put(d, d->head, &len, HDR);
	set_head(d, d->head + HDR);
}

static void ring_append(void *ctx, const void *src, u32 n)
{
	struct vchan_dir *d = ctx;

	ring_put(d, d->head, src, n);
	set_head(d, d->head + n);
}

int vchan_dir_init(struct vchan_dir *d, struct device *dev, u32 size)
{
	d->dev = dev;
	mutex_init(&d->lock);
	init_waitqueue_head(&d->rwait);
	init_waitqueue_head(&d->wwait);
	init_waitqueue_head(&d->swait);
	INIT_LIST_HEAD(&d->wq);
	INIT_LIST_HEAD(&d->rq);
	d->size = size;
	/*
	 * Charged to the creator's memory cgroup.  Its size is the creator's
	 * choice: when there is no memory for it, creating the channel fails
	 * with ENOMEM, without a warning and without the OOM killer.
	 */
	d->buf = kvmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	return d->buf ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(vchan_dir_init);

/*
 * Only once nothing can be queued any more: every request holds the file.
 * A direction whose ring was never allocated (vchan_dir_init() failed, or
 * was not reached for the second direction of a channel) holds nothing.
 */
void vchan_dir_free(struct vchan_dir *d)
{
	struct vchan_req *r, *tmp;

	if (!d->buf)
		return;
	list_for_each_entry_safe(r, tmp, &d->wq, node)
		vchan_req_put(r);	/* write-behind copies */
	kvfree(d->buf);
}
EXPORT_SYMBOL_IF_KUNIT(vchan_dir_free);

/*
 * What pollers and sleepers look at, without the lock.  Each reads the two
 * indices in the order that cannot make up a "no": the tail before the head
 * for readable (the head is never behind a tail read earlier), the head
 * before the tail for writable (a tail read later only shows more room).  A
 * "no" that was true for a moment in the middle of a locked section gets its
 * wake-up from dir_unlock().
 */
static bool dir_readable(struct vchan_dir *d)
{
	u32 tail = READ_ONCE(d->tail);

	return READ_ONCE(d->head) != tail || READ_ONCE(d->direct);
}

static bool dir_writable(struct vchan_dir *d)
{
	u32 head;

	if (READ_ONCE(d->nwq) || READ_ONCE(d->rgone))
		return false;
	head = READ_ONCE(d->head);
	return d->size - (head - READ_ONCE(d->tail)) >= HDR;
}

/* State before a locked section, to wake only when needed. */
struct dir_state {
	bool readable;
	bool writable;
	struct list_head done;	/* requests to complete after unlocking */
};

static void dir_lock(struct vchan_dir *d, struct dir_state *st)
{
	mutex_lock(&d->lock);
	st->readable = dir_readable(d);
	st->writable = dir_writable(d);
	d->filled = false;
	d->drained = false;
	d->kicked = false;
	INIT_LIST_HEAD(&st->done);
}

static struct vchan_req *wq_first(struct vchan_dir *d)
{
	return list_first_entry_or_null(&d->wq, struct vchan_req, node);
}

/*
 * Wake the writer of streaming request @r (it sleeps, or is about to, on
 * d->swait until r->kick): its request ended, or it can move on.  The wake
 * itself is done by dir_unlock(), which touches only @d: once the lock is
 * dropped the writer may return and free @r.
 */
static void kick_stream(struct vchan_dir *d, struct vchan_req *r)
{
	if (!r->waiting)
		return;
	r->waiting = false;
	WRITE_ONCE(r->kick, true);
	d->kicked = true;
}

/*
 * A streaming writer goes on once its request is the head of the queue and
 * the ring has room for all of its message: the reader reads what is ahead
 * of it, and an empty ring always has that room.
 */
static bool stream_fits(struct vchan_dir *d, struct vchan_req *r)
{
	return ring_free(d) >= HDR + r->len;
}

static void stream_check(struct vchan_dir *d)
{
	struct vchan_req *r = wq_first(d);

	if (r && r->stream && r->waiting && stream_fits(d, r))
		kick_stream(d, r);
}

/*
 * Drop the lock, wake who needs it, finish the requests that left the queues
 * (their asynchronous results are posted already).  After the completions
 * @d may be gone (the last reference to the file may go with them), so they
 * come last.
 *
 * Readers are woken when the direction ends the section readable and either
 * was not readable at its start or bytes left the ring during it: another
 * reader may want what is left, and a reader checking without the lock may
 * have seen the ring empty half-way (a message taken back or read before the
 * next one's length word went in).  Writers likewise when it ends writable
 * and was not at the start, or bytes went in and came out during the section
 * (a write that left no room, then an asynchronous read served in the same
 * section): waking on the start-to-end change alone would leave such a
 * sleeper asleep for good.
 */
static void dir_unlock(struct vchan_dir *d, struct dir_state *st)
{
	bool readable = dir_readable(d), writable = dir_writable(d);
	bool wake_r = readable && (!st->readable || d->drained);
	bool wake_w = writable && (!st->writable || (d->filled && d->drained));
	bool wake_s;

	stream_check(d);
	wake_s = d->kicked;
	mutex_unlock(&d->lock);
	if (wake_r)
		wake_up_interruptible_sync_poll(&d->rwait, EPOLLIN | EPOLLRDNORM);
	if (wake_w)
		wake_up_interruptible_sync_poll(&d->wwait, EPOLLOUT | EPOLLWRNORM);
	if (wake_s)
		wake_up_all(&d->swait);
	vchan_req_complete_all(&st->done);
}

/* A writer was told its message is written. */
static void count_accepted(struct vchan_dir *d, size_t len)
{
	d->total_msgs++;
	d->total_bytes += len;
}

static void unqueue(struct vchan_dir *d, struct vchan_req *r, ssize_t res,
		    struct list_head *done)
{
	if (r->stream) {
		list_del_init(&r->node);	/* its writer's to free */
		kick_stream(d, r);
	} else {
		list_move_tail(&r->node, done);
	}
	r->queued = false;
	r->res = res;
	if (r->kind == VCHAN_REQ_AIO)
		vchan_req_post(r);
	if (r->is_read) {
		d->naio--;
		d->aio_bytes -= r->len;
		return;
	}
	WRITE_ONCE(d->nwq, d->nwq - 1);
	if (r->kind == VCHAN_REQ_AIO) {
		d->naio--;
		d->aio_bytes -= r->len;
	}
	if (r->started) {
		WRITE_ONCE(d->wr_busy, false);
		WRITE_ONCE(d->direct, false);
	}
	if (res >= 0) {
		if (r->kind != VCHAN_REQ_BEHIND)
			count_accepted(d, r->len);
	} else if (!r->started || r->left == r->len) {
		/* Nothing of it was delivered. */
		d->queued_msgs--;
		d->queued_bytes -= r->left;
	}
}

/* Take back the length word of a started request nothing was read of. */
static bool retract(struct vchan_dir *d, struct vchan_req *r)
{
	if (!r->started)
		return true;
	if ((s32)(d->tail - d->wr_start) > 0)
		return false;	/* the reader has begun it */
	set_head(d, d->wr_start);
	WRITE_ONCE(d->wr_busy, false);
	r->started = false;
	return true;
}

/*
 * A cancelled request holds its place until its cancel work ends it, but
 * once io_cancel() has returned it is never begun: the writes queued behind
 * it and the data a cancelled read would take wait for that work (each work
 * ends only its own request, so thousands of them never pile up on the lock
 * behind one).  A started write nothing was read of is taken back at once.
 * Returns whether it ended the head of the write queue.
 */
static bool end_cancelled_head(struct vchan_dir *d, struct list_head *done)
{
	struct vchan_req *r = wq_first(d);

	if (!r || !r->started || !READ_ONCE(r->cancelled) || !retract(d, r))
		return false;
	unqueue(d, r, -ECANCELED, done);
	return true;
}

/* Move the write queue into the ring as far as it goes.  Returns progress. */
static bool pump(struct vchan_dir *d, struct list_head *done)
{
	struct vchan_req *r;
	bool progress = false;

	while ((r = wq_first(d))) {
		if (end_cancelled_head(d, done)) {
			progress = true;
			continue;
		}
		if (!r->started && READ_ONCE(r->cancelled))
			break;	/* its cancel work ends it */
		if (r->stream)
			break;	/* its writer moves it: stream_write() */
		if (!r->started) {
			if (ring_free(d) < HDR)
				break;
			d->wr_start = d->head;
			ring_append_len(d, r->len);
			r->started = true;
			WRITE_ONCE(d->wr_busy, true);
			progress = true;
		}
		if (d->direct || r->left > ring_free(d))
			break;	/* the reader will take it from the pages */
		vchan_req_to_buf(r, ring_append, d);
		unqueue(d, r, r->len, done);
		progress = true;
	}
	return progress;
}

static void end_read_msg(struct vchan_dir *d)
{
	d->rd_busy = false;
	d->queued_msgs--;
}

/*
 * Copy one read's worth of the current message to @to: from the ring, or
 * from the pages of the started request.  Returns bytes, -EAGAIN if there
 * is nothing to read yet, or -EFAULT.
 */
static ssize_t read_chunk(struct vchan_dir *d, struct iov_iter *to,
			  u32 pdu_chunk, struct list_head *done)
{
	struct vchan_req *r = d->direct ? wq_first(d) : NULL;
	size_t n = r ? d->rd_left : min_t(size_t, d->rd_left, ring_used(d));
	struct vchan_pdu_header ph;
	size_t extra = 0, got;

	if (!n && d->rd_left)
		return -EAGAIN;
	if (pdu_chunk) {
		n = min3(n, (size_t)pdu_chunk, iov_iter_count(to) - sizeof(ph));
		ph.length = d->rd_total;
		ph.flags = (d->rd_left == d->rd_total ? VCHAN_PDU_FIRST : 0) |
			   (d->rd_left == n ? VCHAN_PDU_LAST : 0);
		if (copy_to_iter(&ph, sizeof(ph), to) != sizeof(ph))
			return -EFAULT;
		extra = sizeof(ph);
	} else {
		n = min(n, iov_iter_count(to));
	}

	if (r) {
		got = vchan_req_to_iter(r, n, to);
		d->drained = true;
	} else {
		got = ring_to_iter(d, d->tail, n, to);
		consume(d, got);
	}
	d->rd_left -= got;
	d->queued_bytes -= got;
	if (r && !r->left)
		unqueue(d, r, r->len, done);
	if (!d->rd_left)
		end_read_msg(d);
	if (got != n && (pdu_chunk || !got))
		return -EFAULT;	/* what was copied counts as read */
	return got + extra;
}

/* Read what is readable now.  Called with d->lock held. */
static ssize_t read_locked(struct vchan_dir *d, struct iov_iter *to,
			   u32 pdu_chunk, struct list_head *done)
{
	for (;;) {
		if (!d->rd_busy) {
			end_cancelled_head(d, done);
			if (!ring_used(d))
				return -EAGAIN;
			d->rd_total = ring_peek_len(d, d->tail);
			d->rd_left = d->rd_total;
			d->rd_busy = true;
			/* The started request's payload is still in its pages? */
			if (d->wr_busy && d->tail == d->wr_start && d->rd_left &&
			    wq_first(d)->left == d->rd_left)
				WRITE_ONCE(d->direct, true);
			consume(d, HDR);
		}
		if (!d->rd_left && !pdu_chunk) {
			end_read_msg(d);	/* plain reads skip empty messages */
			continue;
		}
		return read_chunk(d, to, pdu_chunk, done);
	}
}

/* Serve queued asynchronous reads, oldest first.  Returns progress. */
static bool serve_reads(struct vchan_dir *d, struct list_head *done)
{
	struct vchan_req *r;
	bool progress = false;
	ssize_t ret;

	while ((r = list_first_entry_or_null(&d->rq, struct vchan_req, node))) {
		if (READ_ONCE(r->cancelled))
			break;
		ret = read_locked(d, &r->iter, r->pdu_chunk, done);
		if (ret == -EAGAIN && !d->wgone)
			break;
		unqueue(d, r, ret == -EAGAIN ? 0 : ret, done);
		progress = true;
	}
	return progress;
}

static void settle(struct vchan_dir *d, struct list_head *done)
{
	while (pump(d, done) | serve_reads(d, done))
		;
}

static bool aio_room(struct vchan_dir *d, size_t len)
{
	return d->naio < max_aio_requests && d->aio_bytes + len <= max_aio_bytes;
}

static void enqueue(struct vchan_dir *d, struct vchan_req *r)
{
	r->queued = true;
	if (r->is_read) {
		list_add_tail(&r->node, &d->rq);
	} else {
		list_add_tail(&r->node, &d->wq);
		WRITE_ONCE(d->nwq, d->nwq + 1);
		d->filled = true;	/* not writable now */
		d->queued_msgs++;
		d->queued_bytes += r->len;
	}
	if (r->kind == VCHAN_REQ_AIO) {
		d->naio++;
		d->aio_bytes += r->len;
		vchan_req_set_cancel(r);
	}
}

/*
 * A blocking writer waits for its request.  Interrupted before the reader
 * took anything of it, the message is taken back; after, the rest is copied
 * so that the message still arrives whole and write() can return.
 */
static ssize_t wait_write(struct vchan_dir *d, struct vchan_req *r)
{
	struct dir_state st;
	ssize_t ret;

	if (!wait_for_completion_interruptible(&r->done))
		goto out;

	dir_lock(d, &st);
	if (r->queued && retract(d, r)) {
		unqueue(d, r, -ERESTARTSYS, &st.done);
		settle(d, &st.done);
	} else if (r->queued && !vchan_req_copy(r, NULL)) {
		r->kind = VCHAN_REQ_BEHIND;	/* our reference is the queue's now */
		count_accepted(d, r->len);
		ret = r->len;
		dir_unlock(d, &st);
		return ret;
	}
	dir_unlock(d, &st);
	wait_for_completion(&r->done);	/* completed, or no memory to copy */
out:
	ret = r->res;
	vchan_req_put(r);
	return ret;
}

/*
 * Streaming request @r is the head of the queue and its message fits: its
 * writer copies it in, from its buffer @from, as the fast path does.
 */
static void stream_fill(struct vchan_dir *d, struct vchan_req *r,
			struct iov_iter *from, struct list_head *done)
{
	u32 start = d->head;

	ring_append_len(d, r->len);
	if (ring_from_iter(d, d->head, r->len, from) != r->len) {
		set_head(d, start);	/* nothing of it was seen */
		unqueue(d, r, -EFAULT, done);
		return;
	}
	set_head(d, d->head + r->len);
	r->left = 0;
	unqueue(d, r, r->len, done);
}

/*
 * A blocking writer streams its queued message into the ring, as a pipe's
 * writer does: it sleeps until its request is the head of the queue and
 * the message fits (stream_check() kicks it), then copies it in and
 * returns.  Called with d->lock held and @r queued; unlocks.  Interrupted,
 * it takes its request back (-ERESTARTSYS): nothing of the message was in
 * the ring.
 */
static ssize_t stream_write(struct vchan_dir *d, struct vchan_req *r,
			    struct iov_iter *from, struct dir_state *st)
{
	ssize_t ret;

	for (;;) {
		if (r->queued && wq_first(d) == r && stream_fits(d, r))
			stream_fill(d, r, from, &st->done);
		if (!r->queued) {	/* in, or ended by purge or hangup */
			ret = r->res;
			break;
		}
		r->waiting = true;
		WRITE_ONCE(r->kick, false);
		settle(d, &st->done);
		dir_unlock(d, st);
		ret = wait_event_interruptible(d->swait, READ_ONCE(r->kick));
		dir_lock(d, st);
		r->waiting = false;
		if (ret && r->queued)
			unqueue(d, r, -ERESTARTSYS, &st->done);
	}
	settle(d, &st->done);
	dir_unlock(d, st);
	vchan_req_put(r);
	return ret;
}

/*
 * How a blocking writer's queued message travels.  One that fits an empty
 * ring beside its length word streams (stream_write()): no page is pinned,
 * and the writer may run ahead of the reader by what the ring holds.  A
 * larger one can never be in the ring whole: its pages are pinned and the
 * reader copies straight from them, one copy, while the writer waits.
 * (Streaming those in pieces through the ring was measured with vbench, 64
 * KiB ring, TCG: messages of the ring's size 1.6x slower than pinned, 1 MiB
 * ones 4x or more; and a reader would see a message in pieces.)
 */
static int stream_or_pin(struct vchan_dir *d, struct vchan_req *r,
			 struct iov_iter *from)
{
	if (r->len > d->size - HDR)
		return vchan_req_pin(r, from);
	r->stream = true;
	/* A bad buffer fails now, as pinning it would, not once it fits. */
	return fault_in_iov_iter_readable(from, r->len) ? -EFAULT : 0;
}

/**
 * vchan_dir_write - write one message
 * @d: the direction
 * @iocb: the request: blocking, O_NONBLOCK, IOCB_NOWAIT or io_submit()
 * @from: the whole message
 *
 * Return: the message length, -EIOCBQUEUED for a queued io_submit() request,
 * or a negative errno with nothing delivered.
 */
ssize_t vchan_dir_write(struct vchan_dir *d, struct kiocb *iocb, struct iov_iter *from)
{
	bool nonblock = iocb->ki_filp->f_flags & O_NONBLOCK;
	bool aio = !is_sync_kiocb(iocb) && (iocb->ki_flags & IOCB_AIO_RW);
	size_t len = iov_iter_count(from);
	struct vchan_req *r = NULL;
	struct dir_state st;
	ssize_t ret;

	if (len > VCHAN_MSG_MAX)
		return -EMSGSIZE;

	dir_lock(d, &st);
	if (d->rgone) {
		ret = -EPIPE;
	} else if (!d->nwq && ring_free(d) >= HDR + len) {
		u32 start = d->head;

		ring_append_len(d, len);
		if (ring_from_iter(d, d->head, len, from) == len) {
			ret = len;
			set_head(d, d->head + len);
			d->queued_msgs++;
			d->queued_bytes += len;
			count_accepted(d, len);
		} else {
			set_head(d, start);
			ret = -EFAULT;
		}
	} else if ((iocb->ki_flags & IOCB_NOWAIT) ||
		   (nonblock && (d->nwq || ring_free(d) < HDR)) ||
		   (aio && !nonblock && !aio_room(d, len))) {
		ret = -EAGAIN;
	} else {
		r = vchan_req_alloc(d, nonblock ? VCHAN_REQ_BEHIND :
				    aio ? VCHAN_REQ_AIO : VCHAN_REQ_SYNC, iocb, len);
		if (!r)
			ret = -ENOMEM;
		else if (nonblock)
			ret = vchan_req_copy(r, from);
		else if (aio)
			ret = vchan_req_pin(r, from);
		else
			ret = stream_or_pin(d, r, from);
		if (ret && r)
			vchan_req_put(r);
		if (ret)
			r = NULL;
		else
			enqueue(d, r);
		if (!ret && nonblock)
			count_accepted(d, len);
	}
	if (r && r->stream)
		return stream_write(d, r, from, &st);
	settle(d, &st.done);
	dir_unlock(d, &st);

	/* Only a blocking writer's request is still ours: the rest may be gone. */
	if (!r)
		return ret;
	if (aio && !nonblock)
		return -EIOCBQUEUED;
	if (nonblock)
		return len;
	return wait_write(d, r);
}
EXPORT_SYMBOL_IF_KUNIT(vchan_dir_write);

/**
 * vchan_dir_read - read from one message
 * @d: the direction
 * @iocb: the request: blocking, O_NONBLOCK, IOCB_NOWAIT or io_submit()
 * @to: destination
 * @pdu_chunk: 0 for plain reads, else the PDU payload size
 *
 * Return: bytes read, 0 at end of file, -EIOCBQUEUED for a queued
 * io_submit() request, or a negative errno.
 */
ssize_t vchan_dir_read(struct vchan_dir *d, struct kiocb *iocb, struct iov_iter *to,
		       u32 pdu_chunk)
{
	bool nonblock = (iocb->ki_filp->f_flags & O_NONBLOCK) ||
			(iocb->ki_flags & IOCB_NOWAIT);
	bool aio = !is_sync_kiocb(iocb) && (iocb->ki_flags & IOCB_AIO_RW);
	size_t len = iov_iter_count(to);
	struct vchan_req *r;
	struct dir_state st;
	ssize_t ret;

	if (pdu_chunk && len < sizeof(struct vchan_pdu_header))
		return -EMSGSIZE;
	if (!len)
		return 0;

	dir_lock(d, &st);
	for (;;) {
		ret = list_empty(&d->rq) ? read_locked(d, to, pdu_chunk, &st.done) : -EAGAIN;
		if (ret != -EAGAIN)
			break;
		if (d->wgone) {
			ret = 0;
			break;
		}
		if (nonblock)
			break;
		if (aio) {
			if (!aio_room(d, len))
				break;	/* -EAGAIN: too many queued */
			r = vchan_req_alloc(d, VCHAN_REQ_AIO, iocb, len);
			ret = -ENOMEM;
			if (!r)
				break;
			r->is_read = true;
			r->pdu_chunk = pdu_chunk;
			ret = vchan_req_pin(r, to);
			if (ret) {
				vchan_req_put(r);
				break;
			}
			enqueue(d, r);
			ret = -EIOCBQUEUED;
			break;
		}
		dir_unlock(d, &st);
		if (wait_event_interruptible_exclusive(d->rwait,
						       dir_readable(d) || READ_ONCE(d->wgone)))
			return -ERESTARTSYS;
		dir_lock(d, &st);
	}
	settle(d, &st.done);
	dir_unlock(d, &st);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vchan_dir_read);

/*
 * io_cancel() or exit: the request ends with -ECANCELED, nothing of it
 * delivered.  A write the reader has begun cannot be taken back without
 * cutting its message: its rest is copied and the kernel delivers it, and the
 * request completes at once with its full length.  A process that exits
 * never waits for a reader, not even for itself as the reader.
 */
void vchan_dir_cancel(struct vchan_dir *d, struct vchan_req *r)
{
	struct dir_state st;

	dir_lock(d, &st);
	if (r->queued && (r->is_read || retract(d, r))) {
		unqueue(d, r, -ECANCELED, &st.done);
	} else if (r->queued && !vchan_req_copy(r, NULL)) {
		r->kind = VCHAN_REQ_BEHIND;	/* the queue's to free */
		d->naio--;
		d->aio_bytes -= r->len;
		count_accepted(d, r->len);
		r->res = r->len;
		vchan_req_post(r);
	}
	settle(d, &st.done);
	dir_unlock(d, &st);
}

__poll_t vchan_dir_poll_in(struct vchan_dir *d)
{
	__poll_t mask = 0;

	if (dir_readable(d))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(d->wgone))
		mask |= EPOLLHUP;
	return mask;
}

__poll_t vchan_dir_poll_out(struct vchan_dir *d)
{
	return dir_writable(d) ? EPOLLOUT | EPOLLWRNORM : 0;
}
EXPORT_SYMBOL_IF_KUNIT(vchan_dir_poll_out);

/* Bytes left in the message at the head of the direction (FIONREAD). */
u32 vchan_dir_next_len(struct vchan_dir *d)
{
	u32 len = 0;

	mutex_lock(&d->lock);
	if (d->rd_busy)
		len = d->rd_left;
	else if (ring_used(d))
		len = ring_peek_len(d, d->tail);
	mutex_unlock(&d->lock);
	return len;
}
EXPORT_SYMBOL_IF_KUNIT(vchan_dir_next_len);

/*
 * Drop every message nothing of which was read: the complete ones in the ring
 * and the queued requests, which end with -ECANCELED.  The rest of a message
 * the reader has begun stays and is delivered whole.
 */
void vchan_dir_purge(struct vchan_dir *d)
{
	struct vchan_req *r, *tmp;
	struct dir_state st;
	u32 from, to, pos, keep;

	dir_lock(d, &st);
	list_for_each_entry_safe(r, tmp, &d->wq, node)
		if (retract(d, r))
			unqueue(d, r, -ECANCELED, &st.done);

	from = d->tail;
	if (d->rd_busy && !d->direct)
		from += min(d->rd_left, ring_used(d));
	to = d->wr_busy ? d->wr_start : d->head;
	if ((s32)(to - from) > 0) {
		for (pos = from; pos != to; pos += HDR + ring_peek_len(d, pos)) {
			d->queued_msgs--;
			d->queued_bytes -= ring_peek_len(d, pos);
		}
		keep = d->head - to;
		ring_move_back(d, from, to, keep);
		set_head(d, from + keep);
		if (d->wr_busy)
			d->wr_start = from;
	}
	settle(d, &st.done);
	dir_unlock(d, &st);
}
EXPORT_SYMBOL_IF_KUNIT(vchan_dir_purge);

/*
 * The writer side (@writer) or the reader side of @d went away or came back.
 * Gone readers fail queued writes with -EPIPE; gone writers let queued reads
 * drain and then end them with 0.
 */
void vchan_dir_hangup(struct vchan_dir *d, bool writer, bool gone)
{
	struct vchan_req *r, *tmp;
	struct dir_state st;

	dir_lock(d, &st);
	if (writer) {
		WRITE_ONCE(d->wgone, gone);
	} else {
		WRITE_ONCE(d->rgone, gone);
		list_for_each_entry_safe(r, tmp, &d->wq, node)
			unqueue(d, r, -EPIPE, &st.done);
	}
	settle(d, &st.done);
	dir_unlock(d, &st);
	if (gone) {
		wake_up_interruptible_all(&d->rwait);
		wake_up_interruptible_all(&d->wwait);
	}
}

void vchan_dir_info(struct vchan_dir *d, struct vchan_dir_info *info)
{
	mutex_lock(&d->lock);
	info->ring_size = d->size;
	info->reserved = 0;
	info->queued_bytes = d->queued_bytes;
	info->queued_msgs = d->queued_msgs;
	info->total_bytes = d->total_bytes;
	info->total_msgs = d->total_msgs;
	mutex_unlock(&d->lock);
}
EXPORT_SYMBOL_IF_KUNIT(vchan_dir_info);
