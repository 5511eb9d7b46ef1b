// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvchan's dynamic channels against the real device (run as root with
 * vchan.ko loaded, e.g. tools/vm-run --kernel 6.12 -- userlib/tests/vm_dyn_test).
 *
 * The test process plays the RDP daemon through the native API
 * (vchan_dyn_listen / _next / _accept / _reject) and the program through
 * WTSVirtualChannelOpenEx(WTS_CHANNEL_OPTION_DYNAMIC), in threads of its
 * own; the last test is a program written as Microsoft's "DVC Server Module
 * Example" is, against `tools/vchanctl listen SESSION --echo` ($VCHANCTL
 * overrides the path).  Without the module every test is skipped.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vchan/vchan.h>
#include <vchan/pchannel.h>
#include <vchan/winbase.h>
#include <vchan/wtsapi32.h>

#include "tap.h"
#include "vm_util.h"

#define HDR		sizeof(CHANNEL_PDU_HEADER)
#define DYN		WTS_CHANNEL_OPTION_DYNAMIC

static uint32_t session;

static int control(void)
{
	int ctl = vchan_control_open();

	if (ctl == -ENOENT)
		tap_skip("no /dev/vchan/control (vchan.ko not loaded)");
	ASSERT_LE(0, ctl);
	return ctl;
}

/* This test's session (unique to its process) and its listener. */
static int listener(void)
{
	int ctl = control(), l;

	session = 0x20000000u + (uint32_t)getpid();
	l = vchan_dyn_listen(ctl, session, NULL);
	ASSERT_LE(0, l);
	EXPECT_EQ(-EBUSY, vchan_dyn_listen(ctl, session, NULL));
	close(ctl);
	return l;
}

/* Wait (30 s at most: a hang guard) for the next request and read it. */
static void next_request(int l, struct vchan_dyn_request *req)
{
	struct pollfd pfd = { .fd = l, .events = POLLIN };

	ASSERT_EQ(1, poll(&pfd, 1, 30000));
	ASSERT_EQ(0, vchan_dyn_next(l, req));
}

/* A program calling WTSVirtualChannelOpenEx, in a thread of its own. */
struct opener {
	const char *name;
	DWORD flags;
	HANDLE h;
	DWORD err;
	pthread_t t;
};

static void *open_fn(void *arg)
{
	struct opener *o = arg;

	SetLastError(0xdead);
	o->h = WTSVirtualChannelOpenEx(session, o->name, o->flags);
	o->err = GetLastError();
	return NULL;
}

static void start_open(struct opener *o, const char *name, DWORD flags)
{
	o->name = name;
	o->flags = flags;
	o->h = NULL;
	ASSERT_EQ(0, pthread_create(&o->t, NULL, open_fn, o));
}

/* The daemon accepts request 'id' of opener o, whose open then succeeds;
 * returns the program's handle, *cl the client end. */
static HANDLE accept_opener(int l, uint64_t id, struct opener *o, int *cl)
{
	*cl = vchan_dyn_accept(l, id, 0, 0);
	ASSERT_LE(0, *cl);
	pthread_join(o->t, NULL);
	ASSERT_TRUE(o->h);
	return o->h;
}

/* A channel opened by this program and accepted by this daemon; returns
 * the program's handle, *cl the client end. */
static HANDLE open_accepted(int l, const char *name, int *cl)
{
	struct vchan_dyn_request req;
	struct opener o;

	start_open(&o, name, DYN);
	next_request(l, &req);
	return accept_opener(l, req.id, &o, cl);
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

static long long check(const uint8_t *p, size_t len, uint32_t seed, size_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed * 131u + (i + off) * 7u + ((i + off) >> 8)))
			return (long long)i;
	return -1;
}

static CHANNEL_PDU_HEADER header(const void *buf)
{
	CHANNEL_PDU_HEADER h;

	memcpy(&h, buf, sizeof(h));
	return h;
}

