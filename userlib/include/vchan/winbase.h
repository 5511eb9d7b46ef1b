/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <vchan/winbase.h> - the Windows types, error codes and kernel32 calls that
 * virtual-channel programs use, implemented by libvchan on Linux.
 *
 * Only what virtual-channel code needs is here: handles, events, waits,
 * asynchronous procedure calls (APCs) and overlapped file I/O.  The types have
 * the Windows sizes (DWORD and ULONG are 32 bits, ULONG_PTR and HANDLE are
 * pointer sized) so that structures such as OVERLAPPED have the layout
 * Windows code expects.
 *
 * Error reporting follows Windows: a failing call returns FALSE, NULL or
 * WAIT_FAILED and sets the calling thread's last error (GetLastError()); a
 * successful call leaves the last error alone unless its description says
 * otherwise.  Every call is thread safe.
 *
 * Handles are small integers checked against a table with generation
 * numbers: a closed, stale, wrong-type or garbage handle makes a call fail
 * with ERROR_INVALID_HANDLE; it never crashes the program.
 *
 * Completion routines (ReadFileEx, WriteFileEx) and user APCs (QueueUserAPC)
 * run only on the thread that issued them, only inside that thread's
 * alertable waits (SleepEx, WaitForSingleObjectEx, WaitForMultipleObjectsEx,
 * GetOverlappedResultEx with bAlertable TRUE), first in first out, exactly
 * once each; the wait then returns WAIT_IO_COMPLETION.
 */
#ifndef VCHAN_WINBASE_H
#define VCHAN_WINBASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calling convention and SAL-style decorations: empty on Linux. */
#ifndef WINAPI
#define WINAPI
#endif
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef VOID
#define VOID void
#endif

#ifndef VCHAN_WINTYPES_DEFINED
#define VCHAN_WINTYPES_DEFINED
typedef int BOOL;
typedef uint8_t BOOLEAN;
typedef uint8_t BYTE;
typedef char CHAR;
typedef uint8_t UCHAR;
typedef int16_t SHORT;
typedef uint16_t USHORT;
typedef uint16_t WORD;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef uint32_t DWORD;
typedef int32_t INT;
typedef uint32_t UINT;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR;
typedef uintptr_t DWORD_PTR;
typedef uintptr_t SIZE_T;
#ifdef __cplusplus
typedef char16_t WCHAR;		/* UTF-16 code unit, as on Windows */
#else
typedef uint16_t WCHAR;		/* UTF-16 code unit, as on Windows */
#endif
typedef void *PVOID;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
typedef HANDLE *LPHANDLE;
typedef BOOL *PBOOL;
typedef BOOL *LPBOOL;
typedef BYTE *PBYTE;
typedef BYTE *LPBYTE;
typedef CHAR *PCHAR;
typedef CHAR *LPSTR;
typedef const CHAR *LPCSTR;
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;
typedef ULONG *PULONG;
typedef DWORD *PDWORD;
typedef DWORD *LPDWORD;
typedef LONG *PLONG;
#endif /* VCHAN_WINTYPES_DEFINED */

#ifndef TRUE
#define TRUE	1
#endif
#ifndef FALSE
#define FALSE	0
#endif

#define INVALID_HANDLE_VALUE	((HANDLE)(LONG_PTR)-1)
#define MAXIMUM_WAIT_OBJECTS	64
#define MAX_PATH		260

/* Wait results and timeouts. */
#define INFINITE		0xFFFFFFFFu
#define WAIT_OBJECT_0		0x00000000u
#define WAIT_ABANDONED		0x00000080u
#define WAIT_ABANDONED_0	WAIT_ABANDONED
#define WAIT_IO_COMPLETION	0x000000C0u
#define WAIT_TIMEOUT		0x00000102u
#define WAIT_FAILED		0xFFFFFFFFu

