// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The soak through libvchan: 8 static channels, each with two session
 * threads writing with WriteFileEx (batches of up to 8, completion routines
 * in SleepEx), overlapped WriteFile with an event and GetOverlappedResult,
 * and WTSVirtualChannelWrite, mixed at random, with random CancelIoEx,
 * CancelIo and (rarely) CancelIoEx(h, NULL), which also hits the other
 * threads' requests, synchronous ones included (their calls then fail with
 * ERROR_OPERATION_ABORTED, having delivered nothing); one session thread reading with ReadFileEx batches,
 * overlapped ReadFile and WTSVirtualChannelRead, cancelling some; and the
 * client end read and written with the native calls.  For a bounded time;
 * then every message whose write reported success was read exactly once,
 * whole and in its writer's order, and no message whose write reported
 * ERROR_OPERATION_ABORTED was seen.  Rings of 4, 16 and 64 KiB, messages
 * of 16 B to 200 KiB (most of them small), so that writes queue.
 *
 * Every message starts with a header: writer, channel, magic, sequence
 * number, length and a checksum of the rest.  A static channel's reads
 * with a buffer of the largest message return one whole message each.
 *
 * Environment: VCHAN_SOAK_SECONDS (default 10 in the VM, 5 elsewhere),
 * VCHAN_SOAK_SEED (printed at the start).
 * Run in the VM: tools/vm-run --kernel 6.12 -- userlib/tests/vm_soak_test
 */
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <vchan/vchan.h>
#include <vchan/winbase.h>
#include <vchan/wtsapi32.h>

#include "tap.h"
#include "vm_util.h"

#define NCH		8
#define NSW		2		/* session writers per channel */
#define BATCH		8
#define RBATCH		4
#define MSG_MAX		(200 * 1024)
#define HDR_LEN		16
#define MAGIC		0x5eb7
#define W_CLIENT	NSW		/* the client end's writer */
#define W_END		0xee		/* the end marker's writer byte */
#define WAIT_MS		60000		/* hang guard for one wait */
#define SEQ_MAX		(1u << 18)	/* messages per writer in one run */

enum { ST_NONE, ST_WRITTEN, ST_CANCELLED };
enum { M_EX, M_EVENT, M_WTS, M_COUNT };

struct ch;

struct sw {			/* a session writer */
	struct ch *c;
	int id;
	uint64_t rng;
	uint32_t n;
	uint8_t *st;		/* ST_* per sequence number, SEQ_MAX */
	uint64_t calls[M_COUNT];
	pthread_t t;
};

struct ch {
	int idx;
	char name[8];
	int cl;			/* client end */
	HANDLE h, fh;
	struct sw w[NSW];
	uint64_t rng;		/* the session reader's */
	uint32_t to_session;	/* messages the client end wrote */
	uint32_t next_in;	/* next sequence number the session reads */
	uint32_t *log[NSW];	/* what the client end read, per writer, SEQ_MAX */
	uint32_t nlog[NSW];
	uint64_t rcalls[M_COUNT], rcancelled;
	pthread_t sr, cr, cw;
};

static struct ch chans[NCH];
static uint32_t session;
static atomic_bool stop, failed;
static pthread_barrier_t start_line;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[256];

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

/*
 * A wait that never ended: its OVERLAPPED is on the waiting thread's stack,
 * so that thread may not return.  The test process ends here, saying why.
 */
static void hung(void)
{
	pthread_mutex_lock(&fail_lock);
	printf("# %s\n", fail_msg);
	fflush(stdout);
	_exit(1);
}

static uint64_t next_rand(uint64_t *s)	/* xorshift64* */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint32_t rand_len(uint64_t *rng)
{
	uint64_t r = next_rand(rng);

	switch (r % 20) {
	case 0:
		return HDR_LEN + (uint32_t)(r >> 8) % (MSG_MAX - HDR_LEN + 1);
	case 1 ... 5:
		return HDR_LEN + (uint32_t)(r >> 8) % 4096;
	default:
		return HDR_LEN + (uint32_t)(r >> 8) % 256;
	}
}

