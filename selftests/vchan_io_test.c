// SPDX-License-Identifier: GPL-2.0
/*
 * vchan: blocking and non-blocking I/O, poll/epoll, hang-ups (EOF, EPIPE,
 * EPOLLHUP), writes interrupted by signals, purge and read-mode ioctls.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#include "vchan_util.h"

#include "kselftest_harness.h"

#include "vchan_fixture.h"

#define BIG 20000	/* a message much larger than a 4096-byte ring */

FIXTURE(io) {
	VCHAN_CHAN_FIXTURE;
};

FIXTURE_SETUP(io)
{
	vchan_chan_setup(_metadata, &self->chan);
}

FIXTURE_TEARDOWN(io)
{
	vchan_chan_teardown(&self->chan);
}

/* A channel named after its rings of 'ring' bytes; no session end open. */
static void make_chan(struct __test_metadata *_metadata, FIXTURE_DATA(io) *self,
		      __u32 ring, __u32 flags)
{
	char name[16];

	snprintf(name, sizeof(name), "io%u", ring);
	vchan_make_chan(_metadata, &self->chan, name, ring, flags);
}

/* The same with its session end open. */
static void make_pair(struct __test_metadata *_metadata, FIXTURE_DATA(io) *self,
		      __u32 ring, __u32 flags)
{
	char name[16];

	snprintf(name, sizeof(name), "io%u", ring);
	vchan_make_pair(_metadata, &self->chan, name, ring, flags);
}

static void dir_infos(struct __test_metadata *_metadata, int fd,
		      struct vchan_dir_info *tc, struct vchan_dir_info *ts)
{
	struct vchan_info info;

	ASSERT_EQ(0, vchan_info(fd, &info));
	*tc = info.to_client;
	*ts = info.to_session;
}

#define EXPECT_DIR(d, qb, qm, tb, tm) do {		\
	EXPECT_EQ((qb), (d).queued_bytes);		\
	EXPECT_EQ((qm), (d).queued_msgs);		\
	EXPECT_EQ((tb), (d).total_bytes);		\
	EXPECT_EQ((tm), (d).total_msgs);		\
} while (0)

/* ---- a thread blocked in read() or write() ---- */

/*
 * Starts a thread that reads 'len' bytes at fd into a new buffer, or writes
 * a new buffer of 'len' pattern bytes with 'seed', and returns once it
 * sleeps in its system call.
 */
static void start_blocked(struct __test_metadata *_metadata,
			  struct vchan_blocked *b, int fd, bool is_write,
			  size_t len, uint32_t seed)
{
	uint8_t *buf = vchan_alloc(len);

	ASSERT_NE(NULL, buf);
	if (is_write)
		vchan_fill(buf, len, seed, 0);
	vchan_start_blocked(_metadata, b,
			    is_write ? VCHAN_CALL_WRITE : VCHAN_CALL_READ, fd,
			    buf, len);
}

TEST_F(io, blocking_read_wakes)
{
	struct vchan_blocked b;

	make_pair(_metadata, self, 0, 0);

	/* Client end waits for the session end. */
	start_blocked(_metadata, &b, self->cl, false, 64, 0);
	ASSERT_EQ(4, write(self->se, "wake", 4));
	vchan_finish_blocked(_metadata, &b);
	EXPECT_EQ(4, b.ret) TH_LOG("%s", strerror(b.err));
	EXPECT_EQ(0, memcmp(b.buf, "wake", 4));
	vchan_free(b.buf, 64);

	/* And the other way round. */
	start_blocked(_metadata, &b, self->se, false, 64, 0);
	ASSERT_EQ(2, write(self->cl, "up", 2));
	vchan_finish_blocked(_metadata, &b);
	EXPECT_EQ(2, b.ret) TH_LOG("%s", strerror(b.err));
	EXPECT_EQ(0, memcmp(b.buf, "up", 2));
	vchan_free(b.buf, 64);
}

/* A blocking writer waiting for ring space wakes when the reader reads. */
TEST_F(io, blocking_write_wakes)
{
	struct vchan_blocked b;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	ASSERT_EQ(0, vchan_write_pattern(self->se, 4000, 1));
	start_blocked(_metadata, &b, self->se, true, 1000, 2);
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 4000, 1));
	vchan_finish_blocked(_metadata, &b);
	EXPECT_EQ(1000, b.ret) TH_LOG("%s", strerror(b.err));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 1000, 2));
	vchan_free(b.buf, 1000);
}

