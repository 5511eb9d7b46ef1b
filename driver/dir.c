// SPDX-License-Identifier: GPL-2.0
/*
 * One direction of a channel: a ring of length-prefixed messages.
 *
 * The writer appends a 4-byte length and then the payload, as much as fits;
 * a message larger than the free space streams through the ring while the
 * reader consumes its start.  The reader consumes the length word first, then
 * the payload, and never returns bytes of two messages from one read.
 *
 * Wake-ups follow fs/pipe.c: readers are woken when the ring goes from empty
 * to non-empty; a reader that leaves data behind wakes the next one.  A
 * writer that sleeps says how much free space it waits for (wr_need, as in
 * drivers/hv/ring_buffer.c) and the reader wakes writers only when the free
 * space crosses that mark, so a large message streams in big steps.
 */
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vchan_priv.h"

#define HDR VCHAN_MSG_OVERHEAD

static inline u32 ring_used(const struct vchan_dir *d)
{
	return READ_ONCE(d->head) - READ_ONCE(d->tail);
}

static inline u32 ring_free(const struct vchan_dir *d)
{
	return d->size - ring_used(d);
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

static u32 ring_peek_len(struct vchan_dir *d, u32 pos)
{
	u32 len;

	ring_get(d, pos, &len, HDR);
	return len;
}

int vchan_dir_init(struct vchan_dir *d, u32 size)
{
	mutex_init(&d->wlock);
	mutex_init(&d->lock);
	init_waitqueue_head(&d->rwait);
	init_waitqueue_head(&d->wwait);
	d->size = size;
	d->wr_need = HDR;
	/* Charged to the creator's memory cgroup. */
	d->buf = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	return d->buf ? 0 : -ENOMEM;
}

void vchan_dir_free(struct vchan_dir *d)
{
	kvfree(d->wb_buf);
	kvfree(d->buf);
}

/* Called with d->lock held.  Returns true if waiters on wwait need a wake-up. */
static bool advance_tail(struct vchan_dir *d, u32 n)
{
	u32 free_before = ring_free(d);
	u32 need = d->wr_need;

	WRITE_ONCE(d->tail, d->tail + n);

	/* Feed the ring from the write-behind buffer of the message in progress. */
	if (d->wb_buf) {
		u32 m = min(ring_free(d), d->wb_len - d->wb_off);

		ring_put(d, d->head, d->wb_buf + d->wb_off, m);
		WRITE_ONCE(d->head, d->head + m);
		d->wb_off += m;
		if (d->wb_off == d->wb_len) {
			kvfree(d->wb_buf);
			d->wb_buf = NULL;
			WRITE_ONCE(d->wr_busy, false);
			return true;
		}
		return false;
	}
	return free_before < need && ring_free(d) >= need;
}

static void end_read_msg(struct vchan_dir *d)
{
	d->rd_busy = false;
	d->queued_msgs--;
}

static bool dir_readable(struct vchan_dir *d)
{
	return ring_used(d) || READ_ONCE(d->wgone);
}

static void wake_readers(struct vchan_dir *d)
{
	wake_up_interruptible_sync_poll(&d->rwait, EPOLLIN | EPOLLRDNORM);
}

static void wake_writers(struct vchan_dir *d)
{
	wake_up_interruptible_sync_poll(&d->wwait, EPOLLOUT | EPOLLWRNORM);
}

/*
 * Copy one read's worth of the current message to @to.  Called with d->lock
 * held and something to return.  Returns bytes or -EFAULT.
 */
static ssize_t read_chunk(struct vchan_dir *d, struct iov_iter *to,
			  u32 pdu_chunk, bool *wake_writer)
{
	size_t n = min_t(size_t, d->rd_left, ring_used(d));
	struct vchan_pdu_header ph;
	ssize_t extra = 0;
	size_t done;

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

	done = ring_to_iter(d, d->tail, n, to);
	if (done != n && (pdu_chunk || !done))
		return -EFAULT;	/* a PDU is all or nothing */
	d->rd_left -= done;
	d->queued_bytes -= done;
	*wake_writer |= advance_tail(d, done);
	if (!d->rd_left)
		end_read_msg(d);
	return done + extra;
}

/**
 * vchan_dir_read - read from one message
 * @d: the direction
 * @to: destination
 * @pdu_chunk: 0 for plain reads, else the PDU payload size
 * @nonblock: fail with -EAGAIN instead of sleeping
 *
 * Return: bytes read, 0 at end of file, or a negative errno.
 */
ssize_t vchan_dir_read(struct vchan_dir *d, struct iov_iter *to, u32 pdu_chunk,
		       bool nonblock)
{
	bool wake_writer = false, wake_reader;
	ssize_t ret;

	if (pdu_chunk && iov_iter_count(to) < sizeof(struct vchan_pdu_header))
		return -EMSGSIZE;
	if (!iov_iter_count(to))
		return 0;

	mutex_lock(&d->lock);
	for (;;) {
		if (!d->rd_busy && ring_used(d)) {
			d->rd_total = ring_peek_len(d, d->tail);
			d->rd_left = d->rd_total;
			d->rd_busy = true;
			wake_writer |= advance_tail(d, HDR);
		}
		if (d->rd_busy && !d->rd_left && !pdu_chunk) {
			end_read_msg(d);	/* plain reads skip empty messages */
			continue;
		}
		if (d->rd_busy && (ring_used(d) || !d->rd_left)) {
			ret = read_chunk(d, to, pdu_chunk, &wake_writer);
			break;
		}
		if (d->wgone) {
			ret = 0;
			break;
		}
		if (nonblock) {
			ret = -EAGAIN;
			break;
		}
		mutex_unlock(&d->lock);
		if (wake_writer)
			wake_writers(d);
		wake_writer = false;
		if (wait_event_interruptible_exclusive(d->rwait, dir_readable(d)))
			return -ERESTARTSYS;
		mutex_lock(&d->lock);
	}
	wake_reader = ring_used(d) > 0;
	mutex_unlock(&d->lock);

	if (wake_writer)
		wake_writers(d);
	if (wake_reader && ret > 0)
		wake_readers(d);
	return ret;
}

/* Nothing of the message in progress has been consumed: it can be taken back. */
static bool can_retract(struct vchan_dir *d)
{
	return (s32)(d->tail - d->wr_start) <= 0;
}

static void retract(struct vchan_dir *d, u32 len)
{
	d->queued_bytes -= len - d->wr_left;
	d->queued_msgs--;
	d->wr_left = 0;
	WRITE_ONCE(d->head, d->wr_start);
}

/* Keep the rest of the message in a kernel buffer; the reader feeds it in. */
static int write_behind(struct vchan_dir *d, struct iov_iter *from)
{
	u8 *buf = kvmalloc(d->wr_left, GFP_KERNEL_ACCOUNT);

	if (!buf)
		return -ENOMEM;
	if (!copy_from_iter_full(buf, d->wr_left, from)) {
		kvfree(buf);
		return -EFAULT;
	}
	d->wb_buf = buf;
	d->wb_len = d->wr_left;
	d->wb_off = 0;
	d->queued_bytes += d->wr_left;
	d->wr_left = 0;
	return 0;
}

static bool dir_can_start(struct vchan_dir *d)
{
	return (!READ_ONCE(d->wr_busy) && ring_free(d) >= HDR) ||
	       READ_ONCE(d->rgone);
}

static bool dir_has_room(struct vchan_dir *d)
{
	return ring_free(d) >= READ_ONCE(d->wr_need) || READ_ONCE(d->rgone);
}

/*
 * Copy what fits of the message in progress into the ring, from @from or,
 * with @zero, as zeroes.  Sets *was_empty if the ring was empty before.
 */
static int stream_in(struct vchan_dir *d, struct iov_iter *from, bool zero,
		     bool *was_empty)
{
	u32 n = min(ring_free(d), d->wr_left);
	size_t done = n;

	if (!n)
		return 0;
	*was_empty |= !ring_used(d);
	if (zero) {
		u32 off = d->head & (d->size - 1);
		u32 first = min(n, d->size - off);

		memset(d->buf + off, 0, first);
		memset(d->buf, 0, n - first);
	} else {
		done = ring_from_iter(d, d->head, n, from);
	}
	WRITE_ONCE(d->head, d->head + done);
	d->wr_left -= done;
	d->queued_bytes += done;
	return done == n ? 0 : -EFAULT;
}

/*
 * Sleep until the ring has room for the next step of the message, with
 * d->lock dropped.  Returns -EPIPE if the reader went away, else what the
 * wait returned.
 */
static int wait_room(struct vchan_dir *d, bool *was_empty, bool interruptible)
{
	int err = 0;

	d->wr_need = min(d->wr_left, d->size / 2);
	mutex_unlock(&d->lock);
	if (*was_empty)
		wake_readers(d);
	*was_empty = false;
	if (interruptible)
		err = wait_event_interruptible(d->wwait, dir_has_room(d));
	else
		wait_event_idle(d->wwait, dir_has_room(d));
	mutex_lock(&d->lock);
	return d->rgone ? -EPIPE : err;
}

/*
 * A blocking writer was interrupted (@err -ERESTARTSYS) or faulted (-EFAULT)
 * after the reader began consuming its message, which must still arrive
 * whole.  Move the rest into a write-behind buffer, or failing that keep
 * streaming it, ignoring signals; after a fault the rest is zeroes.
 * Returns 0, -EFAULT after a fault, or -EPIPE.
 */
static int finish_msg(struct vchan_dir *d, struct iov_iter *from, int err,
		      bool *was_empty)
{
	bool zero = err == -EFAULT;

	if (!zero) {
		err = write_behind(d, from);
		if (!err)
			return 0;
		zero = err == -EFAULT;
	}
	while (d->wr_left) {
		if (stream_in(d, from, zero, was_empty))
			zero = true;
		if (!d->wr_left)
			break;
		if (wait_room(d, was_empty, false))
			return -EPIPE;
	}
	return zero ? -EFAULT : 0;
}

/**
 * vchan_dir_write - write one message
 * @d: the direction
 * @from: the whole message
 * @nonblock: never sleep: -EAGAIN if the message cannot be started now
 *
 * A blocking writer holds d->wlock for its whole message and streams it
 * through the ring.  A non-blocking writer puts what fits into the ring and
 * the rest into a write-behind buffer that the reader drains.
 *
 * Return: the message length or a negative errno.  On an error nothing of the
 * message is delivered, except -EFAULT after the reader began consuming it
 * (the rest of the message is then zeroes).
 */
ssize_t vchan_dir_write(struct vchan_dir *d, struct iov_iter *from, bool nonblock)
{
	size_t len = iov_iter_count(from);
	bool was_empty = false;
	u32 hdr = len;
	int err = 0;

	if (len > VCHAN_MSG_MAX)
		return -EMSGSIZE;

	if (nonblock) {
		if (!mutex_trylock(&d->wlock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&d->wlock)) {
		return -ERESTARTSYS;
	}

	mutex_lock(&d->lock);
	while (!dir_can_start(d)) {
		mutex_unlock(&d->lock);
		if (nonblock)
			err = -EAGAIN;
		else
			err = wait_event_interruptible(d->wwait, dir_can_start(d));
		if (err) {
			mutex_unlock(&d->wlock);
			return err;
		}
		mutex_lock(&d->lock);
	}
	if (d->rgone) {
		err = -EPIPE;
		goto out;
	}

	/* Start the message: its length word, then as much payload as fits. */
	was_empty = !ring_used(d);
	ring_put(d, d->head, &hdr, HDR);
	d->wr_start = d->head;
	WRITE_ONCE(d->head, d->head + HDR);
	WRITE_ONCE(d->wr_busy, true);
	d->wr_left = len;
	d->queued_msgs++;

	for (;;) {
		err = stream_in(d, from, false, &was_empty);
		if (err || !d->wr_left)
			break;
		if (nonblock) {
			err = write_behind(d, from);
			break;
		}
		err = wait_room(d, &was_empty, true);
		if (err)
			break;
	}

	if (err == -EPIPE) {
		d->wr_left = 0;		/* nobody will ever read it */
	} else if (err && can_retract(d)) {
		retract(d, len);
	} else {
		if (err)
			err = finish_msg(d, from, err, &was_empty);
		if (err != -EPIPE) {
			d->total_msgs++;
			d->total_bytes += len;
		}
	}
	d->wr_need = HDR;
	if (!d->wb_buf)
		WRITE_ONCE(d->wr_busy, false);
out:
	mutex_unlock(&d->lock);
	mutex_unlock(&d->wlock);
	if (was_empty)
		wake_readers(d);
	if (wq_has_sleeper(&d->wwait))
		wake_writers(d);
	return err ? err : len;
}

__poll_t vchan_dir_poll_in(struct vchan_dir *d)
{
	__poll_t mask = 0;

	if (ring_used(d))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(d->wgone))
		mask |= EPOLLHUP;
	return mask;
}

__poll_t vchan_dir_poll_out(struct vchan_dir *d)
{
	if (READ_ONCE(d->rgone))
		return 0;
	return dir_can_start(d) ? EPOLLOUT | EPOLLWRNORM : 0;
}

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

/*
 * Drop every message not yet read, except the rest of the one a reader has
 * begun and the one still being written: those are delivered whole.
 */
void vchan_dir_purge(struct vchan_dir *d)
{
	u32 from, to, pos, keep;

	mutex_lock(&d->lock);
	from = d->tail;
	if (d->rd_busy)
		from += min(d->rd_left, ring_used(d));
	to = d->wr_busy ? d->wr_start : d->head;
	if ((s32)(to - from) <= 0) {
		mutex_unlock(&d->lock);
		return;
	}
	for (pos = from; pos != to; pos += HDR + ring_peek_len(d, pos)) {
		d->queued_msgs--;
		d->queued_bytes -= ring_peek_len(d, pos);
	}
	keep = d->head - to;
	ring_move_back(d, from, to, keep);
	WRITE_ONCE(d->head, from + keep);
	if (d->wr_busy)
		d->wr_start = from;
	mutex_unlock(&d->lock);
	wake_up_interruptible_poll(&d->wwait, EPOLLOUT | EPOLLWRNORM);
}

/*
 * Mark the writer side (@writer) or the reader side of @d as gone or back,
 * and wake everybody so that they see it.
 */
void vchan_dir_hangup(struct vchan_dir *d, bool writer, bool gone)
{
	mutex_lock(&d->lock);
	if (writer)
		WRITE_ONCE(d->wgone, gone);
	else
		WRITE_ONCE(d->rgone, gone);
	mutex_unlock(&d->lock);
	if (gone) {
		/* wake_up_all: a writer finishing a message may sleep idle. */
		wake_up_all(&d->rwait);
		wake_up_all(&d->wwait);
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
