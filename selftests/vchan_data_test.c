// SPDX-License-Identifier: GPL-2.0
/*
 * vchan: the data path in both directions: message sizes and boundaries,
 * order, concurrent writers, EMSGSIZE, short reads, FIONREAD, zero-length
 * messages and the PDU read mode.
 *
 * Every test runs once per direction (variant to_client: the session end
 * writes and the client end reads; variant to_session: the other way).
 */
#include "vchan_util.h"

#include "kselftest_harness.h"

#include "vchan_fixture.h"

#define MIB (1024 * 1024)

FIXTURE(data) {
	VCHAN_CHAN_FIXTURE;
	int w, r;	/* writer and reader of the direction under test */
	__u32 ring;	/* ring size of that direction */
};

FIXTURE_VARIANT(data) {
	bool to_session;
};

FIXTURE_VARIANT_ADD(data, to_client) {
	.to_session = false,
};

FIXTURE_VARIANT_ADD(data, to_session) {
	.to_session = true,
};

static void open_pair(struct __test_metadata *_metadata,
		      FIXTURE_DATA(data) *self,
		      const FIXTURE_VARIANT(data) *variant, __u32 ring)
{
	char name[16];
	struct vchan_info info;

	snprintf(name, sizeof(name), "d%u", ring);
	vchan_make_pair(_metadata, &self->chan, name, ring, 0);
	self->w = variant->to_session ? self->cl : self->se;
	self->r = variant->to_session ? self->se : self->cl;
	ASSERT_EQ(0, vchan_info(self->cl, &info));
	self->ring = variant->to_session ? info.to_session.ring_size :
					   info.to_client.ring_size;
}

FIXTURE_SETUP(data)
{
	vchan_chan_setup(_metadata, &self->chan);
	open_pair(_metadata, self, variant, 0);
	ASSERT_EQ(65536, self->ring);
}

FIXTURE_TEARDOWN(data)
{
	vchan_chan_teardown(&self->chan);
}

/* Counters of the direction under test. */
static int dir_info(FIXTURE_DATA(data) *self,
		    const FIXTURE_VARIANT(data) *variant,
		    struct vchan_dir_info *d)
{
	struct vchan_info info;

	if (vchan_info(self->cl, &info))
		return -1;
	*d = variant->to_session ? info.to_session : info.to_client;
	return 0;
}

/* ---- one big message against a reader thread ---- */

struct msg_reader {
	int fd;
	size_t len;		/* the message */
	uint8_t *buf;		/* len + 64 bytes */
	int err;		/* from vchan_read_msg() */
	ssize_t marker;		/* 3: "END" came whole; else -errno */
	unsigned char mark[64];
};

static void *msg_reader_fn(void *p)
{
	struct msg_reader *m = p;

	m->err = vchan_read_msg(m->fd, m->buf, m->len, m->len + 64, 64);
	/*
	 * The marker too may stream (when the ring was nearly full as it was
	 * written) and come in several reads, none crossing its end.
	 */
	if (!m->err)
		m->marker = vchan_read_msg(m->fd, m->mark, 3, sizeof(m->mark),
					   sizeof(m->mark) - 3) ?: 3;
	return NULL;
}

/*
 * Sends a message of 'len' pattern bytes followed by the 3-byte message
 * "END" and checks that the reader gets exactly the message (no read crosses
 * its end), then exactly "END", and the counters.  When both fit in the ring
 * they are written before anything is read; otherwise a thread reads while
 * the message streams.
 */
