// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Overlapped I/O and completion routines against pipes, regular files and
 * eventfds (no vchan module needed).  aio on these completes inside
 * io_submit(), which is exactly the case where the library must still hold
 * the routine until an alertable wait of the issuing thread.
 *
 *  - routines run only in alertable waits, only on the issuing thread,
 *    FIFO, exactly once, never before the ...Ex call returns, with the
 *    right error, count and OVERLAPPED pointer; SleepEx returns
 *    WAIT_IO_COMPLETION; non-alertable waits run nothing;
 *  - a synchronous failure queues nothing; completions of a thread that
 *    never waits alertably are never delivered elsewhere;
 *  - ReadFile/WriteFile with and without OVERLAPPED, hEvent handling,
 *    GetOverlappedResult(Ex), CancelIo(Ex) with nothing to cancel;
 *  - the failure rules of the shared notes (rule 5, 7, 11).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vchan/vchan.h>
#include <vchan/winbase.h>

#include "tap.h"

#define MAX_DONE 20000

struct done {
	DWORD err;
	DWORD n;
	LPOVERLAPPED ov;
	pid_t tid;
	int returned;		/* the issuing call had returned */
};

static struct done done[MAX_DONE];
static int ndone;
static volatile int call_returned = 1;

static void WINAPI record(DWORD err, DWORD n, LPOVERLAPPED ov)
{
	if (ndone < MAX_DONE) {
		done[ndone].err = err;
		done[ndone].n = n;
		done[ndone].ov = ov;
		done[ndone].tid = gettid();
		done[ndone].returned = call_returned;
	}
	ndone++;
}

static void WINAPI never(DWORD e, DWORD n, LPOVERLAPPED ov)
{
	(void)e; (void)n; (void)ov;
	printf("# unexpected completion routine\n");
	tap_failed = 1;
}

static HANDLE wrap(int fd)
{
	HANDLE h = vchan_handle_from_fd(fd, 0);

	if (!h) {
		printf("# vchan_handle_from_fd: %s\n", strerror(errno));
		tap_failed = 1;
		tap_exit(1);
	}
	return h;
}

/* A pipe: p[0] read end, p[1] write end; handles for both. */
static void pipe_handles(int p[2], HANDLE *hr, HANDLE *hw)
{
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	if (hr)
		*hr = wrap(p[0]);
	if (hw)
		*hw = wrap(p[1]);
}

static void t_writefileex_pipe(void)
{
	OVERLAPPED ov;
	HANDLE hr, hw;
	char buf[16];
	int p[2];

	pipe_handles(p, &hr, &hw);
	memset(&ov, 0, sizeof(ov));
	ov.hEvent = (HANDLE)(intptr_t)0x5a5a;	/* ignored by ...Ex */
	call_returned = 0;
	EXPECT_EQ(TRUE, WriteFileEx(hw, "hello", 5, &ov, record));
	call_returned = 1;
	EXPECT_EQ(0, ndone);
	/* Non-alertable waits and time run nothing. */
	Sleep(20);
	EXPECT_EQ(0, SleepEx(10, FALSE));
	EXPECT_EQ(0, ndone);
	/* The data is there (the pipe write was done inside io_submit). */
	EXPECT_EQ(5, read(p[0], buf, sizeof(buf)));
	EXPECT_MEM("hello", buf, 5);
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(5, done[0].n);
	EXPECT_EQ((intptr_t)&ov, (intptr_t)done[0].ov);
	EXPECT_EQ(gettid(), done[0].tid);
	EXPECT_EQ(1, done[0].returned);
	EXPECT_EQ(0, ov.Internal);
	EXPECT_EQ(5, ov.InternalHigh);
	EXPECT_EQ(0x5a5a, (intptr_t)ov.hEvent);
	EXPECT_EQ(0, SleepEx(0, TRUE));
	EXPECT_EQ(1, ndone);
	CloseHandle(hr);
	CloseHandle(hw);
}

