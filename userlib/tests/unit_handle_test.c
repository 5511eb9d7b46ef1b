// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Handles and the last error: closed, stale, wrong-type and garbage handles
 * give ERROR_INVALID_HANDLE from every call, never a crash; GetLastError is
 * per thread; DuplicateHandle and the pseudo handles.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include <vchan/vchan.h>
#include <vchan/winbase.h>
#include <vchan/wtsapi32.h>

#include "tap.h"

static void WINAPI never_routine(DWORD e, DWORD n, LPOVERLAPPED ov)
{
	(void)e; (void)n; (void)ov;
	printf("# a completion routine ran\n");
	tap_failed = 1;
}

static void WINAPI never_apc(ULONG_PTR p)
{
	(void)p;
	printf("# an APC ran\n");
	tap_failed = 1;
}

static void *thread_last_error(void *arg)
{
	DWORD *seen = arg;

	seen[0] = GetLastError();		/* a new thread starts at 0 */
	SetLastError(ERROR_BROKEN_PIPE);
	CloseHandle(NULL);			/* fails on this thread only */
	seen[1] = GetLastError();
	return NULL;
}

static void t_last_error_per_thread(void)
{
	DWORD seen[2] = { 99, 99 };
	pthread_t t;

	SetLastError(ERROR_ACCESS_DENIED);
	ASSERT_EQ(0, pthread_create(&t, NULL, thread_last_error, seen));
	pthread_join(t, NULL);
	EXPECT_EQ(ERROR_SUCCESS, seen[0]);
	EXPECT_EQ(ERROR_INVALID_HANDLE, seen[1]);
	EXPECT_EQ(ERROR_ACCESS_DENIED, GetLastError());
	SetLastError(0);
	EXPECT_EQ(0, GetLastError());
}

static void t_pseudo_handles(void)
{
	EXPECT_EQ((intptr_t)-1, (intptr_t)GetCurrentProcess());
	EXPECT_EQ((intptr_t)INVALID_HANDLE_VALUE, (intptr_t)GetCurrentProcess());
	EXPECT_EQ((intptr_t)-2, (intptr_t)GetCurrentThread());
	EXPECT_EQ((DWORD)gettid(), GetCurrentThreadId());
	SetLastError(0);
	EXPECT_EQ(TRUE, CloseHandle(GetCurrentProcess()));
	EXPECT_EQ(TRUE, CloseHandle(GetCurrentThread()));
	EXPECT_EQ(0, GetLastError());
}

/* Every call taking a handle rejects h with ERROR_INVALID_HANDLE. */
static void expect_rejected_everywhere(HANDLE h)
{
	OVERLAPPED ov;
	char buf[16];
	DWORD n;
	ULONG un;
	PVOID p;
	HANDLE dup;

	memset(&ov, 0, sizeof(ov));
#define REJECT(call, failval) do {						\
	SetLastError(0);							\
	EXPECT_EQ(failval, call);						\
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());			\
} while (0)
	REJECT(CloseHandle(h), FALSE);
	REJECT(SetEvent(h), FALSE);
	REJECT(ResetEvent(h), FALSE);
	REJECT(WaitForSingleObject(h, 0), WAIT_FAILED);
	REJECT(WaitForSingleObjectEx(h, 0, TRUE), WAIT_FAILED);
	REJECT(WaitForMultipleObjects(1, &h, TRUE, 0), WAIT_FAILED);
	n = 77;
	REJECT(ReadFile(h, buf, sizeof(buf), &n, NULL), FALSE);
	EXPECT_EQ(0, n);
	n = 77;
	REJECT(WriteFile(h, buf, sizeof(buf), &n, NULL), FALSE);
	EXPECT_EQ(0, n);
	n = 77;
	REJECT(ReadFile(h, buf, sizeof(buf), &n, &ov), FALSE);
	EXPECT_EQ(0, n);
	REJECT(ReadFileEx(h, buf, sizeof(buf), &ov, never_routine), FALSE);
	REJECT(WriteFileEx(h, buf, sizeof(buf), &ov, never_routine), FALSE);
	REJECT(GetOverlappedResult(h, &ov, &n, FALSE), FALSE);
	REJECT(GetOverlappedResultEx(h, &ov, &n, 0, FALSE), FALSE);
	REJECT(CancelIo(h), FALSE);
	REJECT(CancelIoEx(h, NULL), FALSE);
	REJECT(QueueUserAPC(never_apc, h, 0), 0);
	dup = (HANDLE)(intptr_t)1234;
	REJECT(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(),
			       &dup, 0, FALSE, DUPLICATE_SAME_ACCESS), FALSE);
	EXPECT_EQ(0, (intptr_t)dup);
	REJECT(WTSVirtualChannelClose(h), FALSE);
	un = 77;
	REJECT(WTSVirtualChannelRead(h, 0, buf, sizeof(buf), &un), FALSE);
	REJECT(WTSVirtualChannelWrite(h, buf, 1, &un), FALSE);
	REJECT(WTSVirtualChannelPurgeInput(h), FALSE);
	REJECT(WTSVirtualChannelPurgeOutput(h), FALSE);
	REJECT(WTSVirtualChannelQuery(h, WTSVirtualFileHandle, &p, &n), FALSE);
	EXPECT_EQ(-EBADF, vchan_handle_fd(h));
