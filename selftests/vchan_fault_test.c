// SPDX-License-Identifier: GPL-2.0
/*
 * vchan: allocation failures injected into the module's create, open, write
 * (immediate, write-behind, blocking with pinned pages) and aio paths, and
 * into registering a dynamic-channel listener and accepting a request.
 *
 * Kernels with fault injection (the debug kernel: FAILSLAB, FAIL_PAGE_ALLOC,
 * their debugfs knobs) let a thread make the n-th allocation attempt of its
 * next system calls fail (/proc/thread-self/fail-nth).  Each test sweeps
 * n = 1, 2, ... over one system call until the call runs through with no
 * failure left to inject, so every allocation on its path fails once, the
 * module's own and the kernel's it relies on.  Every injected failure must
 * give ENOMEM (io_submit(): EAGAIN, its errno for no memory for the request)
 * or be absorbed; a call that failed leaves nothing behind (no node, no
 * channel, no session-end open, nothing queued); and the channel works
 * normally afterwards, which each iteration checks with a round trip.
 * tools/vm-run --kernel debug then has kmemleak look for leaks, and any
 * splat in the console log fails the run.
 *
 * Without fault injection (the stock kernels) the tests are skipped.
 */
#include <libaio.h>

#include "vchan_util.h"

#include "kselftest_harness.h"

#include "vchan_fixture.h"
#include "vchan_dyn.h"

#define DBG		"/sys/kernel/debug"
#define MAX_NTH		5000	/* far more allocations than any call here makes */
#define RING		VCHAN_RING_MIN

/* Knobs set for the test and restored afterwards. */
static const char *const knobs[][2] = {
	{ DBG "/failslab/ignore-gfp-wait", "N" },	/* sleeping allocations too */
	{ DBG "/failslab/verbose", "0" },		/* no stack dump per failure */
	{ DBG "/fail_page_alloc/ignore-gfp-wait", "N" },
	{ DBG "/fail_page_alloc/min-order", "0" },
	{ DBG "/fail_page_alloc/verbose", "0" },
};

#define NKNOBS	ARRAY_SIZE(knobs)

FIXTURE(fault) {
	VCHAN_CHAN_FIXTURE;
	int nth;		/* /proc/thread-self/fail-nth */
	char saved[NKNOBS][32];
	bool set[NKNOBS];
	long long channels;	/* at the start */
	unsigned int points;	/* injected failures */
};

