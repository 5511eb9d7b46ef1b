// SPDX-License-Identifier: GPL-2.0
/*
 * Stress and soak: 32 channels, each with 4 writer and 2 reader threads,
 * random message sizes from 0 B to 1 MiB (most of them small), blocking,
 * non-blocking, libaio and io_uring writes and reads mixed at random, and
 * random io_cancel() of queued asynchronous writes and reads, for a bounded
 * time.  Then every message a writer was told was written must have been
 * read exactly once, whole and in that writer's order, and no cancelled or
 * refused one may have been seen.
 *
 * Each channel (VCHAN_F_SHARED) carries both directions: writers 0 and 1
 * write from session ends of their own (a blocking and an O_NONBLOCK open
 * each) and reader 0 reads at the client end; writers 2 and 3 write at the
 * client end (non-blocking there means pwritev2(RWF_NOWAIT): the file is
 * shared) and reader 1 reads at a session end of its own.  Readers read in
 * PDU mode with a 1 MiB chunk, so that every read is one whole message, the
 * zero-length ones included.
 *
 * Every message of 16 bytes or more starts with a header: writer, channel,
 * magic, sequence number and a checksum of the rest, which the reader checks
 * at once; a shorter message is that header cut to its length.  Each writer
 * logs the fate of each of its sequence numbers (written, cancelled,
 * refused), each reader the messages it got; at the end the two are
 * matched.  Zero-length messages carry no writer: their number is checked.
 * When the writers have finished, the test writes one end marker per
 * direction; a reader stops at it (cancelling its reads still queued).
 *
 * Environment:
 *   VCHAN_STRESS_SECONDS  how long the writers run; default 60 with
 *                         VCHAN_VM_KERNEL set (as in the VM), 30 with
 *                         VCHAN_VM_KERNEL=debug, 10 otherwise.
 *   VCHAN_STRESS_SEED     the random seed (printed at the start): replays a
 *                         run's choices (thread timing still varies).
 */
#include <libaio.h>
#include <limits.h>
#include <stdarg.h>
#include <liburing.h>
#include <stdatomic.h>
#include <sys/uio.h>

#include "vchan_util.h"
#include "kselftest_harness.h"

#define NCHAN		32
#define NWRITERS	4	/* 0, 1: session side; 2, 3: client side */
#define NREADERS	2	/* 0: at the client end; 1: at a session end */
#define MSG_MAX		(1U << 20)
#define HDR_LEN		16
#define MAGIC		0xa55a
#define END_MARK	0xee	/* writer byte of the end marker */
#define BATCH_MAX	4	/* asynchronous requests at once per thread */
#define RBUF_LEN	(sizeof(struct vchan_pdu_header) + MSG_MAX)
#define DRAIN_MS	120000	/* hang guard for the drain after the run */

enum { ST_NONE, ST_WRITTEN, ST_CANCELLED, ST_REFUSED };
enum { M_BLOCK, M_NONBLOCK, M_AIO, M_URING, M_COUNT };

static const char *const mode_name[M_COUNT] = {
	"blocking", "non-blocking", "libaio", "io_uring"
};

struct chan;

struct writer {
	struct chan *c;
	int id;
	int fd;			/* blocking */
	int fd_nb;		/* O_NONBLOCK session end, or -1 */
	uint64_t rng;
	uint32_t n, cap;	/* sequence numbers used */
	uint32_t *len;		/* per sequence number */
	uint8_t *st;		/* ST_* per sequence number */
	uint64_t calls[M_COUNT], cancels;
	pthread_t t;
};

/* One message a reader got: its writer and sequence, or its raw bytes. */
struct seen {
	uint8_t w;		/* writer, or 0xff for a zero-length message */
	uint8_t nraw;		/* bytes in raw[] (messages under HDR_LEN) */
	uint8_t raw[HDR_LEN - 1];
	uint32_t seq;		/* messages of HDR_LEN bytes or more */
	uint32_t len;
};

struct reader {
	struct chan *c;
	int id;
	int fd;
	bool own_fd;		/* fd is this reader's alone (O_NONBLOCK allowed) */
	uint64_t rng;
	uint32_t n, cap;
	struct seen *log;
	bool ended;		/* got the end marker */
	uint64_t calls[M_COUNT], cancels;
	pthread_t t;
};

struct chan {
	int idx;
	char name[8];
	__u32 ring;
	int cl;			/* client end */
	int se;			/* a session end for the end marker */
	struct writer w[NWRITERS];
	struct reader r[NREADERS];
};

