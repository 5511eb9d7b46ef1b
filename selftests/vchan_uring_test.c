// SPDX-License-Identifier: GPL-2.0
/*
 * vchan: io_uring (liburing) IORING_OP_WRITE/READ and IORING_OP_ASYNC_CANCEL.
 *
 * io_uring first tries a request with IOCB_NOWAIT (the driver answers
 * EAGAIN when it cannot take or give data now), then parks it on poll and
 * retries on wake-ups, or hands it to an io-wq worker that blocks.  Unlike
 * io_submit(), independent io_uring requests have no order between them:
 * the ordering tests chain their requests with IOSQE_IO_HARDLINK (a link
 * that a short read does not break), which is how io_uring users ask for
 * order.
 *
 * No sleeps order anything: completions are awaited with
 * io_uring_wait_cqe_timeout, whose timeout is only a hang guard.
 */
#include <liburing.h>
#include <sys/uio.h>

#include "vchan_util.h"

#include "kselftest_harness.h"

#include "vchan_fixture.h"
#include "vchan_async.h"

#define RING_ENTRIES	1024

FIXTURE(uring) {
	VCHAN_CHAN_FIXTURE;
	struct io_uring ring;
	bool ring_ok;
};

FIXTURE_SETUP(uring)
{
	int r;

	self->ring_ok = false;
	vchan_chan_setup(_metadata, &self->chan);
	r = io_uring_queue_init(RING_ENTRIES, &self->ring, 0);
	if (r == -ENOSYS || r == -EPERM)
		SKIP(return, "io_uring is not available: %s", strerror(-r));
	ASSERT_EQ(0, r) TH_LOG("io_uring_queue_init: %s", strerror(-r));
	self->ring_ok = true;
}

FIXTURE_TEARDOWN(uring)
{
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	vchan_chan_teardown(&self->chan);
}

/* ---- submissions and completions ---- */

static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

static void q_write(struct __test_metadata *_metadata, struct io_uring *ring,
		    int fd, const void *buf, size_t len, __u64 ud, __u8 flags)
{
	struct io_uring_sqe *sqe = get_sqe(ring);

	ASSERT_NE(NULL, sqe);
	io_uring_prep_write(sqe, fd, buf, len, 0);
	sqe->user_data = ud;
	sqe->flags |= flags;
}

static void q_read(struct __test_metadata *_metadata, struct io_uring *ring,
		   int fd, void *buf, size_t len, __u64 ud, __u8 flags)
{
	struct io_uring_sqe *sqe = get_sqe(ring);

	ASSERT_NE(NULL, sqe);
	io_uring_prep_read(sqe, fd, buf, len, 0);
	sqe->user_data = ud;
	sqe->flags |= flags;
}

static void q_cancel(struct __test_metadata *_metadata, struct io_uring *ring,
		     __u64 target, __u64 ud)
{
	struct io_uring_sqe *sqe = get_sqe(ring);

	ASSERT_NE(NULL, sqe);
	io_uring_prep_cancel64(sqe, target, 0);
	sqe->user_data = ud;
}

struct cqe {
	__u64 ud;
	int res;
};

/* The next completion, waited for under the hang guard: 0 or -errno. */
static int wait_cqe(struct io_uring *ring, struct cqe *c)
{
	struct __kernel_timespec ts = { .tv_sec = VCHAN_HANG_MS / 1000 };
	struct io_uring_cqe *cqe;
	int r;

	do
		r = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	while (r == -EINTR);
	if (r)
		return r;
	c->ud = cqe->user_data;
	c->res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* A completion that is there now: 0, or -EAGAIN if there is none. */
static int peek_cqe(struct io_uring *ring, struct cqe *c)
{
	struct io_uring_cqe *cqe;
	int r = io_uring_peek_cqe(ring, &cqe);

	if (r)
		return r;
	c->ud = cqe->user_data;
	c->res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

#define EXPECT_CQE(c, u, r) do {				\
	EXPECT_EQ((__u64)(u), (c).ud);				\
	EXPECT_EQ((int)(r), (c).res);				\
} while (0)

/*
 * Waits for two completions, in either order: the one of request 'a' with
 * result 'ra' and the one of request 'b' with result 'rb'.
 */
static void expect_two(struct __test_metadata *_metadata, struct io_uring *ring,
		       __u64 a, int ra, __u64 b, int rb)
{
	struct cqe c[2];
	int i;

	ASSERT_EQ(0, wait_cqe(ring, &c[0]));
	ASSERT_EQ(0, wait_cqe(ring, &c[1]));
	for (i = 0; i < 2; i++) {
		if (c[i].ud == a) {
			EXPECT_EQ(ra, c[i].res);
		} else {
			EXPECT_CQE(c[i], b, rb);
		}
	}
	EXPECT_NE(c[0].ud, c[1].ud);
}

/* Waits for the next completion and checks it. */
#define EXPECT_NEXT(ring, u, r) do {				\
	struct cqe __c = { ~0ULL, 0 };				\
	ASSERT_EQ(0, wait_cqe(ring, &__c)) TH_LOG("no completion of %llu", \
						 (unsigned long long)(u)); \
	EXPECT_CQE(__c, u, r);					\
} while (0)