/* NTSTATUS values found in OVERLAPPED.Internal. */
#define STATUS_WAIT_0			((DWORD)0x00000000u)
#define STATUS_PENDING			((DWORD)0x00000103u)
#define STATUS_BUFFER_OVERFLOW		((DWORD)0x80000005u)
#define STATUS_INVALID_HANDLE		((DWORD)0xC0000008u)
#define STATUS_INVALID_PARAMETER	((DWORD)0xC000000Du)
#define STATUS_END_OF_FILE		((DWORD)0xC0000011u)
#define STATUS_NO_MEMORY		((DWORD)0xC0000017u)
#define STATUS_ACCESS_DENIED		((DWORD)0xC0000022u)
#define STATUS_BUFFER_TOO_SMALL		((DWORD)0xC0000023u)
#define STATUS_NOT_SUPPORTED		((DWORD)0xC00000BBu)
#define STATUS_CANCELLED		((DWORD)0xC0000120u)
#define STATUS_PIPE_BROKEN		((DWORD)0xC000014Bu)

/* Error codes (winerror.h). */
#define ERROR_SUCCESS			0L
#define NO_ERROR			0L
#define ERROR_INVALID_FUNCTION		1L
#define ERROR_FILE_NOT_FOUND		2L
#define ERROR_PATH_NOT_FOUND		3L
#define ERROR_TOO_MANY_OPEN_FILES	4L
#define ERROR_ACCESS_DENIED		5L
#define ERROR_INVALID_HANDLE		6L
#define ERROR_NOT_ENOUGH_MEMORY		8L
#define ERROR_OUTOFMEMORY		14L
#define ERROR_NOT_READY			21L
#define ERROR_BAD_LENGTH		24L
#define ERROR_WRITE_FAULT		29L
#define ERROR_READ_FAULT		30L
#define ERROR_GEN_FAILURE		31L
#define ERROR_HANDLE_EOF		38L
#define ERROR_NOT_SUPPORTED		50L
#define ERROR_FILE_EXISTS		80L
#define ERROR_INVALID_PARAMETER		87L
#define ERROR_BROKEN_PIPE		109L
#define ERROR_DISK_FULL			112L
#define ERROR_SEM_TIMEOUT		121L
#define ERROR_INSUFFICIENT_BUFFER	122L
#define ERROR_INVALID_NAME		123L
#define ERROR_BUSY			170L
#define ERROR_ALREADY_EXISTS		183L
#define ERROR_NO_DATA			232L
#define ERROR_PIPE_NOT_CONNECTED	233L
#define ERROR_MORE_DATA			234L
#define ERROR_OPERATION_ABORTED		995L
#define ERROR_IO_INCOMPLETE		996L
#define ERROR_IO_PENDING		997L
#define ERROR_NOACCESS			998L
#define ERROR_NOT_FOUND			1168L
#define ERROR_INVALID_USER_BUFFER	1784L

/* DuplicateHandle options. */
#define DUPLICATE_CLOSE_SOURCE		0x00000001
#define DUPLICATE_SAME_ACCESS		0x00000002