static struct chan chans[NCHAN];
static __u32 session;
static atomic_bool stop_writers;
/*
 * Every thread and the test wait here before the run: threads that ran as
 * soon as they were created starved the creation of the others (on 6.1 the
 * last of the 192 started 41 s after the first; on the debug kernel over
 * 5 minutes), so the run lasted far longer than asked.
 */
static pthread_barrier_t start_line;
static atomic_bool failed;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[512];

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Records the first failure; every thread then winds down. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!atomic_load(&failed)) {
		va_start(ap, fmt);
		vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
		va_end(ap);
		atomic_store(&failed, true);
	}
	pthread_mutex_unlock(&fail_lock);
}

static uint64_t next_rand(uint64_t *s)	/* xorshift64* */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint64_t seed_of(uint64_t base, unsigned int a, unsigned int b)
{
	uint64_t s = base ^ ((uint64_t)a << 32) ^ ((uint64_t)b << 8) ^ 0x9e3779b97f4a7c15ull;

	return s ? s : 1;
}

/* Most messages small, a few up to 1 MiB: about 33 KB on average. */
static uint32_t rand_len(uint64_t *rng)
{
	uint64_t r = next_rand(rng), x = r >> 16;

	switch (r % 1000) {
	case 0 ... 9:	return 0;
	case 10 ... 399: return 1 + x % 63;
	case 400 ... 699: return 64 + x % (4096 - 64);
	case 700 ... 899: return 4096 + x % (65536 - 4096);
	case 900 ... 979: return 65536 + x % (262144 - 65536);
	default:	return 262144 + x % (MSG_MAX - 262144 + 1);
	}
}

/*
 * Payload of message 'seq' of writer 'w' on channel 'c' past its header, and
 * a checksum of it: 64-bit words, so that the threads spend their time in
 * the driver rather than here.
 */
static uint64_t payload_seed(unsigned int c, unsigned int w, uint32_t seq)
{
	return seed_of(((uint64_t)seq << 16) | (c << 4) | w, c, w);
}