static void t_readfileex_pipe(void)
{
	OVERLAPPED ov;
	HANDLE hr, hw;
	char buf[64];
	int p[2];

	pipe_handles(p, &hr, &hw);
	ASSERT_EQ(11, write(p[1], "hello world", 11));
	memset(&ov, 0, sizeof(ov));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(TRUE, ReadFileEx(hr, buf, sizeof(buf), &ov, record));
	EXPECT_EQ(0, ndone);
	EXPECT_EQ(WAIT_IO_COMPLETION, WaitForSingleObjectEx(
			CreateEventA(NULL, TRUE, FALSE, NULL), INFINITE, TRUE));
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(11, done[0].n);
	EXPECT_EQ(11, ov.InternalHigh);
	EXPECT_MEM("hello world", buf, 11);
	CloseHandle(hr);
	CloseHandle(hw);
}

/* Many requests: routines FIFO, once each, all in one alertable wait. */
static void t_fifo_exactly_once(void)
{
	enum { N = 2000 };
	static OVERLAPPED ov[N];
	HANDLE hr, hw;
	uint32_t v;
	int p[2], i;

	pipe_handles(p, &hr, &hw);
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	for (i = 0; i < N; i++) {
		v = (uint32_t)i;
		ASSERT_EQ(TRUE, WriteFileEx(hw, &v, sizeof(v), &ov[i], record));
	}
	EXPECT_EQ(0, ndone);
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(INFINITE, TRUE));
	ASSERT_EQ(N, ndone);
	for (i = 0; i < N; i++) {
		if (done[i].ov != &ov[i] || done[i].err || done[i].n != 4) {
			printf("# routine %d: ov %p (want %p) err %u n %u\n", i,
			       (void *)done[i].ov, (void *)&ov[i], done[i].err,
			       done[i].n);
			tap_failed = 1;
			break;
		}
	}
	for (i = 0; i < N; i++) {
		ASSERT_EQ(4, read(p[0], &v, sizeof(v)));
		if (v != (uint32_t)i) {
			EXPECT_EQ(i, v);
			break;
		}
	}
	EXPECT_EQ(0, SleepEx(0, TRUE));
	EXPECT_EQ(N, ndone);
	CloseHandle(hr);
	CloseHandle(hw);
}

/* User APCs and completion routines share one FIFO queue. */
static void WINAPI apc_marker(ULONG_PTR p)
{
	record((DWORD)p, 0xFFFF, NULL);
}

static void t_apcs_and_routines_interleave_fifo(void)
{
	OVERLAPPED ov[2];
	HANDLE hr, hw;
	int p[2];

	pipe_handles(p, &hr, &hw);
	memset(ov, 0, sizeof(ov));
	QueueUserAPC(apc_marker, GetCurrentThread(), 100);
	EXPECT_EQ(TRUE, WriteFileEx(hw, "a", 1, &ov[0], record));
	QueueUserAPC(apc_marker, GetCurrentThread(), 101);
	EXPECT_EQ(TRUE, WriteFileEx(hw, "b", 1, &ov[1], record));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	ASSERT_EQ(4, ndone);
	EXPECT_EQ(100, done[0].err);
	EXPECT_EQ((intptr_t)&ov[0], (intptr_t)done[1].ov);
	EXPECT_EQ(101, done[2].err);
	EXPECT_EQ((intptr_t)&ov[1], (intptr_t)done[3].ov);
	CloseHandle(hr);
	CloseHandle(hw);
}

struct issuer {
	HANDLE h;
	HANDLE go;		/* set: wait alertably now */
	HANDLE issued;
	OVERLAPPED ov;
	pid_t tid;
	DWORD r;
	int exit_without_wait;
};

static void *issue_then_wait(void *arg)
{
	struct issuer *is = arg;

	is->tid = gettid();
	if (!WriteFileEx(is->h, "x", 1, &is->ov, record))
		tap_failed = 1;
	SetEvent(is->issued);
	if (is->exit_without_wait)
		return NULL;
	WaitForSingleObject(is->go, INFINITE);
	is->r = SleepEx(0, TRUE);
	return NULL;
}

/* Rule 1, 2: only the issuing thread runs its routine, only when it waits
 * alertably; another thread's alertable waits never get it. */
