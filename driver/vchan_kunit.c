// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of one direction (dir.c): the ring, the message framing, purge
 * and the free-space arithmetic, driven through the direction's own entry
 * points with kernel buffers, as the file operations drive them.
 *
 * Built only where CONFIG_KUNIT is set (the debug kernel) as vchan_kunit.ko,
 * which needs vchan.ko loaded; its suite runs when it is loaded and the
 * results are in /sys/kernel/debug/kunit/vchan_dir/results
 * (selftests/vchan_kunit.sh turns them into TAP inside the VM).
 *
 * The rings here are small (64 bytes) so that every start offset, every
 * message length and every split of the length word across the end of the
 * ring is tried; the ring indices also start just below the u32 wrap.
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>

#include "vchan_priv.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define HDR	VCHAN_MSG_OVERHEAD
#define SMALL	64U		/* the small ring */
#define BIG	4096U		/* the smallest real ring */

/* Where the ring indices start: at 0 and just below where a u32 wraps. */
static const u32 bases[] = { 0, 0U - 2 * SMALL };

struct dir_test {
	struct vchan_dir d;
	bool have_dir;
	struct file *filp;	/* O_NONBLOCK: nothing here ever sleeps */
	u8 *src;
	u8 *dst;
};

#define BUF_LEN	(2 * BIG)

static int dir_test_init(struct kunit *test)
{
	struct dir_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->filp = kunit_kzalloc(test, sizeof(*t->filp), GFP_KERNEL);
	t->src = kunit_kzalloc(test, BUF_LEN, GFP_KERNEL);
	t->dst = kunit_kzalloc(test, BUF_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t->filp);
	KUNIT_ASSERT_NOT_NULL(test, t->src);
	KUNIT_ASSERT_NOT_NULL(test, t->dst);
	t->filp->f_flags = O_NONBLOCK;
	test->priv = t;
	return 0;
}

static void dir_test_exit(struct kunit *test)
{
	struct dir_test *t = test->priv;

	if (t->have_dir)
		vchan_dir_free(&t->d);
}

/* A fresh, empty direction of @size bytes whose indices stand at @pos. */
static struct vchan_dir *new_dir(struct kunit *test, u32 size, u32 pos)
{
	struct dir_test *t = test->priv;

	if (t->have_dir)
		vchan_dir_free(&t->d);
	t->have_dir = false;
	memset(&t->d, 0, sizeof(t->d));
	KUNIT_ASSERT_EQ(test, vchan_dir_init(&t->d, NULL, size), 0);
	t->have_dir = true;
	t->d.head = pos;
	t->d.tail = pos;
	return &t->d;
}

/* Message @seed's bytes: a pattern that differs between messages. */
static void fill(u8 *p, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(seed * 31 + i * 7 + (i >> 8));
}

/* One write of @len bytes of message @seed; @flags: IOCB_NOWAIT or 0. */
static ssize_t put_msg(struct kunit *test, u32 seed, size_t len, int flags)
{
	struct dir_test *t = test->priv;
	struct kiocb kiocb = { .ki_filp = t->filp, .ki_flags = flags };
	struct kvec kv = { .iov_base = t->src, .iov_len = len };
	struct iov_iter it;

	fill(t->src, len, seed);
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, len);
	return vchan_dir_write(&t->d, &kiocb, &it);
}

/* One non-blocking read into t->dst of at most @len bytes. */
static ssize_t get(struct kunit *test, size_t len, u32 pdu_chunk)
{
	struct dir_test *t = test->priv;
	struct kiocb kiocb = { .ki_filp = t->filp };
	struct kvec kv = { .iov_base = t->dst, .iov_len = len };
	struct iov_iter it;

	memset(t->dst, 0xa5, len);
	iov_iter_kvec(&it, ITER_DEST, &kv, 1, len);
	return vchan_dir_read(&t->d, &kiocb, &it, pdu_chunk);
}

/* t->dst holds message @seed's bytes [@from, @from + @len). */
static void expect_bytes(struct kunit *test, const u8 *got, u32 seed,
			 size_t from, size_t len)
{
	struct dir_test *t = test->priv;

	fill(t->src, from + len, seed);
	KUNIT_EXPECT_MEMEQ(test, got, t->src + from, len);
}