TEST_F(io, nonblock_read_empty_eagain)
{
	char c, buf[64];

	make_chan(_metadata, self, 0, 0);
	self->se = vchan_open_se(&self->chan, O_NONBLOCK);
	ASSERT_LE(0, self->se);
	EXPECT_EQ(-1, read(self->se, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, vchan_set_nonblock(self->cl, true));
	EXPECT_EQ(-1, read(self->cl, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	/* PDU mode too. */
	ASSERT_EQ(0, vchan_set_mode(self->cl, VCHAN_READ_PDU, 0));
	EXPECT_EQ(-1, read(self->cl, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	/* Data then makes it succeed. */
	ASSERT_EQ(1, write(self->cl, "q", 1));
	EXPECT_EQ(1, read(self->se, &c, 1));
	EXPECT_EQ('q', c);
}

/*
 * Non-blocking writes: EAGAIN exactly when fewer than VCHAN_MSG_OVERHEAD
 * bytes of the ring are free (or a message is being written); otherwise
 * accepted at once even when larger than the free space; EPOLLOUT exactly
 * when a non-blocking write would be accepted.
 */
TEST_F(io, nonblock_write_space)
{
	const size_t ring = VCHAN_RING_MIN, oh = VCHAN_MSG_OVERHEAD;
	struct vchan_dir_info tc, ts;
	char c = 0;

	make_pair(_metadata, self, ring, 0);
	ASSERT_EQ(0, vchan_set_nonblock(self->se, true));

	EXPECT_EQ(POLLOUT, vchan_poll(self->se, POLLIN | POLLOUT, 0));

	/* Full: 0 bytes free. */
	EXPECT_EQ(0, vchan_write_pattern(self->se, ring - oh, 1));
	EXPECT_EQ(0, vchan_poll(self->se, POLLOUT, 0));
	EXPECT_EQ(-1, write(self->se, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, write(self->se, &c, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, vchan_read_pattern(self->cl, ring - oh, 1));
	EXPECT_EQ(POLLOUT, vchan_poll(self->se, POLLOUT, 0));

	/* 3 bytes free: still EAGAIN. */
	EXPECT_EQ(0, vchan_write_pattern(self->se, ring - oh - 3, 2));
	EXPECT_EQ(0, vchan_poll(self->se, POLLOUT, 0));
	EXPECT_EQ(-1, write(self->se, &c, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, vchan_read_pattern(self->cl, ring - oh - 3, 2));

	/* 4 bytes free: a 5000-byte message is accepted at once. */
	EXPECT_EQ(0, vchan_write_pattern(self->se, ring - 2 * oh, 3));
	EXPECT_EQ(POLLOUT, vchan_poll(self->se, POLLOUT, 0));
	EXPECT_EQ(0, vchan_write_pattern(self->se, 5000, 4));
	EXPECT_EQ(0, vchan_poll(self->se, POLLOUT, 0));
	EXPECT_EQ(-1, write(self->se, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, ring - 2 * oh + 5000, 2,
		   (ring - oh) + (ring - oh - 3) + (ring - 2 * oh) + 5000, 4);

	/* Both arrive whole and in order. */
	EXPECT_EQ(0, vchan_read_pattern(self->cl, ring - 2 * oh, 3));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 5000, 4));
	EXPECT_EQ(POLLOUT, vchan_poll(self->se, POLLIN | POLLOUT, 0));
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_EQ(0, tc.queued_bytes);
	EXPECT_EQ(0, tc.queued_msgs);
	/* The other direction was never involved. */
	EXPECT_DIR(ts, 0, 0, 0, 0);
}

/* EAGAIN for a non-blocking write while another writer streams. */
TEST_F(io, nonblock_write_while_streaming)
{
	struct vchan_blocked b;
	char c = 'x';

	make_pair(_metadata, self, VCHAN_RING_MIN, VCHAN_F_SHARED);
	self->se2 = vchan_open_se(&self->chan, O_NONBLOCK);
	ASSERT_LE(0, self->se2) TH_LOG("%s", strerror(errno));

	start_blocked(_metadata, &b, self->se, true, BIG, 7);
	EXPECT_EQ(-1, write(self->se2, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, vchan_poll(self->se2, POLLOUT, 0));
	/* The other direction is free. */
	ASSERT_EQ(0, vchan_set_nonblock(self->cl, true));
	EXPECT_EQ(1, write(self->cl, &c, 1));
	ASSERT_EQ(0, vchan_set_nonblock(self->cl, false));

	EXPECT_EQ(0, vchan_read_pattern(self->cl, BIG, 7));
	vchan_finish_blocked(_metadata, &b);
	EXPECT_EQ(BIG, b.ret) TH_LOG("%s", strerror(b.err));
	EXPECT_EQ(POLLOUT, vchan_poll(self->se2, POLLOUT, 0));
	EXPECT_EQ(1, write(self->se2, &c, 1));
	EXPECT_EQ(1, read(self->cl, &c, 1));
	vchan_free(b.buf, BIG);
}

/* poll() and epoll report exactly the state of both ends. */
TEST_F(io, poll_epoll_exact)
{
	struct epoll_event ev, out[4];
	char buf[16];
	int ep;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	EXPECT_EQ(POLLOUT, vchan_poll(self->se, POLLIN | POLLOUT, 0));
	EXPECT_EQ(POLLOUT, vchan_poll(self->cl, POLLIN | POLLOUT, 0));

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u32 = 1;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->se, &ev));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ(EPOLLOUT, out[0].events);

	ASSERT_EQ(3, write(self->cl, "abc", 3));
	EXPECT_EQ(POLLIN | POLLOUT, vchan_poll(self->se, POLLIN | POLLOUT, 0));
	EXPECT_EQ(POLLOUT, vchan_poll(self->cl, POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ(EPOLLIN | EPOLLOUT, out[0].events);

	ASSERT_EQ(3, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(POLLOUT, vchan_poll(self->se, POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ(EPOLLOUT, out[0].events);

	/* Edge-triggered readiness of the client end, with a wake-up. */
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u32 = 2;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_DEL, self->se, NULL));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->cl, &ev));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
	ASSERT_EQ(2, write(self->se, "hi", 2));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, VCHAN_HANG_MS));
	EXPECT_EQ(EPOLLIN, out[0].events);
	EXPECT_EQ(2, out[0].data.u32);
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
	ASSERT_EQ(2, read(self->cl, buf, sizeof(buf)));
	close(ep);
}

/* A poll() that waits is woken by the other end's write. */
TEST_F(io, poll_wakes)
{
	struct vchan_blocked b;
	char buf[8];

	make_pair(_metadata, self, 0, 0);
	vchan_start_blocked(_metadata, &b, VCHAN_CALL_POLL, self->cl, NULL, 0);
	ASSERT_EQ(3, write(self->se, "abc", 3));
	vchan_finish_blocked(_metadata, &b);
	EXPECT_EQ(1, b.ret);
	EXPECT_EQ(POLLIN, b.revents);
	EXPECT_EQ(3, read(self->cl, buf, sizeof(buf)));
}

/*
 * A poller that looked in the middle of another writer's locked section is
 * woken at its end.  The writer's message fits, but the page it is copied
 * from is missing (userfaultfd): the writer stops half-way, holding the
 * direction's lock with its length word in the ring, which leaves less than
 * a length word of room.  The poller sees "not writable" and sleeps.  The
 * page then goes away, the copy fails with EFAULT and the length word is
 * taken back: writable again, as it was before the section, and the
 * poller must be woken although the section began and ended writable.
 */
TEST_F(io, pollout_woken_after_midway_no_room)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	size_t page = sysconf(_SC_PAGESIZE);
	__u32 fill = 4096 - 2 * VCHAN_MSG_OVERHEAD - 2;
	struct vchan_blocked w, p;
	struct uffd_msg msg;
	char *src, buf[8];
	int uffd;

	make_pair(_metadata, self, 4096, 0);
	/* Room left: a length word and 2 bytes. */
	ASSERT_EQ(0, vchan_write_pattern(self->se, fill, 1));
	ASSERT_EQ(POLLOUT, vchan_poll(self->se, POLLOUT, 0));

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 && errno == ENOSYS)
		SKIP(return, "this kernel has no userfaultfd (CONFIG_USERFAULTFD)");
	ASSERT_LE(0, uffd) TH_LOG("userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	reg.range.start = (unsigned long)src;
	reg.range.len = page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	vchan_start_blocked(_metadata, &w, VCHAN_CALL_WRITE, self->se, src, 2);
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_EQ((unsigned long)src, msg.arg.pagefault.address & ~(page - 1));

	vchan_start_blocked(_metadata, &p, VCHAN_CALL_POLL_OUT, self->se, NULL, 0);
	ASSERT_EQ(0, munmap(src, page));
	close(uffd);	/* the writer's fault is retried and fails */
	vchan_finish_blocked(_metadata, &w);
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EFAULT, w.err);
	vchan_finish_blocked(_metadata, &p);
	EXPECT_EQ(1, p.ret) TH_LOG("the poller was not woken");
	EXPECT_EQ(POLLOUT, p.revents);

	/* Nothing of the failed write; the channel goes on. */
	ASSERT_EQ(0, vchan_read_pattern(self->cl, fill, 1));
	ASSERT_EQ(2, write(self->se, "ok", 2));
	ASSERT_EQ(2, read(self->cl, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "ok", 2));
}

/*
 * Client end closed: the session end reads what was queued, then EOF; its
 * writes fail with EPIPE without SIGPIPE; poll says EPOLLHUP.
 */
TEST_F(io, client_close_eof_epipe)
{
	sigset_t block, pending;
	char buf[16];
	int rev;

	make_pair(_metadata, self, 0, 0);
	ASSERT_EQ(3, write(self->cl, "one", 3));
	ASSERT_EQ(0, write(self->cl, buf, 0));
	ASSERT_EQ(3, write(self->cl, "two", 3));
	ASSERT_EQ(0, close(self->cl));
	self->cl = -1;

	rev = vchan_poll(self->se, POLLIN | POLLOUT, 0);
	EXPECT_TRUE(rev & POLLHUP);
	EXPECT_TRUE(rev & POLLIN);
	EXPECT_FALSE(rev & POLLOUT);
	ASSERT_EQ(3, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	ASSERT_EQ(3, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	EXPECT_EQ(0, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(0, read(self->se, buf, sizeof(buf)));
	/* Non-blocking: still EOF, not EAGAIN. */
	ASSERT_EQ(0, vchan_set_nonblock(self->se, true));
	EXPECT_EQ(0, read(self->se, buf, sizeof(buf)));
	ASSERT_EQ(0, vchan_set_nonblock(self->se, false));
	rev = vchan_poll(self->se, POLLIN | POLLOUT, 0);
	EXPECT_TRUE(rev & POLLHUP);
	EXPECT_FALSE(rev & POLLIN);

	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, NULL));
	EXPECT_EQ(-1, write(self->se, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(-1, write(self->se, "x", 0));
	EXPECT_EQ(EPIPE, errno);
	ASSERT_EQ(0, vchan_set_nonblock(self->se, true));
	EXPECT_EQ(-1, write(self->se, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	ASSERT_EQ(0, sigpending(&pending));
	EXPECT_FALSE(sigismember(&pending, SIGPIPE)) TH_LOG("SIGPIPE was raised");

	/* The ioctls still answer. */
	EXPECT_EQ(0, vchan_fionread(self->se));
}

/* Same, with SIGPIPE at its default disposition in a child: it must live. */
static int epipe_child(void *p)
{
	int fd = *(int *)p;

	signal(SIGPIPE, SIG_DFL);
	if (write(fd, "x", 1) != -1 || errno != EPIPE)
		return 1;
	return 0;
}

TEST_F(io, client_close_no_sigpipe)
{
	make_pair(_metadata, self, 0, 0);
	close(self->cl);
	self->cl = -1;
	EXPECT_EQ(0, vchan_in_child(epipe_child, &self->se));
}

/* Threads blocked at the session end wake when the client end closes. */
TEST_F(io, client_close_wakes_session)
{
	struct vchan_blocked r, w;
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, NULL));
	make_pair(_metadata, self, VCHAN_RING_MIN, VCHAN_F_SHARED);
	self->se2 = vchan_open_se(&self->chan, 0);
	ASSERT_LE(0, self->se2);
	start_blocked(_metadata, &r, self->se, false, 64, 0);
	start_blocked(_metadata, &w, self->se2, true, BIG, 1);
	close(self->cl);
	self->cl = -1;
	vchan_finish_blocked(_metadata, &r);
	vchan_finish_blocked(_metadata, &w);
	EXPECT_EQ(0, r.ret) TH_LOG("read: %s", strerror(r.err));
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EPIPE, w.err);
	vchan_free(r.buf, 64);
	vchan_free(w.buf, BIG);
}

/*
 * Session end closed: the client end reads what it wrote, then EOF, sees
 * EPOLLHUP, session_closes counts it; the next open clears that, and what
 * the client wrote meanwhile is read by the new opener.
 */
TEST_F(io, session_close_hup)
{
	struct vchan_info info;
	char buf[16];
	int rev;

	make_chan(_metadata, self, 0, 0);
	/* Never opened yet: no hang-up, reads would block. */
	EXPECT_EQ(POLLOUT, vchan_poll(self->cl, POLLIN | POLLOUT, 0));
	ASSERT_EQ(0, vchan_set_nonblock(self->cl, true));
	EXPECT_EQ(-1, read(self->cl, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);

	self->se = vchan_open_se(&self->chan, 0);
	ASSERT_LE(0, self->se);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	ASSERT_EQ(3, write(self->se, "bye", 3));
	ASSERT_EQ(0, close(self->se));
	self->se = -1;

	rev = vchan_poll(self->cl, POLLIN, 0);
	EXPECT_TRUE(rev & POLLHUP);
	EXPECT_TRUE(rev & POLLIN);
	ASSERT_EQ(0, vchan_info(self->cl, &info));
	EXPECT_EQ(0, info.session_open);
	EXPECT_EQ(1, info.session_opens);
	EXPECT_EQ(1, info.session_closes);

	ASSERT_EQ(3, read(self->cl, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "bye", 3));
	EXPECT_EQ(0, read(self->cl, buf, sizeof(buf)));
	rev = vchan_poll(self->cl, POLLIN | POLLOUT, 0);
	EXPECT_TRUE(rev & POLLHUP);
	EXPECT_FALSE(rev & POLLIN);

	/* Kept for the next opener. */
	ASSERT_EQ(5, write(self->cl, "later", 5));
	self->se = vchan_open_se(&self->chan, O_NONBLOCK);
	ASSERT_LE(0, self->se);
	rev = vchan_poll(self->cl, POLLIN | POLLOUT, 0);
	EXPECT_FALSE(rev & POLLHUP);
	EXPECT_EQ(-1, read(self->cl, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(5, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "later", 5));
	ASSERT_EQ(0, vchan_info(self->cl, &info));
	EXPECT_EQ(1, info.session_open);
	EXPECT_EQ(2, info.session_opens);
	EXPECT_EQ(1, info.session_closes);
}

TEST_F(io, session_close_wakes_client)
{
	struct vchan_blocked r;

	make_pair(_metadata, self, 0, 0);
	start_blocked(_metadata, &r, self->cl, false, 64, 0);
	close(self->se);
	self->se = -1;
	vchan_finish_blocked(_metadata, &r);
	EXPECT_EQ(0, r.ret) TH_LOG("read: %s", strerror(r.err));
	vchan_free(r.buf, 64);
}

/* ---- writes interrupted by signals ---- */

static volatile sig_atomic_t sig_count;

static void on_sig(int sig)
{
	(void)sig;
	sig_count++;
}

static void install(struct __test_metadata *_metadata, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	sig_count = 0;
}

struct killer {
	pthread_t target;
	pid_t target_tid;
	int fd;			/* reader (client end) */
	size_t first;		/* bytes to read before the signal (0: none) */
	size_t len;		/* message length */
	uint32_t seed;
	int done_fd;		/* eventfd the writer signals after write() */
	bool wait_done;		/* wait for it before reading the rest */
	bool read_after_signal;	/* first == 0: read all once the handler ran */
	/* results */
	int err;
	bool write_done_early;	/* write() returned before the rest was read */
	uint8_t *buf;
};

static void *killer_fn(void *p)
{
	struct killer *k = p;
	size_t got = 0;
	ssize_t n;

	if (k->first) {
		n = read(k->fd, k->buf, k->first);
		if (n <= 0) {
			k->err = n < 0 ? errno : ENODATA;
			return NULL;
		}
		got = n;
	} else if (vchan_wait_sleeping(k->target_tid)) {
		k->err = ETIMEDOUT;
		return NULL;
	}
	pthread_kill(k->target, SIGUSR1);
	if (!k->first && !k->read_after_signal)
		return NULL;
	if (!k->first) {
		long long deadline = vchan_now_ms() + VCHAN_HANG_MS;
		struct timespec pause = { 0, 1000000 };

		while (!sig_count && vchan_now_ms() < deadline)
			nanosleep(&pause, NULL);
	}
	if (k->wait_done)
		k->write_done_early =
			vchan_poll(k->done_fd, POLLIN, VCHAN_HANG_MS) == POLLIN;
	k->err = -vchan_read_msg(k->fd, k->buf + got, k->len - got,
				 k->len - got + 64, 64);
	return NULL;
}

/* A signal before the reader consumed anything: EINTR, nothing delivered. */
static void eintr_unconsumed(struct __test_metadata *_metadata,
			     FIXTURE_DATA(io) *self, size_t len)
{
	struct killer k = { .target = pthread_self(), .target_tid = gettid(),
			    .fd = self->cl };
	struct vchan_dir_info tc, ts;
	uint8_t *buf = vchan_alloc(len);
	pthread_t t;
	ssize_t n;

	ASSERT_NE(NULL, buf);
	vchan_fill(buf, len, 5, 0);
	install(_metadata, 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, killer_fn, &k));
	n = write(self->se, buf, len);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINTR, errno);
	ASSERT_EQ(0, vchan_join(t, NULL));
	EXPECT_EQ(0, k.err) TH_LOG("%s", strerror(k.err));
	EXPECT_EQ(1, sig_count);

	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, 0, 0);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	EXPECT_EQ(0, vchan_fionread(self->cl));
	/* The next message is the first the reader sees. */
	EXPECT_EQ(0, vchan_write_pattern(self->se, 100, 6));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 100, 6));
	vchan_free(buf, len);
}

TEST_F(io, eintr_before_consume_ring_edge)
{
	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	/* One byte more than an empty ring holds. */
	eintr_unconsumed(_metadata, self, VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD + 1);
}

TEST_F(io, eintr_before_consume_big)
{
	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	eintr_unconsumed(_metadata, self, BIG);
}

/* The largest message that fits an empty ring needs no reader. */
TEST_F(io, ring_fit_needs_no_reader)
{
	size_t len = VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD;
	uint8_t *buf = vchan_alloc(len);
	struct sigaction sa;
	ssize_t n;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	ASSERT_NE(NULL, buf);
	vchan_fill(buf, len, 8, 0);
	/* Hang guard only: if the write sleeps, the alarm makes it fail. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarm(VCHAN_HANG_MS / 1000);
	n = write(self->se, buf, len);
	alarm(0);
	EXPECT_EQ(len, n) TH_LOG("write: %s", n < 0 ? strerror(errno) : "short");
	EXPECT_EQ(0, vchan_read_pattern(self->cl, len, 8));
	vchan_free(buf, len);
}

/* With SA_RESTART the interrupted write restarts and delivers once. */
TEST_F(io, signal_restart_delivers_once)
{
	struct killer k = { .target = pthread_self(), .target_tid = gettid(),
			    .len = BIG, .read_after_signal = true };
	struct vchan_dir_info tc, ts;
	uint8_t *buf = vchan_alloc(BIG);
	ssize_t n;
	pthread_t t;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	k.fd = self->cl;
	k.buf = vchan_alloc(BIG + 64);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, k.buf);
	vchan_fill(buf, BIG, 9, 0);
	install(_metadata, SA_RESTART);
	ASSERT_EQ(0, pthread_create(&t, NULL, killer_fn, &k));
	n = write(self->se, buf, BIG);
	EXPECT_EQ(BIG, n) TH_LOG("write: %s", n < 0 ? strerror(errno) : "short");
	ASSERT_EQ(0, vchan_join(t, NULL));
	EXPECT_EQ(1, sig_count);
	EXPECT_EQ(0, k.err) TH_LOG("reader: %s", strerror(k.err));
	EXPECT_EQ(-1, vchan_check(k.buf, BIG, 9, 0));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, BIG, 1);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	vchan_free(buf, BIG);
	vchan_free(k.buf, BIG + 64);
}

/*
 * A signal after the reader began consuming the message: the write
 * completes with the full length without waiting for the reader, and the
 * reader gets the whole message.
 */
TEST_F_TIMEOUT(io, signal_after_partial_consume_completes, 90)
{
	struct killer k = { .target = pthread_self(), .target_tid = gettid(),
			    .first = 1000, .len = BIG, .seed = 10,
			    .wait_done = true };
	struct vchan_dir_info tc, ts;
	uint8_t *buf = vchan_alloc(BIG);
	uint64_t one = 1;
	pthread_t t;
	ssize_t n;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	k.fd = self->cl;
	k.buf = vchan_alloc(BIG + 64);
	k.done_fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, k.done_fd);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, k.buf);
	vchan_fill(buf, BIG, 10, 0);
	install(_metadata, 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, killer_fn, &k));
	n = write(self->se, buf, BIG);
	EXPECT_EQ(BIG, n) TH_LOG("write: %s", n < 0 ? strerror(errno) : "short");
	ASSERT_EQ(sizeof(one), write(k.done_fd, &one, sizeof(one)));
	ASSERT_EQ(0, vchan_join(t, NULL));
	EXPECT_EQ(1, sig_count);
	EXPECT_EQ(0, k.err) TH_LOG("reader: %s", strerror(k.err));
	EXPECT_TRUE(k.write_done_early)
		TH_LOG("write() waited for the reader after the signal");
	EXPECT_EQ(-1, vchan_check(k.buf, BIG, 10, 0));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, BIG, 1);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	close(k.done_fd);
	vchan_free(buf, BIG);
	vchan_free(k.buf, BIG + 64);
}