static void t_routine_only_on_issuing_thread(void)
{
	struct issuer is;
	HANDLE hr;
	pthread_t t;
	int p[2];

	memset(&is, 0, sizeof(is));
	pipe_handles(p, &hr, &is.h);
	is.go = CreateEventA(NULL, TRUE, FALSE, NULL);
	is.issued = CreateEventA(NULL, TRUE, FALSE, NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, issue_then_wait, &is));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(is.issued, 10000));
	EXPECT_EQ(0, SleepEx(100, TRUE));	/* main: nothing for it */
	EXPECT_EQ(0, ndone);
	SetEvent(is.go);
	pthread_join(t, NULL);
	EXPECT_EQ(WAIT_IO_COMPLETION, is.r);
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(is.tid, done[0].tid);
	EXPECT_EQ((intptr_t)&is.ov, (intptr_t)done[0].ov);
	CloseHandle(hr);
	CloseHandle(is.h);
	CloseHandle(is.go);
	CloseHandle(is.issued);
}

static void t_held_for_thread_that_never_waits(void)
{
	struct issuer is;
	HANDLE hr;
	pthread_t t;
	int p[2];

	memset(&is, 0, sizeof(is));
	pipe_handles(p, &hr, &is.h);
	is.issued = CreateEventA(NULL, TRUE, FALSE, NULL);
	is.exit_without_wait = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, issue_then_wait, &is));
	pthread_join(t, NULL);
	EXPECT_EQ(0, SleepEx(100, TRUE));
	EXPECT_EQ(0, ndone);
	EXPECT_EQ(1, is.ov.InternalHigh);	/* it did complete */
	CloseHandle(hr);
	CloseHandle(is.h);
	CloseHandle(is.issued);
}

/* Rule 1, every kind of wait: the non-alertable ones never run a routine
 * (though it is queued), the alertable ones run it and return
 * WAIT_IO_COMPLETION. */
static void t_routine_wait_kinds(void)
{
	HANDLE hr, hw, ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	HANDLE evs[1] = { ev };
	OVERLAPPED ov[3];
	int p[2], i;

	pipe_handles(p, &hr, &hw);
	memset(ov, 0, sizeof(ov));
	ASSERT_EQ(TRUE, WriteFileEx(hw, "a", 1, &ov[0], record));
	EXPECT_EQ(1, ov[0].InternalHigh);		/* done, not yet run */
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 10));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObjectEx(ev, 10, FALSE));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForMultipleObjects(1, evs, FALSE, 10));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForMultipleObjectsEx(1, evs, TRUE, 10, FALSE));
	EXPECT_EQ(0, SleepEx(10, FALSE));
	Sleep(10);
	EXPECT_EQ(0, ndone);
	EXPECT_EQ(WAIT_IO_COMPLETION,
		  WaitForMultipleObjectsEx(1, evs, FALSE, INFINITE, TRUE));
	EXPECT_EQ(1, ndone);
	ASSERT_EQ(TRUE, WriteFileEx(hw, "b", 1, &ov[1], record));
	EXPECT_EQ(WAIT_IO_COMPLETION,
		  WaitForMultipleObjectsEx(1, evs, TRUE, INFINITE, TRUE));
	EXPECT_EQ(2, ndone);
	ASSERT_EQ(TRUE, WriteFileEx(hw, "c", 1, &ov[2], record));
	EXPECT_EQ(WAIT_IO_COMPLETION, WaitForSingleObjectEx(ev, INFINITE, TRUE));
	ASSERT_EQ(3, ndone);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ((intptr_t)&ov[i], (intptr_t)done[i].ov);
		EXPECT_EQ(0, done[i].err);
		EXPECT_EQ(1, done[i].n);
		EXPECT_EQ(gettid(), done[i].tid);
	}
	CloseHandle(ev);
	CloseHandle(hr);
	CloseHandle(hw);
}

/* 8 threads, each with its own pipe: every routine on its own thread, in
 * that thread's order. */
#define STRESS_THREADS	8
#define STRESS_REQS	500

struct stress {
	HANDLE h;
	int rfd;
	int bad;
	int seen;
	OVERLAPPED ov[STRESS_REQS];
};

static __thread struct stress *my_stress;

static void WINAPI stress_routine(DWORD err, DWORD n, LPOVERLAPPED ov)
{
	struct stress *s = my_stress;

	if (!s || err || n != 4 || ov != &s->ov[s->seen])
		__atomic_store_n(&s->bad, 1, __ATOMIC_RELAXED);
	s->seen++;
}