/* The request completed inside io_uring_submit (no waiting). */
#define EXPECT_NOW(ring, u, r) do {				\
	struct cqe __c = { ~0ULL, 0 };				\
	ASSERT_EQ(0, peek_cqe(ring, &__c)) TH_LOG("%llu did not complete at once", \
						 (unsigned long long)(u)); \
	EXPECT_CQE(__c, u, r);					\
} while (0)

#define EXPECT_NONE(ring) do {					\
	struct cqe __c = { ~0ULL, 0 };				\
	EXPECT_EQ(-EAGAIN, peek_cqe(ring, &__c))		\
		TH_LOG("unexpected completion %llu: %d",	\
		       (unsigned long long)__c.ud, __c.res);	\
} while (0)

/*
 * 'n' writes at wfd chained with IOSQE_IO_HARDLINK to a channel nobody
 * reads; then rfd drains it: each message whole and in order, and the
 * completions in order with the full length.
 */
static void mixed_writes_drain(struct __test_metadata *_metadata,
			       FIXTURE_DATA(uring) *self, int wfd, int rfd,
			       bool to_client, unsigned int n,
			       size_t (*len_of)(unsigned int), uint32_t seed)
{
	struct vchan_msgs m;
	uint8_t *rbuf;
	unsigned int i;
	struct cqe c;

	ASSERT_GE(RING_ENTRIES, n);
	ASSERT_EQ(0, vchan_msgs_init(&m, n, len_of, seed));
	rbuf = vchan_alloc(MiB);
	ASSERT_NE(NULL, rbuf);
	ASSERT_EQ(0, vchan_set_mode(rfd, VCHAN_READ_PDU, READ_CHUNK));
	TH_LOG("%u messages, %zu bytes", n, m.total);

	for (i = 0; i < n; i++)
		q_write(_metadata, &self->ring, wfd, m.arena + m.off[i], m.len[i], i,
			i + 1 < n ? IOSQE_IO_HARDLINK : 0);
	ASSERT_EQ((int)n, io_uring_submit(&self->ring));

	for (i = 0; i < n; i++)
		vchan_expect_nth(_metadata, rfd, rbuf, &m, i);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, wait_cqe(&self->ring, &c)) TH_LOG("no completion %u", i);
		ASSERT_EQ(i, c.ud) TH_LOG("completion %u is of %llu", i,
					  (unsigned long long)c.ud);
		ASSERT_EQ((int)m.len[i], c.res) TH_LOG("write %u", i);
	}
	EXPECT_NONE(&self->ring);
	EXPECT_EQ(0, vchan_poll(rfd, POLLIN, 0));
	vchan_expect_carried(_metadata, rfd, to_client, n, m.total);
	vchan_free(rbuf, MiB);
	vchan_msgs_free(&m);
}

/* ---- tests ---- */

