/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vchan selftests.
 *
 * None of these use the harness' ASSERT and EXPECT macros so that they can be
 * called from helper threads and forked children; they report failure
 * through their return value (-errno, or -1 with errno set).
 */
#ifndef VCHAN_UTIL_H
#define VCHAN_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/vchan.h>

/*
 * kselftest_harness.h is not -Wextra clean, and the test files are built
 * with -Wall -Wextra -Werror:
 *  - its TEST_F() wrapper assigns a local between setjmp() and longjmp()
 *    (-Wclobbered, gcc only);
 *  - its __timeout_handler() has an unused parameter (-Wunused-parameter);
 *  - EXPECT_EQ(0600, st.st_mode) and the like compare the macro's typeof()
 *    copies of an int literal and an unsigned value (-Wsign-compare).
 * Every file that includes this header includes the harness next, and
 * then, for the helpers that use the harness, vchan_fixture.h.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#define VCHAN_CONTROL		"/dev/vchan/control"
#define VCHAN_DEV_DIR		"/dev/vchan"
#define VCHAN_SYSFS_CLASS	"/sys/class/vchan"
#define VCHAN_SYSFS_CHANNELS	VCHAN_SYSFS_CLASS "/channels"
#define VCHAN_SYSFS_PARAMS	"/sys/module/vchan/parameters"

/* Generous guard against hangs; never used to order events. */
#define VCHAN_HANG_MS		20000

/*
 * A session id no other test (nor a concurrent run) uses: every harness test
 * runs in its own process, so the pid makes it unique; the counter separates
 * several sessions of one test.
 */
static inline __u32 vchan_unique_session(void)
{
	static unsigned int counter;

	return 0x40000000u | ((__u32)getpid() << 6) | (counter++ & 0x3f);
}

static inline void vchan_create_init(struct vchan_create *c, __u32 session,
				     const char *name)
{
	memset(c, 0, sizeof(*c));
	c->session = session;
	snprintf(c->name, sizeof(c->name), "%s", name);
}

static inline int vchan_open_control(void)
{
	return open(VCHAN_CONTROL, O_RDWR | O_CLOEXEC);
}

/* Returns the client-end fd, or -1 with errno set. */
static inline int vchan_create_full(int ctl, const struct vchan_create *c)
{
	return ioctl(ctl, VCHAN_IOC_CREATE, c);
}

/* A channel with defaults (owner root, mode 0600, default rings). */
static inline int vchan_create(int ctl, __u32 session, const char *name,
			       __u32 flags, __u32 ring)
{
	struct vchan_create c;

	vchan_create_init(&c, session, name);
	c.flags = flags;
	c.ring_to_client = ring;
	c.ring_to_session = ring;
	return vchan_create_full(ctl, &c);
}

static inline void vchan_node_path(char *buf, size_t len, __u32 session,
				   const char *name)
{
	snprintf(buf, len, VCHAN_DEV_DIR "/%u/%s", session, name);
}

static inline void vchan_session_dir(char *buf, size_t len, __u32 session)
{
	snprintf(buf, len, VCHAN_DEV_DIR "/%u", session);
}

/* Opens the session end; -1 with errno set on failure. */
static inline int vchan_open_node(__u32 session, const char *name, int flags)
{
	char path[512];

	vchan_node_path(path, sizeof(path), session, name);
	return open(path, flags | O_CLOEXEC);
}

static inline bool vchan_node_exists(__u32 session, const char *name)
{
	char path[512];
	struct stat st;

	vchan_node_path(path, sizeof(path), session, name);
	return stat(path, &st) == 0;
}

/*
 * Number of entries in /dev/vchan/<session> (0 if the directory does not
 * exist), -1 on another error.
 */