static void *stress_thread(void *arg)
{
	struct stress *s = arg;
	uint32_t v;
	int i;

	my_stress = s;
	for (i = 0; i < STRESS_REQS; i++) {
		v = (uint32_t)i;
		if (!WriteFileEx(s->h, &v, sizeof(v), &s->ov[i], stress_routine))
			s->bad = 1;
		if (i % 50 == 49)
			SleepEx(0, TRUE);
	}
	while (s->seen < STRESS_REQS && SleepEx(5000, TRUE) == WAIT_IO_COMPLETION)
		;
	return NULL;
}

static void t_eight_thread_stress(void)
{
	static struct stress s[STRESS_THREADS];
	pthread_t t[STRESS_THREADS];
	int i, j, p[2];
	uint32_t v;

	for (i = 0; i < STRESS_THREADS; i++) {
		pipe_handles(p, NULL, &s[i].h);
		s[i].rfd = p[0];
		fcntl(p[1], F_SETPIPE_SZ, 1 << 16);
	}
	for (i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, stress_thread, &s[i]));
	for (i = 0; i < STRESS_THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < STRESS_THREADS; i++) {
		EXPECT_EQ(0, s[i].bad);
		EXPECT_EQ(STRESS_REQS, s[i].seen);
		for (j = 0; j < STRESS_REQS; j++) {
			ASSERT_EQ(4, read(s[i].rfd, &v, sizeof(v)));
			if (v != (uint32_t)j) {
				EXPECT_EQ(j, v);
				break;
			}
		}
		CloseHandle(s[i].h);
		close(s[i].rfd);
	}
	EXPECT_EQ(0, ndone);
}

static void t_regular_file_offsets(void)
{
	char path[] = "/tmp/vchan-io-XXXXXX", buf[32];
	OVERLAPPED ov[4];
	HANDLE h;
	DWORD n;
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	unlink(path);
	h = wrap(fd);
	memset(ov, 0, sizeof(ov));
	EXPECT_EQ(TRUE, WriteFileEx(h, "abcdef", 6, &ov[0], record));
	ov[1].Offset = 3;
	EXPECT_EQ(TRUE, WriteFileEx(h, "XY", 2, &ov[1], record));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	ASSERT_EQ(2, ndone);
	EXPECT_EQ(6, done[0].n);
	EXPECT_EQ(2, done[1].n);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(TRUE, ReadFileEx(h, buf, sizeof(buf), &ov[2], record));
	ov[3].Offset = 100;
	EXPECT_EQ(TRUE, ReadFileEx(h, buf + 16, 8, &ov[3], record));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	ASSERT_EQ(4, ndone);
	EXPECT_EQ(0, done[2].err);
	EXPECT_EQ(6, done[2].n);
	EXPECT_MEM("abcXYf", buf, 6);
	EXPECT_EQ(ERROR_HANDLE_EOF, done[3].err);
	EXPECT_EQ(0, done[3].n);
	EXPECT_EQ(STATUS_END_OF_FILE, (DWORD)ov[3].Internal);
	n = 99;
	SetLastError(0);
	EXPECT_EQ(FALSE, GetOverlappedResult(h, &ov[3], &n, FALSE));
	EXPECT_EQ(ERROR_HANDLE_EOF, GetLastError());
	EXPECT_EQ(0, n);

	/* Without OVERLAPPED: the file offset is used and advanced. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(TRUE, ReadFile(h, buf, 4, &n, NULL));
	EXPECT_EQ(4, n);
	EXPECT_EQ(TRUE, ReadFile(h, buf + 4, 10, &n, NULL));
	EXPECT_EQ(2, n);
	EXPECT_MEM("abcXYf", buf, 6);
	EXPECT_EQ(TRUE, ReadFile(h, buf, 10, &n, NULL));	/* EOF: TRUE, 0 */
	EXPECT_EQ(0, n);
	EXPECT_EQ(TRUE, WriteFile(h, "gh", 2, &n, NULL));
	EXPECT_EQ(2, n);
	EXPECT_EQ(8, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(0, SleepEx(0, TRUE));
	CloseHandle(h);
}

static void t_eventfd_read(void)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t v = 7, got = 0;
	OVERLAPPED ov;
	HANDLE h;
	DWORD n;

	ASSERT_LE(0, efd);
	h = wrap(efd);
	ASSERT_EQ(8, write(efd, &v, sizeof(v)));
	memset(&ov, 0, sizeof(ov));
	EXPECT_EQ(TRUE, ReadFileEx(h, &got, sizeof(got), &ov, record));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(8, done[0].n);
	EXPECT_EQ(7, got);
	/* A short buffer is refused by eventfd: reported to the caller at once,
	 * nothing queued (rule 4). */
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFileEx(h, &got, 4, &ov, never));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	v = 3;
	ASSERT_EQ(8, write(efd, &v, sizeof(v)));
	EXPECT_EQ(TRUE, ReadFile(h, &got, sizeof(got), &n, NULL));
	EXPECT_EQ(8, n);
	EXPECT_EQ(3, got);
	EXPECT_EQ(0, SleepEx(0, TRUE));
	CloseHandle(h);
}