static void expect_queued(struct kunit *test, u64 msgs, u64 bytes)
{
	struct dir_test *t = test->priv;
	struct vchan_dir_info info;

	vchan_dir_info(&t->d, &info);
	KUNIT_EXPECT_EQ(test, info.queued_msgs, msgs);
	KUNIT_EXPECT_EQ(test, info.queued_bytes, bytes);
}

static u32 pollout(struct kunit *test)
{
	struct dir_test *t = test->priv;

	return (__force u32)vchan_dir_poll_out(&t->d);
}

#define WRITABLE	((__force u32)(EPOLLOUT | EPOLLWRNORM))

/* Nothing left: a read finds nothing and every count is back to zero. */
static void expect_empty(struct kunit *test)
{
	struct dir_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, get(test, BIG, 0), -EAGAIN);
	KUNIT_EXPECT_EQ(test, t->d.head, t->d.tail);
	KUNIT_EXPECT_EQ(test, vchan_dir_next_len(&t->d), 0U);
	expect_queued(test, 0, 0);
}

/*
 * Every start offset x every length that fits: the length word and the
 * payload land at the right ring bytes (split across the end where they
 * reach it) and come back whole.
 */
static void ring_wrap_every_offset(struct kunit *test)
{
	struct dir_test *t = test->priv;
	u32 b, off, len, i, start, word;
	u8 w[HDR];

	for (b = 0; b < ARRAY_SIZE(bases); b++) {
		for (off = 0; off < SMALL; off++) {
			new_dir(test, SMALL, bases[b] + off);
			for (len = 0; len + HDR <= SMALL; len++) {
				u32 seed = off * SMALL + len;

				start = t->d.head;
				KUNIT_ASSERT_EQ(test, put_msg(test, seed, len, IOCB_NOWAIT),
						(ssize_t)len);
				KUNIT_ASSERT_EQ(test, t->d.head - t->d.tail, HDR + len);
				word = len;
				memcpy(w, &word, HDR);
				for (i = 0; i < HDR; i++)
					KUNIT_ASSERT_EQ(test, t->d.buf[(start + i) % SMALL], w[i]);
				fill(t->src, len, seed);
				for (i = 0; i < len; i++)
					KUNIT_ASSERT_EQ(test, t->d.buf[(start + HDR + i) % SMALL],
							t->src[i]);
				KUNIT_ASSERT_EQ(test, vchan_dir_next_len(&t->d), len);
				expect_queued(test, 1, len);
				if (len) {
					KUNIT_ASSERT_EQ(test, get(test, BIG, 0), (ssize_t)len);
					expect_bytes(test, t->dst, seed, 0, len);
				}
				/* A zero-length message is skipped by plain reads. */
				expect_empty(test);
				KUNIT_ASSERT_EQ(test, t->d.head, start + HDR + len);
			}
		}
	}
}

/*
 * Free space, at every offset and fill level: a message fits at once exactly
 * when its length word and payload fit; EPOLLOUT exactly when a length word
 * fits; a refused write changes nothing.
 */
static void ring_free_space_boundaries(struct kunit *test)
{
	struct dir_test *t = test->priv;
	u32 off, used, free, head;

	for (off = 0; off < SMALL; off++) {
		new_dir(test, SMALL, bases[1] + off);
		for (used = HDR; used <= SMALL; used++) {
			/* Empty again, at the same offset. */
			vchan_dir_purge(&t->d);
			KUNIT_ASSERT_EQ(test, t->d.head, t->d.tail);
			t->d.head = bases[1] + off;
			t->d.tail = t->d.head;
			KUNIT_ASSERT_EQ(test, put_msg(test, 1, used - HDR, IOCB_NOWAIT),
					(ssize_t)(used - HDR));
			free = SMALL - used;
			head = t->d.head;
			KUNIT_EXPECT_EQ(test, pollout(test), free >= HDR ? WRITABLE : 0);
			if (free >= HDR) {
				/* One byte too many: refused, nothing changed. */
				KUNIT_EXPECT_EQ(test, put_msg(test, 2, free - HDR + 1, IOCB_NOWAIT),
						-EAGAIN);
				KUNIT_EXPECT_EQ(test, t->d.head, head);
				/* Exactly the free space: accepted, ring full. */
				KUNIT_EXPECT_EQ(test, put_msg(test, 2, free - HDR, IOCB_NOWAIT),
						(ssize_t)(free - HDR));
				KUNIT_EXPECT_EQ(test, t->d.head - t->d.tail, SMALL);
				expect_queued(test, 2, used - HDR + free - HDR);
			} else {
				/* No room for a length word: even O_NONBLOCK is refused. */
				KUNIT_EXPECT_EQ(test, put_msg(test, 2, 0, 0), -EAGAIN);
				KUNIT_EXPECT_EQ(test, t->d.head, head);
			}
			KUNIT_EXPECT_EQ(test, pollout(test), 0U);
		}
	}
}

