// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvchan against the real device (run as root with vchan.ko loaded, e.g.
 * tools/vm-run --kernel 6.12 -- userlib/tests/vm_wts_test).
 *
 * Every test creates its own channels through /dev/vchan/control (a session
 * id unique to the test process) and plays the client end itself, often in
 * a thread.  Covered: the WTS calls (open rules, read timeouts, message
 * boundaries, purge, query, close), the numbered rules of the shared notes
 * against a channel (pending requests, ERROR_IO_INCOMPLETE, ERROR_MORE_DATA,
 * CancelIo/CancelIoEx, a begun write that cancelling does not cut,
 * PurgeOutput ending pending writes, ERROR_BROKEN_PIPE, a WriteFileEx
 * waiting for ring space, 10,000 outstanding WriteFileEx in order, an
 * 8-thread stress) and a
 * program in the style of Microsoft's samples against an echoing client.
 * Without the module every test is skipped.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vchan/vchan.h>
#include <vchan/pchannel.h>
#include <vchan/winbase.h>
#include <vchan/wtsapi32.h>

#include "tap.h"
#include "vm_util.h"

#define RING		VCHAN_RING_MIN

static uint32_t session;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Creates channel 'name' (rings of 'ring' bytes) in this test's session and
 * returns its client end, in PDU read mode with whole messages per read. */
static int make_channel(const char *name, uint32_t ring)
{
	struct vchan_channel_opts o = { ring, ring, 0, 0, 0600 };
	static int ctl = -1;
	int cl;

	if (ctl < 0) {
		ctl = vchan_control_open();
		if (ctl == -ENOENT)
			tap_skip("no /dev/vchan/control (vchan.ko not loaded)");
		if (ctl < 0) {
			printf("# control: %s\n", strerror(-ctl));
			tap_skip("cannot open /dev/vchan/control");
		}
		session = 0x10000000u + (uint32_t)getpid();
	}
	cl = vchan_channel_create(ctl, session, name, 0, &o);
	if (cl < 0) {
		printf("# create %s: %s\n", name, strerror(-cl));
		tap_failed = 1;
		tap_exit(1);
	}
	ASSERT_EQ(0, vchan_read_mode_set(cl, VCHAN_READ_PDU, VCHAN_MSG_MAX));
	return cl;
}

static HANDLE open_channel(const char *name)
{
	HANDLE h = WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, session,
					 name);

	if (!h) {
		printf("# WTSVirtualChannelOpen %s: error %u\n", name,
		       GetLastError());
		tap_failed = 1;
		tap_exit(1);
	}
	return h;
}

/* One whole message from the client end: its length (buf gets at most cap
 * bytes of it), -1 on end of file. */
static long client_read(int cl, void *buf, size_t cap)
{
	static __thread char *tmp;
	static __thread size_t tmp_cap;
	struct vchan_pdu_header hdr;
	ssize_t n;

	if (tmp_cap < cap + sizeof(hdr)) {
		free(tmp);
		tmp_cap = cap + sizeof(hdr) + 4096;
		tmp = malloc(tmp_cap);
	}
	{
		struct pollfd pfd = { .fd = cl, .events = POLLIN };

		if (poll(&pfd, 1, 30000) != 1) {
			printf("# client end: no message for 30 s\n");
			return -4;
		}
	}
	n = vchan_pdu_read(cl, tmp, tmp_cap);
	if (n == 0)
		return -1;
	if (n < (ssize_t)sizeof(hdr))
		return -2;
	memcpy(&hdr, tmp, sizeof(hdr));
	if (!(hdr.flags & VCHAN_PDU_FIRST) || !(hdr.flags & VCHAN_PDU_LAST))
		return -3;
	memcpy(buf, tmp + sizeof(hdr), (size_t)n - sizeof(hdr));
	return (long)hdr.length;
}

static void client_write(int cl, const void *buf, size_t len)
{
	ASSERT_EQ((long)len, vchan_message_write(cl, buf, len));
}

static struct {
	DWORD err, n;
	LPOVERLAPPED ov;
	pid_t tid;
} done[16384];
static int ndone;

static void WINAPI record(DWORD err, DWORD n, LPOVERLAPPED ov)
{
	if (ndone < (int)TAP_COUNT(done)) {
		done[ndone].err = err;
		done[ndone].n = n;
		done[ndone].ov = ov;
		done[ndone].tid = gettid();
	}
	ndone++;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

static long long check(const uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed * 131u + i * 7u + (i >> 8)))
			return (long long)i;
	return -1;
}

/* ---------------------------------------------------------------- WTS */

static void t_open_rules(void)
{
	int cl = make_channel("ECHO1", 0), cl2;
	char env[32];
	HANDLE h, h2;

#define OPEN_FAILS(call, err) do {					\
	SetLastError(0);						\
	EXPECT_EQ(0, (intptr_t)(call));					\
	EXPECT_EQ(err, GetLastError());					\
} while (0)
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, session, "ECHO"),
		   ERROR_FILE_NOT_FOUND);	/* never a prefix match */
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, session, "ECHO12"),
		   ERROR_FILE_NOT_FOUND);
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, session + 1, "ECHO1"),
		   ERROR_FILE_NOT_FOUND);
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, session, "ECHO1234"),
		   ERROR_INVALID_PARAMETER);	/* 8 characters */
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, session, ""),
		   ERROR_INVALID_PARAMETER);
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, session, NULL),
		   ERROR_INVALID_PARAMETER);
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, session, "../x"),
		   ERROR_INVALID_PARAMETER);
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, session, ".."),
		   ERROR_INVALID_PARAMETER);
	OPEN_FAILS(WTSVirtualChannelOpen((HANDLE)(intptr_t)4, session, "ECHO1"),
		   ERROR_INVALID_HANDLE);
	/* Dynamic: nobody listens in this session (vm_dyn_test has the rest). */
	OPEN_FAILS(WTSVirtualChannelOpenEx(session, "ECHO1",
					   WTS_CHANNEL_OPTION_DYNAMIC),
		   ERROR_FILE_NOT_FOUND);
	OPEN_FAILS(WTSVirtualChannelOpenEx(session, "ECHO1",
					   WTS_CHANNEL_OPTION_DYNAMIC |
					   WTS_CHANNEL_OPTION_DYNAMIC_PRI_HIGH),
		   ERROR_FILE_NOT_FOUND);
	OPEN_FAILS(WTSVirtualChannelOpenEx(session, "ECHO1", 0x100),
		   ERROR_INVALID_PARAMETER);

	/* WTS_CURRENT_SESSION is $VCHAN_SESSION. */
	snprintf(env, sizeof(env), "%u", session);
	setenv("VCHAN_SESSION", "12x", 1);
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, WTS_CURRENT_SESSION, "ECHO1"),
		   ERROR_INVALID_PARAMETER);
	setenv("VCHAN_SESSION", env, 1);
	h = WTSVirtualChannelOpenEx(WTS_CURRENT_SESSION, "ECHO1", 0);
	ASSERT_TRUE(h);
	/* One session end at a time. */
	OPEN_FAILS(WTSVirtualChannelOpen(NULL, session, "ECHO1"), ERROR_BUSY);
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	SetLastError(0);
	EXPECT_EQ(FALSE, WTSVirtualChannelClose(h));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	h2 = WTSVirtualChannelOpen(NULL, session, "ECHO1");
	EXPECT_TRUE(h2);
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h2));

	/* A node that may not be opened. */
	cl2 = make_channel("priv", 0);
	{
		char path[64];

		vchan_channel_path(path, sizeof(path), session, "priv");
		ASSERT_EQ(0, chmod(path, 0));
		if (geteuid() != 0 || access(path, R_OK | W_OK) != 0)
			OPEN_FAILS(WTSVirtualChannelOpen(NULL, session, "priv"),
				   ERROR_ACCESS_DENIED);
	}