static void t_sync_calls_queue_nothing(void)
{
	HANDLE hr, hw;
	char buf[8];
	DWORD n = 99;
	int p[2];

	pipe_handles(p, &hr, &hw);
	EXPECT_EQ(TRUE, WriteFile(hw, "abc", 3, &n, NULL));
	EXPECT_EQ(3, n);
	n = 99;
	EXPECT_EQ(TRUE, ReadFile(hr, buf, sizeof(buf), &n, NULL));
	EXPECT_EQ(3, n);
	EXPECT_MEM("abc", buf, 3);
	EXPECT_EQ(0, SleepEx(0, TRUE));
	EXPECT_EQ(0, ndone);
	CloseHandle(hr);
	CloseHandle(hw);
}

/* Rule 13: with an OVERLAPPED, TRUE when done at once; hEvent reset at
 * submission and set at completion; GetOverlappedResult gives the count. */
static void t_overlapped_with_event(void)
{
	HANDLE hr, hw, ev = CreateEventA(NULL, TRUE, TRUE, NULL);
	OVERLAPPED ov;
	char buf[8];
	DWORD n = 99;
	int p[2];

	pipe_handles(p, &hr, &hw);
	memset(&ov, 0, sizeof(ov));
	ov.hEvent = ev;
	EXPECT_EQ(TRUE, WriteFile(hw, "wxyz", 4, &n, &ov));
	EXPECT_EQ(4, n);
	EXPECT_EQ(0, ov.Internal);
	EXPECT_EQ(4, ov.InternalHigh);
	EXPECT_TRUE(HasOverlappedIoCompleted(&ov));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(ev, 0));
	n = 0;
	EXPECT_EQ(TRUE, GetOverlappedResult(hw, &ov, &n, TRUE));
	EXPECT_EQ(4, n);
	n = 0;
	EXPECT_EQ(TRUE, GetOverlappedResultEx(hw, &ov, &n, 0, TRUE));
	EXPECT_EQ(4, n);

	/* Reset at submission: an auto-reset event set beforehand is set once
	 * by the completion, not twice. */
	memset(&ov, 0, sizeof(ov));
	ov.hEvent = CreateEventA(NULL, FALSE, TRUE, NULL);
	EXPECT_EQ(TRUE, ReadFile(hr, buf, sizeof(buf), NULL, &ov));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(ov.hEvent, 0));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ov.hEvent, 0));
	EXPECT_EQ(4, ov.InternalHigh);
	EXPECT_MEM("wxyz", buf, 4);
	CloseHandle(ov.hEvent);

	/* An hEvent that is not an event. */
	memset(&ov, 0, sizeof(ov));
	ov.hEvent = hr;
	SetLastError(0);
	EXPECT_EQ(FALSE, WriteFile(hw, "q", 1, &n, &ov));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(0, SleepEx(0, TRUE));
	EXPECT_EQ(0, ndone);
	CloseHandle(ev);
	CloseHandle(hr);
	CloseHandle(hw);
}