static void fill_payload(uint8_t *p, size_t len, uint64_t s)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < len; i += 8) {
		v = next_rand(&s);
		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

static uint64_t sum_payload(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ len, v;
	size_t i;

	for (i = 0; i < len; i += 8) {
		v = 0;
		memcpy(&v, p + i, len - i < 8 ? len - i : 8);
		h = (h ^ v) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

/* Header of a message (the first min(len, HDR_LEN) bytes of it). */
static void make_header(uint8_t *h, unsigned int w, unsigned int c,
			uint32_t seq, uint64_t sum)
{
	uint16_t magic = MAGIC;

	h[0] = w;
	h[1] = c;
	memcpy(h + 2, &magic, 2);
	memcpy(h + 4, &seq, 4);
	memcpy(h + 8, &sum, 8);
}

/* Builds message 'seq' of writer w, 'len' bytes, at p. */
static void make_msg(struct writer *w, uint8_t *p, uint32_t len, uint32_t seq)
{
	uint8_t h[HDR_LEN];
	uint64_t sum = 0;

	if (len > HDR_LEN) {
		fill_payload(p + HDR_LEN, len - HDR_LEN,
			     payload_seed(w->c->idx, w->id, seq));
		sum = sum_payload(p + HDR_LEN, len - HDR_LEN);
	}
	make_header(h, w->id, w->c->idx, seq, sum);
	memcpy(p, h, len < HDR_LEN ? len : HDR_LEN);
}

/* ---- writers ---- */

static uint32_t new_seq(struct writer *w, uint32_t len)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 4096;
		w->len = realloc(w->len, w->cap * sizeof(*w->len));
		w->st = realloc(w->st, w->cap);
		if (!w->len || !w->st) {
			fail("out of memory");
			abort();
		}
	}
	w->len[w->n] = len;
	w->st[w->n] = ST_NONE;
	return w->n++;
}

static void set_fate(struct writer *w, uint32_t seq, ssize_t ret, int err,
		     bool may_refuse, const char *how)
{
	if (ret == (ssize_t)w->len[seq]) {
		w->st[seq] = ST_WRITTEN;
	} else if (ret < 0 && err == ECANCELED && !strcmp(how, "libaio")) {
		w->st[seq] = ST_CANCELLED;
	} else if (ret < 0 && err == EAGAIN && may_refuse) {
		w->st[seq] = ST_REFUSED;
	} else {
		w->st[seq] = ST_REFUSED;
		fail("channel %d writer %d: %s write of %u bytes returned %zd (%s)",
		     w->c->idx, w->id, how, w->len[seq], ret,
		     ret < 0 ? strerror(err) : "short");
	}
}

static void write_sync(struct writer *w, uint8_t *buf, bool nonblock)
{
	uint32_t len = rand_len(&w->rng), seq = new_seq(w, len);
	struct iovec iov = { buf, len };
	ssize_t r;
	int err;

	make_msg(w, buf, len, seq);
	/*
	 * pwritev2() of nothing returns 0 without calling the driver (the
	 * VFS's rule for vectored writes): a zero-length message needs write().
	 */
	if (!nonblock || (w->fd_nb < 0 && !len))
		r = write(w->fd, buf, len);
	else if (w->fd_nb >= 0)
		r = write(w->fd_nb, buf, len);
	else
		r = pwritev2(w->fd, &iov, 1, -1, RWF_NOWAIT);
	err = errno;
	set_fate(w, seq, r, err, nonblock, nonblock ? "non-blocking" : "blocking");
	if (nonblock && r < 0 && err == EAGAIN)	/* back off until writable */
		vchan_poll(w->fd_nb >= 0 ? w->fd_nb : w->fd, POLLOUT, 100);
}

/* Whether a read's buffer holds the end marker (PDU header + HDR_LEN). */
static bool is_end(const uint8_t *buf, long long n)
{
	return n == (long long)(sizeof(struct vchan_pdu_header) + HDR_LEN) &&
	       buf[sizeof(struct vchan_pdu_header)] == END_MARK;
}

/*
 * Waits for the completions of 'n' requests whose iocb data is their index
 * into res[] (LLONG_MIN until then), after cancelling those marked in
 * cancel[].  Reads pass their buffers: once one brings the end marker, no
 * later one can complete, and they are cancelled too.  0, or -1 after a
 * failure (reported).
 */
static int aio_collect(io_context_t ctx, struct iocb *cbs, int n,
		       long long *res, const bool *cancel, uint8_t **bufs,
		       uint64_t *ncancel, const char *who)
{
	long long deadline = vchan_now_ms() + DRAIN_MS;
	struct io_event ev[BATCH_MAX], dummy;
	bool all = false;
	int got = 0, i, r;

	for (;;) {
		struct timespec ts = { 0, 50 * 1000000 };

		for (i = 0; i < n; i++) {
			if (res[i] != LLONG_MIN || !(all || (cancel && cancel[i])))
				continue;
			r = io_cancel(ctx, &cbs[i], &dummy);
			if (r != -EINPROGRESS && r != -EINVAL) {
				fail("%s: io_cancel: %d", who, r);
				return -1;
			}
			(*ncancel)++;
		}
		if (got == n)
			return 0;
		r = io_getevents(ctx, 1, n - got, ev, &ts);
		if (r < 0 && r != -EINTR) {
			fail("%s: io_getevents: %s", who, strerror(-r));
			return -1;
		}
		for (i = 0; i < r; i++) {
			int idx = (uintptr_t)ev[i].data;

			res[idx] = (long)ev[i].res;
			if (bufs && is_end(bufs[idx], res[idx]))
				all = true;
		}
		got += r > 0 ? r : 0;
		if (vchan_now_ms() > deadline) {
			fail("%s: %d of %d asynchronous requests never completed",
			     who, n - got, n);
			return -1;
		}
		cancel = NULL;		/* asked once */
	}
}

static void write_aio(struct writer *w, io_context_t ctx, uint8_t *arena)
{
	struct iocb cbs[BATCH_MAX], *ptrs[BATCH_MAX];
	uint32_t seq[BATCH_MAX];
	long long res[BATCH_MAX];
	bool cancel[BATCH_MAX] = { false };
	int n, want = 1 + next_rand(&w->rng) % BATCH_MAX, i, r;
	size_t off = 0;
	char who[64];

	for (n = 0; n < want; n++) {
		uint32_t len = rand_len(&w->rng);

		if (off + len > MSG_MAX)
			break;
		seq[n] = new_seq(w, len);
		make_msg(w, arena + off, len, seq[n]);
		io_prep_pwrite(&cbs[n], w->fd, arena + off, len, 0);
		cbs[n].data = (void *)(uintptr_t)n;
		ptrs[n] = &cbs[n];
		res[n] = LLONG_MIN;
		off += len;
	}
	if (next_rand(&w->rng) % 3 == 0)
		cancel[next_rand(&w->rng) % n] = true;
	r = io_submit(ctx, n, ptrs);
	if (r < 0 && r != -EAGAIN) {
		fail("channel %d writer %d: io_submit: %s", w->c->idx, w->id,
		     strerror(-r));
		r = 0;
	}
	r = r < 0 ? 0 : r;
	for (i = r; i < n; i++)		/* not submitted: the aio bound */
		w->st[seq[i]] = ST_REFUSED;
	snprintf(who, sizeof(who), "channel %d writer %d", w->c->idx, w->id);
	if (r && aio_collect(ctx, cbs, r, res, cancel, NULL, &w->cancels, who))
		return;
	for (i = 0; i < r; i++)
		set_fate(w, seq[i], res[i] < 0 ? -1 : res[i],
			 res[i] < 0 ? (int)-res[i] : 0, false, "libaio");
}

static void write_uring(struct writer *w, struct io_uring *ring, uint8_t *buf)
{
	uint32_t len = rand_len(&w->rng), seq = new_seq(w, len);
	struct __kernel_timespec ts = { .tv_sec = DRAIN_MS / 1000 };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int r;

	make_msg(w, buf, len, seq);
	io_uring_prep_write(sqe, w->fd, buf, len, 0);
	r = io_uring_submit(ring);
	if (r == 1)
		r = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (r < 0) {
		w->st[seq] = ST_REFUSED;
		fail("channel %d writer %d: io_uring: %s", w->c->idx, w->id,
		     strerror(-r));
		return;
	}
	set_fate(w, seq, cqe->res < 0 ? -1 : cqe->res,
		 cqe->res < 0 ? -cqe->res : 0, false, "io_uring");
	io_uring_cqe_seen(ring, cqe);
}

static void *writer_fn(void *p)
{
	struct writer *w = p;
	io_context_t ctx = 0;
	struct io_uring ring;
	uint8_t *arena = vchan_alloc(MSG_MAX);
	int r, mode;

	r = io_setup(BATCH_MAX, &ctx);
	if (r || !arena || io_uring_queue_init(4, &ring, 0)) {
		fail("writer setup: %s", strerror(r ? -r : errno));
		pthread_barrier_wait(&start_line);
		return NULL;
	}
	pthread_barrier_wait(&start_line);
	while (!atomic_load(&stop_writers) && !atomic_load(&failed)) {
		mode = next_rand(&w->rng) % M_COUNT;
		w->calls[mode]++;
		switch (mode) {
		case M_BLOCK:
			write_sync(w, arena, false);
			break;
		case M_NONBLOCK:
			write_sync(w, arena, true);
			break;
		case M_AIO:
			write_aio(w, ctx, arena);
			break;
		case M_URING:
			write_uring(w, &ring, arena);
			break;
		}
	}
	io_uring_queue_exit(&ring);
	io_destroy(ctx);
	vchan_free(arena, MSG_MAX);
	return NULL;
}

/* ---- readers ---- */

/* Checks and logs one read: header + one whole message. */
static void got_msg(struct reader *r, const uint8_t *buf, ssize_t n,
		    const char *how)
{
	struct vchan_pdu_header ph;
	const uint8_t *m = buf + sizeof(ph);
	uint32_t len, seq;
	struct seen *s;
	uint16_t magic;
	uint64_t sum;

	if (n < (ssize_t)sizeof(ph)) {
		fail("channel %d reader %d: %s read returned %zd (%s)", r->c->idx,
		     r->id, how, n, n < 0 ? strerror(errno) : "no PDU header");
		return;
	}
	memcpy(&ph, buf, sizeof(ph));
	len = n - sizeof(ph);
	if (ph.length != len || ph.flags != (VCHAN_PDU_FIRST | VCHAN_PDU_LAST)) {
		fail("channel %d reader %d: %s read of %zd bytes: PDU header length %u flags %#x",
		     r->c->idx, r->id, how, n, ph.length, ph.flags);
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 8192;
		r->log = realloc(r->log, r->cap * sizeof(*r->log));
		if (!r->log) {
			fail("out of memory");
			abort();
		}
	}
	s = &r->log[r->n];
	memset(s, 0, sizeof(*s));
	s->len = len;
	if (!len) {
		s->w = 0xff;
		r->n++;
		return;
	}
	s->w = m[0];
	if (len < HDR_LEN) {
		s->nraw = len;
		memcpy(s->raw, m, len);
		r->n++;
		return;
	}
	memcpy(&magic, m + 2, 2);
	memcpy(&seq, m + 4, 4);
	memcpy(&sum, m + 8, 8);
	if (m[0] == END_MARK && len == HDR_LEN && magic == MAGIC) {
		r->ended = true;
		return;
	}
	if (magic != MAGIC || m[1] != r->c->idx ||
	    (len > HDR_LEN && sum != sum_payload(m + HDR_LEN, len - HDR_LEN))) {
		fail("channel %d reader %d: %s read: message of %u bytes is corrupt (writer byte %u, channel byte %u, magic %#x, seq %u)",
		     r->c->idx, r->id, how, len, m[0], m[1], magic, seq);
		return;
	}
	s->seq = seq;
	r->n++;
}

static void read_sync(struct reader *r, uint8_t *buf, bool nonblock)
{
	struct iovec iov = { buf, RBUF_LEN };
	ssize_t n;

	if (!nonblock) {
		n = read(r->fd, buf, RBUF_LEN);
	} else {
		if (r->own_fd)
			vchan_set_nonblock(r->fd, true);
		do {
			vchan_poll(r->fd, POLLIN, 100);
			n = r->own_fd ? read(r->fd, buf, RBUF_LEN) :
			    preadv2(r->fd, &iov, 1, -1, RWF_NOWAIT);
		} while (n < 0 && errno == EAGAIN && !atomic_load(&failed));
		if (r->own_fd)
			vchan_set_nonblock(r->fd, false);
	}
	got_msg(r, buf, n, nonblock ? "non-blocking" : "blocking");
}

static void read_aio(struct reader *r, io_context_t ctx, uint8_t **bufs)
{
	struct iocb cbs[BATCH_MAX], *ptrs[BATCH_MAX];
	long long res[BATCH_MAX];
	bool cancel[BATCH_MAX] = { false };
	int n = 1 + next_rand(&r->rng) % (BATCH_MAX - 1), i, got;
	char who[64];

	for (i = 0; i < n; i++) {
		io_prep_pread(&cbs[i], r->fd, bufs[i], RBUF_LEN, 0);
		cbs[i].data = (void *)(uintptr_t)i;
		ptrs[i] = &cbs[i];
		res[i] = LLONG_MIN;
	}
	if (next_rand(&r->rng) % 3 == 0)
		cancel[next_rand(&r->rng) % n] = true;
	got = io_submit(ctx, n, ptrs);
	if (got != n) {
		fail("channel %d reader %d: io_submit of %d reads: %d", r->c->idx,
		     r->id, n, got);
		return;
	}
	snprintf(who, sizeof(who), "channel %d reader %d", r->c->idx, r->id);
	/* The reads are served oldest first: the data is in index order. */
	if (aio_collect(ctx, cbs, n, res, cancel, bufs, &r->cancels, who))
		return;
	for (i = 0; i < n; i++) {
		if (res[i] == -ECANCELED)
			continue;
		if (r->ended) {
			fail("%s: a read completed after the end marker", who);
			return;
		}
		errno = res[i] < 0 ? -res[i] : 0;
		got_msg(r, bufs[i], res[i] < 0 ? -1 : res[i], "libaio");
	}
}

static void read_uring(struct reader *r, struct io_uring *ring, uint8_t *buf)
{
	struct __kernel_timespec ts = { .tv_sec = DRAIN_MS / 1000 };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int res;

	io_uring_prep_read(sqe, r->fd, buf, RBUF_LEN, 0);
	res = io_uring_submit(ring);
	if (res == 1)
		res = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (res < 0) {
		fail("channel %d reader %d: io_uring: %s", r->c->idx, r->id,
		     strerror(-res));
		return;
	}
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	errno = res < 0 ? -res : 0;
	got_msg(r, buf, res < 0 ? -1 : res, "io_uring");
}

static void *reader_fn(void *p)
{
	struct reader *r = p;
	uint8_t *bufs[BATCH_MAX];
	io_context_t ctx = 0;
	struct io_uring ring;
	int i, mode, ret;

	for (i = 0; i < BATCH_MAX; i++)
		bufs[i] = vchan_alloc(RBUF_LEN);
	ret = io_setup(BATCH_MAX, &ctx);
	if (ret || !bufs[BATCH_MAX - 1] || io_uring_queue_init(4, &ring, 0)) {
		fail("reader setup: %s", strerror(ret ? -ret : errno));
		pthread_barrier_wait(&start_line);
		return NULL;
	}
	pthread_barrier_wait(&start_line);
	while (!r->ended && !atomic_load(&failed)) {
		mode = next_rand(&r->rng) % M_COUNT;
		r->calls[mode]++;
		switch (mode) {
		case M_BLOCK:
			read_sync(r, bufs[0], false);
			break;
		case M_NONBLOCK:
			read_sync(r, bufs[0], true);
			break;
		case M_AIO:
			read_aio(r, ctx, bufs);
			break;
		case M_URING:
			read_uring(r, &ring, bufs[0]);
			break;
		}
	}
	io_uring_queue_exit(&ring);
	io_destroy(ctx);
	for (i = 0; i < BATCH_MAX; i++)
		vchan_free(bufs[i], RBUF_LEN);
	return NULL;
}

/* ---- the test ---- */

static int run_seconds(void)
{
	const char *s = getenv("VCHAN_STRESS_SECONDS");
	const char *k = getenv("VCHAN_VM_KERNEL");

	if (s && *s)
		return atoi(s);
	if (k && !strcmp(k, "debug"))
		return 30;
	return k && *k ? 60 : 10;
}

static uint64_t run_seed(void)
{
	const char *s = getenv("VCHAN_STRESS_SEED");
	struct timespec ts;

	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000003u ^ ts.tv_nsec ^ getpid();
}

/*
 * Joins a thread of the run: it may still finish queued megabytes (slow on
 * the debug kernel), so the hang guard is DRAIN_MS, not VCHAN_HANG_MS.
 */
static int join_drain(pthread_t t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DRAIN_MS / 1000;
	return pthread_timedjoin_np(t, NULL, &ts);
}

/*
 * After a failure: what each channel still holds, and the kernel's list of
 * blocked tasks with their stacks (sysrq w, into the console log).
 */
static void report_stuck(void)
{
	struct vchan_info info;
	int i, fd;

	for (i = 0; i < NCHAN; i++) {
		if (vchan_info(chans[i].cl, &info))
			continue;
		if (info.to_client.queued_msgs || info.to_session.queued_msgs)
			ksft_print_msg("channel %d: queued to the client %llu messages (%llu bytes), to the session %llu (%llu bytes)\n",
				       i, info.to_client.queued_msgs,
				       info.to_client.queued_bytes,
				       info.to_session.queued_msgs,
				       info.to_session.queued_bytes);
	}
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "w", 1) == 1)
			ksft_print_msg("blocked tasks: in the kernel console log\n");
		close(fd);
	}
}