#undef OPEN_FAILS
	close(cl2);
	close(cl);
}

static void t_write_read_messages(void)
{
	int cl = make_channel("msg", 0);
	HANDLE h = open_channel("msg");
	char buf[64];
	ULONG n = 99;

	EXPECT_EQ(TRUE, WTSVirtualChannelWrite(h, "hello", 5, &n));
	EXPECT_EQ(5, n);
	EXPECT_EQ(TRUE, WTSVirtualChannelWrite(h, "w", 1, &n));
	EXPECT_EQ(5, client_read(cl, buf, sizeof(buf)));
	EXPECT_MEM("hello", buf, 5);
	EXPECT_EQ(1, client_read(cl, buf, sizeof(buf)));

	client_write(cl, "0123456789", 10);
	client_write(cl, "abc", 3);
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, INFINITE, buf, 4, &n));
	EXPECT_EQ(4, n);
	EXPECT_MEM("0123", buf, 4);
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, INFINITE, buf, 4, &n));
	EXPECT_EQ(4, n);
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, INFINITE, buf, sizeof(buf), &n));
	EXPECT_EQ(2, n);				/* the rest only */
	EXPECT_MEM("89", buf, 2);
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, 0, buf, sizeof(buf), &n));
	EXPECT_EQ(3, n);
	EXPECT_MEM("abc", buf, 3);

	/* Argument errors. */
	SetLastError(0);
	EXPECT_EQ(FALSE, WTSVirtualChannelRead(h, 0, buf, sizeof(buf), NULL));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	EXPECT_EQ(FALSE, WTSVirtualChannelRead(h, 0, NULL, 10, &n));
	EXPECT_EQ(ERROR_NOACCESS, GetLastError());
	EXPECT_EQ(FALSE, WTSVirtualChannelWrite(h, NULL, 10, &n));
	EXPECT_EQ(ERROR_INVALID_USER_BUFFER, GetLastError());
	EXPECT_EQ(FALSE, WTSVirtualChannelWrite(h, "x", 1, NULL));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

struct delayed_write {
	int cl;
	unsigned int delay_ms;
	const char *msg;
};

static void *write_later(void *arg)
{
	struct delayed_write *d = arg;

	usleep(d->delay_ms * 1000);
	vchan_message_write(d->cl, d->msg, strlen(d->msg));
	return NULL;
}

static void t_read_timeouts(void)
{
	int cl = make_channel("tmo", 0);
	HANDLE h = open_channel("tmo");
	struct delayed_write d = { cl, 150, "late" };
	char buf[16];
	long long t0;
	pthread_t t;
	ULONG n = 99;

	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, 0, buf, sizeof(buf), &n));
	EXPECT_EQ(0, n);				/* nothing yet */
	t0 = now_ms();
	n = 99;
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, 200, buf, sizeof(buf), &n));
	EXPECT_EQ(0, n);
	EXPECT_LE(190, now_ms() - t0);
	/* Nothing was lost to the timeouts. */
	client_write(cl, "x", 1);
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, 0, buf, sizeof(buf), &n));
	EXPECT_EQ(1, n);
	/* A long timeout returns as soon as data comes. */
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &d));
	t0 = now_ms();
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, 10000, buf, sizeof(buf), &n));
	EXPECT_EQ(4, n);
	EXPECT_LT(now_ms() - t0, 5000);
	pthread_join(t, NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &d));
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, INFINITE, buf, sizeof(buf), &n));
	EXPECT_EQ(4, n);
	EXPECT_MEM("late", buf, 4);
	pthread_join(t, NULL);
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

static void t_client_gone_broken_pipe(void)
{
	int cl = make_channel("gone", 0);
	HANDLE h = open_channel("gone");
	char buf[16];
	ULONG n = 99;

	client_write(cl, "last", 4);
	close(cl);
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, INFINITE, buf, sizeof(buf), &n));
	EXPECT_EQ(4, n);				/* what was queued */
	SetLastError(0);
	EXPECT_EQ(FALSE, WTSVirtualChannelRead(h, INFINITE, buf, sizeof(buf), &n));
	EXPECT_EQ(ERROR_BROKEN_PIPE, GetLastError());
	EXPECT_EQ(0, n);
	SetLastError(0);
	EXPECT_EQ(FALSE, WTSVirtualChannelWrite(h, "x", 1, &n));
	EXPECT_EQ(ERROR_BROKEN_PIPE, GetLastError());
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
}