/* Rules 5 and 7. */
static void t_failure_rules(void)
{
	HANDLE hr, hw, stale;
	OVERLAPPED ov;
	char buf[16];
	DWORD n;
	int p[2];

	pipe_handles(p, &hr, &hw);
	memset(&ov, 0, sizeof(ov));

#define FAILS(call, err) do {						\
	SetLastError(0);						\
	EXPECT_EQ(FALSE, call);						\
	EXPECT_EQ(err, GetLastError());					\
} while (0)
	FAILS(WriteFileEx(hw, "a", 1, NULL, never), ERROR_INVALID_PARAMETER);
	FAILS(ReadFileEx(hr, buf, 1, NULL, never), ERROR_INVALID_PARAMETER);
	FAILS(WriteFileEx(hw, "a", 1, &ov, NULL), ERROR_INVALID_PARAMETER);
	FAILS(ReadFileEx(hr, buf, 1, &ov, NULL), ERROR_INVALID_PARAMETER);
	n = 5;
	FAILS(WriteFile(hw, NULL, 10, &n, NULL), ERROR_INVALID_USER_BUFFER);
	EXPECT_EQ(0, n);
	n = 5;
	FAILS(ReadFile(hr, NULL, 10, &n, NULL), ERROR_NOACCESS);
	EXPECT_EQ(0, n);
	FAILS(WriteFile(hw, NULL, 10, &n, &ov), ERROR_INVALID_USER_BUFFER);
	FAILS(ReadFile(hr, NULL, 10, &n, &ov), ERROR_NOACCESS);
	FAILS(WriteFileEx(hw, NULL, 10, &ov, never), ERROR_INVALID_USER_BUFFER);
	FAILS(ReadFileEx(hr, NULL, 10, &ov, never), ERROR_NOACCESS);
	FAILS(WriteFile(hw, "a", 1, NULL, NULL), ERROR_INVALID_PARAMETER);
	FAILS(ReadFile(hr, buf, 1, NULL, NULL), ERROR_INVALID_PARAMETER);

	/* A null write succeeds with 0 bytes, also as a routine. */
	n = 5;
	EXPECT_EQ(TRUE, WriteFile(hw, NULL, 0, &n, NULL));
	EXPECT_EQ(0, n);
	EXPECT_EQ(TRUE, WriteFileEx(hw, NULL, 0, &ov, record));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(0, done[0].n);

	/* A bad buffer pointer the kernel finds: EFAULT at once. */
	FAILS(WriteFileEx(hw, (void *)(intptr_t)16, 10, &ov, never),
	      ERROR_INVALID_USER_BUFFER);
	ASSERT_EQ(0, write(p[1], "0123456789", 10) - 10);
	FAILS(ReadFileEx(hr, (void *)(intptr_t)16, 10, &ov, never),
	      ERROR_NOACCESS);

	/* Wrong direction: the kernel refuses at submission; nothing queued. */
	FAILS(WriteFileEx(hr, "a", 1, &ov, never), ERROR_INVALID_HANDLE);
	FAILS(ReadFileEx(hw, buf, 1, &ov, never), ERROR_INVALID_HANDLE);

	/* Closed and stale handles: ERROR_INVALID_HANDLE, count 0. */
	stale = hw;
	EXPECT_EQ(TRUE, CloseHandle(hw));
	hw = CreateEventA(NULL, TRUE, FALSE, NULL);	/* may reuse the slot */
	n = 5;
	FAILS(WriteFile(stale, "a", 1, &n, NULL), ERROR_INVALID_HANDLE);
	EXPECT_EQ(0, n);
	FAILS(WriteFileEx(stale, "a", 1, &ov, never), ERROR_INVALID_HANDLE);
	n = 5;
	FAILS(WriteFile(INVALID_HANDLE_VALUE, "a", 1, &n, NULL),
	      ERROR_INVALID_HANDLE);
	EXPECT_EQ(0, n);
#undef FAILS
	EXPECT_EQ(0, SleepEx(0, TRUE));
	EXPECT_EQ(1, ndone);
	CloseHandle(hr);
	CloseHandle(hw);
}

/* Rule 12: the other end is gone: ERROR_BROKEN_PIPE. */
static void t_broken_pipe(void)
{
	OVERLAPPED ov;
	HANDLE hr, hw;
	char buf[8];
	DWORD n = 9;
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	pipe_handles(p, &hr, &hw);
	EXPECT_EQ(TRUE, CloseHandle(hr));		/* the reader goes */
	memset(&ov, 0, sizeof(ov));
	EXPECT_EQ(TRUE, WriteFileEx(hw, "abc", 3, &ov, record));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(ERROR_BROKEN_PIPE, done[0].err);
	EXPECT_EQ(0, done[0].n);
	EXPECT_EQ(STATUS_PIPE_BROKEN, (DWORD)ov.Internal);
	SetLastError(0);
	EXPECT_EQ(FALSE, WriteFile(hw, "abc", 3, &n, NULL));
	EXPECT_EQ(ERROR_BROKEN_PIPE, GetLastError());
	EXPECT_EQ(0, n);
	CloseHandle(hw);

	pipe_handles(p, &hr, &hw);
	ASSERT_EQ(2, write(p[1], "zz", 2));
	EXPECT_EQ(TRUE, CloseHandle(hw));		/* the writer goes */
	EXPECT_EQ(TRUE, ReadFile(hr, buf, sizeof(buf), &n, NULL));
	EXPECT_EQ(2, n);				/* what was queued */
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFile(hr, buf, sizeof(buf), &n, NULL));
	EXPECT_EQ(ERROR_BROKEN_PIPE, GetLastError());
	EXPECT_EQ(0, n);
	CloseHandle(hr);
}