static void xfer(struct __test_metadata *_metadata, FIXTURE_DATA(data) *self,
		 const FIXTURE_VARIANT(data) *variant, size_t len, uint32_t seed)
{
	bool in_ring = len + 3 + 2 * VCHAN_MSG_OVERHEAD <= self->ring;
	struct msg_reader m = { .fd = self->r, .len = len, .marker = -2 };
	const char *how = in_ring ? "in-ring" : "streaming";
	struct vchan_dir_info before, d;
	uint8_t *wbuf;
	pthread_t t;
	long long bad;

	ASSERT_EQ(0, dir_info(self, variant, &before));
	wbuf = vchan_alloc(len);
	m.buf = vchan_alloc(len + 64);
	ASSERT_NE(NULL, wbuf);
	ASSERT_NE(NULL, m.buf);
	vchan_fill(wbuf, len, seed, 0);

	if (in_ring) {
		ASSERT_EQ(len, write(self->w, wbuf, len));
		ASSERT_EQ(3, write(self->w, "END", 3));
		ASSERT_EQ(0, dir_info(self, variant, &d));
		EXPECT_EQ(len + 3, d.queued_bytes);
		EXPECT_EQ(2, d.queued_msgs);
		EXPECT_EQ(len, vchan_fionread(self->r));
		msg_reader_fn(&m);
	} else {
		ASSERT_EQ(0, pthread_create(&t, NULL, msg_reader_fn, &m));
		EXPECT_EQ(len, write(self->w, wbuf, len)) TH_LOG("write: %s", strerror(errno));
		EXPECT_EQ(3, write(self->w, "END", 3));
		ASSERT_EQ(0, vchan_join(t, NULL)) TH_LOG("reader hangs");
	}
	ASSERT_EQ(0, m.err) TH_LOG("reading %zu bytes (%s path): %s", len, how,
				   strerror(-m.err));
	bad = vchan_check(m.buf, len, seed, 0);
	EXPECT_EQ(-1, bad) TH_LOG("first wrong byte at offset %lld of %zu", bad, len);
	EXPECT_EQ(vchan_checksum(wbuf, len), vchan_checksum(m.buf, len));
	EXPECT_EQ(3, m.marker) TH_LOG("after %zu bytes (%s path)", len, how);
	EXPECT_EQ(0, memcmp(m.mark, "END", 3))
		TH_LOG("after %zu bytes: %02x %02x %02x", len, m.mark[0],
		       m.mark[1], m.mark[2]);

	/* Nothing more, and the counters add up. */
	EXPECT_EQ(0, vchan_fionread(self->r)) TH_LOG("after %zu bytes", len);
	EXPECT_EQ(0, vchan_poll(self->r, POLLIN, 0)) TH_LOG("after %zu bytes", len);
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(0, d.queued_bytes) TH_LOG("after %zu bytes", len);
	EXPECT_EQ(0, d.queued_msgs) TH_LOG("after %zu bytes", len);
	EXPECT_EQ(before.total_bytes + len + 3, d.total_bytes);
	EXPECT_EQ(before.total_msgs + 2, d.total_msgs);
	vchan_free(wbuf, len);
	vchan_free(m.buf, len + 64);
}

TEST_F(data, size_1)
{
	xfer(_metadata, self, variant, 1, 1);
}

TEST_F(data, size_1599)
{
	xfer(_metadata, self, variant, 1599, 2);
}

TEST_F(data, size_1600)
{
	xfer(_metadata, self, variant, 1600, 3);
}

TEST_F(data, size_1601)
{
	xfer(_metadata, self, variant, 1601, 4);
}

/* The largest message that fits in the ring beside "END", then one more. */
TEST_F(data, size_ring_edges)
{
	size_t fit = self->ring - 3 - 2 * VCHAN_MSG_OVERHEAD;

	xfer(_metadata, self, variant, fit, 5);
	xfer(_metadata, self, variant, fit + 1, 6);
	xfer(_metadata, self, variant, self->ring - VCHAN_MSG_OVERHEAD, 7);
	xfer(_metadata, self, variant, self->ring, 8);
}

TEST_F(data, size_64k)
{
	xfer(_metadata, self, variant, 64 * 1024, 9);
}

TEST_F_TIMEOUT(data, size_1m, 120)
{
	xfer(_metadata, self, variant, MIB, 10);
}

TEST_F_TIMEOUT(data, size_16m_max, 300)
{
	xfer(_metadata, self, variant, VCHAN_MSG_MAX, 11);
}

/* Several messages back to back through a small ring. */
TEST_F_TIMEOUT(data, sizes_small_ring, 120)
{
	static const size_t sizes[] = { 1, 1599, 1600, 1601, 4092, 4093, 4096,
					65536, 100000 };
	unsigned int i;

	close(self->se);
	close(self->cl);
	open_pair(_metadata, self, variant, VCHAN_RING_MIN);
	ASSERT_EQ(VCHAN_RING_MIN, self->ring);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		xfer(_metadata, self, variant, sizes[i], 100 + i);
}

