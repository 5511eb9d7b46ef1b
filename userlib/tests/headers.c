// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Compiled as C99 and as C++ (see run-check.sh) with -Wall -Wextra -Werror:
 * the public headers together, in an order that would expose clashes, and
 * the layouts Windows code relies on.
 */
#include <vchan/vchan.h>
#include <vchan/pchannel.h>
#include <vchan/wtsapi32.h>
#include <vchan/winbase.h>
#include <vchan/vchan.h>	/* twice: include guards */

#include <stddef.h>

#ifdef __cplusplus
#define VC_STATIC_ASSERT(c, m) static_assert(c, #m)
#else
#define VC_STATIC_ASSERT(c, m) typedef char vc_assert_##m[(c) ? 1 : -1]
#endif

VC_STATIC_ASSERT(sizeof(DWORD) == 4, dword);
VC_STATIC_ASSERT(sizeof(ULONG) == 4, ulong);
VC_STATIC_ASSERT(sizeof(LONG) == 4, long_);
VC_STATIC_ASSERT(sizeof(WCHAR) == 2, wchar);
VC_STATIC_ASSERT(sizeof(ULONG_PTR) == sizeof(void *), ulong_ptr);
VC_STATIC_ASSERT(sizeof(HANDLE) == sizeof(void *), handle);
VC_STATIC_ASSERT(offsetof(OVERLAPPED, InternalHigh) == sizeof(void *), ov1);
VC_STATIC_ASSERT(offsetof(OVERLAPPED, Offset) == 2 * sizeof(void *), ov2);
VC_STATIC_ASSERT(offsetof(OVERLAPPED, OffsetHigh) == 2 * sizeof(void *) + 4, ov3);
VC_STATIC_ASSERT(offsetof(OVERLAPPED, hEvent) == 3 * sizeof(void *) +
		 (sizeof(void *) == 4 ? 4 : 0), ov4);
VC_STATIC_ASSERT(sizeof(CHANNEL_PDU_HEADER) == 8, pdu);
VC_STATIC_ASSERT(sizeof(CHANNEL_PDU_HEADER) == sizeof(struct vchan_pdu_header), pdu2);
VC_STATIC_ASSERT(CHANNEL_PDU_LENGTH == 1608, pdulen);
VC_STATIC_ASSERT(CHANNEL_FLAG_FIRST == VCHAN_PDU_FIRST, first);
VC_STATIC_ASSERT(CHANNEL_FLAG_LAST == VCHAN_PDU_LAST, last);
VC_STATIC_ASSERT(CHANNEL_NAME_LEN == VCHAN_STATIC_NAME_MAX, namelen);
VC_STATIC_ASSERT(WTS_CURRENT_SESSION == 0xFFFFFFFFu, cursess);
VC_STATIC_ASSERT(WTS_CHANNEL_OPTION_DYNAMIC_PRI_REAL == 6, prireal);
VC_STATIC_ASSERT(WTSVirtualFileHandle == 1 && WTSVirtualClientData == 0, cls);
VC_STATIC_ASSERT(WAIT_IO_COMPLETION == 0xC0 && WAIT_TIMEOUT == 0x102, waits);
VC_STATIC_ASSERT(ERROR_INVALID_USER_BUFFER == 1784 && ERROR_NOACCESS == 998, errs);

/* Windows-style use compiles: callbacks, string literals as names. */
static void WINAPI routine(DWORD e, DWORD n, LPOVERLAPPED ov)
{
	(void)e; (void)n; (void)ov;
}

static void WINAPI apc(ULONG_PTR p)
{
	(void)p;
}

int vc_headers_use(void);
int vc_headers_use(void)
{
	OVERLAPPED ov = { 0, 0, { { 0, 0 } }, NULL };
	LPOVERLAPPED_COMPLETION_ROUTINE r = routine;
	PAPCFUNC a = apc;
	HANDLE h = WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE,
					 WTS_CURRENT_SESSION, "ECHO");
	CHAR buf[CHANNEL_PDU_LENGTH];
	ULONG n = 0;

	(void)a;
	(void)r;
	WTSVirtualChannelWrite(h, "x", 1, &n);
	WTSVirtualChannelRead(h, 0, buf, sizeof(buf), &n);
	return HasOverlappedIoCompleted(&ov) ? 0 : 1;
}
