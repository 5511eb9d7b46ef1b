// SPDX-License-Identifier: GPL-2.0
/*
 * vchan: faults under load and resource exhaustion.
 *
 *  - The daemon holding the client end is SIGKILLed in the middle of a
 *    transfer each way: the session end still reads the message it had
 *    begun, whole, then EOF; its writer blocked on the full ring gets
 *    EPIPE; nothing hangs; the channel and its node are gone.
 *  - delete_module() while channels are open and moving data, with a
 *    writer blocked in the middle of a message: refused (EWOULDBLOCK) every
 *    time, and every message arrives whole and in order.
 *  - Rings at max_ring, both directions: RWF_NOWAIT writes fill them to the
 *    exact byte, then everything reads back intact.
 *  - A memory cgroup (v2, mounted if need be) with a small memory.max:
 *    creating channels with max_ring rings in it ends with ENOMEM, not the
 *    OOM killer; a channel outside it keeps its data and works; once the
 *    cgroup's channels are closed its memory is back below one ring.  An
 *    O_NONBLOCK write whose kernel copy is over the limit: ENOMEM likewise.
 *
 * max_channels and the aio queue bounds are tested in vchan_module_test.c
 * and vchan_aio_test.c, SIGKILL with queued aio in vchan_aio_test.c.
 */
#include <semaphore.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "vchan_util.h"

#include "kselftest_harness.h"

#include "vchan_fixture.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT	0x00000008
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

#define RING		VCHAN_RING_MIN
#define CGROOT		"/sys/fs/cgroup"

FIXTURE(load) {
	VCHAN_CHAN_FIXTURE;
	long long channels;	/* at the start */
};

FIXTURE_SETUP(load)
{
	vchan_chan_setup(_metadata, &self->chan);
	self->channels = vchan_channels();
	ASSERT_LE(0, self->channels);
}

FIXTURE_TEARDOWN(load)
{
	vchan_chan_teardown(&self->chan);
}

/* Waits up to the hang guard for child 'pid' to end; its wait status or -1. */
static int wait_child(pid_t pid)
{
	int pfd = syscall(SYS_pidfd_open, pid, 0), status;
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd < 0)
		return -1;
	if (poll(&p, 1, VCHAN_HANG_MS) != 1) {
		close(pfd);
		return -1;
	}
	close(pfd);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

#define BIG	(1U << 20)

/*
 * The daemon: creates the channel, says so on 'ready', then blocks writing
 * one BIG message (seed 7) to the session end until it is killed.
 */
static void daemon_body(__u32 session, int ready)
{
	char *msg = vchan_alloc(BIG);
	int ctl = vchan_open_control(), cl;

	if (!msg || ctl < 0)
		_exit(2);
	vchan_fill(msg, BIG, 7, 0);
	cl = vchan_create(ctl, session, "dmn", 0, RING);
	if (cl < 0 || write(ready, "r", 1) != 1)
		_exit(3);
	if (write(cl, msg, BIG) < 0)
		_exit(4);
	_exit(5);	/* never: nobody reads all of it before the kill */
}