/* ---------------------------------------------------- the daemon's API */

/* listen, next (blocking, non-blocking, poll), accept; the request record;
 * answers to unknown or answered ids. */
static void t_listen_next_accept(void)
{
	int l = listener(), cl;
	struct vchan_dyn_request req;
	struct pollfd pfd;
	struct opener o;
	char path[64], buf[HDR + 16];
	ULONG n;

	ASSERT_LE(0, vchan_dyn_path(path, sizeof(path), session));
	EXPECT_EQ(0, access(path, F_OK));		/* the node exists */
	ASSERT_EQ(0, fcntl(l, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, vchan_dyn_next(l, &req));
	EXPECT_EQ(-EINVAL, vchan_dyn_next(l, NULL));
	pfd.fd = l;
	pfd.events = POLLIN;
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	start_open(&o, "Plugin.dvc-1", DYN | WTS_CHANNEL_OPTION_DYNAMIC_PRI_HIGH |
		   WTS_CHANNEL_OPTION_DYNAMIC_NO_COMPRESS);
	next_request(l, &req);
	EXPECT_EQ(0, strcmp("Plugin.dvc-1", req.name));
	EXPECT_EQ(VCHAN_DYN_PRI_HIGH | VCHAN_DYN_NO_COMPRESS, req.flags);
	EXPECT_EQ(getpid(), (pid_t)req.pid);
	EXPECT_EQ(getuid(), (uid_t)req.uid);
	EXPECT_EQ(-EAGAIN, vchan_dyn_next(l, &req));	/* only one */
	cl = vchan_dyn_accept(l, req.id, VCHAN_RING_MIN, 0);
	ASSERT_LE(0, cl);
	pthread_join(o.t, NULL);
	ASSERT_TRUE(o.h);
	EXPECT_EQ(-ENOENT, vchan_dyn_accept(l, req.id, 0, 0));	/* answered */
	EXPECT_EQ(-ENOENT, vchan_dyn_reject(l, req.id, EPERM));
	EXPECT_EQ(-ENOENT, vchan_dyn_reject(l, req.id + 1000, 0));	/* unknown */
	EXPECT_EQ(-EINVAL, vchan_dyn_reject(l, req.id, -1));

	/* The channel works both ways. */
	EXPECT_EQ(5, vchan_message_write(cl, "hello", 5));
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(o.h, INFINITE, buf, sizeof(buf), &n));
	EXPECT_EQ(HDR + 5, n);
	EXPECT_EQ(5, header(buf).length);
	EXPECT_EQ(CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST, header(buf).flags);
	EXPECT_MEM("hello", buf + HDR, 5);
	EXPECT_EQ(TRUE, WTSVirtualChannelWrite(o.h, "back", 4, &n));
	ASSERT_EQ(0, vchan_read_mode_set(cl, VCHAN_READ_STREAM, 0));
	EXPECT_EQ(4, vchan_message_read(cl, buf, sizeof(buf)));
	EXPECT_MEM("back", buf, 4);

	/* The program closes: the daemon's end reads end of file. */
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(o.h));
	EXPECT_EQ(0, vchan_message_read(cl, buf, sizeof(buf)));
	EXPECT_EQ(-EPIPE, vchan_message_write(cl, "x", 1));
	close(cl);

	/* The listener gone: so is the node. */
	close(l);
	EXPECT_EQ(-1, access(path, F_OK));
}

/* The same name twice: two channels of their own. */
static void t_same_name_twice(void)
{
	int l = listener(), cl[2], i;
	HANDLE h[2];
	char buf[HDR + 8];
	ULONG n;

	for (i = 0; i < 2; i++)
		h[i] = open_accepted(l, "twice", &cl[i]);
	EXPECT_EQ(2, vchan_message_write(cl[1], "c1", 2));
	EXPECT_EQ(2, vchan_message_write(cl[0], "c0", 2));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(TRUE, WTSVirtualChannelRead(h[i], INFINITE, buf,
						      sizeof(buf), &n));
		EXPECT_EQ(HDR + 2, n);
		EXPECT_EQ('0' + i, buf[HDR + 1]);
		EXPECT_EQ(TRUE, WTSVirtualChannelClose(h[i]));
		close(cl[i]);
	}
	close(l);
}