static void t_query_and_purge(void)
{
	int cl = make_channel("qry", 0);
	HANDLE h = open_channel("qry"), fh, fh2;
	struct vchan_info info;
	PVOID p = (PVOID)1;
	char buf[16];
	DWORD len = 5, n;
	ULONG un;

	fh = file_handle(h);
	fh2 = file_handle(h);
	EXPECT_EQ((intptr_t)fh, (intptr_t)fh2);		/* the same handle */
	SetLastError(0);
	EXPECT_EQ(FALSE, WTSVirtualChannelQuery(h, WTSVirtualClientData, &p, &len));
	EXPECT_EQ(ERROR_NOT_SUPPORTED, GetLastError());
	EXPECT_EQ(FALSE, WTSVirtualChannelQuery(h, (WTS_VIRTUAL_CLASS)7, &p, &len));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	EXPECT_EQ(FALSE, WTSVirtualChannelQuery(h, WTSVirtualFileHandle, NULL, &len));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	/* The channel owns the file handle. */
	EXPECT_EQ(FALSE, CloseHandle(fh));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	/* A channel handle is not a file handle, nor closable by CloseHandle. */
	EXPECT_EQ(FALSE, WriteFile(h, "x", 1, &n, NULL));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(FALSE, CloseHandle(h));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());

	/* File I/O through it. */
	EXPECT_EQ(TRUE, WriteFile(fh, "file", 4, &n, NULL));
	EXPECT_EQ(4, n);
	EXPECT_EQ(4, client_read(cl, buf, sizeof(buf)));
	client_write(cl, "back", 4);
	EXPECT_EQ(TRUE, ReadFile(fh, buf, sizeof(buf), &n, NULL));
	EXPECT_EQ(4, n);
	EXPECT_MEM("back", buf, 4);

	/* PurgeInput: what the client sent; PurgeOutput: what we sent. */
	client_write(cl, "in1", 3);
	client_write(cl, "in2", 3);
	EXPECT_EQ(TRUE, WTSVirtualChannelWrite(h, "out1", 4, &un));
	EXPECT_EQ(TRUE, WTSVirtualChannelWrite(h, "out2", 4, &un));
	EXPECT_EQ(TRUE, WTSVirtualChannelPurgeInput(h));
	ASSERT_EQ(0, vchan_channel_info(cl, &info));
	EXPECT_EQ(0, info.to_session.queued_msgs);
	EXPECT_EQ(2, info.to_client.queued_msgs);
	EXPECT_EQ(TRUE, WTSVirtualChannelPurgeOutput(h));
	ASSERT_EQ(0, vchan_channel_info(cl, &info));
	EXPECT_EQ(0, info.to_client.queued_msgs);
	un = 9;
	EXPECT_EQ(TRUE, WTSVirtualChannelRead(h, 0, buf, sizeof(buf), &un));
	EXPECT_EQ(0, un);

	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	SetLastError(0);
	EXPECT_EQ(FALSE, WriteFile(fh, "x", 1, &n, NULL));	/* closed with it */
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	close(cl);
}

/* A duplicate of the file handle outlives WTSVirtualChannelClose. */
static void t_duplicate_outlives_close(void)
{
	int cl = make_channel("dup", 0);
	HANDLE h = open_channel("dup"), fh, dup = NULL;
	char buf[16];
	DWORD n;

	fh = file_handle(h);
	ASSERT_EQ(TRUE, DuplicateHandle(GetCurrentProcess(), fh,
					GetCurrentProcess(), &dup, 0, FALSE,
					DUPLICATE_SAME_ACCESS));
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	EXPECT_EQ(TRUE, WriteFile(dup, "still", 5, &n, NULL));
	EXPECT_EQ(5, client_read(cl, buf, sizeof(buf)));
	client_write(cl, "yes", 3);
	EXPECT_EQ(TRUE, ReadFile(dup, buf, sizeof(buf), &n, NULL));
	EXPECT_EQ(3, n);
	EXPECT_EQ(TRUE, CloseHandle(dup));
	close(cl);
}

/* ------------------------------------------------- overlapped rules */

/* Rule 9: ERROR_MORE_DATA from ReadFile, ReadFileEx, GetOverlappedResult. */
static void t_more_data(void)
{
	int cl = make_channel("more", 0);
	HANDLE h = open_channel("more"), fh = file_handle(h);
	OVERLAPPED ov;
	char buf[16];
	DWORD n = 0;

	client_write(cl, "0123456789", 10);
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFile(fh, buf, 4, &n, NULL));
	EXPECT_EQ(ERROR_MORE_DATA, GetLastError());
	EXPECT_EQ(4, n);
	EXPECT_MEM("0123", buf, 4);
	memset(&ov, 0, sizeof(ov));
	EXPECT_EQ(TRUE, ReadFileEx(fh, buf, 4, &ov, record));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(ERROR_MORE_DATA, done[0].err);
	EXPECT_EQ(4, done[0].n);
	EXPECT_MEM("4567", buf, 4);
	SetLastError(0);
	EXPECT_EQ(FALSE, GetOverlappedResult(fh, &ov, &n, FALSE));
	EXPECT_EQ(ERROR_MORE_DATA, GetLastError());
	EXPECT_EQ(4, n);
	EXPECT_EQ(TRUE, ReadFile(fh, buf, sizeof(buf), &n, NULL));
	EXPECT_EQ(2, n);
	EXPECT_MEM("89", buf, 2);

	/* Overlapped ReadFile: FALSE with ERROR_MORE_DATA when done at once. */
	client_write(cl, "abcdef", 6);
	memset(&ov, 0, sizeof(ov));
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFile(fh, buf, 3, &n, &ov));
	EXPECT_EQ(ERROR_MORE_DATA, GetLastError());
	EXPECT_EQ(3, n);
	EXPECT_EQ(STATUS_BUFFER_OVERFLOW, (DWORD)ov.Internal);

	/* Empty messages read as 0 bytes, TRUE. */
	EXPECT_EQ(TRUE, ReadFile(fh, buf, 3, &n, NULL));	/* "def" */
	client_write(cl, "", 0);
	n = 9;
	EXPECT_EQ(TRUE, ReadFile(fh, buf, sizeof(buf), &n, NULL));
	EXPECT_EQ(0, n);
	EXPECT_EQ(TRUE, WriteFile(fh, NULL, 0, &n, NULL));
	EXPECT_EQ(0, n);
	EXPECT_EQ(0, client_read(cl, buf, sizeof(buf)));
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

/* Rules 11 and 13: a pending overlapped ReadFile with an event. */
static void t_pending_read_with_event(void)
{
	int cl = make_channel("pend", 0);
	HANDLE h = open_channel("pend"), fh = file_handle(h);
	HANDLE ev = CreateEventA(NULL, TRUE, TRUE, NULL);
	OVERLAPPED ov;
	char buf[16];
	DWORD n = 77;

	memset(&ov, 0, sizeof(ov));
	ov.hEvent = ev;
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFile(fh, buf, sizeof(buf), &n, &ov));
	EXPECT_EQ(ERROR_IO_PENDING, GetLastError());
	EXPECT_EQ(STATUS_PENDING, (DWORD)ov.Internal);
	EXPECT_EQ(0, ov.InternalHigh);
	EXPECT_FALSE(HasOverlappedIoCompleted(&ov));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 50));	/* reset */
	SetLastError(0);
	EXPECT_EQ(FALSE, GetOverlappedResult(fh, &ov, &n, FALSE));
	EXPECT_EQ(ERROR_IO_INCOMPLETE, GetLastError());
	EXPECT_EQ(FALSE, GetOverlappedResultEx(fh, &ov, &n, 50, FALSE));
	EXPECT_EQ(WAIT_TIMEOUT, GetLastError());
	client_write(cl, "data", 4);
	n = 0;
	EXPECT_EQ(TRUE, GetOverlappedResult(fh, &ov, &n, TRUE));
	EXPECT_EQ(4, n);
	EXPECT_MEM("data", buf, 4);
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(ev, 0));
	EXPECT_EQ(0, SleepEx(0, TRUE));		/* no routine for ReadFile */
	CloseHandle(ev);
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