/* ---- purge ---- */

TEST_F(io, purge_each_direction)
{
	struct vchan_dir_info tc, ts;
	char buf[64];

	make_pair(_metadata, self, 0, 0);
	/* Nothing queued: fine. */
	EXPECT_EQ(0, vchan_purge(self->cl, VCHAN_PURGE_TO_CLIENT | VCHAN_PURGE_TO_SESSION));

	EXPECT_EQ(0, vchan_write_pattern(self->cl, 10, 1));
	EXPECT_EQ(0, vchan_write_pattern(self->cl, 20, 2));
	EXPECT_EQ(0, vchan_write_pattern(self->cl, 30, 3));
	EXPECT_EQ(0, vchan_write_pattern(self->se, 40, 4));
	EXPECT_EQ(0, vchan_write_pattern(self->se, 50, 5));
	dir_infos(_metadata, self->se, &tc, &ts);
	EXPECT_DIR(ts, 60, 3, 60, 3);
	EXPECT_DIR(tc, 90, 2, 90, 2);

	/* The client end empties what it sent to the session. */
	ASSERT_EQ(0, vchan_purge(self->cl, VCHAN_PURGE_TO_SESSION));
	dir_infos(_metadata, self->se, &tc, &ts);
	EXPECT_DIR(ts, 0, 0, 60, 3);
	EXPECT_DIR(tc, 90, 2, 90, 2);
	EXPECT_EQ(0, vchan_poll(self->se, POLLIN, 0));
	EXPECT_EQ(0, vchan_fionread(self->se));
	EXPECT_EQ(40, vchan_fionread(self->cl));

	/* The session end empties what it sent to the client. */
	ASSERT_EQ(0, vchan_purge(self->se, VCHAN_PURGE_TO_CLIENT));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, 90, 2);
	EXPECT_DIR(ts, 0, 0, 60, 3);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));

	/* Both at once, asked from the session end. */
	EXPECT_EQ(0, vchan_write_pattern(self->cl, 7, 6));
	EXPECT_EQ(0, vchan_write_pattern(self->se, 8, 7));
	ASSERT_EQ(0, vchan_purge(self->se, VCHAN_PURGE_TO_CLIENT | VCHAN_PURGE_TO_SESSION));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, 98, 3);
	EXPECT_DIR(ts, 0, 0, 67, 4);

	/* The channel still works, in both directions. */
	EXPECT_EQ(0, vchan_write_pattern(self->cl, 11, 8));
	EXPECT_EQ(0, vchan_write_pattern(self->se, 12, 9));
	EXPECT_EQ(0, vchan_read_pattern(self->se, 11, 8));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 12, 9));
	ASSERT_EQ(0, vchan_set_nonblock(self->se, true));
	EXPECT_EQ(-1, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

/* A message the reader has begun stays whole; the ones behind it go. */
TEST_F(io, purge_keeps_begun_message)
{
	struct vchan_dir_info tc, ts;
	uint8_t a[100], buf[200];

	make_pair(_metadata, self, 0, 0);
	vchan_fill(a, sizeof(a), 1, 0);
	ASSERT_EQ(100, write(self->cl, a, 100));
	EXPECT_EQ(0, vchan_write_pattern(self->cl, 50, 2));
	ASSERT_EQ(30, read(self->se, buf, 30));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(ts, 120, 2, 150, 2);

	ASSERT_EQ(0, vchan_purge(self->se, VCHAN_PURGE_TO_SESSION));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(ts, 70, 1, 150, 2);
	EXPECT_EQ(70, vchan_fionread(self->se));
	ASSERT_EQ(70, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, a + 30, 70));
	ASSERT_EQ(0, vchan_set_nonblock(self->se, true));
	EXPECT_EQ(-1, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(ts, 0, 0, 150, 2);
}

/*
 * A blocking writer of @len bytes whose message the reader has not begun
 * (pinned if larger than the ring, else streaming) is a queued write: purge
 * ends it with ECANCELED and nothing of it is delivered.
 */
static void purge_cancels_writer(struct __test_metadata *_metadata,
				 FIXTURE_DATA(io) *self, size_t len)
{
	struct vchan_dir_info tc, ts;
	struct vchan_blocked b;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	EXPECT_EQ(0, vchan_write_pattern(self->se, 100, 1));
	start_blocked(_metadata, &b, self->se, true, len, 2);
	ASSERT_EQ(0, vchan_purge(self->cl, VCHAN_PURGE_TO_CLIENT));
	vchan_finish_blocked(_metadata, &b);
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(ECANCELED, b.err);
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, 100, 1);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	/* The channel still works. */
	EXPECT_EQ(0, vchan_write_pattern(self->se, 7, 3));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 7, 3));
	vchan_free(b.buf, len);
}

