// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library fed garbage, beyond unit_handle_test's bad handles: NULL
 * pointers in every pointer parameter, the largest lengths a DWORD holds,
 * bad flags and names, and an OVERLAPPED reused while its request is
 * pending.  Each call gives the documented Windows error and queues
 * nothing; none crashes (`make check-asan` runs this under AddressSanitizer
 * and UndefinedBehaviorSanitizer).
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include <vchan/vchan.h>
#include <vchan/winbase.h>
#include <vchan/wtsapi32.h>

#include "tap.h"

#define FAILS(call, failval, err) do {					\
	SetLastError(0);						\
	EXPECT_EQ(failval, call);					\
	EXPECT_EQ(err, GetLastError());					\
} while (0)

static int routines;
static DWORD last_err;

static void WINAPI count_routine(DWORD e, DWORD n, LPOVERLAPPED ov)
{
	(void)n; (void)ov;
	last_err = e;
	routines++;
}

static void WINAPI never(DWORD e, DWORD n, LPOVERLAPPED ov)
{
	(void)e; (void)n; (void)ov;
	printf("# unexpected completion routine\n");
	tap_failed = 1;
}

static void WINAPI never_apc(ULONG_PTR p)
{
	(void)p;
	printf("# unexpected APC\n");
	tap_failed = 1;
}

/* A pipe wrapped in two handles: hr reads p[0], hw writes p[1]. */
static void pipe_handles(HANDLE *hr, HANDLE *hw)
{
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	*hr = vchan_handle_from_fd(p[0], 0);
	*hw = vchan_handle_from_fd(p[1], 0);
	ASSERT_TRUE(*hr && *hw);
}

/* NULL in each pointer parameter that may not be NULL. */
static void t_null_pointers(void)
{
	HANDLE hr, hw, ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	OVERLAPPED ov;
	DWORD n = 7;

	ASSERT_TRUE(ev);
	pipe_handles(&hr, &hw);
	memset(&ov, 0, sizeof(ov));
	FAILS(GetOverlappedResult(hr, NULL, &n, FALSE), FALSE, ERROR_INVALID_PARAMETER);
	FAILS(GetOverlappedResult(hr, &ov, NULL, FALSE), FALSE, ERROR_INVALID_PARAMETER);
	FAILS(GetOverlappedResultEx(hr, NULL, &n, 0, TRUE), FALSE, ERROR_INVALID_PARAMETER);
	FAILS(GetOverlappedResultEx(hr, &ov, NULL, 0, TRUE), FALSE, ERROR_INVALID_PARAMETER);
	FAILS(WaitForMultipleObjects(1, NULL, FALSE, 0), WAIT_FAILED, ERROR_INVALID_PARAMETER);
	FAILS(WaitForMultipleObjectsEx(2, NULL, TRUE, 0, TRUE), WAIT_FAILED,
	      ERROR_INVALID_PARAMETER);
	FAILS(QueueUserAPC(NULL, GetCurrentThread(), 0), 0, ERROR_INVALID_PARAMETER);
	FAILS(DuplicateHandle(GetCurrentProcess(), ev, GetCurrentProcess(), NULL,
			      0, FALSE, DUPLICATE_SAME_ACCESS), FALSE,
	      ERROR_INVALID_PARAMETER);
	/* Both NULL: the handle is checked first. */
	FAILS(WTSVirtualChannelQuery(hr, WTSVirtualFileHandle, NULL, NULL), FALSE,
	      ERROR_INVALID_HANDLE);
	FAILS(WTSVirtualChannelRead(NULL, 0, NULL, 0, NULL), FALSE, ERROR_INVALID_HANDLE);
	FAILS(WTSVirtualChannelWrite(NULL, NULL, 0, NULL), FALSE, ERROR_INVALID_HANDLE);
	FAILS(WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, 1, NULL), NULL,
	      ERROR_INVALID_PARAMETER);
	FAILS(WTSVirtualChannelOpenEx(1, NULL, 0), NULL, ERROR_INVALID_PARAMETER);
	WTSFreeMemory(NULL);			/* nothing to free: no crash */
	EXPECT_EQ(0, vchan_handle_from_fd(-1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-EBADF, vchan_handle_fd(NULL));
	EXPECT_EQ(0, SleepEx(0, TRUE));		/* nothing was queued */
	EXPECT_EQ(TRUE, CloseHandle(hr));
	EXPECT_EQ(TRUE, CloseHandle(hw));
	EXPECT_EQ(TRUE, CloseHandle(ev));
}