TEST_F(load, daemon_sigkill_mid_transfer)
{
	static char out[16 * RING];
	struct vchan_blocked wr;
	char *buf = vchan_alloc(BIG);
	size_t got = 0;
	int ready[2], status;
	ssize_t n;
	pid_t pid;
	char c;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		daemon_body(self->session, ready[1]);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	snprintf(self->name, sizeof(self->name), "dmn");
	self->se = vchan_open_se(&self->chan, 0);
	ASSERT_LE(0, self->se) TH_LOG("%s", strerror(errno));

	/* The session end has begun the daemon's message... */
	n = read(self->se, buf, 10000);
	ASSERT_EQ(10000, n);
	ASSERT_EQ(-1, vchan_check(buf, n, 7, 0));
	got = n;
	/* ...and blocks writing more than the daemon's ring holds. */
	vchan_start_blocked(_metadata, &wr, VCHAN_CALL_WRITE, self->se, out, sizeof(out));

	ASSERT_EQ(0, kill(pid, SIGKILL));
	status = wait_child(pid);
	ASSERT_NE(-1, status) TH_LOG("the daemon did not die");
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	vchan_finish_blocked(_metadata, &wr);
	EXPECT_EQ(-1, wr.ret);
	EXPECT_EQ(EPIPE, wr.err);

	/* The begun message arrives whole, then EOF. */
	while (got < BIG) {
		n = read(self->se, buf + got, BIG - got);
		ASSERT_LT(0, n) TH_LOG("after %zu bytes: %zd %s", got, n, strerror(errno));
		got += n;
	}
	EXPECT_EQ(-1, vchan_check(buf, BIG, 7, 0));
	EXPECT_EQ(0, read(self->se, buf, BIG));
	EXPECT_TRUE(vchan_poll(self->se, POLLIN, 0) & POLLHUP);
	EXPECT_EQ(-1, write(self->se, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_FALSE(vchan_node_exists(self->session, "dmn"));
	EXPECT_EQ(self->channels, vchan_channels());
	vchan_free(buf, BIG);
}

/* Message i of the rmmod test: its length. */
static size_t load_len(unsigned int i)
{
	return (i * 2654435761u) % (3 * RING);
}

#define LOAD_MSGS	600

struct load_reader {
	int fd;
	sem_t *paused;		/* posted when half way */
	sem_t *resume;
	int bad;		/* index + 1 of the first bad message */
};

static void *load_reader_fn(void *p)
{
	struct load_reader *r = p;
	static char buf[3 * RING + 16];
	unsigned int i;

	for (i = 0; i < LOAD_MSGS; i++) {
		size_t len = load_len(i);

		if (i == LOAD_MSGS / 2) {
			sem_post(r->paused);
			sem_wait(r->resume);
		}
		if (!len)
			continue;	/* plain reads skip empty messages */
		if (vchan_read_msg(r->fd, buf, len, len + 16, 16) ||
		    vchan_check(buf, len, i, 0) != -1) {
			r->bad = i + 1;
			break;
		}
	}
	return NULL;
}

static void *load_writer_fn(void *p)
{
	static char buf[3 * RING];
	int fd = *(int *)p;
	unsigned int i;

	for (i = 0; i < LOAD_MSGS; i++) {
		size_t len = load_len(i);

		vchan_fill(buf, len, i, 0);
		if (write(fd, buf, len) != (ssize_t)len)
			return (void *)1;
	}
	return NULL;
}

TEST_F(load, rmmod_refused_under_load)
{
	struct load_reader r = { 0 };
	sem_t paused, resume;
	pthread_t rt, wt;
	void *wret = (void *)-1;
	int attempts = 0;

	vchan_make_pair(_metadata, &self->chan, "rmm", RING, 0);
	ASSERT_EQ(0, sem_init(&paused, 0, 0));
	ASSERT_EQ(0, sem_init(&resume, 0, 0));
	r.fd = self->se;
	r.paused = &paused;
	r.resume = &resume;
	ASSERT_EQ(0, pthread_create(&rt, NULL, load_reader_fn, &r));
	ASSERT_EQ(0, pthread_create(&wt, NULL, load_writer_fn, &self->cl));

	/* Half way: the reader pauses, the writer soon blocks on the full ring. */
	ASSERT_EQ(0, sem_wait(&paused));
	do {
		EXPECT_EQ(-1, syscall(SYS_delete_module, "vchan", O_NONBLOCK));
		EXPECT_EQ(EWOULDBLOCK, errno);
		attempts++;
	} while (attempts < 3);
	ASSERT_EQ(0, sem_post(&resume));
	/* Then all the way through the second half. */
	while (pthread_tryjoin_np(wt, &wret) == EBUSY) {
		struct timespec pace = { 0, 2000000 };

		ASSERT_EQ(-1, syscall(SYS_delete_module, "vchan", O_NONBLOCK));
		ASSERT_EQ(EWOULDBLOCK, errno);
		attempts++;
		nanosleep(&pace, NULL);	/* not an ordering: leave the CPU to the transfer */
	}
	EXPECT_EQ(NULL, wret);
	ASSERT_EQ(0, vchan_join(rt, NULL));
	EXPECT_EQ(0, r.bad) TH_LOG("message %d", r.bad - 1);
	printf("# %d refused unload attempts\n", attempts);
	EXPECT_EQ(0, access("/sys/module/vchan", F_OK));
	EXPECT_EQ(3, write(self->cl, "end", 3));
}

/* Fills fd's direction with RWF_NOWAIT writes of 'msg' bytes: how many fit. */
static int fill_nowait(int fd, char *buf, size_t msg, unsigned int max)
{
	struct iovec iov = { .iov_base = buf, .iov_len = msg };
	unsigned int i;

	for (i = 0; i < max; i++) {
		vchan_fill(buf, msg, i, 0);
		if (pwritev2(fd, &iov, 1, -1, RWF_NOWAIT) != (ssize_t)msg)
			break;
	}
	return errno == EAGAIN ? (int)i : -1;
}

TEST_F(load, rings_at_max_ring)
{
	long long max_ring = vchan_param("max_ring");
	size_t msg = 65536 - VCHAN_MSG_OVERHEAD;
	static char buf[65536];
	struct vchan_create c;
	int dir, k, i, from, to;

	ASSERT_LT(0, max_ring);
	vchan_create_init(&c, self->session, "max");
	c.ring_to_client = c.ring_to_session = max_ring;
	self->cl = vchan_create_full(self->ctl, &c);
	ASSERT_LE(0, self->cl) TH_LOG("%s", strerror(errno));
	snprintf(self->name, sizeof(self->name), "max");
	self->se = vchan_open_se(&self->chan, O_NONBLOCK);
	ASSERT_LE(0, self->se);
	ASSERT_EQ(0, vchan_set_nonblock(self->cl, true));

	for (dir = 0; dir < 2; dir++) {
		struct vchan_dir_info d;

		from = dir ? self->se : self->cl;
		to = dir ? self->cl : self->se;
		k = fill_nowait(from, buf, msg, 2 * max_ring / 65536);
		EXPECT_EQ(max_ring / 65536, k);
		/* Full to the byte: not even a length word fits. */
		EXPECT_EQ(-1, write(from, buf, 0));
		EXPECT_EQ(EAGAIN, errno);
		EXPECT_EQ(0, vchan_poll(from, POLLOUT, 0) & POLLOUT);
		d = vchan_dir(_metadata, from, dir);
		EXPECT_EQ(max_ring, d.ring_size);
		EXPECT_EQ(k, d.queued_msgs);
		EXPECT_EQ((__u64)k * msg, d.queued_bytes);
		for (i = 0; i < k; i++) {
			ASSERT_EQ(msg, read(to, buf, sizeof(buf)));
			ASSERT_EQ(-1, vchan_check(buf, msg, i, 0)) TH_LOG("message %d", i);
		}
		EXPECT_EQ(-1, read(to, buf, sizeof(buf)));
		EXPECT_EQ(EAGAIN, errno);
		EXPECT_EQ(POLLOUT, vchan_poll(from, POLLOUT, 0) & POLLOUT);
	}
}

/* ---- memory cgroup ---- */

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static long long cg_num(const char *dir, const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return vchan_read_num(path);
}

/* The value of 'key' in a flat keyed file such as memory.events; -1 if none. */
static long long cg_key(const char *dir, const char *file, const char *key)
{
	char path[256], line[128];
	long long v = -1;
	size_t len = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ' ')
			v = strtoll(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

/* cgroup v2 at CGROOT with the memory controller for children, or a reason. */
static const char *cg_setup(void)
{
	struct statfs sfs;

	if (statfs(CGROOT, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		if (mount("cgroup2", CGROOT, "cgroup2", 0, NULL))
			return "cannot mount cgroup2 on " CGROOT;
	}
	if (cg_write(CGROOT, "cgroup.subtree_control", "+memory"))
		return "no memory controller in cgroup v2";
	return NULL;
}

struct cg_result {
	int created;	/* channels created in the cgroup */
	int err;	/* errno of the create that failed */
	int trip;	/* 0: a round trip on the first channel worked */
};

#define CG_MAX_CHANS	64

/* In the cgroup: channels with max_ring rings until creating one fails. */
static void cg_child(const char *cg, __u32 session, __u32 ring, int res_fd)
{
	struct cg_result res = { 0, 0, -1 };
	int fds[CG_MAX_CHANS], ctl, se;
	char name[16], buf[8];

	ctl = vchan_open_control();
	if (ctl < 0 || cg_write(cg, "cgroup.procs", "0"))
		_exit(2);
	while (res.created < CG_MAX_CHANS) {
		snprintf(name, sizeof(name), "m%d", res.created);
		fds[res.created] = vchan_create(ctl, session, name, 0, ring);
		if (fds[res.created] < 0) {
			res.err = errno;
			break;
		}
		res.created++;
	}
	if (res.created) {
		se = vchan_open_node(session, "m0", O_RDWR);
		if (se >= 0 && write(fds[0], "cg", 2) == 2 && read(se, buf, sizeof(buf)) == 2 &&
		    !memcmp(buf, "cg", 2))
			res.trip = 0;
		if (se >= 0)
			close(se);
	}
	if (write(res_fd, &res, sizeof(res)) != sizeof(res))
		_exit(3);
	_exit(0);	/* closes every channel */
}

TEST_F(load, memcg_limit_enomem)
{
	long long ring = vchan_param("max_ring");
	long long limit = 5 * ring;	/* two channels, not three */
	struct cg_result res;
	const char *why;
	char cg[64], val[32], buf[8];
	int pipefd[2], status;
	pid_t pid;

	ASSERT_LT(0, ring);
	why = cg_setup();
	if (why)
		SKIP(return, "%s", why);
	snprintf(cg, sizeof(cg), CGROOT "/vchan-load-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755)) TH_LOG("%s: %s", cg, strerror(errno));
	snprintf(val, sizeof(val), "%lld", limit);
	ASSERT_EQ(0, cg_write(cg, "memory.max", val));

	/* Outside the cgroup: a channel with a message waiting. */
	vchan_make_pair(_metadata, &self->chan, "out", RING, 0);
	ASSERT_EQ(3, write(self->cl, "pre", 3));

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		cg_child(cg, self->session, ring, pipefd[1]);
	close(pipefd[1]);
	status = wait_child(pid);
	ASSERT_EQ(sizeof(res), read(pipefd[0], &res, sizeof(res)));
	close(pipefd[0]);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	EXPECT_LE(1, res.created);
	EXPECT_GE(limit / (2 * ring), res.created);
	EXPECT_EQ(ENOMEM, res.err) TH_LOG("%s", strerror(res.err));
	EXPECT_EQ(0, res.trip);
	EXPECT_EQ(0, cg_key(cg, "memory.events", "oom_kill"));

	/* Everything of the cgroup's channels is gone; the other one is intact. */
	EXPECT_EQ(self->channels + 1, vchan_channels());
	EXPECT_GT(ring, cg_num(cg, "memory.current"));
	EXPECT_EQ(3, read(self->se, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "pre", 3));
	EXPECT_EQ(4, write(self->se, "post", 4));
	EXPECT_EQ(4, read(self->cl, buf, sizeof(buf)));
	EXPECT_EQ(0, rmdir(cg)) TH_LOG("%s", strerror(errno));
}

/*
 * An O_NONBLOCK write of a message larger than the ring is copied into
 * kernel memory charged to the writer's memory cgroup (write-behind).  Over
 * the cgroup's memory.max it fails with ENOMEM: no OOM kill, nothing sent,
 * and the channel goes on working.  The message is written from memory
 * charged outside the cgroup, so only the kernel's copy counts against it.
 */
TEST_F(load, memcg_write_behind_enomem)
{
	size_t len = VCHAN_MSG_MAX;
	int pipefd[2], status, res[2] = { -1, -1 };
	char cg[64], buf[8];
	const char *why;
	char *msg;
	pid_t pid;

	why = cg_setup();
	if (why)
		SKIP(return, "%s", why);
	msg = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, msg);
	memset(msg, 'w', len);
	snprintf(cg, sizeof(cg), CGROOT "/vchan-wb-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755)) TH_LOG("%s: %s", cg, strerror(errno));
	ASSERT_EQ(0, cg_write(cg, "memory.max", "4194304"));
	vchan_make_chan(_metadata, &self->chan, "wb", RING, 0);

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = vchan_open_se(&self->chan, O_NONBLOCK);

		if (fd >= 0 && !cg_write(cg, "cgroup.procs", "0")) {
			res[0] = write(fd, msg, len);
			res[1] = errno;
		}
		_exit(write(pipefd[1], res, sizeof(res)) != sizeof(res));
	}
	close(pipefd[1]);
	status = wait_child(pid);
	EXPECT_EQ(sizeof(res), read(pipefd[0], res, sizeof(res)));
	close(pipefd[0]);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	EXPECT_EQ(-1, res[0]);
	EXPECT_EQ(ENOMEM, res[1]) TH_LOG("%s", strerror(res[1]));
	EXPECT_EQ(0, cg_key(cg, "memory.events", "oom_kill"));
	EXPECT_GT(1 << 20, cg_num(cg, "memory.current"));
	EXPECT_EQ(0, rmdir(cg)) TH_LOG("%s", strerror(errno));
	munmap(msg, len);

	/* Nothing of it arrived; the next message does. */
	self->se = vchan_open_se(&self->chan, 0);
	ASSERT_LE(0, self->se) TH_LOG("open: %s", strerror(errno));
	EXPECT_EQ(4, write(self->se, "next", 4));
	EXPECT_EQ(4, read(self->cl, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "next", 4));
}

TEST_HARNESS_MAIN