/*
 * A stream of messages of changing lengths through the small ring, read in
 * pieces of changing sizes: each read returns bytes of one message only, in
 * order, and FIONREAD's count is what is left of the current one.
 */
static void ring_stream_spans_end(struct kunit *test)
{
	struct dir_test *t = test->priv;
	u32 seed, len, done, piece;
	ssize_t n;

	new_dir(test, SMALL, bases[1] + 5);
	for (seed = 0; seed < 400; seed++) {
		len = (seed * 13) % (SMALL - HDR + 1);
		KUNIT_ASSERT_EQ(test, put_msg(test, seed, len, IOCB_NOWAIT), (ssize_t)len);
		if (!len) {
			expect_empty(test);
			continue;
		}
		for (done = 0; done < len; done += n) {
			KUNIT_ASSERT_EQ(test, vchan_dir_next_len(&t->d), len - done);
			piece = 1 + (seed + done) % 9;
			n = get(test, piece, 0);
			KUNIT_ASSERT_EQ(test, n, (ssize_t)min(piece, len - done));
			expect_bytes(test, t->dst, seed, done, n);
		}
		expect_empty(test);
	}
}

/* Several messages in the ring at once, the ring full, spanning the end. */
static void ring_many_messages(struct kunit *test)
{
	/* 32 bytes of payload and 8 length words: exactly the ring. */
	static const u32 lens[] = { 0, 1, 3, 4, 5, 0, 17, 2 };
	struct dir_test *t = test->priv;
	u32 off, i, total;

	for (off = 0; off < SMALL; off++) {
		new_dir(test, SMALL, bases[0] + off);
		total = 0;
		for (i = 0; i < ARRAY_SIZE(lens); i++) {
			KUNIT_ASSERT_EQ(test, put_msg(test, i, lens[i], IOCB_NOWAIT),
					(ssize_t)lens[i]);
			total += lens[i];
		}
		expect_queued(test, ARRAY_SIZE(lens), total);
		KUNIT_EXPECT_EQ(test, t->d.head - t->d.tail, SMALL);
		for (i = 0; i < ARRAY_SIZE(lens); i++) {
			if (!lens[i])
				continue;
			KUNIT_ASSERT_EQ(test, get(test, BIG, 0), (ssize_t)lens[i]);
			expect_bytes(test, t->dst, i, 0, lens[i]);
		}
		expect_empty(test);
	}
}

/*
 * PDU mode: every read is a header (total length, FIRST on the first piece,
 * LAST on the last) and at most min(chunk, buffer - header) bytes; a
 * zero-length message is one {0, FIRST|LAST}.
 */