/* Rules 1, 3, 5, 9: a pending ReadFileEx; reads are served FIFO. */
static void t_pending_readfileex_fifo(void)
{
	int cl = make_channel("rfifo", 0);
	HANDLE h = open_channel("rfifo"), fh = file_handle(h);
	OVERLAPPED ov[3];
	char buf[3][8];
	int i;

	memset(ov, 0, sizeof(ov));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(TRUE, ReadFileEx(fh, buf[i], sizeof(buf[i]), &ov[i],
					   record));
	EXPECT_EQ(STATUS_PENDING, (DWORD)ov[0].Internal);
	EXPECT_EQ(0, SleepEx(100, TRUE));
	EXPECT_EQ(0, ndone);
	client_write(cl, "m0", 2);
	client_write(cl, "m1", 2);
	client_write(cl, "m2", 2);
	while (ndone < 3)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ((intptr_t)&ov[i], (intptr_t)done[i].ov);
		EXPECT_EQ(0, done[i].err);
		EXPECT_EQ(2, done[i].n);
		EXPECT_EQ('0' + i, buf[i][1]);
	}
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

struct canceller {
	HANDLE fh;
	BOOL r_io, r_ioex;
	DWORD e_io;
};

static void *cancel_from_other_thread(void *arg)
{
	struct canceller *c = arg;

	c->r_io = CancelIo(c->fh);	/* this thread issued nothing */
	c->e_io = GetLastError();
	c->r_ioex = CancelIoEx(c->fh, NULL);
	return NULL;
}