/* Writes the end marker of one direction (blocking). */
static int write_end(int fd, unsigned int c)
{
	uint8_t h[HDR_LEN];

	make_header(h, END_MARK, c, 0, 0);
	return vchan_write_msg(fd, h, HDR_LEN);
}

/*
 * Matches what reader r got with what its two writers were told: message k
 * of writer w in the log is the k-th written one of w.  Returns 0 or -1
 * with the mismatch described through fail().
 */
static int match(struct reader *r, struct writer *w0, struct writer *w1,
		 uint64_t *msgs, uint64_t *bytes)
{
	struct writer *ws[2] = { w0, w1 };
	uint32_t next[2] = { 0, 0 }, zeros_written = 0, zeros_read = 0, i;
	int c = r->c->idx, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < ws[k]->n; i++)
			if (ws[k]->st[i] == ST_WRITTEN) {
				(*msgs)++;
				*bytes += ws[k]->len[i];
				zeros_written += !ws[k]->len[i];
			}
	for (i = 0; i < r->n; i++) {
		struct seen *s = &r->log[i];
		struct writer *w;
		uint8_t h[HDR_LEN];
		uint32_t seq;

		if (s->w == 0xff) {
			zeros_read++;
			continue;
		}
		k = s->w == w0->id ? 0 : s->w == w1->id ? 1 : -1;
		if (k < 0) {
			fail("channel %d reader %d: message %u is from writer %u, not of this direction",
			     c, r->id, i, s->w);
			return -1;
		}
		w = ws[k];
		/* The next written message of w (skip the zero-length ones). */
		while (next[k] < w->n && (w->st[next[k]] != ST_WRITTEN ||
					  !w->len[next[k]]))
			next[k]++;
		if (next[k] == w->n) {
			fail("channel %d reader %d: message %u (%u bytes, seq %u) from writer %d, which was told of no more",
			     c, r->id, i, s->len, s->seq, w->id);
			return -1;
		}
		seq = next[k]++;
		make_header(h, w->id, c, seq, 0);	/* what a short one holds */
		if (s->len != w->len[seq] ||
		    (s->len >= HDR_LEN && s->seq != seq) ||
		    (s->len < HDR_LEN && memcmp(s->raw, h, s->nraw))) {
			fail("channel %d reader %d: message %u of writer %d: expected seq %u (%u bytes, fate %d), got %u bytes%s%u",
			     c, r->id, i, w->id, seq, w->len[seq], w->st[seq], s->len,
			     s->len >= HDR_LEN ? " seq " : ", raw bytes ",
			     s->len >= HDR_LEN ? s->seq : s->nraw);
			return -1;
		}
	}
	for (k = 0; k < 2; k++) {
		while (next[k] < ws[k]->n && (ws[k]->st[next[k]] != ST_WRITTEN ||
					      !ws[k]->len[next[k]]))
			next[k]++;
		if (next[k] != ws[k]->n) {
			fail("channel %d writer %d: message seq %u (%u bytes) was written and never read",
			     c, ws[k]->id, next[k], ws[k]->len[next[k]]);
			return -1;
		}
	}
	if (zeros_read != zeros_written) {
		fail("channel %d reader %d: %u zero-length messages written, %u read",
		     c, r->id, zeros_written, zeros_read);
		return -1;
	}
	return 0;
}