/* Every priority, with and without NO_COMPRESS, reaches the daemon as
 * given; each reject errno reaches OpenEx as its Windows error. */
static void t_flags_and_reject_errors(void)
{
	static const DWORD pri[] = {
		WTS_CHANNEL_OPTION_DYNAMIC_PRI_LOW,
		WTS_CHANNEL_OPTION_DYNAMIC_PRI_MED,
		WTS_CHANNEL_OPTION_DYNAMIC_PRI_HIGH,
		WTS_CHANNEL_OPTION_DYNAMIC_PRI_REAL,
	};
	static const struct {
		int err;
		DWORD win;
	} rej[] = {
		{ 0,		ERROR_FILE_NOT_FOUND },		/* ECONNREFUSED */
		{ ECONNREFUSED,	ERROR_FILE_NOT_FOUND },
		{ EACCES,	ERROR_ACCESS_DENIED },
		{ EPERM,	ERROR_ACCESS_DENIED },
		{ EBUSY,	ERROR_BUSY },
		{ ENOMEM,	ERROR_NOT_ENOUGH_MEMORY },
		{ ETIMEDOUT,	ERROR_SEM_TIMEOUT },
		{ EPROTO,	ERROR_GEN_FAILURE },		/* no counterpart */
	};
	int l = listener();
	unsigned int i;

	for (i = 0; i < 8; i++) {
		DWORD flags = pri[i % 4] | (i >= 4 ? WTS_CHANNEL_OPTION_DYNAMIC_NO_COMPRESS : 0);
		struct vchan_dyn_request req;
		struct opener o;

		start_open(&o, "flags", DYN | flags);
		next_request(l, &req);
		EXPECT_EQ(flags, req.flags);
		EXPECT_EQ(0, vchan_dyn_reject(l, req.id, rej[i].err));
		pthread_join(o.t, NULL);
		EXPECT_EQ(0, (intptr_t)o.h);
		if (o.err != rej[i].win)
			printf("# reject %d: error %u, want %u\n", rej[i].err,
			       o.err, rej[i].win);
		EXPECT_EQ(rej[i].win, o.err);
	}
	close(l);
}

/* Bad flags and names fail at once, and the daemon sees nothing. */
static void t_invalid_flags_and_names(void)
{
	static const DWORD bad_flags[] = {
		WTS_CHANNEL_OPTION_DYNAMIC_PRI_MED,	/* without DYNAMIC */
		WTS_CHANNEL_OPTION_DYNAMIC_PRI_REAL,
		WTS_CHANNEL_OPTION_DYNAMIC_NO_COMPRESS,
		DYN | 0x10,
		DYN | 0x80000000u,
		DYN | WTS_CHANNEL_OPTION_DYNAMIC_PRI_HIGH | 0x100,
	};
	char long_name[VCHAN_NAME_MAX + 2];
	const char *bad_names[] = { "", "..", ".", "a:b", "a/b", "sp ace",
				    long_name, NULL };
	struct vchan_dyn_request req;
	struct opener o;
	int l = listener(), cl;
	unsigned int i;

	ASSERT_EQ(0, fcntl(l, F_SETFL, O_NONBLOCK));
	for (i = 0; i < TAP_COUNT(bad_flags); i++) {
		SetLastError(0);
		EXPECT_EQ(0, (intptr_t)WTSVirtualChannelOpenEx(session, "ok",
							       bad_flags[i]));
		EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	}
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;		/* 256 characters */
	for (i = 0; i < TAP_COUNT(bad_names); i++) {
		SetLastError(0);
		EXPECT_EQ(0, (intptr_t)WTSVirtualChannelOpenEx(session,
							       bad_names[i], DYN));
		EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	}
	EXPECT_EQ(-EAGAIN, vchan_dyn_next(l, &req));	/* nothing reached it */

	/* 255 characters is a good name. */
	long_name[VCHAN_NAME_MAX] = 0;
	start_open(&o, long_name, DYN | WTS_CHANNEL_OPTION_DYNAMIC_PRI_LOW);
	ASSERT_EQ(0, fcntl(l, F_SETFL, 0));
	next_request(l, &req);
	EXPECT_EQ(0, strcmp(long_name, req.name));
	EXPECT_EQ(0, req.flags);
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(accept_opener(l, req.id, &o, &cl)));
	close(cl);
	close(l);
}