static inline int vchan_session_entries(__u32 session)
{
	char path[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	vchan_session_dir(path, sizeof(path), session);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Reads a small text file into buf, stripping one trailing newline. */
static inline int vchan_read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* A number from a sysfs file (base 0: decimal, 0x... or 0...); -1 on error. */
static inline long long vchan_read_num(const char *path)
{
	char buf[64], *end;
	long long v;

	if (vchan_read_text(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 0);
	if (errno || end == buf)
		return -1;
	return v;
}

static inline long long vchan_channels(void)
{
	return vchan_read_num(VCHAN_SYSFS_CHANNELS);
}

static inline long long vchan_param(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), VCHAN_SYSFS_PARAMS "/%s", name);
	return vchan_read_num(path);
}

static inline int vchan_info(int fd, struct vchan_info *info)
{
	memset(info, 0xa5, sizeof(*info));
	return ioctl(fd, VCHAN_IOC_INFO, info);
}

static inline int vchan_fionread(int fd)
{
	int n = -12345;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

static inline int vchan_set_mode(int fd, __u32 mode, __u32 chunk)
{
	struct vchan_read_mode m = { .mode = mode, .chunk = chunk };

	return ioctl(fd, VCHAN_IOC_SET_READ_MODE, &m);
}

static inline int vchan_purge(int fd, __u32 mask)
{
	return ioctl(fd, VCHAN_IOC_PURGE, &mask);
}

static inline int vchan_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

/* revents of one poll() with a timeout in ms (0: just look); -1 on error. */
static inline int vchan_poll(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return -1;
	return r ? p.revents : 0;
}

/*
 * Test data: the byte at offset 'off' of a message with seed 'seed'.  It
 * depends on the offset so that a chunk delivered at the wrong place, twice
 * or not at all is caught, not only a corrupted byte.
 */
static inline uint8_t vchan_pattern_byte(uint32_t seed, uint64_t off)
{
	uint32_t x = (uint32_t)off * 2654435761u;

	x ^= seed * 0x9e3779b9u;
	x ^= (uint32_t)(off >> 13) * 0x85ebca6bu;
	return (uint8_t)(x >> 24);
}

static inline void vchan_fill(void *buf, size_t len, uint32_t seed,
			      uint64_t off)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = vchan_pattern_byte(seed, off + i);
}

/* Offset of the first byte that differs from the pattern, or -1. */
static inline long long vchan_check(const void *buf, size_t len, uint32_t seed,
				    uint64_t off)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != vchan_pattern_byte(seed, off + i))
			return (long long)(off + i);
	return -1;
}

/* FNV-1a, 64 bit. */
static inline uint64_t vchan_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Anonymous memory for big buffers (not zeroed by us: mmap gives zeroes). */
static inline void *vchan_alloc(size_t len)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static inline void vchan_free(void *p, size_t len)
{
	if (p)
		munmap(p, len ? len : 1);
}

/* Whether the tests run on the debug kernel (KASAN, lockdep, kmemleak). */
static inline bool vchan_debug_kernel(void)
{
	const char *k = getenv("VCHAN_VM_KERNEL");

	return k && !strcmp(k, "debug");
}

static inline long long vchan_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Waits until thread 'tid' of this process is asleep (state S), that is
 * blocked in the system call the test is about.  Polls /proc with a short
 * pause: a condition wait with a hang guard, not a sleep used as ordering.
 * Returns 0, or -1 after VCHAN_HANG_MS.
 */
static inline int vchan_wait_sleeping(pid_t tid)
{
	long long deadline = vchan_now_ms() + VCHAN_HANG_MS;
	char path[64], buf[512], *p;
	struct timespec pause = { 0, 1000000 };

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	do {
		if (vchan_read_text(path, buf, sizeof(buf)) == 0) {
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'S')
				return 0;
		}
		nanosleep(&pause, NULL);
	} while (vchan_now_ms() < deadline);
	return -1;
}

/*
 * pthread_join with a hang guard: returns 0 when joined, ETIMEDOUT if the
 * thread did not finish within VCHAN_HANG_MS.
 */
static inline int vchan_join(pthread_t t, void **ret)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += VCHAN_HANG_MS / 1000;
	return pthread_timedjoin_np(t, ret, &ts);
}