/* Rule 10. */
static void t_cancel(void)
{
	int cl = make_channel("cncl", 0);
	HANDLE h = open_channel("cncl"), fh = file_handle(h);
	struct canceller c = { fh, 0, 0, 0 };
	OVERLAPPED ov[3];
	char buf[3][8];
	pthread_t t;
	int i;

	memset(ov, 0, sizeof(ov));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(TRUE, ReadFileEx(fh, buf[i], 8, &ov[i], record));
	EXPECT_EQ(TRUE, CancelIoEx(fh, &ov[1]));	/* just that one */
	while (ndone < 1)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	EXPECT_EQ(1, ndone);
	EXPECT_EQ((intptr_t)&ov[1], (intptr_t)done[0].ov);
	EXPECT_EQ(ERROR_OPERATION_ABORTED, done[0].err);
	EXPECT_EQ(0, done[0].n);
	EXPECT_EQ(STATUS_CANCELLED, (DWORD)ov[1].Internal);
	SetLastError(0);
	EXPECT_EQ(FALSE, CancelIoEx(fh, &ov[1]));	/* gone now */
	EXPECT_EQ(ERROR_NOT_FOUND, GetLastError());

	/* Another thread: CancelIo finds none of ours; CancelIoEx does. */
	ASSERT_EQ(0, pthread_create(&t, NULL, cancel_from_other_thread, &c));
	pthread_join(t, NULL);
	EXPECT_EQ(FALSE, c.r_io);
	EXPECT_EQ(ERROR_NOT_FOUND, c.e_io);
	EXPECT_EQ(TRUE, c.r_ioex);
	while (ndone < 3)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	EXPECT_EQ(ERROR_OPERATION_ABORTED, done[1].err);
	EXPECT_EQ(ERROR_OPERATION_ABORTED, done[2].err);

	/* CancelIo: the calling thread's. */
	ASSERT_EQ(TRUE, ReadFileEx(fh, buf[0], 8, &ov[0], record));
	EXPECT_EQ(TRUE, CancelIo(fh));
	while (ndone < 4)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	EXPECT_EQ(ERROR_OPERATION_ABORTED, done[3].err);

	/* Nothing was consumed by the cancelled reads. */
	client_write(cl, "kept", 4);
	{
		DWORD n;

		EXPECT_EQ(TRUE, ReadFile(fh, buf[0], 8, &n, NULL));
		EXPECT_EQ(4, n);
	}
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

/* Rule 8: a WriteFileEx that waits for ring space; cancelling a queued
 * write; the ring frees up in order. */
static void t_write_waits_for_ring_space(void)
{
	int cl = make_channel("full", RING);
	HANDLE h = open_channel("full"), fh = file_handle(h);
	static uint8_t msg[4][3000], in[4000];
	OVERLAPPED ov[4];
	int i;

	memset(ov, 0, sizeof(ov));
	for (i = 0; i < 4; i++) {
		fill(msg[i], sizeof(msg[i]), (uint32_t)i);
		ASSERT_EQ(TRUE, WriteFileEx(fh, msg[i], sizeof(msg[i]), &ov[i],
					    record));
	}
	/* The first fits and completes; the others cannot until read. */
	while (ndone < 1)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	EXPECT_EQ(1, ndone);
	EXPECT_EQ(STATUS_PENDING, (DWORD)ov[1].Internal);
	EXPECT_EQ(STATUS_PENDING, (DWORD)ov[3].Internal);
	/* Cancel the third before anything of it was read. */
	EXPECT_EQ(TRUE, CancelIoEx(fh, &ov[2]));
	for (i = 0; i < 4; i++) {
		long len;

		if (i == 2)
			continue;
		len = client_read(cl, in, sizeof(in));
		EXPECT_EQ(3000, len);
		EXPECT_EQ(-1, check(in, 3000, (uint32_t)i));
	}
	while (ndone < 4)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	EXPECT_EQ((intptr_t)&ov[0], (intptr_t)done[0].ov);
	/* The cancelled one completes first (at cancel time), then 1 and 3. */
	for (i = 0; i < 4; i++) {
		int k = (int)(done[i].ov - ov);

		if (k == 2) {
			EXPECT_EQ(ERROR_OPERATION_ABORTED, done[i].err);
			EXPECT_EQ(0, done[i].n);
		} else {
			EXPECT_EQ(0, done[i].err);
			EXPECT_EQ(3000, done[i].n);
		}
	}
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

/*
 * Rule 10's addition: a write whose message the client end has begun to
 * read is never cut.  CancelIoEx finds it (TRUE), but it completes with
 * success and its full length, and the client end reads the whole message;
 * if the client end goes instead, it fails with ERROR_BROKEN_PIPE.  Also
 * rule 5: a pending ...Ex request has Internal STATUS_PENDING and
 * InternalHigh 0.
 */
static void t_cancel_begun_write(void)
{
	enum { LEN = 20000, FIRST = 1000 };
	int cl = make_channel("begun", RING);
	HANDLE h = open_channel("begun"), fh = file_handle(h);
	static uint8_t msg[LEN], in[LEN + 64];
	struct vchan_pdu_header hd;
	OVERLAPPED ov[2];
	int i;

	fill(msg, LEN, 3);
	memset(ov, 0, sizeof(ov));
	for (i = 0; i < 2; i++) {
		ov[i].InternalHigh = 77;
		ASSERT_EQ(TRUE, WriteFileEx(fh, msg, LEN, &ov[i], record));
		EXPECT_EQ(STATUS_PENDING, (DWORD)ov[i].Internal);
		EXPECT_EQ(0, ov[i].InternalHigh);
		EXPECT_EQ(0, SleepEx(0, TRUE));		/* larger than the ring */
		EXPECT_EQ(i, ndone);

		/* The client end reads the first FIRST bytes of it. */
		ASSERT_EQ(0, vchan_read_mode_set(cl, VCHAN_READ_PDU, FIRST));
		ASSERT_EQ((long)(sizeof(hd) + FIRST), vchan_pdu_read(cl, in, sizeof(in)));
		memcpy(&hd, in, sizeof(hd));
		EXPECT_EQ(LEN, hd.length);
		EXPECT_EQ(VCHAN_PDU_FIRST, hd.flags);
		memmove(in, in + sizeof(hd), FIRST);
		EXPECT_EQ(-1, check(in, FIRST, 3));
		if (i == 1)
			break;

		SetLastError(0);
		EXPECT_EQ(TRUE, CancelIoEx(fh, &ov[0]));
		/* The rest comes whole. */
		ASSERT_EQ(0, vchan_read_mode_set(cl, VCHAN_READ_PDU, VCHAN_MSG_MAX));
		ASSERT_EQ((long)(sizeof(hd) + LEN - FIRST),
			  vchan_pdu_read(cl, in + FIRST, sizeof(in) - FIRST));
		memcpy(&hd, in + FIRST, sizeof(hd));
		EXPECT_EQ(LEN, hd.length);
		EXPECT_EQ(VCHAN_PDU_LAST, hd.flags);
		memmove(in + FIRST, in + FIRST + sizeof(hd), LEN - FIRST);
		EXPECT_EQ(-1, check(in, LEN, 3));
		while (ndone < 1)
			ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
		EXPECT_EQ((intptr_t)&ov[0], (intptr_t)done[0].ov);
		EXPECT_EQ(0, done[0].err);
		EXPECT_EQ(LEN, done[0].n);
		EXPECT_EQ(0, (DWORD)ov[0].Internal);
		EXPECT_EQ(LEN, ov[0].InternalHigh);
		/* Nothing else arrived. */
		EXPECT_EQ(0, vchan_message_pending(cl));
	}

	/* The second one, begun, and the client end goes. */
	close(cl);
	while (ndone < 2)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	EXPECT_EQ((intptr_t)&ov[1], (intptr_t)done[1].ov);
	EXPECT_EQ(ERROR_BROKEN_PIPE, done[1].err);
	EXPECT_EQ(0, done[1].n);
	EXPECT_EQ(STATUS_PIPE_BROKEN, (DWORD)ov[1].Internal);
	SetLastError(0);
	EXPECT_EQ(FALSE, CancelIoEx(fh, &ov[1]));	/* over */
	EXPECT_EQ(ERROR_NOT_FOUND, GetLastError());
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
}

/* WTSVirtualChannelPurgeOutput ends the writes still queued with
 * ERROR_OPERATION_ABORTED, 0 bytes; nothing of them arrives. */
static void t_purge_output_ends_pending_writes(void)
{
	int cl = make_channel("purge", RING);
	HANDLE h = open_channel("purge"), fh = file_handle(h);
	static uint8_t msg[3][3000], in[4000];
	struct vchan_info info;
	OVERLAPPED ov[3];
	ULONG n;
	int i;

	memset(ov, 0, sizeof(ov));
	for (i = 0; i < 3; i++) {
		fill(msg[i], sizeof(msg[i]), (uint32_t)i);
		ASSERT_EQ(TRUE, WriteFileEx(fh, msg[i], sizeof(msg[i]), &ov[i],
					    record));
	}
	while (ndone < 1)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	EXPECT_EQ(1, ndone);				/* the first is in the ring */
	EXPECT_EQ(TRUE, WTSVirtualChannelPurgeOutput(h));
	while (ndone < 3)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	EXPECT_EQ((intptr_t)&ov[0], (intptr_t)done[0].ov);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(3000, done[0].n);
	for (i = 1; i < 3; i++) {
		EXPECT_EQ((intptr_t)&ov[i], (intptr_t)done[i].ov);
		EXPECT_EQ(ERROR_OPERATION_ABORTED, done[i].err);
		EXPECT_EQ(0, done[i].n);
		EXPECT_EQ(STATUS_CANCELLED, (DWORD)ov[i].Internal);
	}
	ASSERT_EQ(0, vchan_channel_info(cl, &info));
	EXPECT_EQ(0, info.to_client.queued_msgs);
	EXPECT_EQ(TRUE, WTSVirtualChannelWrite(h, "after", 5, &n));
	EXPECT_EQ(5, client_read(cl, in, sizeof(in)));
	EXPECT_MEM("after", in, 5);
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

/* Rule 12: pending requests when the client end closes. */
static void t_pending_broken_pipe(void)
{
	int cl = make_channel("epipe", RING);
	HANDLE h = open_channel("epipe"), fh = file_handle(h);
	static uint8_t big[2][3000];
	OVERLAPPED ov[3];
	char buf[8];
	int i;

	memset(ov, 0, sizeof(ov));
	ASSERT_EQ(TRUE, ReadFileEx(fh, buf, sizeof(buf), &ov[0], record));
	ASSERT_EQ(TRUE, WriteFileEx(fh, big[0], 3000, &ov[1], record));
	ASSERT_EQ(TRUE, WriteFileEx(fh, big[1], 3000, &ov[2], record));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(100, TRUE));
	EXPECT_EQ(1, ndone);				/* the first write */
	close(cl);
	while (ndone < 3)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	for (i = 1; i < 3; i++) {
		EXPECT_EQ(ERROR_BROKEN_PIPE, done[i].err);
		EXPECT_EQ(0, done[i].n);
	}
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
}

struct drain {
	int cl;
	unsigned int count;
	size_t (*len_of)(unsigned int);
	long long bad;
};

static size_t small_len(unsigned int i)
{
	return 1 + (i * 37u) % 300u;
}

static void *client_drain(void *arg)
{
	struct drain *d = arg;
	uint8_t *buf = malloc(1 << 17);
	unsigned int i;

	for (i = 0; i < d->count; i++) {
		long len = client_read(d->cl, buf, 1 << 17);

		if (len != (long)d->len_of(i) || check(buf, (size_t)len, i) >= 0) {
			d->bad = i + 1;
			break;
		}
	}
	free(buf);
	return NULL;
}

/* 10,000 outstanding WriteFileEx, completed in order. */
static void t_ten_thousand_writefileex(void)
{
	enum { N = 10000 };
	static OVERLAPPED ov[N];
	static uint8_t *msg[N];
	struct drain d;
	pthread_t t;
	int cl, i;
	HANDLE h, fh;

	setenv("VCHAN_AIO_EVENTS", "16384", 1);		/* before the first I/O */
	cl = make_channel("tenk", RING);
	h = open_channel("tenk");
	fh = file_handle(h);
	for (i = 0; i < N; i++) {
		msg[i] = malloc(small_len((unsigned int)i));
		fill(msg[i], small_len((unsigned int)i), (uint32_t)i);
		if (!WriteFileEx(fh, msg[i], (DWORD)small_len((unsigned int)i),
				 &ov[i], record)) {
			printf("# WriteFileEx %d: error %u\n", i, GetLastError());
			tap_failed = 1;
			break;
		}
	}
	EXPECT_EQ(N, i);
	d.cl = cl;
	d.count = (unsigned int)i;
	d.len_of = small_len;
	d.bad = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, client_drain, &d));
	while (ndone < i)
		if (SleepEx(30000, TRUE) != WAIT_IO_COMPLETION)
			break;
	pthread_join(t, NULL);
	EXPECT_EQ(0, d.bad);
	EXPECT_EQ(i, ndone);
	for (i = 0; i < ndone && i < N; i++) {
		if (done[i].ov != &ov[i] || done[i].err ||
		    done[i].n != small_len((unsigned int)i)) {
			printf("# routine %d: ov %ld err %u n %u\n", i,
			       (long)(done[i].ov - ov), done[i].err, done[i].n);
			tap_failed = 1;
			break;
		}
	}
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

static int set_param(const char *name, const char *val)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), "/sys/module/vchan/parameters/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static int get_param(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/vchan/parameters/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Rule 6: too many outstanding requests (the driver's max_aio_requests):
 * FALSE with ERROR_INVALID_USER_BUFFER, nothing queued, nothing lost. */