TEST_F(io, purge_cancels_blocked_writer)
{
	purge_cancels_writer(_metadata, self, BIG);
}

TEST_F(io, purge_invalid_einval)
{
	static const __u32 bad[] = { 0, 4, 8, 7, 1u << 31, ~0u };
	struct vchan_dir_info tc, ts;
	unsigned int i;

	make_pair(_metadata, self, 0, 0);
	EXPECT_EQ(0, vchan_write_pattern(self->cl, 10, 1));
	EXPECT_EQ(0, vchan_write_pattern(self->se, 20, 2));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-1, vchan_purge(self->cl, bad[i])) TH_LOG("mask %#x", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("mask %#x", bad[i]);
		EXPECT_EQ(-1, vchan_purge(self->se, bad[i])) TH_LOG("mask %#x", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("mask %#x", bad[i]);
	}
	EXPECT_EQ(-1, ioctl(self->se, VCHAN_IOC_PURGE, NULL));
	EXPECT_EQ(EFAULT, errno);
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(ts, 10, 1, 10, 1);
	EXPECT_DIR(tc, 20, 1, 20, 1);
	EXPECT_EQ(0, vchan_read_pattern(self->se, 10, 1));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 20, 2));
}

/* ---- read modes ---- */

static void expect_mode(struct __test_metadata *_metadata, int fd, __u32 mode,
			__u32 chunk)
{
	struct vchan_read_mode m;

	memset(&m, 0xa5, sizeof(m));
	ASSERT_EQ(0, ioctl(fd, VCHAN_IOC_GET_READ_MODE, &m));
	EXPECT_EQ(mode, m.mode);
	if (mode == VCHAN_READ_PDU)
		EXPECT_EQ(chunk, m.chunk);
}