/* No listener; the listener going away with the request waiting; a daemon
 * that does not answer in time. */
static void t_no_listener_and_timeout(void)
{
	struct vchan_dyn_request req;
	struct opener o;
	int l = listener();

	/* Another session: nobody listens there. */
	SetLastError(0);
	EXPECT_EQ(0, (intptr_t)WTSVirtualChannelOpenEx(session + 1, "none", DYN));
	EXPECT_EQ(ERROR_FILE_NOT_FOUND, GetLastError());

	/* The daemon read the request, then went away. */
	start_open(&o, "orphan", DYN);
	next_request(l, &req);
	close(l);
	pthread_join(o.t, NULL);
	EXPECT_EQ(0, (intptr_t)o.h);
	EXPECT_EQ(ERROR_FILE_NOT_FOUND, o.err);
	SetLastError(0);
	EXPECT_EQ(0, (intptr_t)WTSVirtualChannelOpenEx(session, "none", DYN));
	EXPECT_EQ(ERROR_FILE_NOT_FOUND, GetLastError());

	/* No answer within $VCHAN_DYN_TIMEOUT_MS; a late answer finds nothing. */
	l = listener();
	setenv("VCHAN_DYN_TIMEOUT_MS", "200", 1);
	start_open(&o, "slow", DYN);
	next_request(l, &req);
	pthread_join(o.t, NULL);
	EXPECT_EQ(0, (intptr_t)o.h);
	EXPECT_EQ(ERROR_SEM_TIMEOUT, o.err);
	EXPECT_EQ(-ENOENT, vchan_dyn_accept(l, req.id, 0, 0));
	close(l);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* A signal interrupts the wait in the kernel, which withdraws the request;
 * the library asks again and the open still succeeds. */
static void t_open_resumes_after_signal(void)
{
	struct sigaction sa;
	struct vchan_dyn_request req, again;
	struct opener o;
	int l = listener(), cl;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* no SA_RESTART */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	start_open(&o, "interrupted", DYN | WTS_CHANNEL_OPTION_DYNAMIC_PRI_REAL);
	next_request(l, &req);		/* it waits in the kernel now */
	ASSERT_EQ(0, pthread_kill(o.t, SIGUSR1));
	next_request(l, &again);
	EXPECT_NE(req.id, again.id);
	EXPECT_EQ(0, strcmp("interrupted", again.name));
	EXPECT_EQ(VCHAN_DYN_PRI_REAL, again.flags);
	EXPECT_EQ(-ENOENT, vchan_dyn_accept(l, req.id, 0, 0));	/* withdrawn */
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(accept_opener(l, again.id, &o, &cl)));
	close(cl);
	close(l);
}

/* WTSVirtualChannelRead and ReadFile(Ex) on a dynamic channel: header +
 * at most 1600 bytes, 'length' the whole message, FIRST / LAST; a buffer
 * too small for the header: ERROR_INSUFFICIENT_BUFFER, nothing consumed. */