static void t_too_many_outstanding(void)
{
	int cl = make_channel("limit", RING);
	HANDLE h = open_channel("limit"), fh = file_handle(h);
	static uint8_t msg[6][3000], in[4000];
	char saved[32];
	OVERLAPPED ov[6];
	int i, accepted = 0;

	if (get_param("max_aio_requests", saved, sizeof(saved)))
		tap_skip("no max_aio_requests parameter");
	ASSERT_EQ(0, set_param("max_aio_requests", "2"));
	memset(ov, 0, sizeof(ov));
	/* 0 goes into the ring; 1 and 2 queue; 3 is one too many. */
	for (i = 0; i < 4; i++) {
		fill(msg[i], sizeof(msg[i]), (uint32_t)i);
		SetLastError(0);
		if (WriteFileEx(fh, msg[i], sizeof(msg[i]), &ov[i], record))
			accepted++;
		else
			break;
	}
	set_param("max_aio_requests", saved);
	EXPECT_EQ(3, accepted);
	EXPECT_EQ(ERROR_INVALID_USER_BUFFER, GetLastError());
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(3000, client_read(cl, in, sizeof(in)));
		EXPECT_EQ(-1, check(in, 3000, (uint32_t)i));
	}
	while (ndone < 3)
		ASSERT_EQ(WAIT_IO_COMPLETION, SleepEx(10000, TRUE));
	EXPECT_EQ(0, SleepEx(100, TRUE));		/* none for the refused one */
	EXPECT_EQ(3, ndone);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ((intptr_t)&ov[i], (intptr_t)done[i].ov);
		EXPECT_EQ(0, done[i].err);
	}
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

/* 8 threads, each with its own channel and client: every routine runs on
 * its issuing thread, in order. */
#define ST_THREADS	8
#define ST_REQS		300

struct st {
	char name[8];
	HANDLE fh;
	int cl;
	pid_t tid;
	int seen, bad;
	DWORD first_err;
	OVERLAPPED ov[ST_REQS];
	uint8_t *msg[ST_REQS];
};

static __thread struct st *my_st;

static void WINAPI st_routine(DWORD err, DWORD n, LPOVERLAPPED ov)
{
	struct st *s = my_st;

	if (!s || gettid() != s->tid || err || ov != &s->ov[s->seen] ||
	    n != small_len((unsigned int)s->seen))
		s->bad = 1;
	s->seen++;
}

static void *st_thread(void *arg)
{
	struct st *s = arg;
	int i;

	my_st = s;
	s->tid = gettid();
	for (i = 0; i < ST_REQS; i++) {
		s->msg[i] = malloc(small_len((unsigned int)i));
		fill(s->msg[i], small_len((unsigned int)i), (uint32_t)i);
		if (!WriteFileEx(s->fh, s->msg[i], (DWORD)small_len((unsigned int)i),
				 &s->ov[i], st_routine)) {
			if (!s->bad)
				s->first_err = GetLastError();
			s->bad = 1;
		}
		if (i % 37 == 0)
			SleepEx(0, TRUE);
	}
	while (s->seen < ST_REQS && SleepEx(30000, TRUE) == WAIT_IO_COMPLETION)
		;
	return NULL;
}