typedef struct _SECURITY_ATTRIBUTES {
	DWORD nLength;
	LPVOID lpSecurityDescriptor;
	BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

typedef struct _OVERLAPPED {
	ULONG_PTR Internal;	/* NTSTATUS: STATUS_PENDING while pending */
	ULONG_PTR InternalHigh;	/* bytes transferred, once complete */
	union {
		struct {
			DWORD Offset;
			DWORD OffsetHigh;
		};
		PVOID Pointer;
	};
	HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

/* TRUE once the request described by lpOverlapped is no longer pending. */
#define HasOverlappedIoCompleted(lpOverlapped) \
	(((DWORD)(lpOverlapped)->Internal) != STATUS_PENDING)

typedef void (WINAPI *LPOVERLAPPED_COMPLETION_ROUTINE)(DWORD dwErrorCode,
		DWORD dwNumberOfBytesTransfered, LPOVERLAPPED lpOverlapped);
typedef void (WINAPI *PAPCFUNC)(ULONG_PTR Parameter);

/* ----------------------------------------------------------------------
 * Last error
 */

/*
 * GetLastError - the calling thread's last error code.
 *
 * Returns the value the most recent failing libvchan call on this thread set
 * (or the last SetLastError() value).  Each thread has its own; a new thread
 * starts with ERROR_SUCCESS.  Never fails.
 */
DWORD WINAPI GetLastError(void);

/*
 * SetLastError - set the calling thread's last error code to dwErrCode.
 * Never fails; other threads' codes are unaffected.
 */
void WINAPI SetLastError(DWORD dwErrCode);

/* ----------------------------------------------------------------------
 * Handles
 */

/*
 * CloseHandle - close an event, file or thread handle.
 *
 * The object goes away with its last handle.  Closing the last handle of a
 * file cancels the I/O still pending on it (it completes with
 * ERROR_OPERATION_ABORTED; completion routines still run in the issuing
 * thread's alertable waits) and never blocks.  The pseudo handles of
 * GetCurrentProcess() and GetCurrentThread() may be closed (nothing happens).
 *
 * Returns TRUE, or FALSE with ERROR_INVALID_HANDLE for a NULL, closed,
 * stale or garbage handle, for a WTSVirtualChannelOpen handle (use
 * WTSVirtualChannelClose) and for the file handle that WTSVirtualChannelQuery
 * returns (WTSVirtualChannelClose closes it).
 */
BOOL WINAPI CloseHandle(HANDLE hObject);

/*
 * DuplicateHandle - a new handle to the object behind hSourceHandle.
 *
 * Both process handles must be GetCurrentProcess(): handles cannot cross
 * processes here (ERROR_INVALID_HANDLE otherwise).  Event, file and thread
 * handles can be duplicated; GetCurrentThread() gives a real handle to the
 * calling thread (usable with QueueUserAPC from any thread).  The duplicate
 * is independent: it stays valid after the source handle (including a
 * WTSVirtualFileHandle after WTSVirtualChannelClose) is closed, until
 * CloseHandle.  dwDesiredAccess and bInheritHandle are ignored.
 * dwOptions: DUPLICATE_SAME_ACCESS (ignored), DUPLICATE_CLOSE_SOURCE (the
 * source handle is closed, even when the call fails).
 *
 * Returns TRUE with *lpTargetHandle set, or FALSE with:
 *   ERROR_INVALID_HANDLE     a bad process or source handle;
 *   ERROR_INVALID_PARAMETER  lpTargetHandle is NULL (without
 *                            DUPLICATE_CLOSE_SOURCE) or unknown option bits;
 *   ERROR_NOT_SUPPORTED      the source is GetCurrentProcess();
 *   ERROR_NOT_ENOUGH_MEMORY  the handle table is full.
 */
BOOL WINAPI DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle,
			    HANDLE hTargetProcessHandle, LPHANDLE lpTargetHandle,
			    DWORD dwDesiredAccess, BOOL bInheritHandle,
			    DWORD dwOptions);

/*
 * GetCurrentProcess - the pseudo handle (HANDLE)-1 of the calling process,
 * for DuplicateHandle.  (As on Windows it equals INVALID_HANDLE_VALUE.)
 */
HANDLE WINAPI GetCurrentProcess(void);

/*
 * GetCurrentThread - the pseudo handle (HANDLE)-2 that means "the calling
 * thread" wherever it is used (QueueUserAPC, DuplicateHandle).
 */
HANDLE WINAPI GetCurrentThread(void);

/* GetCurrentThreadId - the calling thread's Linux thread id. */
DWORD WINAPI GetCurrentThreadId(void);

/* ----------------------------------------------------------------------
 * Events and waits
 */

/*
 * CreateEventA, CreateEventW - create an unnamed event object.
 *
 * bManualReset TRUE: the event stays signalled until ResetEvent; FALSE: a
 * wait that it satisfies resets it (one waiter released per SetEvent).
 * bInitialState: signalled at creation.  lpEventAttributes is ignored.
 *
 * Returns the event handle, or NULL with:
 *   ERROR_NOT_SUPPORTED      lpName is not NULL (no named objects here);
 *   ERROR_NOT_ENOUGH_MEMORY  out of memory or handles.
 */
HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes,
			   BOOL bManualReset, BOOL bInitialState, LPCSTR lpName);
HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes,
			   BOOL bManualReset, BOOL bInitialState, LPCWSTR lpName);
#ifdef UNICODE
#define CreateEvent CreateEventW
#else
#define CreateEvent CreateEventA
#endif

/*
 * SetEvent - signal the event: a manual-reset event releases every waiter
 * and stays signalled; an auto-reset event releases one waiter (or stays
 * signalled until one comes).  ResetEvent - make the event non-signalled.
 *
 * Return TRUE, or FALSE with ERROR_INVALID_HANDLE when hEvent is not an
 * event handle.
 */
BOOL WINAPI SetEvent(HANDLE hEvent);
BOOL WINAPI ResetEvent(HANDLE hEvent);

/*
 * WaitForSingleObjectEx - wait until hHandle (an event) is signalled,
 * dwMilliseconds pass (INFINITE: never; 0: just test), or, if bAlertable,
 * an APC or completion routine is queued to the calling thread.
 *
 * An object that is already signalled satisfies the wait before queued
 * APCs are looked at.  In an alertable wait every routine queued to the
 * thread runs, in order, before the call returns WAIT_IO_COMPLETION.
 *
 * Returns WAIT_OBJECT_0, WAIT_TIMEOUT, WAIT_IO_COMPLETION, or WAIT_FAILED
 * with ERROR_INVALID_HANDLE (not an event handle: files and threads are not
 * waitable here).
 * WaitForSingleObject(h, ms) is WaitForSingleObjectEx(h, ms, FALSE).
 */
DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
DWORD WINAPI WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds,
				   BOOL bAlertable);

/*
 * WaitForMultipleObjectsEx - wait for any (bWaitAll FALSE) or all (TRUE) of
 * nCount event handles.
 *
 * Wait-any returns WAIT_OBJECT_0 + i for the lowest-numbered signalled
 * handle i (resetting it if it is auto-reset).  Wait-all returns
 * WAIT_OBJECT_0 once all of them are signalled at the same time, and only
 * then resets the auto-reset ones.  Timeouts and bAlertable as for
 * WaitForSingleObjectEx.
 *
 * Returns as above, or WAIT_FAILED with ERROR_INVALID_PARAMETER (nCount 0 or
 * above MAXIMUM_WAIT_OBJECTS, lpHandles NULL, the same event twice in a
 * wait-all) or ERROR_INVALID_HANDLE.
 */
DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles,
				    BOOL bWaitAll, DWORD dwMilliseconds);
DWORD WINAPI WaitForMultipleObjectsEx(DWORD nCount, const HANDLE *lpHandles,
				      BOOL bWaitAll, DWORD dwMilliseconds,
				      BOOL bAlertable);

/*
 * SleepEx - sleep dwMilliseconds (INFINITE: until an APC, if bAlertable).
 * Returns 0 when the time is up, or WAIT_IO_COMPLETION after running the
 * thread's queued APCs and completion routines (bAlertable TRUE only).
 * Sleep(ms) is SleepEx(ms, FALSE).  Never fails.
 */
DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable);
void WINAPI Sleep(DWORD dwMilliseconds);

/*
 * QueueUserAPC - queue pfnAPC(dwData) to run on thread hThread in its next
 * alertable wait.
 *
 * hThread is GetCurrentThread() or a thread handle made by DuplicateHandle.
 * Returns nonzero, or 0 with ERROR_INVALID_HANDLE (not a thread handle),
 * ERROR_INVALID_PARAMETER (pfnAPC NULL), ERROR_GEN_FAILURE (the thread has
 * exited) or ERROR_NOT_ENOUGH_MEMORY.
 */