/* Zero-length messages: counted, never returned by plain reads. */
TEST_F(data, size_0_skipped)
{
	struct vchan_dir_info d;
	char buf[16];

	ASSERT_EQ(0, write(self->w, buf, 0));
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(1, d.total_msgs);
	EXPECT_EQ(0, d.total_bytes);
	EXPECT_EQ(1, d.queued_msgs);
	EXPECT_EQ(0, d.queued_bytes);
	/* Only a zero-length message: EPOLLIN, but a plain read has nothing. */
	EXPECT_EQ(POLLIN, vchan_poll(self->r, POLLIN, 0) & POLLIN);
	ASSERT_EQ(0, vchan_set_nonblock(self->r, true));
	EXPECT_EQ(-1, read(self->r, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, vchan_set_nonblock(self->r, false));

	ASSERT_EQ(0, write(self->w, buf, 0));
	ASSERT_EQ(2, write(self->w, "ab", 2));
	ASSERT_EQ(0, write(self->w, buf, 0));
	ASSERT_EQ(1, write(self->w, "c", 1));
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(5, d.total_msgs);
	EXPECT_EQ(3, d.total_bytes);

	EXPECT_EQ(2, read(self->r, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "ab", 2));
	EXPECT_EQ(1, read(self->r, buf, sizeof(buf)));
	EXPECT_EQ('c', buf[0]);
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(0, d.queued_msgs);
	EXPECT_EQ(0, d.queued_bytes);
	EXPECT_EQ(0, vchan_poll(self->r, POLLIN, 0));
}

TEST_F(data, emsgsize)
{
	size_t len = (size_t)VCHAN_MSG_MAX + 1;
	struct vchan_dir_info d;
	void *big = vchan_alloc(len);	/* untouched: costs no memory */

	ASSERT_NE(NULL, big);
	EXPECT_EQ(-1, write(self->w, big, len));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, write(self->w, big, (size_t)VCHAN_MSG_MAX * 2));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, vchan_set_nonblock(self->w, true));
	EXPECT_EQ(-1, write(self->w, big, len));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, vchan_set_nonblock(self->w, false));
	vchan_free(big, len);

	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(0, d.total_msgs);
	EXPECT_EQ(0, d.total_bytes);
	EXPECT_EQ(0, vchan_poll(self->r, POLLIN, 0));
	/* Still usable. */
	EXPECT_EQ(0, vchan_write_pattern(self->w, 100, 42));
	EXPECT_EQ(0, vchan_read_pattern(self->r, 100, 42));
}

/* A short read buffer leaves the rest of the message for the next reads. */
TEST_F(data, short_reads_and_fionread)
{
	uint8_t a[100], b[50], buf[200];
	struct vchan_dir_info d;

	EXPECT_EQ(0, vchan_fionread(self->r));
	vchan_fill(a, sizeof(a), 1, 0);
	vchan_fill(b, sizeof(b), 2, 0);
	ASSERT_EQ(100, write(self->w, a, 100));
	ASSERT_EQ(50, write(self->w, b, 50));
	EXPECT_EQ(100, vchan_fionread(self->r));

	ASSERT_EQ(10, read(self->r, buf, 10));
	EXPECT_EQ(0, memcmp(buf, a, 10));
	EXPECT_EQ(90, vchan_fionread(self->r));
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(140, d.queued_bytes);
	EXPECT_EQ(2, d.queued_msgs);

	ASSERT_EQ(50, read(self->r, buf, 50));
	EXPECT_EQ(0, memcmp(buf, a + 10, 50));
	EXPECT_EQ(40, vchan_fionread(self->r));

	/* A big buffer gets only the rest of this message. */
	ASSERT_EQ(40, read(self->r, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, a + 60, 40));
	EXPECT_EQ(50, vchan_fionread(self->r));
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(50, d.queued_bytes);
	EXPECT_EQ(1, d.queued_msgs);

	ASSERT_EQ(1, read(self->r, buf, 1));
	EXPECT_EQ(b[0], buf[0]);
	ASSERT_EQ(49, read(self->r, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, b + 1, 49));
	EXPECT_EQ(0, vchan_fionread(self->r));
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(0, d.queued_bytes);
	EXPECT_EQ(0, d.queued_msgs);
	EXPECT_EQ(150, d.total_bytes);
	EXPECT_EQ(2, d.total_msgs);
}