#undef REJECT
}

static void t_garbage_handles(void)
{
	static int some_object;
	HANDLE garbage[] = {
		NULL,
		(HANDLE)(intptr_t)1, (HANDLE)(intptr_t)4, (HANDLE)(intptr_t)0x10,
		(HANDLE)(intptr_t)0x1000004, (HANDLE)(intptr_t)0x12345678,
		(HANDLE)(intptr_t)-3, (HANDLE)(intptr_t)-4,
		(HANDLE)(uintptr_t)0x7ffffffffffffffcull,
		(HANDLE)&some_object, (HANDLE)&garbage, (HANDLE)malloc(64),
	};
	size_t i;

	for (i = 0; i < TAP_COUNT(garbage); i++)
		expect_rejected_everywhere(garbage[i]);
	free(garbage[TAP_COUNT(garbage) - 1]);
	SleepEx(0, TRUE);
}

static void t_random_garbage_never_crashes(void)
{
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	unsigned int seed = 12345;
	int i;

	ASSERT_TRUE(ev);
	for (i = 0; i < 200000; i++) {
		uintptr_t v = ((uintptr_t)rand_r(&seed) << 33) ^
			      ((uintptr_t)rand_r(&seed) << 2) ^ (uintptr_t)rand_r(&seed);

		if ((HANDLE)v == ev)
			continue;
		SetLastError(0);
		if (SetEvent((HANDLE)v) || GetLastError() != ERROR_INVALID_HANDLE) {
			printf("# handle %#lx accepted\n", (unsigned long)v);
			tap_failed = 1;
			break;
		}
	}
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 0));
	EXPECT_EQ(TRUE, CloseHandle(ev));
}

static void t_closed_handle(void)
{
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);

	ASSERT_TRUE(ev);
	EXPECT_EQ(TRUE, CloseHandle(ev));
	expect_rejected_everywhere(ev);
}

static void t_stale_handle_after_reuse(void)
{
	HANDLE a = CreateEventA(NULL, TRUE, FALSE, NULL), b;

	ASSERT_TRUE(a);
	EXPECT_EQ(TRUE, CloseHandle(a));
	b = CreateEventA(NULL, TRUE, FALSE, NULL);	/* reuses the slot */
	ASSERT_TRUE(b);
	EXPECT_NE((intptr_t)a, (intptr_t)b);
	SetLastError(0);
	EXPECT_EQ(FALSE, SetEvent(a));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(b, 0));	/* a did nothing */
	EXPECT_EQ(TRUE, SetEvent(b));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(b, 0));
	EXPECT_EQ(FALSE, CloseHandle(a));
	EXPECT_EQ(TRUE, CloseHandle(b));
}