DWORD WINAPI QueueUserAPC(PAPCFUNC pfnAPC, HANDLE hThread, ULONG_PTR dwData);

/* ----------------------------------------------------------------------
 * File I/O
 *
 * File handles come from WTSVirtualChannelQuery(WTSVirtualFileHandle) (or
 * vchan_handle_from_fd() of <vchan/vchan.h>).  Every handle is an
 * overlapped handle; each read and write is one asynchronous request to the
 * kernel, and the requests of a handle are carried out in the order they
 * were issued.  On a virtual channel one write is one message and a read
 * returns bytes of at most one message; offsets are ignored.
 *
 * Byte-count and error rules common to the calls below:
 *   - an invalid, closed, stale or wrong-type handle: FALSE with
 *     ERROR_INVALID_HANDLE (the byte count, if given, is set to 0);
 *   - a read buffer shorter than the message: FALSE with ERROR_MORE_DATA and
 *     the partial count; the rest stays for the next read;
 *   - dynamic channels (WTSVirtualChannelOpenEx) instead return with every
 *     read a CHANNEL_PDU_HEADER and at most 1600 bytes of one message (the
 *     count includes the header); a buffer shorter than the header: FALSE
 *     with ERROR_INSUFFICIENT_BUFFER, nothing consumed, nothing queued;
 *   - a cancelled write whose message the other end has begun to read is
 *     not cut: it completes normally, with its full length;
 *   - the other end of the channel is gone: ERROR_BROKEN_PIPE;
 *   - a cancelled request: ERROR_OPERATION_ABORTED, 0 bytes;
 *   - too many requests outstanding: ERROR_INVALID_USER_BUFFER (or
 *     ERROR_NOT_ENOUGH_MEMORY), nothing queued;
 *   - a write longer than the largest message (16 MiB): ERROR_BAD_LENGTH.
 */

/*
 * WriteFile - write nNumberOfBytesToWrite bytes from lpBuffer.
 *
 * Without lpOverlapped the call waits until the write is complete (on a
 * channel: until the message is in the channel's ring or being read) and
 * stores the count in *lpNumberOfBytesWritten (required).
 * With lpOverlapped: returns TRUE if the write completed at once, else FALSE
 * with ERROR_IO_PENDING; lpOverlapped->hEvent, if not NULL, is reset now and
 * set on completion; the result is then read with GetOverlappedResult.
 * lpNumberOfBytesWritten may be NULL in that case.
 *
 * Failures: ERROR_INVALID_HANDLE; ERROR_INVALID_USER_BUFFER (lpBuffer NULL
 * with a nonzero length); ERROR_INVALID_PARAMETER (no lpOverlapped and no
 * lpNumberOfBytesWritten); the common ones above.  A zero-length write
 * succeeds with 0 bytes (on a channel it is an empty message).
 */
BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer,
		      DWORD nNumberOfBytesToWrite,
		      LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped);

/*
 * ReadFile - read up to nNumberOfBytesToRead bytes into lpBuffer.
 *
 * Same structure as WriteFile.  Without lpOverlapped it waits for data.
 * Failures: ERROR_INVALID_HANDLE; ERROR_NOACCESS (lpBuffer NULL with a
 * nonzero length); ERROR_INVALID_PARAMETER (no lpOverlapped and no
 * lpNumberOfBytesRead); ERROR_MORE_DATA (message longer than the buffer:
 * the partial count is stored); ERROR_BROKEN_PIPE (the other end is gone
 * and nothing is left to read); the common ones above.
 */
BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
		     LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped);