TEST_F(io, read_mode_invalid_einval)
{
	static const struct vchan_read_mode bad[] = {
		{ 2, 0 },
		{ 0xffffffff, 0 },
		{ VCHAN_READ_PDU, VCHAN_MSG_MAX + 1 },
		{ VCHAN_READ_PDU, 0xffffffff },
	};
	struct vchan_pdu_header h[64];
	unsigned int i, round;

	make_pair(_metadata, self, 0, 0);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			EXPECT_EQ(-1, ioctl(self->cl, VCHAN_IOC_SET_READ_MODE, &bad[i]))
				TH_LOG("mode %u chunk %u", bad[i].mode, bad[i].chunk);
			EXPECT_EQ(EINVAL, errno);
		}
		EXPECT_EQ(-1, ioctl(self->cl, VCHAN_IOC_SET_READ_MODE, NULL));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(-1, ioctl(self->cl, VCHAN_IOC_GET_READ_MODE, NULL));
		EXPECT_EQ(EFAULT, errno);
		if (round == 0) {
			/* Unchanged: stream mode still works. */
			expect_mode(_metadata, self->cl, VCHAN_READ_STREAM, 0);
			EXPECT_EQ(0, vchan_write_pattern(self->se, 30, 1));
			EXPECT_EQ(0, vchan_read_pattern(self->cl, 30, 1));
			ASSERT_EQ(0, vchan_set_mode(self->cl, VCHAN_READ_PDU, 50));
		}
	}
	/* Unchanged: still PDU with chunk 50. */
	expect_mode(_metadata, self->cl, VCHAN_READ_PDU, 50);
	EXPECT_EQ(0, vchan_write_pattern(self->se, 60, 2));
	ASSERT_EQ(8 + 50, read(self->cl, h, sizeof(h)));
	EXPECT_EQ(60, h[0].length);
	EXPECT_EQ(VCHAN_PDU_FIRST, h[0].flags);
	ASSERT_EQ(8 + 10, read(self->cl, h, sizeof(h)));
	EXPECT_EQ(60, h[0].length);
	EXPECT_EQ(VCHAN_PDU_LAST, h[0].flags);
	EXPECT_EQ(-1, vchan_check((char *)h + 8, 10, 2, 50));
}