static void t_read_chunks(void)
{
	static uint8_t msg[4000], buf[65536];
	int l = listener(), cl;
	HANDLE h = open_accepted(l, "chunks", &cl), fh = file_handle(h);
	CHANNEL_PDU_HEADER hd;
	OVERLAPPED ov;
	size_t got = 0;
	ULONG n = 99;
	DWORD dn = 99;
	int reads = 0;

	fill(msg, sizeof(msg), 5);
	ASSERT_EQ(4000, vchan_message_write(cl, msg, sizeof(msg)));
	ASSERT_EQ(0, vchan_message_write(cl, "", 0));
	ASSERT_EQ(1600, vchan_message_write(cl, msg, 1600));
	ASSERT_EQ(1601, vchan_message_write(cl, msg, 1601));

	SetLastError(0);
	EXPECT_EQ(FALSE, WTSVirtualChannelRead(h, 0, (PCHAR)buf, HDR - 1, &n));
	EXPECT_EQ(ERROR_INSUFFICIENT_BUFFER, GetLastError());
	EXPECT_EQ(0, n);
	SetLastError(0);
	EXPECT_EQ(FALSE, WTSVirtualChannelRead(h, 0, NULL, 0, &n));
	EXPECT_EQ(ERROR_INSUFFICIENT_BUFFER, GetLastError());
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFile(fh, buf, 4, &dn, NULL));
	EXPECT_EQ(ERROR_INSUFFICIENT_BUFFER, GetLastError());
	EXPECT_EQ(0, dn);
	memset(&ov, 0, sizeof(ov));
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFileEx(fh, buf, 7, &ov, NULL));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());	/* no routine */

	/* 4000 bytes: a 100-byte buffer first (92 payload bytes), then
	 * buffers far larger than a chunk. */
	while (got < sizeof(msg)) {
		ULONG size = reads ? sizeof(buf) : 100;

		ASSERT_EQ(TRUE, WTSVirtualChannelRead(h, INFINITE, (PCHAR)buf,
						      size, &n));
		hd = header(buf);
		EXPECT_EQ(4000, hd.length);
		EXPECT_EQ(reads ? 0 : CHANNEL_FLAG_FIRST, hd.flags & CHANNEL_FLAG_FIRST);
		ASSERT_LE(HDR, n);
		ASSERT_LE(n - HDR, CHANNEL_CHUNK_LENGTH);
		EXPECT_EQ(reads ? (n - HDR == 4000 - got ? CHANNEL_FLAG_LAST : 0) : 0,
			  hd.flags & CHANNEL_FLAG_LAST);
		EXPECT_EQ(-1, check(buf + HDR, n - HDR, 5, got));
		got += n - HDR;
		reads++;
	}
	EXPECT_EQ(4000, got);
	EXPECT_EQ(4, reads);				/* 92 + 1600 + 1600 + 708 */
	EXPECT_EQ(708 + HDR, n);

	/* The empty message. */
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, 0, (PCHAR)buf, sizeof(buf), &n));
	EXPECT_EQ(HDR, n);
	EXPECT_EQ(0, header(buf).length);
	EXPECT_EQ(CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST, header(buf).flags);

	/* 1600 bytes: one chunk, through ReadFile. */
	EXPECT_EQ(TRUE, ReadFile(fh, buf, sizeof(buf), &dn, NULL));
	EXPECT_EQ(CHANNEL_PDU_LENGTH, dn);
	EXPECT_EQ(1600, header(buf).length);
	EXPECT_EQ(CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST, header(buf).flags);
	EXPECT_EQ(-1, check(buf + HDR, 1600, 5, 0));

	/* 1601 bytes: two chunks, through an overlapped ReadFile. */
	memset(&ov, 0, sizeof(ov));
	EXPECT_EQ(TRUE, ReadFile(fh, buf, sizeof(buf), &dn, &ov));
	EXPECT_EQ(CHANNEL_PDU_LENGTH, dn);
	EXPECT_EQ(1601, header(buf).length);
	EXPECT_EQ(CHANNEL_FLAG_FIRST, header(buf).flags);
	EXPECT_EQ(TRUE, ReadFile(fh, buf, sizeof(buf), &dn, &ov));
	EXPECT_EQ(HDR + 1, dn);
	EXPECT_EQ(1601, header(buf).length);
	EXPECT_EQ(CHANNEL_FLAG_LAST, header(buf).flags);
	EXPECT_EQ(-1, check(buf + HDR, 1, 5, 1600));

	/* Nothing left; the daemon hangs up: ERROR_BROKEN_PIPE. */
	n = 99;
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, 0, (PCHAR)buf, sizeof(buf), &n));
	EXPECT_EQ(0, n);
	close(cl);
	SetLastError(0);
	EXPECT_EQ(FALSE, WTSVirtualChannelRead(h, INFINITE, (PCHAR)buf, sizeof(buf), &n));
	EXPECT_EQ(ERROR_BROKEN_PIPE, GetLastError());
	SetLastError(0);
	EXPECT_EQ(FALSE, WTSVirtualChannelWrite(h, "x", 1, &n));
	EXPECT_EQ(ERROR_BROKEN_PIPE, GetLastError());
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(l);
}