static void t_eight_thread_stress(void)
{
	static struct st s[ST_THREADS];
	static struct drain d[ST_THREADS];
	pthread_t t[ST_THREADS], dt[ST_THREADS];
	HANDLE h[ST_THREADS];
	int i;

	for (i = 0; i < ST_THREADS; i++) {
		snprintf(s[i].name, sizeof(s[i].name), "st%d", i);
		s[i].cl = make_channel(s[i].name, RING);
		h[i] = open_channel(s[i].name);
		s[i].fh = file_handle(h[i]);
		d[i].cl = s[i].cl;
		d[i].count = ST_REQS;
		d[i].len_of = small_len;
		d[i].bad = 0;
	}
	for (i = 0; i < ST_THREADS; i++) {
		ASSERT_EQ(0, pthread_create(&t[i], NULL, st_thread, &s[i]));
		ASSERT_EQ(0, pthread_create(&dt[i], NULL, client_drain, &d[i]));
	}
	for (i = 0; i < ST_THREADS; i++) {
		pthread_join(t[i], NULL);
		printf("# thread %d: %d routines, bad %d, error %u\n", i, s[i].seen,
		       s[i].bad, s[i].first_err);
	}
	for (i = 0; i < ST_THREADS; i++) {
		pthread_join(dt[i], NULL);
		if (d[i].bad)
			printf("# client %d: bad at message %lld\n", i, d[i].bad - 1);
		EXPECT_EQ(0, s[i].bad);
		EXPECT_EQ(0, s[i].first_err);
		EXPECT_EQ(ST_REQS, s[i].seen);
		EXPECT_EQ(0, d[i].bad);
		WTSVirtualChannelClose(h[i]);
		close(s[i].cl);
	}
	EXPECT_EQ(0, ndone);
}

/* WTSVirtualChannelWrite from 4 threads at once: messages never mix. */
struct wr {
	HANDLE h;
	int id;
	int bad;
};

static void *wts_writer(void *arg)
{
	struct wr *w = arg;
	uint8_t buf[600];
	ULONG n;
	int i;

	for (i = 0; i < 500; i++) {
		size_t len = 8 + (size_t)(i * 13 + w->id * 7) % 500;

		fill(buf, len, (uint32_t)(w->id * 1000 + i));
		buf[0] = (uint8_t)w->id;
		buf[1] = (uint8_t)(i & 0xff);
		buf[2] = (uint8_t)(i >> 8);
		if (!WTSVirtualChannelWrite(w->h, (const CHAR *)buf, (ULONG)len, &n) ||
		    n != len)
			w->bad = 1;
	}
	return NULL;
}

static void t_concurrent_wts_writes(void)
{
	int cl = make_channel("mt", RING);
	HANDLE h = open_channel("mt");
	struct wr w[4];
	pthread_t t[4];
	int next[4] = { 0 }, i;
	uint8_t buf[1024];

	for (i = 0; i < 4; i++) {
		w[i].h = h;
		w[i].id = i;
		w[i].bad = 0;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, wts_writer, &w[i]));
	}
	for (i = 0; i < 2000; i++) {
		long len = client_read(cl, buf, sizeof(buf));
		int id = buf[0], seq = buf[1] | buf[2] << 8;

		if (len < 8 || id > 3 || seq != next[id] ||
		    len != (long)(8 + (size_t)(seq * 13 + id * 7) % 500)) {
			printf("# message %d: len %ld id %d seq %d\n", i, len, id, seq);
			tap_failed = 1;
			break;
		}
		next[id]++;
		{
			uint8_t want[600];

			fill(want, (size_t)len, (uint32_t)(id * 1000 + seq));
			if (memcmp(want + 3, buf + 3, (size_t)len - 3)) {
				printf("# message %d corrupted\n", i);
				tap_failed = 1;
				break;
			}
		}
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].bad);
	}
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

/* ------------------------------------ a program like Microsoft's sample */

#define SAMPLE_MAX	(128 * 1024)
#define SAMPLE_STEP	113

struct sample {
	HANDLE fh;
	int errors;
	unsigned int count;
};

#define SAMPLE_COUNT	((SAMPLE_MAX - 4) / SAMPLE_STEP + 1)

/* The client end echoes every message back, SAMPLE_COUNT of them. */
static void *echo_client(void *arg)
{
	int cl = *(int *)arg;
	uint8_t *buf = malloc(SAMPLE_MAX + 64);
	int i;

	for (i = 0; i < SAMPLE_COUNT; i++) {
		long len = client_read(cl, buf, SAMPLE_MAX + 64);

		if (len < 0)
			break;
		if (vchan_message_write(cl, buf, (size_t)len) != len)
			break;
	}
	free(buf);
	return NULL;
}

static void *sample_writer(void *arg)
{
	struct sample *s = arg;
	uint8_t *buf = malloc(SAMPLE_MAX);
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	OVERLAPPED ov;
	DWORD len, n;
	unsigned int i = 0;

	for (len = 4; len <= SAMPLE_MAX; len += SAMPLE_STEP, i++) {
		fill(buf, len, i);
		memset(&ov, 0, sizeof(ov));
		ov.hEvent = ev;
		if (!WriteFile(s->fh, buf, len, &n, &ov)) {
			if (GetLastError() != ERROR_IO_PENDING) {
				s->errors++;
				break;
			}
			if (WaitForSingleObject(ev, INFINITE) != WAIT_OBJECT_0) {
				s->errors++;
				break;
			}
			if (!GetOverlappedResult(s->fh, &ov, &n, FALSE)) {
				s->errors++;
				break;
			}
		}
		if (n != len) {
			s->errors++;
			break;
		}
	}
	s->count = i;
	CloseHandle(ev);
	free(buf);
	return NULL;
}

static void *sample_reader(void *arg)
{
	struct sample *s = arg;
	uint8_t *buf = malloc(SAMPLE_MAX);
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	OVERLAPPED ov;
	DWORD len, n;
	unsigned int i = 0;

	for (len = 4; len <= SAMPLE_MAX; len += SAMPLE_STEP, i++) {
		memset(&ov, 0, sizeof(ov));
		ov.hEvent = ev;
		if (!ReadFile(s->fh, buf, SAMPLE_MAX, &n, &ov)) {
			if (GetLastError() != ERROR_IO_PENDING) {
				printf("# ReadFile %u: error %u\n", i, GetLastError());
				s->errors++;
				break;
			}
			if (WaitForSingleObject(ev, INFINITE) != WAIT_OBJECT_0 ||
			    !GetOverlappedResult(s->fh, &ov, &n, FALSE)) {
				printf("# read %u: error %u\n", i, GetLastError());
				s->errors++;
				break;
			}
		}
		if (n != len || check(buf, len, i) >= 0) {
			printf("# message %u: %u bytes, want %u, first bad byte %lld\n",
			       i, n, len, check(buf, n, i));
			s->errors++;
			break;
		}
	}
	s->count = i;
	CloseHandle(ev);
	free(buf);
	return NULL;
}