TEST_F(io, read_mode_per_open_file)
{
	char buf[64];

	make_pair(_metadata, self, 0, VCHAN_F_SHARED);
	self->se2 = vchan_open_se(&self->chan, 0);
	ASSERT_LE(0, self->se2);
	ASSERT_EQ(0, vchan_set_mode(self->se, VCHAN_READ_PDU, 0));
	expect_mode(_metadata, self->se, VCHAN_READ_PDU, VCHAN_PDU_CHUNK_DEFAULT);
	expect_mode(_metadata, self->se2, VCHAN_READ_STREAM, 0);
	expect_mode(_metadata, self->cl, VCHAN_READ_STREAM, 0);

	ASSERT_EQ(3, write(self->cl, "abc", 3));
	ASSERT_EQ(3, write(self->cl, "def", 3));
	ASSERT_EQ(8 + 3, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf + 8, "abc", 3));
	ASSERT_EQ(3, read(self->se2, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "def", 3));

	/* A new open starts in stream mode. */
	close(self->se);
	self->se = vchan_open_se(&self->chan, 0);
	ASSERT_LE(0, self->se);
	expect_mode(_metadata, self->se, VCHAN_READ_STREAM, 0);
}

/*
 * ---- streaming writes ----
 *
 * A blocking write whose message would fit an empty ring beside its length
 * word, but does not fit now, waits until it does and is then copied in
 * whole by its writer: a reader gets it whole.  A larger one is read
 * straight from the writer's pages, while write() still waits.
 */

/*
 * In a 'ring' holding message A of 'a_len' bytes, a blocking write of 'len'
 * bytes waits until the reader has read A, then goes in whole: one PDU read
 * with a chunk as large as the message gets all of it.
 */
static void stream_whole(struct __test_metadata *_metadata, FIXTURE_DATA(io) *self,
			 __u32 ring, size_t a_len, size_t len)
{
	size_t hdr = sizeof(struct vchan_pdu_header);
	uint8_t *got = vchan_alloc(hdr + len);
	struct vchan_dir_info tc, ts;
	struct vchan_blocked b;
	ssize_t n;

	make_pair(_metadata, self, ring, 0);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, vchan_set_mode(self->cl, VCHAN_READ_PDU, ring));
	EXPECT_EQ(0, vchan_write_pattern(self->se, a_len, 1));
	start_blocked(_metadata, &b, self->se, true, len, 2);
	/* Queued, not accepted; nothing of it is readable yet. */
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, a_len + len, 2, a_len, 1);
	EXPECT_EQ(a_len, vchan_fionread(self->cl));
	EXPECT_EQ(-2, b.ret);

	n = read(self->cl, got, hdr + len);
	ASSERT_EQ(hdr + a_len, n) TH_LOG("%s", n < 0 ? strerror(errno) : "");
	EXPECT_PDU(got, a_len, VCHAN_PDU_FIRST | VCHAN_PDU_LAST);
	EXPECT_EQ(-1, vchan_check(got + hdr, a_len, 1, 0));
	vchan_finish_blocked(_metadata, &b);
	EXPECT_EQ(len, b.ret) TH_LOG("%s", strerror(b.err));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, len, 1, a_len + len, 2);

	n = read(self->cl, got, hdr + len);
	ASSERT_EQ(hdr + len, n) TH_LOG("%s", n < 0 ? strerror(errno) : "");
	EXPECT_PDU(got, len, VCHAN_PDU_FIRST | VCHAN_PDU_LAST);
	EXPECT_EQ(-1, vchan_check(got + hdr, len, 2, 0));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, a_len + len, 2);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	vchan_free(got, hdr + len);
	vchan_free(b.buf, len);
}