/* A write with room and a read with data complete inside io_uring_submit. */
TEST_F(uring, write_read_at_once)
{
	struct iovec wv[3] = {
		{ .iov_base = "abc", .iov_len = 3 },
		{ .iov_base = "", .iov_len = 0 },
		{ .iov_base = "defgh", .iov_len = 5 },
	};
	char a[4], b[10], buf[64];
	struct iovec rv[2] = {
		{ .iov_base = a, .iov_len = sizeof(a) },
		{ .iov_base = b, .iov_len = sizeof(b) },
	};
	struct io_uring_sqe *sqe;

	vchan_make_pair(_metadata, &self->chan, "now", 0, 0);

	q_write(_metadata, &self->ring, self->se, "hello", 5, 1, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_NOW(&self->ring, 1, 5);
	q_read(_metadata, &self->ring, self->cl, buf, sizeof(buf), 2, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_NOW(&self->ring, 2, 5);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));

	q_write(_metadata, &self->ring, self->cl, "world!", 6, 3, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_NOW(&self->ring, 3, 6);
	q_read(_metadata, &self->ring, self->se, buf, sizeof(buf), 4, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_NOW(&self->ring, 4, 6);
	EXPECT_EQ(0, memcmp(buf, "world!", 6));

	/* WRITEV is one message; READV spreads it. */
	sqe = get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_writev(sqe, self->se, wv, 3, 0);
	sqe->user_data = 5;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_NOW(&self->ring, 5, 8);
	EXPECT_EQ(8, vchan_fionread(self->cl));
	sqe = get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_readv(sqe, self->cl, rv, 2, 0);
	sqe->user_data = 6;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_NOW(&self->ring, 6, 8);
	EXPECT_EQ(0, memcmp(a, "abcd", 4));
	EXPECT_EQ(0, memcmp(b, "efgh", 4));

	EXPECT_NONE(&self->ring);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	EXPECT_EQ(0, vchan_poll(self->se, POLLIN, 0));
}

/* 1,000 chained writes of 0 B to 1 MiB (about 41 MiB), then drained. */
TEST_F_TIMEOUT(uring, mixed_writes_in_order, 600)
{
	vchan_make_pair(_metadata, &self->chan, "mixed", 0, 0);
	mixed_writes_drain(_metadata, self, self->se, self->cl, true, 1000,
			   vchan_mixed_len, 0x110000);
}

TEST_F_TIMEOUT(uring, mixed_writes_in_order_to_session, 300)
{
	vchan_make_pair(_metadata, &self->chan, "mixts", 0, 0);
	mixed_writes_drain(_metadata, self, self->cl, self->se, false, 300,
			   vchan_small_len, 0x120000);
}

TEST_F_TIMEOUT(uring, mixed_writes_in_order_small_ring, 300)
{
	vchan_make_pair(_metadata, &self->chan, "mixsr", RING, 0);
	mixed_writes_drain(_metadata, self, self->se, self->cl, true, 300,
			   vchan_small_len, 0x130000);
}

/*
 * Submits n reads at fd chained with IOSQE_IO_HARDLINK, read i (user_data
 * i) into the i-th of n buffers of 'size' bytes at bufs; none completes yet.
 */
static void park_reads(struct __test_metadata *_metadata, struct io_uring *ring,
		       int fd, void *bufs, size_t size, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		q_read(_metadata, ring, fd, (uint8_t *)bufs + i * size, size, i,
		       i + 1 < n ? IOSQE_IO_HARDLINK : 0);
	ASSERT_EQ((int)n, io_uring_submit(ring));
	EXPECT_NONE(ring);
}

/*
 * Chained stream-mode reads parked on an empty direction complete as data
 * arrives, in order; a zero-length message is skipped; one message spreads
 * over several reads.
 */
static void reads_fifo(struct __test_metadata *_metadata, FIXTURE_DATA(uring) *self,
		       int rfd, int wfd)
{
	static char bufs[4][100];
	uint8_t msg[250];

	memset(bufs, 0, sizeof(bufs));
	park_reads(_metadata, &self->ring, rfd, bufs, sizeof(bufs[0]), 4);

	ASSERT_EQ(10, write(wfd, "0123456789", 10));
	EXPECT_NEXT(&self->ring, 0, 10);
	EXPECT_EQ(0, memcmp(bufs[0], "0123456789", 10));

	ASSERT_EQ(0, write(wfd, "", 0));
	vchan_fill(msg, sizeof(msg), 0xa1, 0);
	ASSERT_EQ(250, write(wfd, msg, sizeof(msg)));
	EXPECT_NEXT(&self->ring, 1, 100);
	EXPECT_NEXT(&self->ring, 2, 100);
	EXPECT_NEXT(&self->ring, 3, 50);
	EXPECT_EQ(-1, vchan_check(bufs[1], 100, 0xa1, 0));
	EXPECT_EQ(-1, vchan_check(bufs[2], 100, 0xa1, 100));
	EXPECT_EQ(-1, vchan_check(bufs[3], 50, 0xa1, 200));
	EXPECT_NONE(&self->ring);
	EXPECT_EQ(0, vchan_fionread(rfd));
	EXPECT_EQ(0, vchan_poll(rfd, POLLIN, 0));
}

TEST_F(uring, reads_fifo_client_end)
{
	vchan_make_pair(_metadata, &self->chan, "rdcl", 0, 0);
	reads_fifo(_metadata, self, self->cl, self->se);
}

TEST_F(uring, reads_fifo_session_end)
{
	vchan_make_pair(_metadata, &self->chan, "rdse", 0, 0);
	reads_fifo(_metadata, self, self->se, self->cl);
}

/* 64 chained reads, each message written one at a time, each read waited for. */
TEST_F(uring, reads_many_messages_fifo)
{
	static char bufs[64][128];
	char msg[64];
	unsigned int i;
	int len;

	vchan_make_pair(_metadata, &self->chan, "rdmany", RING, 0);
	park_reads(_metadata, &self->ring, self->cl, bufs, sizeof(bufs[0]), 64);
	for (i = 0; i < 64; i++) {
		len = snprintf(msg, sizeof(msg), "message %u", i);
		ASSERT_EQ(len, write(self->se, msg, len));
		EXPECT_NEXT(&self->ring, i, len);
		EXPECT_EQ(0, memcmp(bufs[i], msg, len));
	}
	EXPECT_NONE(&self->ring);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
}

/* PDU-mode reads through io_uring: header + chunk each, flags exact. */
static void reads_pdu(struct __test_metadata *_metadata, FIXTURE_DATA(uring) *self,
		      int rfd, int wfd)
{
	static uint8_t bufs[3][8 + 64];
	uint8_t msg[100];

	ASSERT_EQ(0, vchan_set_mode(rfd, VCHAN_READ_PDU, 64));
	park_reads(_metadata, &self->ring, rfd, bufs, sizeof(bufs[0]), 3);

	vchan_fill(msg, sizeof(msg), 0xb1, 0);
	ASSERT_EQ(100, write(wfd, msg, sizeof(msg)));
	EXPECT_NEXT(&self->ring, 0, 8 + 64);
	EXPECT_NEXT(&self->ring, 1, 8 + 36);
	EXPECT_PDU(bufs[0], 100, VCHAN_PDU_FIRST);
	EXPECT_EQ(-1, vchan_check(bufs[0] + 8, 64, 0xb1, 0));
	EXPECT_PDU(bufs[1], 100, VCHAN_PDU_LAST);
	EXPECT_EQ(-1, vchan_check(bufs[1] + 8, 36, 0xb1, 64));

	ASSERT_EQ(0, write(wfd, "", 0));
	EXPECT_NEXT(&self->ring, 2, 8);
	EXPECT_PDU(bufs[2], 0, VCHAN_PDU_FIRST | VCHAN_PDU_LAST);
	EXPECT_NONE(&self->ring);
	EXPECT_EQ(0, vchan_poll(rfd, POLLIN, 0));
}

TEST_F(uring, reads_pdu_client_end)
{
	vchan_make_pair(_metadata, &self->chan, "pducl", 0, 0);
	reads_pdu(_metadata, self, self->cl, self->se);
}

TEST_F(uring, reads_pdu_session_end)
{
	vchan_make_pair(_metadata, &self->chan, "pduse", 0, 0);
	reads_pdu(_metadata, self, self->se, self->cl);
}

/*
 * IORING_OP_ASYNC_CANCEL of a read parked on poll (empty channel) ends it
 * with -ECANCELED; it takes nothing of what comes later.  The same for a
 * write parked on a full ring: nothing of it is delivered.
 */
TEST_F(uring, cancel_parked_read_and_write)
{
	char buf[64];

	vchan_make_pair(_metadata, &self->chan, "cancel", RING, 0);

	q_read(_metadata, &self->ring, self->cl, buf, sizeof(buf), 1, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_NONE(&self->ring);
	q_cancel(_metadata, &self->ring, 1, 2);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	expect_two(_metadata, &self->ring, 1, -ECANCELED, 2, 0);
	EXPECT_NONE(&self->ring);

	ASSERT_EQ(5, write(self->se, "after", 5));
	EXPECT_EQ(5, read(self->cl, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "after", 5));
	/* A new read works. */
	ASSERT_EQ(1, write(self->se, "x", 1));
	q_read(_metadata, &self->ring, self->cl, buf, sizeof(buf), 3, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_NEXT(&self->ring, 3, 1);
	EXPECT_EQ('x', buf[0]);

	/* A write parked on a full ring. */
	ASSERT_EQ(0, vchan_write_pattern(self->se, RING - HDR, 0xc1));
	q_write(_metadata, &self->ring, self->se, "0123456789", 10, 4, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_NONE(&self->ring);
	q_cancel(_metadata, &self->ring, 4, 5);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	expect_two(_metadata, &self->ring, 4, -ECANCELED, 5, 0);
	EXPECT_EQ(0, vchan_read_pattern(self->cl, RING - HDR, 0xc1));
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	EXPECT_EQ(3, vchan_dir(_metadata, self->cl, true).total_msgs);
	EXPECT_EQ(0, vchan_dir(_metadata, self->cl, true).queued_msgs);
	EXPECT_NONE(&self->ring);
}

/*
 * The client end closes while the session end has a read parked on an empty
 * direction and a write parked on a full one: 0 (EOF) and -EPIPE.
 */
TEST_F(uring, client_close_parked_eof_epipe)
{
	char buf[64];

	vchan_make_pair(_metadata, &self->chan, "hup", RING, 0);
	ASSERT_EQ(0, vchan_write_pattern(self->se, RING - HDR, 0xd1));
	q_read(_metadata, &self->ring, self->se, buf, sizeof(buf), 1, 0);
	q_write(_metadata, &self->ring, self->se, "late", 4, 2, 0);
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	EXPECT_NONE(&self->ring);

	ASSERT_EQ(0, close(self->cl));
	self->cl = -1;
	expect_two(_metadata, &self->ring, 1, 0, 2, -EPIPE);
	EXPECT_NONE(&self->ring);
}

TEST_HARNESS_MAIN