/* ---- order of many messages ---- */

#define ORDER_MSGS 600

static size_t order_size(int i)
{
	return (size_t)(i * 389) % 2500 + 1;
}

struct order_reader {
	int fd;
	int done;		/* messages read correctly */
	int err;
};

static void *order_reader_fn(void *p)
{
	struct order_reader *o = p;
	uint8_t buf[2600];
	int i;

	for (i = 0; i < ORDER_MSGS; i++) {
		size_t len = order_size(i);

		o->err = vchan_read_msg(o->fd, buf, len, sizeof(buf), 64);
		if (o->err)
			return NULL;
		if (vchan_check(buf, len, 1000 + i, 0) >= 0) {
			o->err = -EBADMSG;
			return NULL;
		}
		o->done++;
	}
	return NULL;
}

TEST_F_TIMEOUT(data, message_order, 120)
{
	struct order_reader o = { .fd = self->r };
	struct vchan_dir_info d;
	uint8_t buf[2600];
	size_t total = 0;
	pthread_t t;
	int i;

	/* First a batch that fits in the ring, read after writing it. */
	for (i = 0; i < 20; i++) {
		vchan_fill(buf, order_size(i), 1000 + i, 0);
		ASSERT_EQ(order_size(i), write(self->w, buf, order_size(i)));
		total += order_size(i);
	}
	ASSERT_LT(total + 20 * VCHAN_MSG_OVERHEAD, self->ring);
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(20, d.queued_msgs);
	EXPECT_EQ(total, d.queued_bytes);

	/* Then many more than the ring holds while a thread reads. */
	ASSERT_EQ(0, pthread_create(&t, NULL, order_reader_fn, &o));
	for (; i < ORDER_MSGS; i++) {
		vchan_fill(buf, order_size(i), 1000 + i, 0);
		EXPECT_EQ(order_size(i), write(self->w, buf, order_size(i)));
		total += order_size(i);
	}
	ASSERT_EQ(0, vchan_join(t, NULL)) TH_LOG("reader hangs after %d", o.done);
	EXPECT_EQ(0, o.err) TH_LOG("message %d: %s", o.done, strerror(-o.err));
	EXPECT_EQ(ORDER_MSGS, o.done);
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(ORDER_MSGS, d.total_msgs);
	EXPECT_EQ(total, d.total_bytes);
	EXPECT_EQ(0, d.queued_msgs);
}

/* ---- concurrent writers never interleave ---- */

#define WRITERS 4
#define PER_WRITER 120
#define CW_MAX 9000

struct cw_hdr {
	uint32_t id;
	uint32_t seq;
};

static size_t cw_size(uint32_t id, uint32_t seq)
{
	return sizeof(struct cw_hdr) + (id * 1319 + seq * 977) % (CW_MAX - 8);
}

static uint8_t cw_byte(uint32_t id, uint32_t seq)
{
	return (uint8_t)(0x11 * (id + 1) + seq * 7);
}

struct cw_writer {
	int fd;
	uint32_t id;
	pthread_barrier_t *start;
	int err;
};

static void *cw_writer_fn(void *p)
{
	struct cw_writer *cw = p;
	uint8_t buf[CW_MAX];
	uint32_t seq;

	pthread_barrier_wait(cw->start);
	for (seq = 0; seq < PER_WRITER; seq++) {
		struct cw_hdr h = { cw->id, seq };
		size_t len = cw_size(cw->id, seq);

		memset(buf, cw_byte(cw->id, seq), len);
		memcpy(buf, &h, sizeof(h));
		cw->err = vchan_write_msg(cw->fd, buf, len);
		if (cw->err)
			break;
	}
	return NULL;
}

struct cw_reader {
	int fd;
	int done;
	char what[128];
};