/* The largest message that streams: the ring less its length word. */
TEST_F(io, stream_whole_small_ring)
{
	stream_whole(_metadata, self, VCHAN_RING_MIN, 100,
		     VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD);
}

TEST_F(io, stream_whole_64k)
{
	stream_whole(_metadata, self, 65536, 60000, 65536 - VCHAN_MSG_OVERHEAD);
}

/* One just over half the ring, behind one just under half. */
TEST_F(io, stream_whole_halves)
{
	stream_whole(_metadata, self, 65536, 32000, 34000);
}

/*
 * A blocking write as large as the ring (64 KiB) cannot be in it whole: the
 * reader reads it in small pieces from the writer's pages while write()
 * still waits, and write() returns once all of it is read.
 */
TEST_F(io, overlap_64k_ring_size)
{
	size_t len = 65536, chunk = 1000;
	uint8_t *got = vchan_alloc(len + 64);
	struct vchan_dir_info tc, ts;
	struct vchan_blocked b;
	ssize_t n;

	make_pair(_metadata, self, 65536, 0);
	ASSERT_NE(NULL, got);
	start_blocked(_metadata, &b, self->se, true, len, 21);
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, len, 1, 0, 0);
	EXPECT_EQ(len, vchan_fionread(self->cl));
	n = read(self->cl, got, chunk);
	ASSERT_EQ(chunk, n) TH_LOG("%s", n < 0 ? strerror(errno) : "");
	/* Still waiting: the rest is in its pages only. */
	EXPECT_EQ(len - chunk, vchan_fionread(self->cl));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, len - chunk, 1, 0, 0);
	EXPECT_EQ(-2, b.ret);
	EXPECT_EQ(0, vchan_read_msg(self->cl, got + chunk, len - chunk, chunk, 64));
	vchan_finish_blocked(_metadata, &b);
	EXPECT_EQ(len, b.ret) TH_LOG("%s", strerror(b.err));
	EXPECT_EQ(-1, vchan_check(got, len, 21, 0));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, len, 1);
	vchan_free(got, len + 64);
	vchan_free(b.buf, len);
}

/*
 * A thread that waits until the writer sleeps in write(), reads (if
 * 'a_before') the 'a_len' bytes of message 'a_seed' that are ahead of the
 * writer's and then 'first' bytes of the writer's message, and sends SIGUSR1
 * to the writer ('kill_first': before those reads, racing with them).  Then, if 'done_fd' >= 0, it waits for the writer to say
 * write() returned; if 'rest', it waits for the handler to have run and
 * reads what is left: message 'a_seed' if not read yet, then the rest of
 * the writer's into 'buf'.
 */
struct stream_killer {
	pthread_t target;
	pid_t target_tid;
	int fd;
	bool kill_first;
	bool a_before;
	size_t a_len;
	uint32_t a_seed;
	size_t first;
	size_t len;		/* the writer's message */
	uint32_t seed;
	int done_fd;
	bool rest;
	/* results */
	int err;
	bool write_done_early;
	uint8_t *buf;
};

static void *stream_killer_fn(void *p)
{
	struct stream_killer *k = p;
	struct timespec pause = { 0, 1000000 };
	long long deadline;
	ssize_t n;

	if (vchan_wait_sleeping(k->target_tid)) {
		k->err = ETIMEDOUT;
		return NULL;
	}
	if (k->kill_first)
		pthread_kill(k->target, SIGUSR1);
	if (k->a_before) {
		k->err = -vchan_read_pattern(k->fd, k->a_len, k->a_seed);
		if (k->err)
			return NULL;
	}
	if (k->first) {
		n = read(k->fd, k->buf, k->first);
		if (n != (ssize_t)k->first) {
			k->err = n < 0 ? errno : EPROTO;
			return NULL;
		}
	}
	if (!k->kill_first)
		pthread_kill(k->target, SIGUSR1);
	if (k->done_fd >= 0)
		k->write_done_early =
			vchan_poll(k->done_fd, POLLIN, VCHAN_HANG_MS) == POLLIN;
	if (!k->rest)
		return NULL;
	deadline = vchan_now_ms() + VCHAN_HANG_MS;
	while (!sig_count && vchan_now_ms() < deadline)
		nanosleep(&pause, NULL);
	if (!k->a_before) {
		k->err = -vchan_read_pattern(k->fd, k->a_len, k->a_seed);
		if (k->err)
			return NULL;
	}
	k->err = -vchan_read_msg(k->fd, k->buf + k->first, k->len - k->first,
				 k->len - k->first + 64, 64);
	return NULL;
}

/* A signal while a streaming message waits: EINTR, nothing of it delivered. */
TEST_F(io, stream_eintr_before_read)
{
	size_t len = VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD;
	struct stream_killer k = { .target = pthread_self(), .target_tid = gettid(),
				   .done_fd = -1 };
	struct vchan_dir_info tc, ts;
	uint8_t *buf = vchan_alloc(len);
	pthread_t t;
	ssize_t n;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	k.fd = self->cl;
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(0, vchan_write_pattern(self->se, 100, 1));
	vchan_fill(buf, len, 2, 0);
	install(_metadata, 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, stream_killer_fn, &k));
	n = write(self->se, buf, len);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINTR, errno);
	ASSERT_EQ(0, vchan_join(t, NULL));
	EXPECT_EQ(0, k.err) TH_LOG("%s", strerror(k.err));
	EXPECT_EQ(1, sig_count);

	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 100, 1, 100, 1);
	EXPECT_EQ(100, vchan_fionread(self->cl));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 100, 1));
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	EXPECT_EQ(0, vchan_fionread(self->cl));
	/* The next message is the next the reader sees. */
	EXPECT_EQ(0, vchan_write_pattern(self->se, len, 3));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, len, 3));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, 100 + len, 2);
	vchan_free(buf, len);
}