/*
 * A thread that makes one blocking call on fd: read() or write() of
 * buf/len, or poll() for POLLIN or POLLOUT with the hang guard as its
 * timeout.  Its body
 * reports the thread's tid through the eventfd 'ready' first, so that the
 * starter can wait until it sleeps (vchan_start_blocked() in
 * vchan_fixture.h).
 */
enum vchan_call {
	VCHAN_CALL_READ, VCHAN_CALL_WRITE, VCHAN_CALL_POLL, VCHAN_CALL_POLL_OUT
};

struct vchan_blocked {
	enum vchan_call call;
	int fd;
	void *buf;
	size_t len;
	pthread_t t;
	pid_t tid;
	int ready;		/* eventfd: tid is known */
	ssize_t ret;		/* what the call returned; -2 before */
	int err;		/* its errno if it failed, else 0 */
	short revents;		/* poll()'s */
};

static inline void *vchan_blocked_fn(void *p)
{
	struct vchan_blocked *b = p;
	uint64_t one = 1;

	b->tid = gettid();
	if (write(b->ready, &one, sizeof(one)) != sizeof(one))
		return NULL;
	if (b->call == VCHAN_CALL_POLL || b->call == VCHAN_CALL_POLL_OUT) {
		struct pollfd p = {
			.fd = b->fd,
			.events = b->call == VCHAN_CALL_POLL ? POLLIN : POLLOUT,
		};

		b->ret = poll(&p, 1, VCHAN_HANG_MS);
		b->revents = p.revents;
	} else if (b->call == VCHAN_CALL_WRITE)
		b->ret = write(b->fd, b->buf, b->len);
	else
		b->ret = read(b->fd, b->buf, b->len);
	b->err = b->ret < 0 ? errno : 0;
	return NULL;
}

/*
 * Reads one plain (stream mode) message of exactly 'len' bytes into 'buf',
 * with reads of at most 'rdsz' bytes each, plus 'extra' bytes of room past
 * the end of the message to prove a read never crosses into the next one.
 * Returns 0, or -errno on a read error, or -EPROTO if a read returned more
 * than what is left of the message, or -ENODATA on an early EOF.
 */
static inline int vchan_read_msg(int fd, void *buf, size_t len, size_t rdsz,
				 size_t extra)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		size_t want = len - got + extra;

		if (want > rdsz)
			want = rdsz;
		n = read(fd, p + got, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		if ((size_t)n > len - got)
			return -EPROTO;
		got += n;
	}
	return 0;
}

/* Writes one message and checks that it went whole: 0 or -errno/-EPROTO. */
static inline int vchan_write_msg(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EPROTO;
}

/* Writes a message of 'len' pattern bytes with 'seed'. */
static inline int vchan_write_pattern(int fd, size_t len, uint32_t seed)
{
	void *buf = vchan_alloc(len);
	int ret;

	if (!buf)
		return -ENOMEM;
	vchan_fill(buf, len, seed, 0);
	ret = vchan_write_msg(fd, buf, len);
	vchan_free(buf, len);
	return ret;
}

/*
 * Reads one message of 'len' bytes and checks it against the pattern with
 * 'seed'.  0 on success, -errno, -EPROTO (bad framing) or -EBADMSG (bad data).
 */
static inline int vchan_read_pattern(int fd, size_t len, uint32_t seed)
{
	void *buf = vchan_alloc(len + 64);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = vchan_read_msg(fd, buf, len, len + 64, 64);
	if (!ret && vchan_check(buf, len, seed, 0) >= 0)
		ret = -EBADMSG;
	vchan_free(buf, len + 64);
	return ret;
}

/* Runs fn(arg) in a forked child; returns its exit status (or 255). */
static inline int vchan_in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return 255;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return 255;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Drops to uid/gid 65534 (nobody/nogroup) with no supplementary groups. */
static inline int vchan_become_nobody(void)
{
	if (setgroups(0, NULL))
		return -1;
	if (setresgid(65534, 65534, 65534))
		return -1;
	if (setresuid(65534, 65534, 65534))
		return -1;
	return 0;
}