static void t_sample_echo_program(void)
{
	int cl = make_channel("ECHO", 0);
	struct sample w = { NULL, 0, 0 }, r = { NULL, 0, 0 };
	pthread_t te, tw, tr;
	HANDLE ch, fh, dup;
	PVOID p;
	DWORD len;

	ASSERT_EQ(0, pthread_create(&te, NULL, echo_client, &cl));
	ch = WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, session, "ECHO");
	ASSERT_TRUE(ch);
	ASSERT_EQ(TRUE, WTSVirtualChannelQuery(ch, WTSVirtualFileHandle, &p, &len));
	fh = *(HANDLE *)p;
	ASSERT_EQ(TRUE, DuplicateHandle(GetCurrentProcess(), fh,
					GetCurrentProcess(), &dup, 0, FALSE,
					DUPLICATE_SAME_ACCESS));
	WTSFreeMemory(p);
	ASSERT_EQ(TRUE, WTSVirtualChannelClose(ch));
	w.fh = r.fh = dup;
	ASSERT_EQ(0, pthread_create(&tw, NULL, sample_writer, &w));
	ASSERT_EQ(0, pthread_create(&tr, NULL, sample_reader, &r));
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	EXPECT_EQ(0, w.errors);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(SAMPLE_COUNT, r.count);
	EXPECT_EQ(w.count, r.count);
	EXPECT_EQ(TRUE, CloseHandle(dup));
	pthread_join(te, NULL);
	close(cl);
}

/* A thread sleeping in a non-alertable wait until 'stop' is set; while it
 * sleeps it is the one taking completions off the ring. */
struct bystander {
	HANDLE stop;
	DWORD ret;
	int ndone;		/* routines run on it: must stay 0 */
};

static void *bystander_wait(void *arg)
{
	struct bystander *b = arg;

	b->ret = WaitForSingleObject(b->stop, INFINITE);
	b->ndone = ndone;
	return NULL;
}

/* Rules 1, 2 with another thread reaping: the routine of a request it took
 * off the ring is held for the issuing thread, runs only in that thread's
 * alertable wait, once, with the OVERLAPPED filled in before. */
static void t_routine_held_while_other_thread_reaps(void)
{
	int cl = make_channel("lead", 0);
	HANDLE h = open_channel("lead"), fh = file_handle(h);
	HANDLE other = CreateEventA(NULL, TRUE, FALSE, NULL);
	struct bystander b = { CreateEventA(NULL, TRUE, FALSE, NULL), 0, -1 };
	OVERLAPPED ov;
	pthread_t t;
	char buf[16];

	ASSERT_EQ(0, pthread_create(&t, NULL, bystander_wait, &b));
	memset(&ov, 0, sizeof(ov));
	ASSERT_EQ(TRUE, ReadFileEx(fh, buf, sizeof(buf), &ov, record));
	client_write(cl, "reap", 4);
	/* No wait of this thread: someone else takes the completion. */
	while (!HasOverlappedIoCompleted(&ov))
		sched_yield();
	EXPECT_EQ(0, (DWORD)ov.Internal);
	EXPECT_EQ(4, ov.InternalHigh);
	EXPECT_EQ(0, ndone);
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(other, 0));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObjectEx(other, 10, FALSE));
	EXPECT_EQ(0, SleepEx(0, FALSE));
	EXPECT_EQ(0, ndone);
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(INFINITE, TRUE));
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(gettid(), done[0].tid);
	EXPECT_EQ((intptr_t)&ov, (intptr_t)done[0].ov);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(4, done[0].n);
	EXPECT_MEM("reap", buf, 4);
	EXPECT_EQ(0, SleepEx(0, TRUE));		/* once */
	EXPECT_EQ(TRUE, SetEvent(b.stop));
	pthread_join(t, NULL);
	EXPECT_EQ(WAIT_OBJECT_0, b.ret);
	EXPECT_EQ(1, b.ndone);			/* the one run here, none there */
	CloseHandle(b.stop);
	CloseHandle(other);
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

/* Rules 5, 13 with no thread waiting in libvchan at all: the OVERLAPPED of
 * a ReadFile and its hEvent are still filled in and set (by the reaper);
 * so is the OVERLAPPED of a ReadFileEx (its routine still waits for an
 * alertable wait). */
static void t_completion_without_waiter(void)
{
	int cl = make_channel("nowait", 0);
	HANDLE h = open_channel("nowait"), fh = file_handle(h);
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	OVERLAPPED ov, ovx;
	char buf[16], bufx[16];
	DWORD n = 0;

	memset(&ov, 0, sizeof(ov));
	ov.hEvent = ev;
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFile(fh, buf, sizeof(buf), NULL, &ov));
	EXPECT_EQ(ERROR_IO_PENDING, GetLastError());
	client_write(cl, "first", 5);
	while (!HasOverlappedIoCompleted(&ov))
		sched_yield();
	EXPECT_EQ(0, (DWORD)ov.Internal);
	EXPECT_EQ(5, ov.InternalHigh);
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(ev, INFINITE));
	EXPECT_EQ(TRUE, GetOverlappedResult(fh, &ov, &n, FALSE));
	EXPECT_EQ(5, n);
	EXPECT_MEM("first", buf, 5);

	memset(&ovx, 0, sizeof(ovx));
	ASSERT_EQ(TRUE, ReadFileEx(fh, bufx, sizeof(bufx), &ovx, record));
	client_write(cl, "second", 6);
	while (!HasOverlappedIoCompleted(&ovx))
		sched_yield();
	EXPECT_EQ(0, (DWORD)ovx.Internal);
	EXPECT_EQ(6, ovx.InternalHigh);
	EXPECT_EQ(0, ndone);
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(INFINITE, TRUE));
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(gettid(), done[0].tid);
	EXPECT_EQ(6, done[0].n);
	EXPECT_MEM("second", bufx, 6);
	CloseHandle(ev);
	EXPECT_EQ(TRUE, WTSVirtualChannelClose(h));
	close(cl);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_open_rules),
		TAP_TEST(t_write_read_messages),
		TAP_TEST(t_read_timeouts),
		TAP_TEST(t_client_gone_broken_pipe),
		TAP_TEST(t_query_and_purge),
		TAP_TEST(t_duplicate_outlives_close),
		TAP_TEST(t_more_data),
		TAP_TEST(t_pending_read_with_event),
		TAP_TEST(t_pending_readfileex_fifo),
		TAP_TEST(t_cancel),
		TAP_TEST(t_write_waits_for_ring_space),
		TAP_TEST(t_cancel_begun_write),
		TAP_TEST(t_purge_output_ends_pending_writes),
		TAP_TEST(t_pending_broken_pipe),
		TAP_TEST(t_too_many_outstanding),
		TAP_TEST(t_ten_thousand_writefileex),
		TAP_TEST(t_eight_thread_stress),
		TAP_TEST(t_concurrent_wts_writes),
		TAP_TEST(t_sample_echo_program),
		TAP_TEST(t_routine_held_while_other_thread_reaps),
		TAP_TEST(t_completion_without_waiter),
	};

	return tap_main(tests, TAP_COUNT(tests), 300);
}