static void *cw_reader_fn(void *p)
{
	struct cw_reader *r = p;
	uint32_t next[WRITERS] = { 0 };
	uint8_t buf[CW_MAX + 64];
	struct cw_hdr h;
	size_t len, i;
	int err;

	for (r->done = 0; r->done < WRITERS * PER_WRITER; r->done++) {
		/* The tag first: a read never returns more than one message. */
		err = vchan_read_msg(r->fd, buf, sizeof(h), sizeof(h), 0);
		if (err) {
			snprintf(r->what, sizeof(r->what), "tag: %s", strerror(-err));
			return NULL;
		}
		memcpy(&h, buf, sizeof(h));
		if (h.id >= WRITERS || h.seq != next[h.id]) {
			snprintf(r->what, sizeof(r->what),
				 "got writer %u seq %u, expected seq %u",
				 h.id, h.seq, h.id < WRITERS ? next[h.id] : 0);
			return NULL;
		}
		len = cw_size(h.id, h.seq);
		err = vchan_read_msg(r->fd, buf + sizeof(h), len - sizeof(h),
				     sizeof(buf) - sizeof(h), 64);
		if (err) {
			snprintf(r->what, sizeof(r->what), "writer %u seq %u: %s",
				 h.id, h.seq, err == -EPROTO ?
				 "read crossed the message end" : strerror(-err));
			return NULL;
		}
		for (i = sizeof(h); i < len; i++)
			if (buf[i] != cw_byte(h.id, h.seq)) {
				snprintf(r->what, sizeof(r->what),
					 "writer %u seq %u: foreign byte at %zu",
					 h.id, h.seq, i);
				return NULL;
			}
		next[h.id]++;
	}
	return NULL;
}

static void concurrent_writers(struct __test_metadata *_metadata,
			       FIXTURE_DATA(data) *self,
			       const FIXTURE_VARIANT(data) *variant)
{
	struct cw_writer cw[WRITERS];
	struct cw_reader rd = { .fd = self->r };
	pthread_barrier_t start;
	pthread_t wt[WRITERS], rt;
	struct vchan_dir_info d;
	size_t total = 0;
	uint32_t i, s;

	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, WRITERS + 1));
	ASSERT_EQ(0, pthread_create(&rt, NULL, cw_reader_fn, &rd));
	for (i = 0; i < WRITERS; i++) {
		cw[i] = (struct cw_writer){ .fd = self->w, .id = i, .start = &start };
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, cw_writer_fn, &cw[i]));
		for (s = 0; s < PER_WRITER; s++)
			total += cw_size(i, s);
	}
	pthread_barrier_wait(&start);
	for (i = 0; i < WRITERS; i++) {
		ASSERT_EQ(0, vchan_join(wt[i], NULL)) TH_LOG("writer %u hangs", i);
		EXPECT_EQ(0, cw[i].err) TH_LOG("writer %u: %s", i, strerror(-cw[i].err));
	}
	ASSERT_EQ(0, vchan_join(rt, NULL)) TH_LOG("reader hangs after %d", rd.done);
	EXPECT_EQ(WRITERS * PER_WRITER, rd.done) TH_LOG("%s", rd.what);
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(WRITERS * PER_WRITER, d.total_msgs);
	EXPECT_EQ(total, d.total_bytes);
	EXPECT_EQ(0, d.queued_msgs);
	EXPECT_EQ(0, d.queued_bytes);
	pthread_barrier_destroy(&start);
}

TEST_F_TIMEOUT(data, concurrent_writers, 120)
{
	concurrent_writers(_metadata, self, variant);
}

/* With a ring smaller than most messages: they all stream. */
TEST_F_TIMEOUT(data, concurrent_writers_small_ring, 120)
{
	close(self->se);
	close(self->cl);
	open_pair(_metadata, self, variant, VCHAN_RING_MIN);
	concurrent_writers(_metadata, self, variant);
}

/* ---- PDU read mode ---- */

struct pdu {
	struct vchan_pdu_header h;
	uint8_t data[VCHAN_PDU_CHUNK_DEFAULT + 64];
};

static int get_mode(int fd, struct vchan_read_mode *m)
{
	memset(m, 0xa5, sizeof(*m));
	return ioctl(fd, VCHAN_IOC_GET_READ_MODE, m);
}

/*
 * Reads the PDUs of one message of 'len' pattern bytes with 'seed', with
 * reads of 'bufsz' bytes, expecting 'chunk' payload bytes per read.
 */