static void WINAPI noop_apc(ULONG_PTR p)
{
	(void)p;
}

/* Rule 11 (against an OVERLAPPED that is still marked pending), and the
 * argument checks of GetOverlappedResult(Ex). */
static void t_get_overlapped_result_rules(void)
{
	HANDLE hr, hw;
	OVERLAPPED ov;
	long long t0;
	DWORD n = 0;
	int p[2];

	pipe_handles(p, &hr, &hw);
	memset(&ov, 0, sizeof(ov));
	ov.Internal = STATUS_PENDING;
	SetLastError(0);
	EXPECT_EQ(FALSE, GetOverlappedResult(hw, &ov, &n, FALSE));
	EXPECT_EQ(ERROR_IO_INCOMPLETE, GetLastError());
	EXPECT_EQ(FALSE, GetOverlappedResultEx(hw, &ov, &n, 0, FALSE));
	EXPECT_EQ(ERROR_IO_INCOMPLETE, GetLastError());
	t0 = time(NULL);
	EXPECT_EQ(FALSE, GetOverlappedResultEx(hw, &ov, &n, 100, FALSE));
	EXPECT_EQ(WAIT_TIMEOUT, GetLastError());
	EXPECT_LE(time(NULL) - t0, 3);
	QueueUserAPC(noop_apc, GetCurrentThread(), 0);
	EXPECT_EQ(FALSE, GetOverlappedResultEx(hw, &ov, &n, INFINITE, TRUE));
	EXPECT_EQ(WAIT_IO_COMPLETION, GetLastError());
	SetLastError(0);
	EXPECT_EQ(FALSE, GetOverlappedResult(hw, NULL, &n, FALSE));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	EXPECT_EQ(FALSE, GetOverlappedResult(hw, &ov, NULL, FALSE));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	/* The count comes from InternalHigh even on failure. */
	ov.Internal = STATUS_BUFFER_OVERFLOW;
	ov.InternalHigh = 17;
	EXPECT_EQ(FALSE, GetOverlappedResult(hw, &ov, &n, TRUE));
	EXPECT_EQ(ERROR_MORE_DATA, GetLastError());
	EXPECT_EQ(17, n);
	ov.Internal = STATUS_CANCELLED;
	ov.InternalHigh = 0;
	EXPECT_EQ(FALSE, GetOverlappedResult(hw, &ov, &n, TRUE));
	EXPECT_EQ(ERROR_OPERATION_ABORTED, GetLastError());
	EXPECT_EQ(0, n);
	CloseHandle(hr);
	CloseHandle(hw);
}

/* Rule 10: nothing to cancel. */
static void t_cancel_nothing(void)
{
	HANDLE hr, hw;
	OVERLAPPED ov;
	int p[2];

	pipe_handles(p, &hr, &hw);
	memset(&ov, 0, sizeof(ov));
	EXPECT_EQ(TRUE, WriteFileEx(hw, "a", 1, &ov, record));	/* done */
	SetLastError(0);
	EXPECT_EQ(FALSE, CancelIo(hw));
	EXPECT_EQ(ERROR_NOT_FOUND, GetLastError());
	SetLastError(0);
	EXPECT_EQ(FALSE, CancelIoEx(hw, NULL));
	EXPECT_EQ(ERROR_NOT_FOUND, GetLastError());
	SetLastError(0);
	EXPECT_EQ(FALSE, CancelIoEx(hw, &ov));
	EXPECT_EQ(ERROR_NOT_FOUND, GetLastError());
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	EXPECT_EQ(1, ndone);
	EXPECT_EQ(0, done[0].err);			/* not cancelled */
	CloseHandle(hr);
	CloseHandle(hw);
}