static uint32_t sum(const uint8_t *p, size_t n)
{
	uint32_t s = 2166136261u;	/* FNV-1a */

	while (n--)
		s = (s ^ *p++) * 16777619u;
	return s;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* A message of len bytes (at least HDR_LEN) from writer w, number seq. */
static void make_msg(uint8_t *p, uint32_t len, int w, int c, uint32_t seq)
{
	uint32_t i;

	for (i = HDR_LEN; i < len; i++)
		p[i] = (uint8_t)(seq * 7u + i * 13u + (uint32_t)w);
	p[0] = (uint8_t)w;
	p[1] = (uint8_t)c;
	p[2] = MAGIC & 0xff;
	p[3] = MAGIC >> 8;
	put32(p + 4, seq);
	put32(p + 8, len);
	put32(p + 12, sum(p + HDR_LEN, len - HDR_LEN));
}

/* Checks a message read whole: its writer byte, or -1 (reported). */
static int check_msg(const uint8_t *p, size_t n, int c, const char *who)
{
	if (n < HDR_LEN || p[1] != c || p[2] != (MAGIC & 0xff) ||
	    p[3] != MAGIC >> 8 || get32(p + 8) != n ||
	    get32(p + 12) != sum(p + HDR_LEN, n - HDR_LEN)) {
		fail("%s, channel %d: a bad message of %zu bytes (writer %d seq %u length %u)",
		     who, c, n, n ? p[0] : -1, n >= 8 ? get32(p + 4) : 0,
		     n >= 12 ? get32(p + 8) : 0);
		return -1;
	}
	return p[0];
}

static uint32_t new_seq(struct sw *w)
{
	if (w->n == SEQ_MAX) {
		fail("channel %d writer %d: more than %u messages", w->c->idx,
		     w->id, SEQ_MAX);
		return 0;
	}
	w->st[w->n] = ST_NONE;
	return w->n++;
}

/* The fate of one write: success with its length, or aborted with 0. */
static void settle_write(struct sw *w, uint32_t seq, uint32_t len, DWORD err,
			 DWORD n, const char *how)
{
	if (!err && n == len) {
		w->st[seq] = ST_WRITTEN;
	} else if (err == ERROR_OPERATION_ABORTED && !n) {
		w->st[seq] = ST_CANCELLED;
	} else {
		fail("channel %d writer %d, %s of %u bytes: error %u, %u bytes",
		     w->c->idx, w->id, how, len, err, n);
	}
}

/* ---- session writers ---- */

struct wbatch {			/* WriteFileEx requests in flight */
	struct sw *w;
	OVERLAPPED ov[BATCH];
	uint8_t *buf[BATCH];
	uint32_t seq[BATCH], len[BATCH];
	int n, left;
};

static __thread struct wbatch *cur_wb;

static void WINAPI write_done(DWORD err, DWORD n, LPOVERLAPPED ov)
{
	struct wbatch *b = cur_wb;
	int i = (int)(ov - b->ov);

	if (i < 0 || i >= b->n) {
		fail("a write routine with an OVERLAPPED that is not ours");
		return;
	}
	settle_write(b->w, b->seq[i], b->len[i], err, n, "WriteFileEx");
	b->left--;
}

/*
 * A random cancel's result: not found is fine, the request may have
 * completed already.  Whether a cancel takes effect depends on timing (a
 * run under valgrind had none of its writes cancelled): the test counts
 * the calls, and vm_wts_test checks their effect deterministically.
 */
static atomic_uint cancel_calls;

static void cancel_ok(BOOL r, const char *what)
{
	atomic_fetch_add(&cancel_calls, 1);
	if (!r && GetLastError() != ERROR_NOT_FOUND)
		fail("%s: error %u", what, GetLastError());
}

static void write_ex(struct sw *w)
{
	struct wbatch b = { .w = w };
	int want = 1 + (int)(next_rand(&w->rng) % BATCH), i;
	uint64_t r;

	cur_wb = &b;
	for (i = 0; i < want; i++) {
		b.len[i] = rand_len(&w->rng);
		b.seq[i] = new_seq(w);
		b.buf[i] = malloc(b.len[i]);
		if (!b.buf[i]) {
			fail("out of memory");
			break;
		}
		make_msg(b.buf[i], b.len[i], w->id, w->c->idx, b.seq[i]);
		if (!WriteFileEx(w->c->fh, b.buf[i], b.len[i], &b.ov[i], write_done)) {
			fail("WriteFileEx: error %u", GetLastError());
			free(b.buf[i]);
			break;
		}
		b.n++;
		b.left++;
	}
	r = next_rand(&w->rng);
	if (b.n && r % 3 == 0)
		cancel_ok(CancelIoEx(w->c->fh, &b.ov[(r >> 8) % b.n]), "CancelIoEx");
	else if (b.n && r % 11 == 1)
		cancel_ok(CancelIo(w->c->fh), "CancelIo");
	else if (b.n && r % 97 == 2)
		cancel_ok(CancelIoEx(w->c->fh, NULL), "CancelIoEx(NULL)");
	while (b.left > 0) {
		if (SleepEx(WAIT_MS, TRUE) != WAIT_IO_COMPLETION) {
			fail("channel %d writer %d: %d WriteFileEx routines never ran",
			     w->c->idx, w->id, b.left);
			hung();
		}
	}
	for (i = 0; i < b.n; i++)
		free(b.buf[i]);
	cur_wb = NULL;
}

static void write_event(struct sw *w, HANDLE ev, uint8_t *buf)
{
	uint32_t len = rand_len(&w->rng), seq = new_seq(w);
	OVERLAPPED ov;
	DWORD n = 0, err = 0;

	make_msg(buf, len, w->id, w->c->idx, seq);
	memset(&ov, 0, sizeof(ov));
	ov.hEvent = ev;
	ResetEvent(ev);
	if (!WriteFile(w->c->fh, buf, len, NULL, &ov)) {
		if (GetLastError() != ERROR_IO_PENDING) {
			fail("WriteFile: error %u", GetLastError());
			return;
		}
		if (next_rand(&w->rng) % 3 == 0)
			cancel_ok(CancelIoEx(w->c->fh, &ov), "CancelIoEx");
		if (WaitForSingleObject(ev, WAIT_MS) != WAIT_OBJECT_0) {
			fail("channel %d writer %d: WriteFile's event never set",
			     w->c->idx, w->id);
			hung();
		}
	}
	if (!GetOverlappedResult(w->c->fh, &ov, &n, FALSE))
		err = GetLastError();
	settle_write(w, seq, len, err, n, "WriteFile");
}

static void write_wts(struct sw *w, uint8_t *buf)
{
	uint32_t len = rand_len(&w->rng), seq = new_seq(w);
	ULONG n = 0;
	BOOL ok;

	make_msg(buf, len, w->id, w->c->idx, seq);
	/* Another thread's CancelIoEx(h, NULL) cancels this one too. */
	ok = WTSVirtualChannelWrite(w->c->h, (PCHAR)buf, len, &n);
	settle_write(w, seq, len, ok ? 0 : GetLastError(), n,
		     "WTSVirtualChannelWrite");
}

static void *session_writer(void *arg)
{
	struct sw *w = arg;
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	uint8_t *buf = malloc(MSG_MAX);

	pthread_barrier_wait(&start_line);
	if (!ev || !buf)
		fail("session writer setup: error %u", GetLastError());
	while (!atomic_load(&stop) && !atomic_load(&failed)) {
		int m = (int)(next_rand(&w->rng) % M_COUNT);

		w->calls[m]++;
		if (m == M_EX)
			write_ex(w);
		else if (m == M_EVENT)
			write_event(w, ev, buf);
		else
			write_wts(w, buf);
	}
	free(buf);
	if (ev)
		CloseHandle(ev);
	return NULL;
}

/* ---- the session reader ---- */

/* A message the session read: the client end's next, or the end. */
static bool took(struct ch *c, const uint8_t *p, DWORD n)
{
	int w = check_msg(p, n, c->idx, "session reader");

	if (w == W_END)
		return true;
	if (w != W_CLIENT || get32(p + 4) != c->next_in) {
		if (w >= 0)
			fail("channel %d session reader: writer %d seq %u, expected client seq %u",
			     c->idx, w, get32(p + 4), c->next_in);
		return true;
	}
	c->next_in++;
	return false;
}

struct rbatch {
	struct ch *c;
	OVERLAPPED ov[RBATCH];
	uint8_t *buf[RBATCH];
	int n, left;
	bool ended;
};

static __thread struct rbatch *cur_rb;

/* Routines run in completion order, which is the order of the data. */
static void WINAPI read_done(DWORD err, DWORD n, LPOVERLAPPED ov)
{
	struct rbatch *b = cur_rb;
	int i = (int)(ov - b->ov);

	b->left--;
	if (err == ERROR_OPERATION_ABORTED && !n) {
		b->c->rcancelled++;
	} else if (err || b->ended) {
		fail("channel %d ReadFileEx: error %u, %u bytes%s", b->c->idx, err, n,
		     b->ended ? " after the end marker" : "");
	} else if (took(b->c, b->buf[i], n)) {
		b->ended = true;
		/* The reads still pending can bring nothing more. */
		if (!CancelIo(b->c->fh) && GetLastError() != ERROR_NOT_FOUND)
			fail("CancelIo after the end: error %u", GetLastError());
	}
}

static bool read_ex(struct ch *c, uint8_t **bufs)
{
	struct rbatch b = { .c = c };
	int want = 1 + (int)(next_rand(&c->rng) % RBATCH), i;

	cur_rb = &b;
	for (i = 0; i < want; i++) {
		b.buf[i] = bufs[i];
		if (!ReadFileEx(c->fh, b.buf[i], MSG_MAX, &b.ov[i], read_done)) {
			fail("ReadFileEx: error %u", GetLastError());
			break;
		}
		b.n++;
		b.left++;
	}
	if (b.n && next_rand(&c->rng) % 4 == 0)
		cancel_ok(CancelIoEx(c->fh, &b.ov[b.n - 1]), "CancelIoEx");
	while (b.left > 0) {
		if (SleepEx(WAIT_MS, TRUE) != WAIT_IO_COMPLETION) {
			fail("channel %d: %d ReadFileEx routines never ran", c->idx,
			     b.left);
			hung();
		}
	}
	cur_rb = NULL;
	return b.ended;
}

static bool read_event(struct ch *c, HANDLE ev, uint8_t *buf)
{
	OVERLAPPED ov;
	DWORD n = 0;

	memset(&ov, 0, sizeof(ov));
	ov.hEvent = ev;
	ResetEvent(ev);
	if (!ReadFile(c->fh, buf, MSG_MAX, NULL, &ov)) {
		if (GetLastError() != ERROR_IO_PENDING) {
			fail("ReadFile: error %u", GetLastError());
			return true;
		}
		if (next_rand(&c->rng) % 4 == 0)
			cancel_ok(CancelIoEx(c->fh, &ov), "CancelIoEx");
		if (WaitForSingleObject(ev, WAIT_MS) != WAIT_OBJECT_0) {
			fail("channel %d: ReadFile's event never set", c->idx);
			hung();
		}
	}
	if (GetOverlappedResult(c->fh, &ov, &n, FALSE))
		return took(c, buf, n);
	if (GetLastError() == ERROR_OPERATION_ABORTED && !n) {
		c->rcancelled++;
		return false;
	}
	fail("channel %d ReadFile: error %u, %u bytes", c->idx, GetLastError(), n);
	return true;
}

static bool read_wts(struct ch *c, uint8_t *buf)
{
	ULONG n = 0;

	if (!WTSVirtualChannelRead(c->h, 50, (PCHAR)buf, MSG_MAX, &n)) {
		if (GetLastError() == ERROR_OPERATION_ABORTED && !n) {
			c->rcancelled++;	/* a writer's CancelIoEx(h, NULL) */
			return false;
		}
		fail("WTSVirtualChannelRead: error %u", GetLastError());
		return true;
	}
	return n && took(c, buf, n);	/* TRUE with 0 bytes: nothing yet */
}

static void *session_reader(void *arg)
{
	struct ch *c = arg;
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	uint8_t *bufs[RBATCH];
	bool ended = false;
	int i;

	for (i = 0; i < RBATCH; i++)
		bufs[i] = malloc(MSG_MAX);
	pthread_barrier_wait(&start_line);
	if (!ev || !bufs[RBATCH - 1])
		fail("session reader setup: error %u", GetLastError());
	while (!ended && !atomic_load(&failed)) {
		int m = (int)(next_rand(&c->rng) % M_COUNT);

		c->rcalls[m]++;
		if (m == M_EX)
			ended = read_ex(c, bufs);
		else if (m == M_EVENT)
			ended = read_event(c, ev, bufs[0]);
		else
			ended = read_wts(c, bufs[0]);
	}
	for (i = 0; i < RBATCH; i++)
		free(bufs[i]);
	if (ev)
		CloseHandle(ev);
	return NULL;
}

/* ---- the client end ---- */

static void *client_writer(void *arg)
{
	struct ch *c = arg;
	uint64_t rng = c->rng ^ 0x9e3779b97f4a7c15ull;
	uint8_t *buf = malloc(MSG_MAX);
	uint32_t len;
	ssize_t r;

	pthread_barrier_wait(&start_line);
	if (!buf) {
		fail("out of memory");
		return NULL;
	}
	while (!atomic_load(&stop) && !atomic_load(&failed)) {
		len = rand_len(&rng);
		make_msg(buf, len, W_CLIENT, c->idx, c->to_session);
		r = vchan_message_write(c->cl, buf, len);
		if (r != (ssize_t)len) {
			fail("channel %d client write: %zd", c->idx, r);
			break;
		}
		c->to_session++;
	}
	make_msg(buf, HDR_LEN, W_END, c->idx, 0);
	if (!atomic_load(&failed) && vchan_message_write(c->cl, buf, HDR_LEN) != HDR_LEN)
		fail("channel %d: the end marker to the session", c->idx);
	free(buf);
	return NULL;
}

static void *client_reader(void *arg)
{
	struct ch *c = arg;
	size_t cap = sizeof(struct vchan_pdu_header) + MSG_MAX;
	uint8_t *buf = malloc(cap), *p;
	struct vchan_pdu_header hd;
	struct pollfd pfd = { .fd = c->cl, .events = POLLIN };
	int w;

	pthread_barrier_wait(&start_line);
	while (buf && !atomic_load(&failed)) {
		ssize_t n;

		int waited = 0;

		while (poll(&pfd, 1, 100) != 1 && !atomic_load(&failed))
			if ((waited += 100) >= WAIT_MS)
				fail("channel %d client end: no message for %d s",
				     c->idx, WAIT_MS / 1000);
		if (atomic_load(&failed))
			break;
		n = vchan_pdu_read(c->cl, buf, cap);
		if (n < (ssize_t)sizeof(hd)) {
			fail("channel %d client read: %zd", c->idx, n);
			break;
		}
		memcpy(&hd, buf, sizeof(hd));
		p = buf + sizeof(hd);
		n -= sizeof(hd);
		if (hd.flags != (VCHAN_PDU_FIRST | VCHAN_PDU_LAST) || hd.length != n) {
			fail("channel %d client read: a piece of a message", c->idx);
			break;
		}
		w = check_msg(p, (size_t)n, c->idx, "client reader");
		if (w == W_END)
			break;
		if (w < 0)
			break;
		if (w >= NSW) {
			fail("channel %d client read: writer %d", c->idx, w);
			break;
		}
		if (c->nlog[w] == SEQ_MAX) {
			fail("channel %d: more messages of writer %d read than written",
			     c->idx, w);
			break;
		}
		c->log[w][c->nlog[w]++] = get32(p + 4);
	}
	free(buf);
	return NULL;
}

/* ---- the test ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int run_seconds(void)
{
	const char *s = getenv("VCHAN_SOAK_SECONDS");

	if (s && *s)
		return atoi(s);
	return getenv("VCHAN_VM_KERNEL") ? 10 : 5;
}

static uint64_t run_seed(void)
{
	const char *s = getenv("VCHAN_SOAK_SEED");
	struct timespec ts;

	if (s && *s)
		return strtoull(s, NULL, 0) | 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid()) | 1;
}

/*
 * Joins a thread.  After a failure, threads may wait for peers that gave
 * up (a blocking write nobody reads): the test ends there, saying why.  A
 * thread that never ends is a failure too, not a hang.
 */
static void join(pthread_t t)
{
	long long deadline = now_ms() + 2 * WAIT_MS;
	struct timespec ts;

	do {
		if (atomic_load(&failed)) {
			printf("# %s\n", fail_msg);
			tap_failed = 1;
			tap_exit(1);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (!pthread_timedjoin_np(t, NULL, &ts))
			return;
	} while (now_ms() < deadline);
	printf("# a thread still runs %d s after the end\n", 2 * WAIT_MS / 1000);
	tap_failed = 1;
	tap_exit(1);
}

/* What the client end read of writer w matches what w was told. */
static void match(struct ch *c, int k, uint64_t *written, uint64_t *cancelled)
{
	struct sw *w = &c->w[k];
	uint32_t i, seq, j = 0;

	for (seq = 0; seq < w->n; seq++) {
		if (w->st[seq] == ST_CANCELLED)
			(*cancelled)++;
		if (w->st[seq] != ST_WRITTEN)
			continue;
		(*written)++;
		if (j == c->nlog[k] || c->log[k][j] != seq) {
			printf("# channel %d writer %d: seq %u was written; the client end read %s%u next\n",
			       c->idx, k, seq, j == c->nlog[k] ? "nothing, not " : "",
			       j == c->nlog[k] ? seq : c->log[k][j]);
			tap_failed = 1;
			return;
		}
		j++;
	}
	for (i = j; i < c->nlog[k]; i++) {
		printf("# channel %d writer %d: seq %u read, state %d\n", c->idx, k,
		       c->log[k][i], c->log[k][i] < w->n ? w->st[c->log[k][i]] : -1);
		tap_failed = 1;
		return;
	}
}

static void t_overlapped_soak(void)
{
	static const uint32_t rings[] = { 4096, 16384, 65536 };
	int secs = run_seconds(), ctl, i, k;
	uint64_t seed = run_seed(), written = 0, cancelled = 0, rcancelled = 0;
	uint64_t calls[M_COUNT] = { 0 }, rcalls[M_COUNT] = { 0 }, in = 0;
	long long t0;

	printf("# seed %#llx (VCHAN_SOAK_SEED), %d s (VCHAN_SOAK_SECONDS)\n",
	       (unsigned long long)seed, secs);
	setenv("VCHAN_AIO_EVENTS", "4096", 1);
	ctl = vchan_control_open();
	if (ctl == -ENOENT)
		tap_skip("no /dev/vchan/control (vchan.ko not loaded)");
	ASSERT_LE(0, ctl);
	session = 0x20000000u + (uint32_t)getpid();
	ASSERT_EQ(0, pthread_barrier_init(&start_line, NULL, NCH * (NSW + 3) + 1));
	for (i = 0; i < NCH; i++) {
		struct ch *c = &chans[i];
		struct vchan_channel_opts o = { rings[i % 3], rings[(i + 1) % 3], 0, 0, 0600 };

		c->idx = i;
		c->rng = seed + 0x1000 * (uint64_t)i;
		snprintf(c->name, sizeof(c->name), "sk%d", i);
		c->cl = vchan_channel_create(ctl, session, c->name, 0, &o);
		ASSERT_LE(0, c->cl);
		ASSERT_EQ(0, vchan_read_mode_set(c->cl, VCHAN_READ_PDU, VCHAN_MSG_MAX));
		c->h = WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, session, c->name);
		ASSERT_TRUE(c->h);
		c->fh = file_handle(c->h);
		for (k = 0; k < NSW; k++) {
			c->w[k].c = c;
			c->w[k].id = k;
			c->w[k].rng = seed ^ (0x100 * (uint64_t)i + (uint64_t)k + 1) * 0x9e3779b97f4a7c15ull;
			c->w[k].st = malloc(SEQ_MAX);
			c->log[k] = malloc(sizeof(uint32_t) * SEQ_MAX);
			ASSERT_TRUE(c->w[k].st && c->log[k]);
		}
	}
	for (i = 0; i < NCH; i++) {
		struct ch *c = &chans[i];

		for (k = 0; k < NSW; k++)
			ASSERT_EQ(0, pthread_create(&c->w[k].t, NULL, session_writer, &c->w[k]));
		ASSERT_EQ(0, pthread_create(&c->sr, NULL, session_reader, c));
		ASSERT_EQ(0, pthread_create(&c->cr, NULL, client_reader, c));
		ASSERT_EQ(0, pthread_create(&c->cw, NULL, client_writer, c));
	}
	pthread_barrier_wait(&start_line);
	t0 = now_ms();
	while (now_ms() < t0 + secs * 1000LL && !atomic_load(&failed)) {
		struct timespec tick = { 0, 100 * 1000000 };

		nanosleep(&tick, NULL);
	}
	atomic_store(&stop, true);
	for (i = 0; i < NCH; i++) {
		struct ch *c = &chans[i];
		uint8_t end[HDR_LEN];
		ULONG n;

		for (k = 0; k < NSW; k++)
			join(c->w[k].t);
		/* Every write has its answer: the end marker to the client. */
		make_msg(end, HDR_LEN, W_END, i, 0);
		if (!atomic_load(&failed))
			EXPECT_EQ(TRUE, WTSVirtualChannelWrite(c->h, (PCHAR)end, HDR_LEN, &n));
	}
	for (i = 0; i < NCH; i++) {
		join(chans[i].cw);
		join(chans[i].cr);
		join(chans[i].sr);
	}
	for (i = 0; i < NCH; i++) {
		struct ch *c = &chans[i];

		for (k = 0; k < NSW; k++) {
			match(c, k, &written, &cancelled);
			for (int m = 0; m < M_COUNT; m++)
				calls[m] += c->w[k].calls[m];
		}
		EXPECT_EQ(c->to_session, c->next_in);
		in += c->next_in;
		rcancelled += c->rcancelled;
		for (int m = 0; m < M_COUNT; m++)
			rcalls[m] += c->rcalls[m];
		EXPECT_EQ(TRUE, WTSVirtualChannelClose(c->h));
		close(c->cl);
	}
	printf("# %lld ms: %llu messages written and read to the client, %llu cancelled; %llu to the session, %llu reads cancelled; %u cancel calls\n",
	       now_ms() - t0, (unsigned long long)written,
	       (unsigned long long)cancelled, (unsigned long long)in,
	       (unsigned long long)rcancelled, atomic_load(&cancel_calls));
	printf("# writes: %llu WriteFileEx batches, %llu WriteFile, %llu WTSVirtualChannelWrite; reads: %llu ReadFileEx batches, %llu ReadFile, %llu WTSVirtualChannelRead\n",
	       (unsigned long long)calls[M_EX], (unsigned long long)calls[M_EVENT],
	       (unsigned long long)calls[M_WTS], (unsigned long long)rcalls[M_EX],
	       (unsigned long long)rcalls[M_EVENT], (unsigned long long)rcalls[M_WTS]);
	/* Every kind of call, and cancels: a run that mixed nothing proves little. */
	for (i = 0; i < M_COUNT; i++) {
		EXPECT_LT(0, calls[i]);
		EXPECT_LT(0, rcalls[i]);
	}
	EXPECT_LT(0, atomic_load(&cancel_calls));
	close(ctl);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_overlapped_soak),
	};

	return tap_main(tests, TAP_COUNT(tests), 600);
}