/* The largest lengths: no overflow, the documented error or what is there. */
static void t_huge_lengths(void)
{
	char buf[64], *heap;
	HANDLE hr, hw;
	OVERLAPPED ov;
	DWORD n;

	pipe_handles(&hr, &hw);
	memset(&ov, 0, sizeof(ov));
	n = 5;
	FAILS(ReadFile(hr, NULL, 0xffffffff, &n, NULL), FALSE, ERROR_NOACCESS);
	EXPECT_EQ(0, n);
	n = 5;
	FAILS(WriteFile(hw, NULL, 0xffffffff, &n, NULL), FALSE,
	      ERROR_INVALID_USER_BUFFER);
	EXPECT_EQ(0, n);
	FAILS(ReadFileEx(hr, NULL, 0x80000000, &ov, never), FALSE, ERROR_NOACCESS);
	FAILS(WriteFileEx(hw, NULL, 0x80000000, &ov, never), FALSE,
	      ERROR_INVALID_USER_BUFFER);
	FAILS(WTSVirtualChannelWrite(hw, buf, 0xffffffff, &n), FALSE,
	      ERROR_INVALID_HANDLE);		/* a pipe is not a channel */
	/*
	 * A read may ask for any length: it gets what the pipe holds.  The
	 * kernel checks that buf + length lies below the top of the user
	 * address space before it reads, so the buffer comes from the heap:
	 * a stack buffer can sit within 4 GiB of the top (ASLR), and then
	 * the read fails with EFAULT -> ERROR_NOACCESS, as Windows would.
	 */
	ASSERT_EQ(10, write(vchan_handle_fd(hw), "0123456789", 10));
	heap = malloc(64);
	ASSERT_TRUE(heap != NULL);
	n = 0;
	EXPECT_EQ(TRUE, ReadFile(hr, heap, 0xffffffff, &n, NULL));
	EXPECT_EQ(10, n);
	EXPECT_MEM("0123456789", heap, 10);
	free(heap);
	EXPECT_EQ(0, SleepEx(0, TRUE));
	EXPECT_EQ(TRUE, CloseHandle(hr));
	EXPECT_EQ(TRUE, CloseHandle(hw));
}

/* Unknown flags and bad names. */
static void t_bad_flags_and_names(void)
{
	char name[300];

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	FAILS(WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, 1, ""), NULL,
	      ERROR_INVALID_PARAMETER);
	FAILS(WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, 1, name), NULL,
	      ERROR_INVALID_PARAMETER);
	FAILS(WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, 1, "a/b"), NULL,
	      ERROR_INVALID_PARAMETER);
	FAILS(WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, 1, ".."), NULL,
	      ERROR_INVALID_PARAMETER);
	FAILS(WTSVirtualChannelOpen((HANDLE)(intptr_t)0x1234, 1, "ok"), NULL,
	      ERROR_INVALID_HANDLE);
	FAILS(WTSVirtualChannelOpenEx(1, "ok", 0x80000000), NULL,
	      ERROR_INVALID_PARAMETER);
	EXPECT_EQ(0, vchan_handle_from_fd(0, 0x80));
	EXPECT_EQ(EINVAL, errno);
	FAILS(CreateEventA(NULL, TRUE, FALSE, "named"), NULL, ERROR_NOT_SUPPORTED);
}

/*
 * An OVERLAPPED reused while its request is pending (a caller error that
 * Windows does not catch).  Natively aio on a pipe completes inside
 * io_submit(), so "pending" here is the routine's part: held until an
 * alertable wait.  Each call the library accepted gets its routine exactly
 * once, with its own result; those it refused get none.
 */
static void t_overlapped_reused_while_pending(void)
{
	char buf[4][8];
	int i, accepted = 0;
	HANDLE hr, hw;
	OVERLAPPED ov;

	pipe_handles(&hr, &hw);
	memset(&ov, 0, sizeof(ov));
	routines = 0;
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, write(vchan_handle_fd(hw), "abcd" + i, 1));
		SetLastError(0);
		if (ReadFileEx(hr, buf[i], sizeof(buf[i]), &ov, count_routine))
			accepted++;
		else
			EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	}
	EXPECT_LE(1, accepted);
	EXPECT_EQ(0, routines);			/* none before an alertable wait */
	while (SleepEx(0, TRUE) == WAIT_IO_COMPLETION)
		;
	EXPECT_EQ(accepted, routines);
	EXPECT_EQ(0, last_err);
	EXPECT_EQ(1, ov.InternalHigh);
	EXPECT_EQ(0, SleepEx(0, TRUE));
	EXPECT_EQ(TRUE, CloseHandle(hr));
	EXPECT_EQ(TRUE, CloseHandle(hw));
}

/* Closing a handle whose routine is pending, then using the handle. */
static void t_close_with_pending_then_use(void)
{
	HANDLE hr, hw;
	OVERLAPPED ov;
	char buf[8];
	DWORD n = 3;

	pipe_handles(&hr, &hw);
	memset(&ov, 0, sizeof(ov));
	routines = 0;
	ASSERT_EQ(2, write(vchan_handle_fd(hw), "hi", 2));
	ASSERT_EQ(TRUE, ReadFileEx(hr, buf, sizeof(buf), &ov, count_routine));
	EXPECT_EQ(TRUE, CloseHandle(hr));
	FAILS(ReadFileEx(hr, buf, sizeof(buf), &ov, never), FALSE, ERROR_INVALID_HANDLE);
	FAILS(GetOverlappedResult(hr, &ov, &n, FALSE), FALSE, ERROR_INVALID_HANDLE);
	FAILS(CancelIoEx(hr, &ov), FALSE, ERROR_INVALID_HANDLE);
	FAILS(QueueUserAPC(never_apc, hr, 0), 0, ERROR_INVALID_HANDLE);
	/* The read had completed: its routine still runs, once, with it. */
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	EXPECT_EQ(1, routines);
	EXPECT_EQ(0, last_err);
	EXPECT_EQ(2, ov.InternalHigh);
	EXPECT_MEM("hi", buf, 2);
	EXPECT_EQ(0, SleepEx(0, TRUE));
	EXPECT_EQ(TRUE, CloseHandle(hw));
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_null_pointers),
		TAP_TEST(t_huge_lengths),
		TAP_TEST(t_bad_flags_and_names),
		TAP_TEST(t_overlapped_reused_while_pending),
		TAP_TEST(t_close_with_pending_then_use),
	};

	return tap_main(tests, TAP_COUNT(tests), 30);
}