static void read_pdus(struct __test_metadata *_metadata, int fd, size_t len,
		      uint32_t seed, size_t chunk, size_t bufsz)
{
	size_t off = 0, want;
	uint8_t *buf = malloc(bufsz);
	struct vchan_pdu_header h;
	ssize_t n;
	int i = 0;

	ASSERT_NE(NULL, buf);
	do {
		want = len - off < chunk ? len - off : chunk;
		n = read(fd, buf, bufsz);
		ASSERT_EQ(sizeof(h) + want, n)
			TH_LOG("PDU %d of a %zu-byte message: %s", i, len,
			       n < 0 ? strerror(errno) : "wrong size");
		memcpy(&h, buf, sizeof(h));
		EXPECT_EQ(len, h.length) TH_LOG("PDU %d", i);
		EXPECT_EQ((off == 0 ? VCHAN_PDU_FIRST : 0) |
			  (off + want == len ? VCHAN_PDU_LAST : 0), h.flags)
			TH_LOG("PDU %d of a %zu-byte message", i, len);
		EXPECT_EQ(-1, vchan_check(buf + sizeof(h), want, seed, off))
			TH_LOG("PDU %d payload", i);
		off += want;
		i++;
	} while (off < len);
	free(buf);
}

TEST_F(data, pdu_default_chunks)
{
	struct vchan_read_mode m;

	ASSERT_EQ(0, get_mode(self->r, &m));
	EXPECT_EQ(VCHAN_READ_STREAM, m.mode);

	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_PDU, 0));
	ASSERT_EQ(0, get_mode(self->r, &m));
	EXPECT_EQ(VCHAN_READ_PDU, m.mode);
	EXPECT_EQ(VCHAN_PDU_CHUNK_DEFAULT, m.chunk);

	ASSERT_EQ(0, vchan_write_pattern(self->w, 4000, 1));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 1600, 2));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 1601, 3));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 1599, 4));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 1, 5));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 3200, 6));

	EXPECT_EQ(4000, vchan_fionread(self->r));
	read_pdus(_metadata, self->r, 4000, 1, 1600, sizeof(struct pdu));
	read_pdus(_metadata, self->r, 1600, 2, 1600, sizeof(struct pdu));
	read_pdus(_metadata, self->r, 1601, 3, 1600, sizeof(struct pdu));
	read_pdus(_metadata, self->r, 1599, 4, 1600, sizeof(struct pdu));
	read_pdus(_metadata, self->r, 1, 5, 1600, sizeof(struct pdu));
	read_pdus(_metadata, self->r, 3200, 6, 1600, sizeof(struct pdu));
	EXPECT_EQ(0, vchan_fionread(self->r));
	EXPECT_EQ(0, vchan_poll(self->r, POLLIN, 0));
}

/* FIONREAD between PDUs is what is left of the message. */
TEST_F(data, pdu_fionread)
{
	struct pdu p;

	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_PDU, 0));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 4000, 1));
	ASSERT_EQ(8 + 1600, read(self->r, &p, sizeof(p)));
	EXPECT_EQ(2400, vchan_fionread(self->r));
	ASSERT_EQ(8 + 1600, read(self->r, &p, sizeof(p)));
	EXPECT_EQ(800, vchan_fionread(self->r));
	ASSERT_EQ(8 + 800, read(self->r, &p, sizeof(p)));
	EXPECT_EQ(VCHAN_PDU_LAST, p.h.flags);
	EXPECT_EQ(0, vchan_fionread(self->r));
}

TEST_F(data, pdu_custom_chunk)
{
	struct vchan_read_mode m;

	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_PDU, 100));
	ASSERT_EQ(0, get_mode(self->r, &m));
	EXPECT_EQ(VCHAN_READ_PDU, m.mode);
	EXPECT_EQ(100, m.chunk);
	ASSERT_EQ(0, vchan_write_pattern(self->w, 250, 1));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 100, 2));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 101, 3));
	read_pdus(_metadata, self->r, 250, 1, 100, sizeof(struct pdu));
	read_pdus(_metadata, self->r, 100, 2, 100, sizeof(struct pdu));
	read_pdus(_metadata, self->r, 101, 3, 100, sizeof(struct pdu));

	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_PDU, 1));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 3, 4));
	read_pdus(_metadata, self->r, 3, 4, 1, sizeof(struct pdu));

	/* A chunk larger than the ring, and the largest one. */
	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_PDU, VCHAN_MSG_MAX));
	ASSERT_EQ(0, get_mode(self->r, &m));
	EXPECT_EQ(VCHAN_MSG_MAX, m.chunk);
	ASSERT_EQ(0, vchan_write_pattern(self->w, 5000, 5));
	read_pdus(_metadata, self->r, 5000, 5, VCHAN_MSG_MAX, 8 + 6000);

	/* Back to stream mode. */
	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_STREAM, 0));
	ASSERT_EQ(0, get_mode(self->r, &m));
	EXPECT_EQ(VCHAN_READ_STREAM, m.mode);
	ASSERT_EQ(0, vchan_write_pattern(self->w, 300, 6));
	EXPECT_EQ(0, vchan_read_pattern(self->r, 300, 6));
}