static void t_wrong_type(void)
{
	HANDLE ev = CreateEventA(NULL, TRUE, TRUE, NULL), thr, fh;
	OVERLAPPED ov;
	char buf[8];
	DWORD n;
	int p[2];

	ASSERT_TRUE(ev);
	ASSERT_EQ(0, pipe(p));
	fh = vchan_handle_from_fd(p[0], 0);
	ASSERT_TRUE(fh);
	ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), GetCurrentThread(),
				    GetCurrentProcess(), &thr, 0, FALSE,
				    DUPLICATE_SAME_ACCESS));
	memset(&ov, 0, sizeof(ov));

	/* An event is not a file, a channel or a thread. */
	n = 5;
	SetLastError(0);
	EXPECT_EQ(FALSE, ReadFile(ev, buf, sizeof(buf), &n, NULL));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(0, n);
	EXPECT_EQ(FALSE, WriteFileEx(ev, buf, 1, &ov, never_routine));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(FALSE, CancelIo(ev));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(0, QueueUserAPC(never_apc, ev, 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(FALSE, WTSVirtualChannelClose(ev));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(-EBADF, vchan_handle_fd(ev));

	/* A file is not an event, a thread or a channel. */
	SetLastError(0);
	EXPECT_EQ(FALSE, SetEvent(fh));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(WAIT_FAILED, WaitForSingleObject(fh, 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(0, QueueUserAPC(never_apc, fh, 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(FALSE, WTSVirtualChannelPurgeInput(fh));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());

	/* A thread is not an event or a file. */
	EXPECT_EQ(FALSE, SetEvent(thr));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(FALSE, WriteFile(thr, buf, 1, &n, NULL));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	/* A pseudo handle is not an event. */
	EXPECT_EQ(WAIT_FAILED, WaitForSingleObject(GetCurrentProcess(), 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());

	EXPECT_EQ(p[0], vchan_handle_fd(fh));
	EXPECT_EQ(TRUE, CloseHandle(thr));
	EXPECT_EQ(TRUE, CloseHandle(fh));
	EXPECT_EQ(-1, fcntl(p[0], F_GETFD));	/* the handle owned the fd */
	EXPECT_EQ(TRUE, CloseHandle(ev));
	close(p[1]);
	SleepEx(0, TRUE);
}

static void t_duplicate_handle(void)
{
	HANDLE ev = CreateEventA(NULL, FALSE, FALSE, NULL), d1 = NULL, d2 = NULL;

	ASSERT_TRUE(ev);
	EXPECT_EQ(TRUE, DuplicateHandle(GetCurrentProcess(), ev,
					GetCurrentProcess(), &d1, 0, FALSE,
					DUPLICATE_SAME_ACCESS));
	ASSERT_TRUE(d1);
	EXPECT_NE((intptr_t)ev, (intptr_t)d1);
	EXPECT_EQ(TRUE, SetEvent(ev));			/* the same event */
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(d1, 0));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 0));
	EXPECT_EQ(TRUE, CloseHandle(ev));		/* d1 stays valid */
	EXPECT_EQ(TRUE, SetEvent(d1));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(d1, 0));

	/* DUPLICATE_CLOSE_SOURCE */
	EXPECT_EQ(TRUE, DuplicateHandle(GetCurrentProcess(), d1,
					GetCurrentProcess(), &d2, 0, FALSE,
					DUPLICATE_CLOSE_SOURCE));
	EXPECT_EQ(FALSE, SetEvent(d1));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(TRUE, SetEvent(d2));

	/* Errors */
	SetLastError(0);
	EXPECT_EQ(FALSE, DuplicateHandle(NULL, d2, GetCurrentProcess(), &d1, 0,
					 FALSE, 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(FALSE, DuplicateHandle(GetCurrentProcess(), d2, d2, &d1, 0,
					 FALSE, 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	EXPECT_EQ(FALSE, DuplicateHandle(GetCurrentProcess(), d2,
					 GetCurrentProcess(), NULL, 0, FALSE, 0));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	EXPECT_EQ(FALSE, DuplicateHandle(GetCurrentProcess(), d2,
					 GetCurrentProcess(), &d1, 0, FALSE, 0x100));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	EXPECT_EQ(FALSE, DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(),
					 GetCurrentProcess(), &d1, 0, FALSE, 0));
	EXPECT_EQ(ERROR_NOT_SUPPORTED, GetLastError());
	EXPECT_EQ(TRUE, CloseHandle(d2));
}

static void t_many_handles(void)
{
	enum { N = 5000 };
	static HANDLE h[N];
	int i;

	for (i = 0; i < N; i++) {
		h[i] = CreateEventA(NULL, TRUE, i & 1, NULL);
		ASSERT_TRUE(h[i]);
		ASSERT_EQ(0, (uintptr_t)h[i] & 3);
	}
	for (i = 0; i < N; i++)
		EXPECT_EQ((i & 1) ? WAIT_OBJECT_0 : WAIT_TIMEOUT,
			  WaitForSingleObject(h[i], 0));
	for (i = 0; i < N; i += 2)
		EXPECT_EQ(TRUE, CloseHandle(h[i]));
	for (i = 0; i < N; i++)
		EXPECT_EQ((i & 1) ? TRUE : FALSE, SetEvent(h[i]));
	for (i = 1; i < N; i += 2)
		EXPECT_EQ(TRUE, CloseHandle(h[i]));
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_last_error_per_thread),
		TAP_TEST(t_pseudo_handles),
		TAP_TEST(t_garbage_handles),
		TAP_TEST(t_random_garbage_never_crashes),
		TAP_TEST(t_closed_handle),
		TAP_TEST(t_stale_handle_after_reuse),
		TAP_TEST(t_wrong_type),
		TAP_TEST(t_duplicate_handle),
		TAP_TEST(t_many_handles),
	};

	return tap_main(tests, TAP_COUNT(tests), 60);
}