FIXTURE(stress) {
	int ctl;
	long long base;
};

FIXTURE_SETUP(stress)
{
	self->base = vchan_channels();
	self->ctl = vchan_open_control();
	ASSERT_LE(0, self->ctl);
}

FIXTURE_TEARDOWN(stress)
{
	close(self->ctl);
}

TEST_F_TIMEOUT(stress, mixed_soak, 900)
{
	int secs = run_seconds(), i, k, m, fd;
	uint64_t seed = run_seed(), calls[M_COUNT] = { 0 }, cancels = 0;
	uint64_t total_msgs = 0, total_bytes = 0;
	long long t0, until;

	ksft_print_msg("seed %#llx (VCHAN_STRESS_SEED), %d s (VCHAN_STRESS_SECONDS)\n",
		       (unsigned long long)seed, secs);
	session = vchan_unique_session();
	for (i = 0; i < NCHAN; i++) {
		struct chan *c = &chans[i];
		struct vchan_create cr;

		c->idx = i;
		c->ring = VCHAN_RING_MIN << (i % 7);	/* 4 KiB .. 256 KiB */
		snprintf(c->name, sizeof(c->name), "st%d", i);
		vchan_create_init(&cr, session, c->name);
		cr.flags = VCHAN_F_SHARED;
		cr.ring_to_client = c->ring;
		cr.ring_to_session = c->ring;
		c->cl = vchan_create_full(self->ctl, &cr);
		ASSERT_LE(0, c->cl) TH_LOG("create %s: %s", c->name, strerror(errno));
		c->se = vchan_open_node(session, c->name, O_RDWR);
		ASSERT_LE(0, c->se);
		for (k = 0; k < NWRITERS; k++) {
			struct writer *w = &c->w[k];

			w->c = c;
			w->id = k;
			w->rng = seed_of(seed, i, k + 1);
			if (k < 2) {
				w->fd = vchan_open_node(session, c->name, O_RDWR);
				w->fd_nb = vchan_open_node(session, c->name,
							   O_RDWR | O_NONBLOCK);
				ASSERT_LE(0, w->fd);
				ASSERT_LE(0, w->fd_nb);
			} else {
				w->fd = c->cl;
				w->fd_nb = -1;
			}
		}
		for (k = 0; k < NREADERS; k++) {
			struct reader *r = &c->r[k];

			r->c = c;
			r->id = k;
			r->rng = seed_of(seed, i, 100 + k);
			r->own_fd = k == 1;
			r->fd = k == 0 ? c->cl :
				vchan_open_node(session, c->name, O_RDWR);
			ASSERT_LE(0, r->fd);
			ASSERT_EQ(0, vchan_set_mode(r->fd, VCHAN_READ_PDU, MSG_MAX));
		}
	}
	ASSERT_EQ(self->base + NCHAN, vchan_channels());

	ASSERT_EQ(0, pthread_barrier_init(&start_line, NULL,
					  NCHAN * (NREADERS + NWRITERS) + 1));
	for (i = 0; i < NCHAN; i++) {
		for (k = 0; k < NREADERS; k++)
			ASSERT_EQ(0, pthread_create(&chans[i].r[k].t, NULL,
						    reader_fn, &chans[i].r[k]));
		for (k = 0; k < NWRITERS; k++)
			ASSERT_EQ(0, pthread_create(&chans[i].w[k].t, NULL,
						    writer_fn, &chans[i].w[k]));
	}

	pthread_barrier_wait(&start_line);
	/* The run: its length is the point of the test, not an ordering. */
	t0 = vchan_now_ms();
	until = t0 + secs * 1000LL;
	while (vchan_now_ms() < until && !atomic_load(&failed)) {
		struct timespec tick = { 0, 100 * 1000000 };

		nanosleep(&tick, NULL);
	}
	atomic_store(&stop_writers, true);
	for (i = 0; i < NCHAN; i++) {
		for (k = 0; k < NWRITERS; k++) {
			ASSERT_EQ(0, join_drain(chans[i].w[k].t)) {
				TH_LOG("channel %d writer %d hangs", i, k);
				report_stuck();
			}
		}
	}
	/* Everything written is in or on its way: mark the end of each direction. */
	for (i = 0; i < NCHAN && !atomic_load(&failed); i++) {
		ASSERT_EQ(0, write_end(chans[i].se, i));
		ASSERT_EQ(0, write_end(chans[i].cl, i));
	}
	for (i = 0; i < NCHAN; i++) {
		for (k = 0; k < NREADERS; k++) {
			ASSERT_EQ(0, join_drain(chans[i].r[k].t)) {
				TH_LOG("channel %d reader %d hangs (%s)", i, k,
				       fail_msg[0] ? fail_msg : "lost messages?");
				report_stuck();
			}
		}
	}
	ASSERT_FALSE(atomic_load(&failed)) {
		TH_LOG("%s", fail_msg);
		report_stuck();
	}

	for (i = 0; i < NCHAN; i++) {
		struct chan *c = &chans[i];
		uint64_t msgs[2] = { 0, 0 }, bytes[2] = { 0, 0 };
		struct vchan_info info;

		ASSERT_EQ(0, match(&c->r[0], &c->w[0], &c->w[1], &msgs[0], &bytes[0]))
			TH_LOG("%s", fail_msg);
		ASSERT_EQ(0, match(&c->r[1], &c->w[2], &c->w[3], &msgs[1], &bytes[1]))
			TH_LOG("%s", fail_msg);
		/* The driver counted the same, plus the end markers. */
		ASSERT_EQ(0, vchan_info(c->cl, &info));
		EXPECT_EQ(msgs[0] + 1, info.to_client.total_msgs);
		EXPECT_EQ(bytes[0] + HDR_LEN, info.to_client.total_bytes);
		EXPECT_EQ(msgs[1] + 1, info.to_session.total_msgs);
		EXPECT_EQ(bytes[1] + HDR_LEN, info.to_session.total_bytes);
		EXPECT_EQ(0, info.to_client.queued_msgs);
		EXPECT_EQ(0, info.to_session.queued_msgs);
		total_msgs += msgs[0] + msgs[1];
		total_bytes += bytes[0] + bytes[1];
		for (k = 0; k < NWRITERS; k++) {
			for (m = 0; m < M_COUNT; m++)
				calls[m] += c->w[k].calls[m];
			cancels += c->w[k].cancels;
		}
		for (k = 0; k < NREADERS; k++)
			cancels += c->r[k].cancels;
	}
	ksft_print_msg("%llu messages, %llu bytes in %lld ms; writes: %llu %s, %llu %s, %llu %s, %llu %s; %llu cancels\n",
		       (unsigned long long)total_msgs, (unsigned long long)total_bytes,
		       vchan_now_ms() - t0,
		       (unsigned long long)calls[0], mode_name[0],
		       (unsigned long long)calls[1], mode_name[1],
		       (unsigned long long)calls[2], mode_name[2],
		       (unsigned long long)calls[3], mode_name[3],
		       (unsigned long long)cancels);
	/* Every kind of call was made (a run too short to mix proves little). */
	for (m = 0; m < M_COUNT; m++)
		EXPECT_LT(0, calls[m]);

	for (i = 0; i < NCHAN; i++) {
		struct chan *c = &chans[i];

		for (k = 0; k < 2; k++) {
			close(c->w[k].fd);
			close(c->w[k].fd_nb);
		}
		close(c->r[1].fd);
		close(c->se);
		fd = c->cl;
		close(fd);
	}
	EXPECT_EQ(self->base, vchan_channels());
}

TEST_HARNESS_MAIN