/*
 * WriteFileEx, ReadFileEx - start an asynchronous write or read whose
 * completion routine runs on the calling thread.
 *
 * On TRUE the request is queued (or already done): lpCompletionRoutine
 * (dwErrorCode, dwNumberOfBytesTransfered, lpOverlapped) runs exactly once,
 * on this thread, in one of its alertable waits, never before this call has
 * returned, in completion order with the thread's other routines and APCs.
 * While pending, lpOverlapped->Internal is STATUS_PENDING and InternalHigh
 * 0; afterwards InternalHigh holds the byte count.  hEvent is not used (the
 * caller may keep anything in it).  The OVERLAPPED and the buffer must stay
 * valid until the routine has run.
 *
 * On FALSE nothing is queued and no routine will run.  Failures:
 * ERROR_INVALID_PARAMETER (lpOverlapped or lpCompletionRoutine NULL);
 * ERROR_INVALID_HANDLE; ERROR_INVALID_USER_BUFFER (WriteFileEx, lpBuffer NULL
 * with a nonzero length, or too many requests outstanding); ERROR_NOACCESS
 * (ReadFileEx, lpBuffer NULL with a nonzero length); ERROR_NOT_ENOUGH_MEMORY.
 * Errors found after the request was accepted (ERROR_BROKEN_PIPE,
 * ERROR_MORE_DATA, ERROR_OPERATION_ABORTED, ...) reach the routine.
 */
BOOL WINAPI WriteFileEx(HANDLE hFile, LPCVOID lpBuffer,
			DWORD nNumberOfBytesToWrite, LPOVERLAPPED lpOverlapped,
			LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
BOOL WINAPI ReadFileEx(HANDLE hFile, LPVOID lpBuffer,
		       DWORD nNumberOfBytesToRead, LPOVERLAPPED lpOverlapped,
		       LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);

/*
 * GetOverlappedResult - the outcome of an overlapped ReadFile/WriteFile
 * (or ...Ex) request.
 *
 * If the request is still pending: with bWait FALSE, FALSE with
 * ERROR_IO_INCOMPLETE; with bWait TRUE the call waits (on
 * lpOverlapped->hEvent if set, else on the request itself; not alertably).
 * Once complete, *lpNumberOfBytesTransferred = InternalHigh (also on
 * failure) and the call returns TRUE, or FALSE with the request's error
 * (ERROR_MORE_DATA, ERROR_OPERATION_ABORTED, ERROR_BROKEN_PIPE, ...).
 * Other failures: ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER
 * (lpOverlapped or lpNumberOfBytesTransferred NULL).
 */
BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
				LPDWORD lpNumberOfBytesTransferred, BOOL bWait);

/*
 * GetOverlappedResultEx - GetOverlappedResult with a timeout and an
 * optional alertable wait.  dwMilliseconds 0 behaves like bWait FALSE
 * (ERROR_IO_INCOMPLETE); when the time runs out: FALSE with WAIT_TIMEOUT;
 * when the alertable wait ran APCs: FALSE with WAIT_IO_COMPLETION.
 */
BOOL WINAPI GetOverlappedResultEx(HANDLE hFile, LPOVERLAPPED lpOverlapped,
				  LPDWORD lpNumberOfBytesTransferred,
				  DWORD dwMilliseconds, BOOL bAlertable);

/*
 * CancelIo - cancel the calling thread's pending requests on hFile.
 * CancelIoEx - cancel every pending request of the process on hFile
 * (lpOverlapped NULL) or just the one started with lpOverlapped.
 *
 * Cancelled requests complete with ERROR_OPERATION_ABORTED and 0 bytes
 * (routines still run, in alertable waits; events are set).  Cancelling is
 * asynchronous: use GetOverlappedResult or the routine to learn the end.  A
 * channel never cuts a message: a write the other end has begun to read is
 * not cancelled; it completes normally (or with ERROR_BROKEN_PIPE).
 *
 * Return TRUE if at least one request was found, else FALSE with
 * ERROR_NOT_FOUND; FALSE with ERROR_INVALID_HANDLE for a bad handle.
 */
BOOL WINAPI CancelIo(HANDLE hFile);
BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped);

#ifdef __cplusplus
}
#endif

#endif /* VCHAN_WINBASE_H */