static void pdu_framing(struct kunit *test)
{
	static const u32 chunks[] = { 1, 7, 1600 };
	static const u32 extra[] = { 0, 5, 1600 };
	struct dir_test *t = test->priv;
	struct vchan_pdu_header ph;
	u32 c, len, done, want, lens[8];
	unsigned int ci, ei, li;
	ssize_t n;

	for (ci = 0; ci < ARRAY_SIZE(chunks); ci++) {
		c = chunks[ci];
		lens[0] = 0;
		lens[1] = 1;
		lens[2] = c - 1;
		lens[3] = c;
		lens[4] = c + 1;
		lens[5] = 2 * c;
		lens[6] = 2 * c + 1;
		lens[7] = BIG - HDR;
		for (ei = 0; ei < ARRAY_SIZE(extra); ei++) {
			/* Buffers of header + chunk + extra, and one shorter than a chunk. */
			u32 bufs[2] = { sizeof(ph) + c + extra[ei], sizeof(ph) + 3 };

			/* The longest message with the first buffer size only. */
			for (li = 0; li < ARRAY_SIZE(lens) - (ei ? 1 : 0); li++) {
				u32 buf = bufs[li & 1];
				u32 seed = ci * 100 + ei * 10 + li;

				len = lens[li];
				new_dir(test, BIG, bases[1] + BIG - 2);
				KUNIT_ASSERT_EQ(test, put_msg(test, seed, len, IOCB_NOWAIT),
						(ssize_t)len);
				done = 0;
				do {
					want = min3(len - done, c, buf - (u32)sizeof(ph));
					n = get(test, buf, c);
					KUNIT_ASSERT_EQ(test, n, (ssize_t)(sizeof(ph) + want));
					memcpy(&ph, t->dst, sizeof(ph));
					KUNIT_EXPECT_EQ(test, ph.length, len);
					KUNIT_EXPECT_EQ(test, ph.flags,
							(done == 0 ? VCHAN_PDU_FIRST : 0) |
							(done + want == len ? VCHAN_PDU_LAST : 0));
					expect_bytes(test, t->dst + sizeof(ph), seed, done, want);
					done += want;
				} while (done < len);
				expect_empty(test);
			}
		}
	}
	/* A buffer shorter than the header consumes nothing. */
	new_dir(test, BIG, 0);
	KUNIT_ASSERT_EQ(test, put_msg(test, 1, 10, IOCB_NOWAIT), 10);
	KUNIT_EXPECT_EQ(test, get(test, sizeof(ph) - 1, 1600), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, vchan_dir_next_len(&t->d), 10U);
	expect_queued(test, 1, 10);
}

/*
 * A message larger than the ring (kept by the kernel, its length word in the
 * ring, the payload read straight from its pages) behind one in the ring:
 * reads see both whole and in order; a second non-blocking write meanwhile
 * is refused.
 */
static void ring_larger_than_ring(struct kunit *test)
{
	struct dir_test *t = test->priv;
	u32 off, done;
	ssize_t n;

	for (off = 0; off < SMALL; off += 3) {
		new_dir(test, SMALL, bases[1] + off);
		KUNIT_ASSERT_EQ(test, put_msg(test, 1, 40, 0), 40);
		KUNIT_ASSERT_EQ(test, put_msg(test, 2, 300, 0), 300);
		KUNIT_EXPECT_EQ(test, put_msg(test, 3, 1, 0), -EAGAIN);
		KUNIT_EXPECT_EQ(test, put_msg(test, 3, 1, IOCB_NOWAIT), -EAGAIN);
		expect_queued(test, 2, 340);
		KUNIT_ASSERT_EQ(test, get(test, BIG, 0), 40);
		expect_bytes(test, t->dst, 1, 0, 40);
		for (done = 0; done < 300; done += n) {
			KUNIT_ASSERT_EQ(test, vchan_dir_next_len(&t->d), 300 - done);
			n = get(test, 7 + off, 0);
			KUNIT_ASSERT_EQ(test, n, (ssize_t)min(7 + off, 300 - done));
			expect_bytes(test, t->dst, 2, done, n);
		}
		expect_empty(test);
		KUNIT_EXPECT_EQ(test, t->d.nwq, 0U);
		KUNIT_EXPECT_EQ(test, put_msg(test, 3, 1, IOCB_NOWAIT), 1);
	}
}

/*
 * Purge at every offset: whole unread messages go, the rest of the message
 * being read stays and is delivered whole, then what is written next.
 */