static int write_text(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

FIXTURE_SETUP(fault)
{
	unsigned int i;

	self->nth = -1;
	self->ctl = self->cl = self->se = self->se2 = -1;
	if (access("/proc/thread-self/fail-nth", W_OK) || access(DBG "/failslab", F_OK) ||
	    access(DBG "/fail_page_alloc", F_OK))
		SKIP(return, "no fault injection in this kernel (FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC, debugfs)");
	for (i = 0; i < NKNOBS; i++) {
		ASSERT_EQ(0, vchan_read_text(knobs[i][0], self->saved[i], sizeof(self->saved[i])))
			TH_LOG("%s", knobs[i][0]);
		ASSERT_EQ(0, write_text(knobs[i][0], knobs[i][1])) TH_LOG("%s", knobs[i][0]);
		self->set[i] = true;
	}
	vchan_chan_setup(_metadata, &self->chan);
	self->channels = vchan_channels();
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
}

FIXTURE_TEARDOWN(fault)
{
	unsigned int i;

	if (self->nth >= 0)
		close(self->nth);
	vchan_chan_teardown(&self->chan);
	for (i = 0; i < NKNOBS; i++)
		if (self->set[i])
			EXPECT_EQ(0, write_text(knobs[i][0], self->saved[i]));
}

/* The next system calls of this thread: the n-th allocation attempt fails. */
static int arm(int nth, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return write(nth, buf, len) == len ? 0 : -1;
}

/* 1 if the failure was injected, 0 if not (then disarmed), -1 on error. */
static int injected(int nth)
{
	char buf[16];
	ssize_t n = pread(nth, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (atoi(buf) == 0)
		return 1;
	return arm(nth, 0) ? -1 : 0;
}

/* One message each way between the client end and a session end. */
static void round_trip(struct __test_metadata *_metadata, int cl, int se)
{
	char buf[16];

	ASSERT_EQ(5, write(cl, "hello", 5));
	ASSERT_EQ(5, read(se, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(3, write(se, "bye", 3));
	ASSERT_EQ(3, read(cl, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "bye", 3));
}

/* Nothing left in either direction of the channel. */
static void expect_idle(struct __test_metadata *_metadata, int fd)
{
	struct vchan_info info;

	ASSERT_EQ(0, vchan_info(fd, &info));
	EXPECT_EQ(0, info.to_client.queued_msgs);
	EXPECT_EQ(0, info.to_client.queued_bytes);
	EXPECT_EQ(0, info.to_session.queued_msgs);
	EXPECT_EQ(0, info.to_session.queued_bytes);
}

/*
 * The sweep: for n = 1, 2, ... the body runs its system call with the n-th
 * allocation armed and sets 'hit' with injected() right after it; the loop
 * stops at the first n the call did not reach.
 */
#define SWEEP(n)	for (n = 1; n < MAX_NTH; n++)

/* After the body: another round while failures were injected. */
static bool sweep_next(struct __test_metadata *_metadata, unsigned int *points, int hit)
{
	EXPECT_LE(0, hit);
	if (hit <= 0)
		return false;
	++*points;
	return true;
}

static void sweep_done(struct __test_metadata *_metadata, unsigned int n,
		       unsigned int points)
{
	EXPECT_LT(n, MAX_NTH);
	EXPECT_LT(0, points) TH_LOG("no allocation to fail?");
	printf("# %s: %u allocations failed in turn\n", _metadata->name, points);
}

/* Nodes named after a channel device ("/dev/ch5") rather than its node name. */
static int stray_nodes(void)
{
	struct dirent *de;
	unsigned int minor;
	char c;
	int n = 0;
	DIR *d = opendir("/dev");

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "ch%u%c", &minor, &c) == 1)
			n++;
	closedir(d);
	return n;
}

/*
 * write() of buf with the n-th allocation failing: its length, or -1 with
 * ENOMEM.  *hit: whether the failure was injected.
 */
static ssize_t write_armed(struct __test_metadata *_metadata, int nth, unsigned int n,
			   int fd, const void *buf, size_t len, int *hit)
{
	ssize_t wr;
	int err;

	ASSERT_EQ(0, arm(nth, n));
	wr = write(fd, buf, len);
	err = errno;
	*hit = injected(nth);
	if (wr < 0) {
		ASSERT_EQ(ENOMEM, err) TH_LOG("n=%u: %s", n, strerror(err));
	} else {
		ASSERT_EQ(len, wr);
	}
	return wr;
}

TEST_F(fault, create)
{
	unsigned int n;
	int hit;
	struct vchan_create c;
	int fd, err, se;

	SWEEP(n) {
		vchan_create_init(&c, self->session, "inj");
		/* Rings of a page: kmalloc'ed, no vmalloc fallback to hide a failure. */
		c.ring_to_client = c.ring_to_session = RING;
		ASSERT_EQ(0, arm(self->nth, n));
		fd = ioctl(self->ctl, VCHAN_IOC_CREATE, &c);
		err = errno;
		hit = injected(self->nth);
		if (fd >= 0) {
			se = vchan_open_node(self->session, "inj", O_RDWR);
			ASSERT_LE(0, se) TH_LOG("n=%u: open: %s", n, strerror(errno));
			round_trip(_metadata, fd, se);
			close(se);
			close(fd);
		} else {
			ASSERT_EQ(ENOMEM, err) TH_LOG("n=%u: %s", n, strerror(err));
		}
		ASSERT_FALSE(vchan_node_exists(self->session, "inj"));
		ASSERT_EQ(self->channels, vchan_channels());
		ASSERT_EQ(0, stray_nodes()) TH_LOG("n=%u", n);
		if (!sweep_next(_metadata, &self->points, hit))
			break;
	}
	sweep_done(_metadata, n, self->points);
}

TEST_F(fault, open_session_end)
{
	unsigned int n;
	int hit;
	int se, err;

	vchan_make_chan(_metadata, &self->chan, "inj", 0, 0);
	SWEEP(n) {
		ASSERT_EQ(0, arm(self->nth, n));
		se = vchan_open_node(self->session, "inj", O_RDWR);
		err = errno;
		hit = injected(self->nth);
		if (se < 0) {
			ASSERT_EQ(ENOMEM, err) TH_LOG("n=%u: %s", n, strerror(err));
			/* Not counted as open: a normal open is not EBUSY. */
			se = vchan_open_node(self->session, "inj", O_RDWR);
			ASSERT_LE(0, se) TH_LOG("n=%u: %s", n, strerror(errno));
		}
		round_trip(_metadata, self->cl, se);
		close(se);
		if (!sweep_next(_metadata, &self->points, hit))
			break;
	}
	sweep_done(_metadata, n, self->points);
}

/*
 * An O_NONBLOCK write that does not fit in the ring: the kernel copies it
 * (write-behind).  Failing, it is not delivered; else it arrives whole.
 */
TEST_F(fault, nonblock_write_behind)
{
	static char a[RING - 96], b[5 * RING + 7], buf[sizeof(b) + 1];
	unsigned int n;
	int hit;
	ssize_t wr;

	vchan_fill(a, sizeof(a), 1, 0);
	vchan_fill(b, sizeof(b), 2, 0);
	vchan_make_pair(_metadata, &self->chan, "inj", RING, 0);
	ASSERT_EQ(0, vchan_set_nonblock(self->cl, true));
	ASSERT_EQ(0, vchan_set_nonblock(self->se, true));
	SWEEP(n) {
		ASSERT_EQ(sizeof(a), write(self->cl, a, sizeof(a)));
		wr = write_armed(_metadata, self->nth, n, self->cl, b, sizeof(b), &hit);
		ASSERT_EQ(sizeof(a), read(self->se, buf, sizeof(buf)));
		ASSERT_EQ(-1, vchan_check(buf, sizeof(a), 1, 0));
		if (wr > 0) {
			ASSERT_EQ(sizeof(b), read(self->se, buf, sizeof(buf)));
			ASSERT_EQ(-1, vchan_check(buf, sizeof(b), 2, 0));
		}
		ASSERT_EQ(-1, read(self->se, buf, sizeof(buf)));
		ASSERT_EQ(EAGAIN, errno);
		expect_idle(_metadata, self->cl);
		if (!sweep_next(_metadata, &self->points, hit))
			break;
	}
	sweep_done(_metadata, n, self->points);
	ASSERT_EQ(0, vchan_set_nonblock(self->cl, false));
	ASSERT_EQ(0, vchan_set_nonblock(self->se, false));
	round_trip(_metadata, self->cl, self->se);
}

/* The reader of blocking_write_queued: one letter per message it reads. */
struct msg_log {
	int fd;
	size_t big;		/* length of the big messages (seed 4) */
	char log[2 * MAX_NTH + 2];
	unsigned int n;
};

static void *log_reader(void *p)
{
	static char buf[8 * RING];
	struct msg_log *m = p;
	ssize_t len;

	while (m->n < sizeof(m->log) - 1) {
		len = read(m->fd, buf, sizeof(buf));
		if (len == 3 && !memcmp(buf, "end", 3))
			break;
		if (len == 1 && buf[0] == 'm')
			m->log[m->n++] = 'M';
		else if (len == (ssize_t)m->big && vchan_check(buf, len, 4, 0) == -1)
			m->log[m->n++] = 'B';
		else
			m->log[m->n++] = 'X';	/* cut, corrupt or an error */
	}
	return NULL;
}

/*
 * A blocking write larger than the ring: it queues with the writer's pages
 * pinned and a reader takes it from them.  Failing, nothing of it arrives;
 * else it arrives whole, before the marker written after it.
 */
TEST_F(fault, blocking_write_queued)
{
	static char b[3 * RING + 5];
	static struct msg_log m;
	char want[sizeof(m.log)];
	unsigned int n, w = 0;
	pthread_t t;
	ssize_t wr;
	int hit;

	vchan_fill(b, sizeof(b), 4, 0);
	vchan_make_pair(_metadata, &self->chan, "inj", RING, 0);
	m.fd = self->se;
	m.big = sizeof(b);
	ASSERT_EQ(0, pthread_create(&t, NULL, log_reader, &m));
	SWEEP(n) {
		wr = write_armed(_metadata, self->nth, n, self->cl, b, sizeof(b), &hit);
		if (wr > 0)
			want[w++] = 'B';
		want[w++] = 'M';
		ASSERT_EQ(1, write(self->cl, "m", 1));
		if (!sweep_next(_metadata, &self->points, hit))
			break;
	}
	sweep_done(_metadata, n, self->points);
	want[w] = '\0';
	ASSERT_EQ(3, write(self->cl, "end", 3));
	ASSERT_EQ(0, vchan_join(t, NULL));
	EXPECT_STREQ(want, m.log);
	expect_idle(_metadata, self->cl);
	round_trip(_metadata, self->cl, self->se);
}

/* An event that is there now, or none: io_getevents without waiting. */
static int event_now(io_context_t ctx, struct io_event *ev)
{
	struct timespec zero = { 0, 0 };

	return io_getevents(ctx, 0, 1, ev, &zero);
}

/*
 * io_submit() of cb with the n-th allocation failing: 1 (queued), -ENOMEM
 * (its event came at once, with -ENOMEM) or -EAGAIN (io_submit refused it).
 * *hit: whether the failure was injected.
 */
static int submit_armed(struct __test_metadata *_metadata, int nth, unsigned int n,
			io_context_t ctx, struct iocb *cb, int *hit)
{
	struct io_event ev;
	int r;

	ASSERT_EQ(0, arm(nth, n));
	r = io_submit(ctx, 1, &cb);
	*hit = injected(nth);
	if (r == 1 && event_now(ctx, &ev) == 1) {
		ASSERT_EQ(-ENOMEM, (long)ev.res) TH_LOG("n=%u", n);
		return -ENOMEM;
	}
	if (r != 1) {
		ASSERT_EQ(-EAGAIN, r) TH_LOG("n=%u: %s", n, strerror(-r));
	}
	return r;
}

static int event_wait(io_context_t ctx, struct io_event *ev)
{
	struct timespec ts = { VCHAN_HANG_MS / 1000, 0 };

	return io_getevents(ctx, 1, 1, ev, &ts);
}

/*
 * io_submit() of a write that must queue (the ring is full), and of a read
 * that must queue (nothing to read): the request's pages are pinned.  A
 * failure is io_submit()'s EAGAIN or an event with -ENOMEM, and nothing is
 * delivered; a queued request completes normally.
 */
TEST_F(fault, aio_queued_write)
{
	static char a[RING - 96], b[3 * RING + 5], buf[sizeof(b) + 1];
	unsigned int n;
	int hit;
	struct iocb cb;
	struct io_event ev;
	io_context_t ctx = 0;
	int r;

	vchan_fill(a, sizeof(a), 1, 0);
	vchan_fill(b, sizeof(b), 2, 0);
	vchan_make_pair(_metadata, &self->chan, "inj", RING, 0);
	ASSERT_EQ(0, vchan_set_nonblock(self->se, true));
	ASSERT_EQ(0, io_setup(4, &ctx));
	SWEEP(n) {
		ASSERT_EQ(sizeof(a), write(self->cl, a, sizeof(a)));
		io_prep_pwrite(&cb, self->cl, b, sizeof(b), 0);
		r = submit_armed(_metadata, self->nth, n, ctx, &cb, &hit);
		ASSERT_EQ(sizeof(a), read(self->se, buf, sizeof(buf)));
		ASSERT_EQ(-1, vchan_check(buf, sizeof(a), 1, 0));
		if (r == 1) {
			ASSERT_EQ(sizeof(b), read(self->se, buf, sizeof(buf)));
			ASSERT_EQ(-1, vchan_check(buf, sizeof(b), 2, 0));
			ASSERT_EQ(1, event_wait(ctx, &ev));
			ASSERT_EQ(sizeof(b), ev.res);
		}
		ASSERT_EQ(-1, read(self->se, buf, sizeof(buf)));
		ASSERT_EQ(EAGAIN, errno);
		expect_idle(_metadata, self->cl);
		if (!sweep_next(_metadata, &self->points, hit))
			break;
	}
	sweep_done(_metadata, n, self->points);
	io_destroy(ctx);
	ASSERT_EQ(0, vchan_set_nonblock(self->se, false));
	round_trip(_metadata, self->cl, self->se);
}

TEST_F(fault, aio_queued_read)
{
	static char b[RING - 100], buf[sizeof(b) + 1];
	unsigned int n;
	int hit;
	struct iocb cb;
	struct io_event ev;
	io_context_t ctx = 0;
	int r;

	vchan_fill(b, sizeof(b), 3, 0);
	vchan_make_pair(_metadata, &self->chan, "inj", RING, 0);
	ASSERT_EQ(0, io_setup(4, &ctx));
	SWEEP(n) {
		memset(buf, 0, sizeof(buf));
		io_prep_pread(&cb, self->se, buf, sizeof(buf), 0);
		r = submit_armed(_metadata, self->nth, n, ctx, &cb, &hit);
		ASSERT_EQ(sizeof(b), write(self->cl, b, sizeof(b)));
		if (r == 1) {
			ASSERT_EQ(1, event_wait(ctx, &ev));
			ASSERT_EQ(sizeof(b), ev.res);
		} else {
			ASSERT_EQ(sizeof(b), read(self->se, buf, sizeof(buf)));
		}
		ASSERT_EQ(-1, vchan_check(buf, sizeof(b), 3, 0));
		expect_idle(_metadata, self->cl);
		if (!sweep_next(_metadata, &self->points, hit))
			break;
	}
	sweep_done(_metadata, n, self->points);
	io_destroy(ctx);
	round_trip(_metadata, self->cl, self->se);
}

/*
 * VCHAN_IOC_LISTEN: failing, it leaves no listener (the session can be
 * listened on again: no EBUSY) and no node; else the node is there while
 * the listener fd is open.
 */
TEST_F(fault, listen)
{
	struct vchan_listen l = { .session = self->session, .mode = 0600 };
	char path[64];
	unsigned int n;
	int lfd, err, hit;

	dyn_path(path, sizeof(path), self->session);
	SWEEP(n) {
		ASSERT_EQ(0, arm(self->nth, n));
		lfd = ioctl(self->ctl, VCHAN_IOC_LISTEN, &l);
		err = errno;
		hit = injected(self->nth);
		if (lfd >= 0) {
			ASSERT_EQ(0, access(path, F_OK)) TH_LOG("n=%u: %s", n, strerror(errno));
			close(lfd);
		} else {
			ASSERT_EQ(ENOMEM, err) TH_LOG("n=%u: %s", n, strerror(err));
		}
		ASSERT_NE(0, access(path, F_OK)) TH_LOG("n=%u: %s is still there", n, path);
		ASSERT_EQ(0, stray_nodes()) TH_LOG("n=%u", n);
		if (!sweep_next(_metadata, &self->points, hit))
			break;
	}
	sweep_done(_metadata, n, self->points);
}

/*
 * VCHAN_IOC_DYN_ACCEPT: failing, the daemon and the waiting program both
 * get ENOMEM and no channel is left; else the two ends talk.
 */
TEST_F(fault, dyn_accept)
{
	struct vchan_dyn_request req;
	struct requester r;
	unsigned int n;
	int lfd, cl, err, hit;

	lfd = listen_on(self->session, 0600);
	ASSERT_LE(0, lfd) TH_LOG("%s", strerror(errno));
	SWEEP(n) {
		ASSERT_EQ(0, start_request(&r, self->session, "inj", 0, 0));
		ASSERT_EQ(0, next_request(lfd, &req));
		ASSERT_EQ(0, arm(self->nth, n));
		cl = accept_req(lfd, req.id);
		err = errno;
		hit = injected(self->nth);
		ASSERT_EQ(0, finish_request(&r));
		if (cl >= 0) {
			ASSERT_LE(0, r.ret) TH_LOG("n=%u: %s", n, strerror(r.err));
			round_trip(_metadata, cl, r.ret);
			close(r.ret);
			close(cl);
		} else {
			ASSERT_EQ(ENOMEM, err) TH_LOG("n=%u: %s", n, strerror(err));
			ASSERT_EQ(-1, r.ret);
			ASSERT_EQ(ENOMEM, r.err) TH_LOG("n=%u: %s", n, strerror(r.err));
		}
		ASSERT_EQ(self->channels, vchan_channels()) TH_LOG("n=%u", n);
		if (!sweep_next(_metadata, &self->points, hit))
			break;
	}
	close(lfd);
	sweep_done(_metadata, n, self->points);
}

TEST_HARNESS_MAIN