/*
 * Reads one whole message in PDU read mode (the fd's read mode set with
 * VCHAN_IOC_SET_READ_MODE to VCHAN_READ_PDU and this 'chunk') into 'buf',
 * which has room for 'cap' bytes, with reads of header + 'chunk' bytes, and
 * checks its framing: every header has the same 'length', VCHAN_PDU_FIRST is
 * on the first read only, VCHAN_PDU_LAST on the last only, and the payloads
 * add up to 'length'.  Unlike plain reads this sees zero-length messages.
 * Returns the message length, or -errno from read(), -ENODATA on EOF,
 * -EPROTO on bad framing, -EMSGSIZE if the message is longer than 'cap'.
 */
static inline long long vchan_read_pdu_msg(int fd, void *buf, size_t cap,
					   size_t chunk)
{
	size_t rlen = sizeof(struct vchan_pdu_header) + chunk, got = 0;
	struct vchan_pdu_header h;
	uint8_t *rbuf = malloc(rlen);
	long long ret = -EPROTO;
	bool first = true;
	ssize_t n;

	if (!rbuf)
		return -ENOMEM;
	for (;;) {
		n = read(fd, rbuf, rlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0) {
			ret = -ENODATA;
			break;
		}
		if ((size_t)n < sizeof(h))
			break;
		memcpy(&h, rbuf, sizeof(h));
		n -= sizeof(h);
		if (first && h.length > cap) {
			ret = -EMSGSIZE;
			break;
		}
		if (!!(h.flags & VCHAN_PDU_FIRST) != first ||
		    (h.flags & ~(VCHAN_PDU_FIRST | VCHAN_PDU_LAST)) ||
		    (!first && h.length != ret) || (size_t)n > chunk ||
		    got + n > h.length)
			break;
		if (first)
			ret = h.length;
		first = false;
		memcpy((uint8_t *)buf + got, rbuf + sizeof(h), n);
		got += n;
		if (!!(h.flags & VCHAN_PDU_LAST) != (got == h.length)) {
			ret = -EPROTO;
			break;
		}
		if (got == h.length)
			break;
	}
	free(rbuf);
	return ret;
}

/* A field of /proc/meminfo in kB, -1 on error. */
static inline long long vchan_meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Writes a string to a (sysfs, procfs) file: 0 or -errno. */
static inline int vchan_write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(s))
		ret = -EIO;
	close(fd);
	return ret;
}

/* Sets a module parameter (decimal): 0 or -errno. */
static inline int vchan_set_param(const char *name, long long v)
{
	char path[256], val[32];

	snprintf(path, sizeof(path), VCHAN_SYSFS_PARAMS "/%s", name);
	snprintf(val, sizeof(val), "%lld", v);
	return vchan_write_text(path, val);
}

/*
 * Slab memory in kB with as little noise as we can: reclaimable caches
 * dropped and every slab cache shrunk to its used slabs.  -1 on error.
 */
static inline long long vchan_settled_slab_kb(void)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	sync();
	vchan_write_text("/proc/sys/vm/drop_caches", "3");
	d = opendir("/sys/kernel/slab");
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
				 de->d_name);
			vchan_write_text(path, "1");
		}
		closedir(d);
	}
	return vchan_meminfo_kb("Slab");
}

/*
 * Slab after dead objects are gone: what vchan_settled_slab_kb() says once
 * it is at most 'limit_kb', or after 'ms' milliseconds, whichever comes
 * first.  Objects freed after an RCU grace period or by a work item (a dead
 * process's aio context, its files) go a little after the process is
 * reaped, and userspace cannot wait for that; a leak stays above the limit.
 */
static inline long long vchan_slab_settles(long long limit_kb, int ms)
{
	long long deadline = vchan_now_ms() + ms, kb;

	while ((kb = vchan_settled_slab_kb()) > limit_kb && vchan_now_ms() < deadline)
		usleep(50000);
	return kb;
}

#endif /* VCHAN_UTIL_H */