/* Routines of completed requests still run after CloseHandle; a duplicate
 * keeps the file open. */
static void t_close_and_duplicate(void)
{
	HANDLE hr, hw, dup;
	OVERLAPPED ov;
	char buf[4];
	DWORD n;
	int p[2];

	pipe_handles(p, &hr, &hw);
	memset(&ov, 0, sizeof(ov));
	EXPECT_EQ(TRUE, WriteFileEx(hw, "a", 1, &ov, record));
	ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), hw, GetCurrentProcess(),
				    &dup, 0, FALSE, DUPLICATE_SAME_ACCESS));
	EXPECT_EQ(TRUE, CloseHandle(hw));
	EXPECT_EQ(TRUE, WriteFile(dup, "b", 1, &n, NULL));
	EXPECT_EQ(1, n);
	EXPECT_EQ(TRUE, CloseHandle(dup));
	EXPECT_EQ(-1, fcntl(p[1], F_GETFD));		/* last handle: closed */
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	ASSERT_EQ(1, ndone);
	EXPECT_EQ(0, done[0].err);
	EXPECT_EQ(TRUE, ReadFile(hr, buf, sizeof(buf), &n, NULL));
	EXPECT_EQ(2, n);
	EXPECT_MEM("ab", buf, 2);
	CloseHandle(hr);
}

/* A routine may start the next request; its routine comes in a later
 * (or the same) alertable wait, never inside the issuing call. */
static HANDLE chain_h;
static OVERLAPPED chain_ov;
static int chain_left = 5;

static void WINAPI chain_routine(DWORD err, DWORD n, LPOVERLAPPED ov)
{
	record(err, n, ov);
	if (--chain_left > 0) {
		int before = ndone;

		if (!WriteFileEx(chain_h, "c", 1, &chain_ov, chain_routine))
			tap_failed = 1;
		if (ndone != before)
			tap_failed = 1;
	}
}

static void t_chained_requests(void)
{
	HANDLE hr;
	int p[2], waits = 0;

	pipe_handles(p, &hr, &chain_h);
	EXPECT_EQ(TRUE, WriteFileEx(chain_h, "c", 1, &chain_ov, chain_routine));
	while (ndone < 5 && waits++ < 10)
		EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(1000, TRUE));
	EXPECT_EQ(5, ndone);
	EXPECT_EQ(0, SleepEx(0, TRUE));
	CloseHandle(hr);
	CloseHandle(chain_h);
}

static void t_wrap_errors(void)
{
	int p[2];

	errno = 0;
	EXPECT_EQ(0, (intptr_t)vchan_handle_from_fd(-1, 0));
	EXPECT_EQ(EBADF, errno);
	ASSERT_EQ(0, pipe(p));
	errno = 0;
	EXPECT_EQ(0, (intptr_t)vchan_handle_from_fd(p[0], 0x80));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(0, (intptr_t)vchan_handle_from_fd(p[0], VCHAN_HANDLE_MESSAGES));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, fcntl(p[0], F_GETFD));		/* still open, ours */
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_writefileex_pipe),
		TAP_TEST(t_readfileex_pipe),
		TAP_TEST(t_fifo_exactly_once),
		TAP_TEST(t_apcs_and_routines_interleave_fifo),
		TAP_TEST(t_routine_only_on_issuing_thread),
		TAP_TEST(t_held_for_thread_that_never_waits),
		TAP_TEST(t_routine_wait_kinds),
		TAP_TEST(t_eight_thread_stress),
		TAP_TEST(t_regular_file_offsets),
		TAP_TEST(t_eventfd_read),
		TAP_TEST(t_sync_calls_queue_nothing),
		TAP_TEST(t_overlapped_with_event),
		TAP_TEST(t_failure_rules),
		TAP_TEST(t_broken_pipe),
		TAP_TEST(t_get_overlapped_result_rules),
		TAP_TEST(t_cancel_nothing),
		TAP_TEST(t_close_and_duplicate),
		TAP_TEST(t_chained_requests),
		TAP_TEST(t_wrap_errors),
	};

	return tap_main(tests, TAP_COUNT(tests), 60);
}