/* With SA_RESTART it starts again and is delivered once. */
TEST_F(io, stream_signal_restart_delivers_once)
{
	size_t len = VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD;
	struct stream_killer k = { .target = pthread_self(), .target_tid = gettid(),
				   .a_len = 100, .a_seed = 1, .len = len,
				   .done_fd = -1, .rest = true };
	struct vchan_dir_info tc, ts;
	uint8_t *buf = vchan_alloc(len);
	pthread_t t;
	ssize_t n;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	k.fd = self->cl;
	k.buf = vchan_alloc(len + 64);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, k.buf);
	EXPECT_EQ(0, vchan_write_pattern(self->se, 100, 1));
	vchan_fill(buf, len, 2, 0);
	install(_metadata, SA_RESTART);
	ASSERT_EQ(0, pthread_create(&t, NULL, stream_killer_fn, &k));
	n = write(self->se, buf, len);
	EXPECT_EQ(len, n) TH_LOG("write: %s", n < 0 ? strerror(errno) : "short");
	ASSERT_EQ(0, vchan_join(t, NULL));
	EXPECT_EQ(1, sig_count);
	EXPECT_EQ(0, k.err) TH_LOG("reader: %s", strerror(k.err));
	EXPECT_EQ(-1, vchan_check(k.buf, len, 2, 0));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, 100 + len, 2);
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	vchan_free(buf, len);
	vchan_free(k.buf, len + 64);
}

/*
 * A signal racing with a reader that takes the message ahead of a streaming
 * one, which then fits: whichever wins, with SA_RESTART the write returns
 * the full length and the message arrives whole, once (taken back and
 * written again, or in before the signal counted).
 */
TEST_F_TIMEOUT(io, stream_signal_races_reader, 120)
{
	size_t len = VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD;
	struct vchan_dir_info tc, ts;
	uint8_t *buf = vchan_alloc(len);
	uint8_t *got = vchan_alloc(len + 64);
	unsigned int i, rounds = 20;
	pthread_t t;
	ssize_t n;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, got);
	for (i = 0; i < rounds; i++) {
		struct stream_killer k = {
			.target = pthread_self(), .target_tid = gettid(),
			.fd = self->cl, .kill_first = true, .a_before = true,
			.a_len = 100, .a_seed = 2 * i, .first = 1, .len = len,
			.seed = 2 * i + 1, .done_fd = -1, .rest = true, .buf = got,
		};

		EXPECT_EQ(0, vchan_write_pattern(self->se, 100, 2 * i));
		vchan_fill(buf, len, 2 * i + 1, 0);
		install(_metadata, SA_RESTART);
		ASSERT_EQ(0, pthread_create(&t, NULL, stream_killer_fn, &k));
		n = write(self->se, buf, len);
		EXPECT_EQ(len, n) TH_LOG("write: %s", n < 0 ? strerror(errno) : "short");
		ASSERT_EQ(0, vchan_join(t, NULL));
		EXPECT_EQ(1, sig_count);
		EXPECT_EQ(0, k.err) TH_LOG("reader: %s", strerror(k.err));
		EXPECT_EQ(-1, vchan_check(got, len, 2 * i + 1, 0)) TH_LOG("round %u", i);
		EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	}
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, rounds * (100 + len), 2 * rounds);
	vchan_free(buf, len);
	vchan_free(got, len + 64);
}

/* The reader goes away: a streaming writer fails with EPIPE. */
TEST_F(io, stream_reader_gone_epipe)
{
	size_t len = VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD;
	struct vchan_dir_info tc, ts;
	struct vchan_blocked w;
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, NULL));
	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	EXPECT_EQ(0, vchan_write_pattern(self->se, 100, 1));
	start_blocked(_metadata, &w, self->se, true, len, 2);
	close(self->cl);
	self->cl = -1;
	vchan_finish_blocked(_metadata, &w);
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EPIPE, w.err);
	/* Only the first message is left, never to be read. */
	dir_infos(_metadata, self->se, &tc, &ts);
	EXPECT_DIR(tc, 100, 1, 100, 1);
	vchan_free(w.buf, len);
}

/* The same for a streaming message. */
TEST_F(io, stream_purge_cancels)
{
	purge_cancels_writer(_metadata, self, VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD);
}

/*
 * While a writer streams, a non-blocking write gets EAGAIN, and a second
 * blocking writer queues behind it: the messages arrive in order, whole.
 */
TEST_F(io, stream_order_nonblock_eagain)
{
	size_t len = VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD;
	struct vchan_dir_info tc, ts;
	struct vchan_blocked w1, w2;
	char c = 'x';

	make_pair(_metadata, self, VCHAN_RING_MIN, VCHAN_F_SHARED);
	self->se2 = vchan_open_se(&self->chan, O_NONBLOCK);
	ASSERT_LE(0, self->se2) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, vchan_write_pattern(self->se, 100, 1));
	start_blocked(_metadata, &w1, self->se, true, len, 2);
	start_blocked(_metadata, &w2, self->se, true, 3000, 3);
	EXPECT_EQ(-1, write(self->se2, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, write(self->se2, &c, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, vchan_poll(self->se2, POLLOUT, 0));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 100 + len + 3000, 3, 100, 1);

	EXPECT_EQ(0, vchan_read_pattern(self->cl, 100, 1));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, len, 2));
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 3000, 3));
	vchan_finish_blocked(_metadata, &w1);
	vchan_finish_blocked(_metadata, &w2);
	EXPECT_EQ(len, w1.ret) TH_LOG("%s", strerror(w1.err));
	EXPECT_EQ(3000, w2.ret) TH_LOG("%s", strerror(w2.err));
	EXPECT_EQ(POLLOUT, vchan_poll(self->se2, POLLOUT, 0));
	EXPECT_EQ(1, write(self->se2, &c, 1));
	EXPECT_EQ(1, read(self->cl, &c, 1));
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 0, 0, 100 + len + 3000 + 1, 4);
	vchan_free(w1.buf, len);
	vchan_free(w2.buf, 3000);
}

/* A bad buffer fails at once with nothing delivered, even streaming. */
TEST_F(io, stream_efault)
{
	size_t len = VCHAN_RING_MIN - VCHAN_MSG_OVERHEAD;
	long page = sysconf(_SC_PAGESIZE);
	struct vchan_dir_info tc, ts;
	uint8_t *map;

	make_pair(_metadata, self, VCHAN_RING_MIN, 0);
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));
	EXPECT_EQ(0, vchan_write_pattern(self->se, 100, 1));
	/* Its first page is there, the rest is not. */
	EXPECT_EQ(-1, write(self->se, map + page - 100, len));
	EXPECT_EQ(EFAULT, errno);
	dir_infos(_metadata, self->cl, &tc, &ts);
	EXPECT_DIR(tc, 100, 1, 100, 1);
	EXPECT_EQ(0, vchan_read_pattern(self->cl, 100, 1));
	EXPECT_EQ(0, vchan_poll(self->cl, POLLIN, 0));
	munmap(map, page);
}

TEST_HARNESS_MAIN