static void purge_keeps_begun_message(struct kunit *test)
{
	struct dir_test *t = test->priv;
	u32 off;

	for (off = 0; off < SMALL; off++) {
		new_dir(test, SMALL, bases[1] + off);
		KUNIT_ASSERT_EQ(test, put_msg(test, 1, 10, IOCB_NOWAIT), 10);
		KUNIT_ASSERT_EQ(test, put_msg(test, 2, 5, IOCB_NOWAIT), 5);
		KUNIT_ASSERT_EQ(test, put_msg(test, 3, 0, IOCB_NOWAIT), 0);
		KUNIT_ASSERT_EQ(test, put_msg(test, 4, 7, IOCB_NOWAIT), 7);
		KUNIT_ASSERT_EQ(test, get(test, 3, 0), 3);
		expect_bytes(test, t->dst, 1, 0, 3);

		vchan_dir_purge(&t->d);
		expect_queued(test, 1, 7);
		KUNIT_EXPECT_EQ(test, t->d.head - t->d.tail, 7U);
		KUNIT_EXPECT_EQ(test, vchan_dir_next_len(&t->d), 7U);

		KUNIT_ASSERT_EQ(test, put_msg(test, 5, 6, IOCB_NOWAIT), 6);
		KUNIT_ASSERT_EQ(test, get(test, BIG, 0), 7);
		expect_bytes(test, t->dst, 1, 3, 7);
		KUNIT_ASSERT_EQ(test, get(test, BIG, 0), 6);
		expect_bytes(test, t->dst, 5, 0, 6);
		expect_empty(test);

		/* Nothing begun: everything goes. */
		KUNIT_ASSERT_EQ(test, put_msg(test, 6, 20, IOCB_NOWAIT), 20);
		KUNIT_ASSERT_EQ(test, put_msg(test, 7, 0, IOCB_NOWAIT), 0);
		vchan_dir_purge(&t->d);
		expect_empty(test);
		KUNIT_EXPECT_EQ(test, pollout(test), WRITABLE);
	}
}

/*
 * Purge with messages the kernel keeps outside the ring: one not begun is
 * dropped (its length word taken back out of the ring), one whose payload
 * the reader has begun to take from its pages stays whole.
 */
static void purge_queued_messages(struct kunit *test)
{
	struct dir_test *t = test->priv;
	u32 off;

	for (off = 0; off < SMALL; off++) {
		new_dir(test, SMALL, bases[1] + off);
		KUNIT_ASSERT_EQ(test, put_msg(test, 1, 50, 0), 50);
		KUNIT_ASSERT_EQ(test, put_msg(test, 2, 30, 0), 30);
		KUNIT_EXPECT_EQ(test, t->d.nwq, 1U);
		expect_queued(test, 2, 80);
		vchan_dir_purge(&t->d);
		KUNIT_EXPECT_EQ(test, t->d.nwq, 0U);
		expect_empty(test);

		KUNIT_ASSERT_EQ(test, put_msg(test, 3, 100, 0), 100);
		KUNIT_ASSERT_EQ(test, get(test, 10, 0), 10);
		expect_bytes(test, t->dst, 3, 0, 10);
		vchan_dir_purge(&t->d);
		expect_queued(test, 1, 90);
		KUNIT_ASSERT_EQ(test, get(test, BIG, 0), 90);
		expect_bytes(test, t->dst, 3, 10, 90);
		expect_empty(test);
		KUNIT_EXPECT_EQ(test, t->d.nwq, 0U);
	}
}

static struct kunit_case vchan_dir_cases[] = {
	KUNIT_CASE(ring_wrap_every_offset),
	KUNIT_CASE(ring_free_space_boundaries),
	KUNIT_CASE(ring_stream_spans_end),
	KUNIT_CASE(ring_many_messages),
	KUNIT_CASE(ring_larger_than_ring),
	KUNIT_CASE(pdu_framing),
	KUNIT_CASE(purge_keeps_begun_message),
	KUNIT_CASE(purge_queued_messages),
	{}
};

static struct kunit_suite vchan_dir_suite = {
	.name = "vchan_dir",
	.init = dir_test_init,
	.exit = dir_test_exit,
	.test_cases = vchan_dir_cases,
};

kunit_test_suite(vchan_dir_suite);

MODULE_DESCRIPTION("KUnit tests of vchan's ring and message framing");
MODULE_LICENSE("GPL");