/* A read buffer smaller than header + chunk: the buffer limits the PDU. */
TEST_F(data, pdu_buffer_below_chunk)
{
	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_PDU, 0));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 25, 1));
	read_pdus(_metadata, self->r, 25, 1, 10, 8 + 10);
}

TEST_F(data, pdu_zero_length)
{
	struct vchan_pdu_header h[4];
	struct pdu p;

	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_PDU, 0));
	ASSERT_EQ(0, write(self->w, &p, 0));
	ASSERT_EQ(2, write(self->w, "xy", 2));
	ASSERT_EQ(0, write(self->w, &p, 0));

	ASSERT_EQ(sizeof(h[0]), read(self->r, h, sizeof(h)));
	EXPECT_EQ(0, h[0].length);
	EXPECT_EQ(VCHAN_PDU_FIRST | VCHAN_PDU_LAST, h[0].flags);
	ASSERT_EQ(8 + 2, read(self->r, &p, sizeof(p)));
	EXPECT_EQ(2, p.h.length);
	EXPECT_EQ(VCHAN_PDU_FIRST | VCHAN_PDU_LAST, p.h.flags);
	EXPECT_EQ(0, memcmp(p.data, "xy", 2));
	ASSERT_EQ(sizeof(h[0]), read(self->r, h, sizeof(h)));
	EXPECT_EQ(0, h[0].length);
	EXPECT_EQ(VCHAN_PDU_FIRST | VCHAN_PDU_LAST, h[0].flags);
	EXPECT_EQ(0, vchan_poll(self->r, POLLIN, 0));
}

TEST_F(data, pdu_short_buffer_emsgsize)
{
	struct vchan_dir_info d;
	struct pdu p;

	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_PDU, 0));
	ASSERT_EQ(0, vchan_write_pattern(self->w, 100, 1));
	EXPECT_EQ(-1, read(self->r, &p, sizeof(p.h) - 1));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, read(self->r, &p, 1));
	EXPECT_EQ(EMSGSIZE, errno);
	/* Nothing consumed. */
	EXPECT_EQ(100, vchan_fionread(self->r));
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(100, d.queued_bytes);
	EXPECT_EQ(1, d.queued_msgs);
	read_pdus(_metadata, self->r, 100, 1, 1600, sizeof(p));

	/* Also for a zero-length message, and with an empty ring. */
	ASSERT_EQ(0, write(self->w, &p, 0));
	EXPECT_EQ(-1, read(self->r, &p, sizeof(p.h) - 1));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, dir_info(self, variant, &d));
	EXPECT_EQ(1, d.queued_msgs);
	ASSERT_EQ(sizeof(p.h), read(self->r, &p, sizeof(p)));
	EXPECT_EQ(0, p.h.length);
	EXPECT_EQ(VCHAN_PDU_FIRST | VCHAN_PDU_LAST, p.h.flags);
}

/* The read mode is per open file: the writer's file is not affected. */
TEST_F(data, pdu_mode_per_file)
{
	struct vchan_read_mode m;
	char buf[16];

	ASSERT_EQ(0, vchan_set_mode(self->r, VCHAN_READ_PDU, 200));
	ASSERT_EQ(0, get_mode(self->w, &m));
	EXPECT_EQ(VCHAN_READ_STREAM, m.mode);
	/* The other direction is still read as a stream. */
	ASSERT_EQ(3, write(self->r, "abc", 3));
	EXPECT_EQ(3, read(self->w, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
}

TEST_HARNESS_MAIN