/* A ReadFileEx on a dynamic channel waits for data and gets one chunk. */
static DWORD rx_err = 0xdead, rx_n;

static void WINAPI rx_done(DWORD err, DWORD n, LPOVERLAPPED ov)
{
	(void)ov;
	rx_err = err;
	rx_n = n;
}

static void t_readfileex_chunk(void)
{
	static uint8_t msg[3000], buf[CHANNEL_PDU_LENGTH];
	int l = listener(), cl;
	HANDLE h = open_accepted(l, "rfex", &cl), fh = file_handle(h);
	OVERLAPPED ov;

	memset(&ov, 0, sizeof(ov));
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFileEx(fh, buf, HDR - 1, &ov, rx_done));
	EXPECT_EQ(ERROR_INSUFFICIENT_BUFFER, GetLastError());
	EXPECT_EQ(0, SleepEx(0, TRUE));			/* nothing queued */
	ASSERT_EQ(TRUE, ReadFileEx(fh, buf, sizeof(buf), &ov, rx_done));
	EXPECT_EQ(STATUS_PENDING, (DWORD)ov.Internal);
	fill(msg, sizeof(msg), 9);
	ASSERT_EQ(3000, vchan_message_write(cl, msg, sizeof(msg)));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(30000, TRUE));
	EXPECT_EQ(0, rx_err);
	EXPECT_EQ(CHANNEL_PDU_LENGTH, rx_n);
	EXPECT_EQ(CHANNEL_PDU_LENGTH, ov.InternalHigh);
	EXPECT_EQ(3000, header(buf).length);
	EXPECT_EQ(CHANNEL_FLAG_FIRST, header(buf).flags);
	EXPECT_EQ(-1, check(buf + HDR, 1600, 9, 0));
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
	close(l);
}

/* ------------------------- Microsoft's DVC sample against vchanctl --echo */

#define SAMPLE_MAX	(128 * 1024)
#define SAMPLE_STEP	113

/*
 * The step between message sizes: 113 B as the issue asks; 8 times that on
 * the debug kernel (VCHAN_VM_KERNEL=debug), which runs 10-20 times slower
 * under TCG: the sizes still span 4 B..128 KiB and every chunk boundary case.
 */
static unsigned int sample_step(void)
{
	const char *k = getenv("VCHAN_VM_KERNEL");

	return k && !strcmp(k, "debug") ? SAMPLE_STEP * 8 : SAMPLE_STEP;
}

struct echo_daemon {
	pid_t pid;
	int err_fd;		/* its stderr */
	char log[4096];
	size_t log_len;
};

/* Read the daemon's stderr until 'want' shows up (30 s hang guard) or, with
 * want NULL, until end of file. */
static bool daemon_log_until(struct echo_daemon *d, const char *want)
{
	for (;;) {
		struct pollfd pfd = { .fd = d->err_fd, .events = POLLIN };
		ssize_t r;

		d->log[d->log_len] = 0;
		if (want && strstr(d->log, want))
			return true;
		if (poll(&pfd, 1, 30000) != 1)
			return false;
		if (d->log_len == sizeof(d->log) - 1)
			d->log_len = 0;			/* keep the tail */
		r = read(d->err_fd, d->log + d->log_len,
			 sizeof(d->log) - 1 - d->log_len);
		if (r <= 0)
			return !want;
		d->log_len += (size_t)r;
	}
}

static void vchanctl_path(char *buf, size_t len)
{
	const char *env = getenv("VCHANCTL");
	ssize_t n;
	char *slash;

	if (env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	/* <tree>/userlib/tests/vm_dyn_test -> <tree>/tools/vchanctl */
	n = readlink("/proc/self/exe", buf, len - 1);
	ASSERT_LE(1, n);
	buf[n] = 0;
	slash = strrchr(buf, '/');
	ASSERT_TRUE(slash);
	snprintf(slash, len - (size_t)(slash - buf), "/../../tools/vchanctl");
}

static void daemon_start(struct echo_daemon *d)
{
	char path[4096], sess[16], ready[96];
	int p[2];

	close(control());
	session = 0x30000000u + (uint32_t)getpid();
	vchanctl_path(path, sizeof(path));
	ASSERT_EQ(0, access(path, X_OK));
	snprintf(sess, sizeof(sess), "%u", session);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	d->pid = fork();
	ASSERT_LE(0, d->pid);
	if (d->pid == 0) {
		/* It goes when the test does, whatever happens to the test. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(p[1], 2);
		execl(path, "vchanctl", "listen", sess, "--echo", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	d->err_fd = p[0];
	d->log_len = 0;
	/* Ready: it prints this once its listener is registered. */
	snprintf(ready, sizeof(ready), "listening for dynamic channels on /dev/vchan/dynamic/%u",
		 session);
	if (!daemon_log_until(d, ready)) {
		printf("# vchanctl did not get ready: %s\n", d->log);
		tap_failed = 1;
		tap_exit(1);
	}
}

static void daemon_stop(struct echo_daemon *d)
{
	int status = -1;

	ASSERT_EQ(0, kill(d->pid, SIGINT));
	EXPECT_TRUE(daemon_log_until(d, NULL));
	ASSERT_EQ(d->pid, waitpid(d->pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(d->err_fd);
}

/* Waits for an overlapped WriteFile / ReadFile as the sample does. */
static bool sample_io(HANDLE fh, bool write, void *buf, DWORD len, DWORD *n,
		      HANDLE ev)
{
	OVERLAPPED ov;
	BOOL ok;

	memset(&ov, 0, sizeof(ov));
	ov.hEvent = ev;
	ok = write ? WriteFile(fh, buf, len, n, &ov) : ReadFile(fh, buf, len, n, &ov);
	if (ok)
		return true;
	if (GetLastError() != ERROR_IO_PENDING) {
		printf("# %s: error %u\n", write ? "WriteFile" : "ReadFile",
		       GetLastError());
		return false;
	}
	if (WaitForSingleObject(ev, 30000) != WAIT_OBJECT_0) {
		printf("# WaitForSingleObject: error %u\n", GetLastError());
		return false;
	}
	if (!GetOverlappedResult(fh, &ov, n, FALSE)) {
		printf("# GetOverlappedResult: error %u\n", GetLastError());
		return false;
	}
	return true;
}

static void t_dvc_sample_against_vchanctl(void)
{
	static uint8_t msg[SAMPLE_MAX], back[SAMPLE_MAX], pdu[CHANNEL_PDU_LENGTH];
	struct echo_daemon d;
	HANDLE ch, fh, dup = NULL, ev;
	unsigned int count = 0, step = sample_step();
	PVOID p = NULL;
	DWORD len, n;
	char accepted[128];

	daemon_start(&d);

	/* As the sample: open, query the file handle, duplicate it, close the
	 * channel, then do all I/O on the duplicate. */
	ch = WTSVirtualChannelOpenEx(session, "DVC_Sample",
				     WTS_CHANNEL_OPTION_DYNAMIC |
				     WTS_CHANNEL_OPTION_DYNAMIC_PRI_MED);
	if (!ch)
		printf("# WTSVirtualChannelOpenEx: error %u\n", GetLastError());
	ASSERT_TRUE(ch);
	ASSERT_EQ(TRUE, WTSVirtualChannelQuery(ch, WTSVirtualFileHandle, &p, &n));
	ASSERT_EQ(sizeof(HANDLE), n);
	ASSERT_EQ(TRUE, DuplicateHandle(GetCurrentProcess(), *(HANDLE *)p,
					GetCurrentProcess(), &dup, 0, FALSE,
					DUPLICATE_SAME_ACCESS));
	WTSFreeMemory(p);
	ASSERT_EQ(TRUE, WTSVirtualChannelClose(ch));
	fh = dup;
	ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	ASSERT_TRUE(ev);

	for (len = 4; len <= SAMPLE_MAX; len += step, count++) {
		DWORD got = 0;
		bool first = true;
		CHANNEL_PDU_HEADER hd;

		fill(msg, len, count);
		ASSERT_TRUE(sample_io(fh, true, msg, len, &n, ev));
		ASSERT_EQ(len, n);
		/* Reassemble the echo from CHANNEL_PDU_HEADER chunks. */
		do {
			ASSERT_TRUE(sample_io(fh, false, pdu, sizeof(pdu), &n, ev));
			ASSERT_LE(HDR, n);
			hd = header(pdu);
			n -= HDR;
			/* Every chunk but the last is a whole one. */
			if (hd.length != len || !!(hd.flags & CHANNEL_FLAG_FIRST) != first ||
			    got + n > len ||
			    (!(hd.flags & CHANNEL_FLAG_LAST) && n != CHANNEL_CHUNK_LENGTH)) {
				printf("# message %u (%u B): PDU {%u, %#x} of %u B at %u\n",
				       count, len, hd.length, hd.flags, n, got);
				tap_failed = 1;
				tap_exit(1);
			}
			memcpy(back + got, pdu + HDR, n);
			got += n;
			first = false;
		} while (!(hd.flags & CHANNEL_FLAG_LAST));
		EXPECT_EQ(len, got);
		if (check(back, len, count, 0) >= 0) {
			printf("# message %u (%u B): byte %lld differs\n", count,
			       len, check(back, len, count, 0));
			tap_failed = 1;
			tap_exit(1);
		}
	}
	EXPECT_EQ((SAMPLE_MAX - 4) / step + 1, count);
	EXPECT_EQ(TRUE, CloseHandle(ev));
	EXPECT_EQ(TRUE, CloseHandle(dup));

	daemon_stop(&d);
	/* The priority reached the daemon unchanged. */
	snprintf(accepted, sizeof(accepted), "accepted 'DVC_Sample' (flags 0x2) from pid %d",
		 getpid());
	if (!strstr(d.log, accepted))
		printf("# vchanctl said: %s\n", d.log);
	EXPECT_TRUE(strstr(d.log, accepted));
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_listen_next_accept),
		TAP_TEST(t_same_name_twice),
		TAP_TEST(t_flags_and_reject_errors),
		TAP_TEST(t_invalid_flags_and_names),
		TAP_TEST(t_no_listener_and_timeout),
		TAP_TEST(t_open_resumes_after_signal),
		TAP_TEST(t_read_chunks),
		TAP_TEST(t_readfileex_chunk),
		TAP_TEST(t_dvc_sample_against_vchanctl),
	};

	/* A hang guard per test: the DVC sample moves 76 MB each way in 1600-byte
	 * chunks, about 4 minutes on the debug kernel under TCG. */
	return tap_main(tests, TAP_COUNT(tests), 900);
}
