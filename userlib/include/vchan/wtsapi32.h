/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <vchan/wtsapi32.h> - the WTS virtual channel API on Linux (libvchan).
 *
 * A program in a remote desktop session opens the SESSION END of a virtual
 * channel that the RDP server daemon has created (the node
 * /dev/vchan/<session>/<name> of the vchan driver).  What it writes with
 * WTSVirtualChannelWrite arrives at the client end (the daemon, which relays
 * it to the remote RDP client); what the client end writes is what
 * WTSVirtualChannelRead returns.  One write is one message.
 *
 * Session ids: an explicit id opens /dev/vchan/<id>/<name>.
 * WTS_CURRENT_SESSION means, in this order:
 *   1. $VCHAN_SESSION, if set (a decimal number 0..4294967294; anything else
 *      makes the open fail with ERROR_INVALID_PARAMETER);
 *   2. the kernel's audit session id of the process, /proc/self/sessionid
 *      (set by pam_loginuid at login; RDP daemons create a session's
 *      channels under that id), if it is set;
 *   3. otherwise the open fails with ERROR_FILE_NOT_FOUND.
 *
 * All calls are thread safe, WTSVirtualChannelWrite included.
 */
#ifndef VCHAN_WTSAPI32_H
#define VCHAN_WTSAPI32_H

#include <vchan/winbase.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WTS_CURRENT_SERVER		((HANDLE)NULL)
#define WTS_CURRENT_SERVER_HANDLE	((HANDLE)NULL)
#define WTS_CURRENT_SERVER_NAME		(NULL)
#define WTS_CURRENT_SESSION		((DWORD)-1)
#define WTS_ANY_SESSION			((DWORD)-2)

/* WTSVirtualChannelOpenEx flags. */
#define WTS_CHANNEL_OPTION_DYNAMIC		0x00000001
#define WTS_CHANNEL_OPTION_DYNAMIC_PRI_LOW	0x00000000
#define WTS_CHANNEL_OPTION_DYNAMIC_PRI_MED	0x00000002
#define WTS_CHANNEL_OPTION_DYNAMIC_PRI_HIGH	0x00000004
#define WTS_CHANNEL_OPTION_DYNAMIC_PRI_REAL	0x00000006
#define WTS_CHANNEL_OPTION_DYNAMIC_NO_COMPRESS	0x00000008

typedef enum _WTS_VIRTUAL_CLASS {
	WTSVirtualClientData = 0,
	WTSVirtualFileHandle = 1
} WTS_VIRTUAL_CLASS;

/*
 * WTSVirtualChannelOpen - open the session end of static channel
 * pVirtualName in session SessionId.
 *
 * hServer must be WTS_CURRENT_SERVER_HANDLE.  SessionId is an id or
 * WTS_CURRENT_SESSION (see above).  pVirtualName is 1..CHANNEL_NAME_LEN (7)
 * characters from [A-Za-z0-9_.-], matched exactly (no prefix matching).
 *
 * Returns a channel handle for the WTSVirtualChannel* calls (not a file
 * handle: use WTSVirtualChannelQuery for that), or NULL with:
 *   ERROR_INVALID_HANDLE     hServer is not WTS_CURRENT_SERVER_HANDLE;
 *   ERROR_INVALID_PARAMETER  pVirtualName NULL, empty, too long or with
 *                            other characters; a bad $VCHAN_SESSION;
 *   ERROR_FILE_NOT_FOUND     the server has not made that channel available
 *                            in that session (or no current session is known);
 *   ERROR_ACCESS_DENIED      the node exists but may not be opened by us;
 *   ERROR_BUSY               another program has that channel open;
 *   ERROR_NOT_ENOUGH_MEMORY  out of memory or handles.
 */
HANDLE WINAPI WTSVirtualChannelOpen(HANDLE hServer, DWORD SessionId,
				    LPCSTR pVirtualName);

/*
 * WTSVirtualChannelOpenEx - WTSVirtualChannelOpen with flags.
 *
 * flags 0 opens a static channel as WTSVirtualChannelOpen does.
 *
 * WTS_CHANNEL_OPTION_DYNAMIC, with at most one priority
 * (WTS_CHANNEL_OPTION_DYNAMIC_PRI_LOW, _MED, _HIGH, _REAL) and optionally
 * WTS_CHANNEL_OPTION_DYNAMIC_NO_COMPRESS, asks the RDP server daemon (the
 * listener of the session's dynamic channels, /dev/vchan/dynamic/<session>)
 * for a new dynamic channel pVirtualName (1..255 characters from
 * [A-Za-z0-9_.-], not "." nor "..") and waits for its answer: at most
 * $VCHAN_DYN_TIMEOUT_MS milliseconds (a decimal number; 0: no limit), 30
 * seconds if that is not set.  The priority and NO_COMPRESS bits reach the
 * daemon unchanged.  Each successful open is a channel of its own (the same
 * name may be open several times); it lives until WTSVirtualChannelClose
 * (and CloseHandle of every duplicate of its file handle) or until the
 * daemon closes its end.  Every read of a dynamic channel, through
 * WTSVirtualChannelRead or the WTSVirtualFileHandle (ReadFile, ReadFileEx),
 * returns a CHANNEL_PDU_HEADER followed by at most CHANNEL_CHUNK_LENGTH
 * (1600) bytes of one message, fewer if the buffer is smaller: 'length' is
 * the total length of the message, 'flags' CHANNEL_FLAG_FIRST on its first
 * chunk and CHANNEL_FLAG_LAST on its last.  A read buffer shorter than the
 * header fails with ERROR_INSUFFICIENT_BUFFER and consumes nothing.
 *
 * Returns a channel handle, or NULL with:
 *   ERROR_INVALID_PARAMETER  unknown flag bits, priority or NO_COMPRESS
 *                            bits without WTS_CHANNEL_OPTION_DYNAMIC, a bad
 *                            name (see above), a bad $VCHAN_SESSION;
 *   ERROR_FILE_NOT_FOUND     no daemon listens for the session's dynamic
 *                            channels, or it went away before answering, or
 *                            it refused the channel without a reason of its
 *                            own (the client offers no such channel);
 *   ERROR_SEM_TIMEOUT        the daemon did not answer in time;
 *   ERROR_ACCESS_DENIED      the session's dynamic node may not be opened by
 *                            us, or the daemon refused with EACCES / EPERM;
 *   other errors             the daemon refused with another errno, mapped
 *                            as everywhere in libvchan (EBUSY: ERROR_BUSY,
 *                            ENOMEM: ERROR_NOT_ENOUGH_MEMORY, ...; one with
 *                            no Windows counterpart: ERROR_GEN_FAILURE);
 * and as WTSVirtualChannelOpen for static channels.
 */
HANDLE WINAPI WTSVirtualChannelOpenEx(DWORD SessionId, LPCSTR pVirtualName,
				      DWORD flags);

/*
 * WTSVirtualChannelClose - close a channel handle and the file handle that
 * WTSVirtualChannelQuery handed out for it.  Requests still pending on that
 * file handle are cancelled (ERROR_OPERATION_ABORTED) unless a duplicate of
 * it (DuplicateHandle) is still open.  Never blocks.
 *
 * Returns TRUE, or FALSE with ERROR_INVALID_HANDLE when hChannelHandle is not
 * an open channel handle.
 */
BOOL WINAPI WTSVirtualChannelClose(HANDLE hChannelHandle);

/*
 * WTSVirtualChannelRead - read bytes of the next message from the client.
 *
 * TimeOut: milliseconds to wait for data; 0 returns at once; INFINITE waits.
 * Returns TRUE with *pBytesRead = bytes stored (at most BufferSize, all from
 * one message; what does not fit comes with the next reads), or TRUE with
 * *pBytesRead = 0 when the time ran out with no data (or on an empty
 * message of a static channel).  No data is ever lost to a timeout.
 * Dynamic channels: each read stores a CHANNEL_PDU_HEADER (8 bytes) and at
 * most 1600 bytes of one message, *pBytesRead counting both; 'length' is
 * the total message length (see WTSVirtualChannelOpenEx).
 * FALSE with:
 *   ERROR_INVALID_HANDLE     not a channel handle;
 *   ERROR_INVALID_PARAMETER  pBytesRead NULL;
 *   ERROR_NOACCESS           Buffer NULL with BufferSize nonzero;
 *   ERROR_INSUFFICIENT_BUFFER  dynamic channels: BufferSize smaller than
 *                            CHANNEL_PDU_HEADER (nothing consumed);
 *   ERROR_BROKEN_PIPE        the client end is gone and nothing is queued;
 *   ERROR_INVALID_USER_BUFFER / ERROR_NOT_ENOUGH_MEMORY  no resources.
 */
BOOL WINAPI WTSVirtualChannelRead(HANDLE hChannelHandle, ULONG TimeOut,
				  PCHAR Buffer, ULONG BufferSize,
				  PULONG pBytesRead);

/*
 * WTSVirtualChannelWrite - send Length bytes of Buffer as one message.
 *
 * Waits until the message is accepted by the channel (queued in its ring,
 * or being read), in order with the other writes of the channel; concurrent
 * callers' messages never interleave.
 * Returns TRUE with *pBytesWritten = Length, or FALSE with:
 *   ERROR_INVALID_HANDLE       not a channel handle;
 *   ERROR_INVALID_PARAMETER    pBytesWritten NULL;
 *   ERROR_INVALID_USER_BUFFER  Buffer NULL with Length nonzero;
 *   ERROR_BAD_LENGTH           Length above 16 MiB;
 *   ERROR_BROKEN_PIPE          the client end is gone;
 *   ERROR_OPERATION_ABORTED    purged by WTSVirtualChannelPurgeOutput
 *                              before it was read.
 */
BOOL WINAPI WTSVirtualChannelWrite(HANDLE hChannelHandle, const CHAR *Buffer,
				   ULONG Length, PULONG pBytesWritten);

/*
 * WTSVirtualChannelPurgeInput - drop the messages queued toward this
 * program (not yet read).  WTSVirtualChannelPurgeOutput - drop the messages
 * queued toward the client; pending writes end with
 * ERROR_OPERATION_ABORTED.  A message whose reading has begun is kept whole.
 *
 * Return TRUE, or FALSE with ERROR_INVALID_HANDLE.
 */
BOOL WINAPI WTSVirtualChannelPurgeInput(HANDLE hChannelHandle);
BOOL WINAPI WTSVirtualChannelPurgeOutput(HANDLE hChannelHandle);

/*
 * WTSVirtualChannelQuery - information about a channel.
 *
 * WTSVirtualFileHandle: *ppBuffer points to a HANDLE (*pBytesReturned =
 * sizeof(HANDLE)), an overlapped file handle of the channel for ReadFile,
 * WriteFile, ReadFileEx, WriteFileEx, GetOverlappedResult, CancelIo(Ex).
 * The same handle is returned each time; do not CloseHandle it (that fails
 * with ERROR_INVALID_HANDLE): WTSVirtualChannelClose closes it.  Use
 * DuplicateHandle for a handle that outlives the channel handle.
 * Free *ppBuffer with WTSFreeMemory.
 *
 * Returns TRUE, or FALSE with ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER
 * (ppBuffer or pBytesReturned NULL, unknown class), ERROR_NOT_SUPPORTED
 * (WTSVirtualClientData) or ERROR_NOT_ENOUGH_MEMORY.
 */
BOOL WINAPI WTSVirtualChannelQuery(HANDLE hChannelHandle,
				   WTS_VIRTUAL_CLASS WtsVirtualClass,
				   PVOID *ppBuffer, DWORD *pBytesReturned);

/* WTSFreeMemory - free memory returned by a WTS call (NULL is fine). */
void WINAPI WTSFreeMemory(PVOID pMemory);

#ifdef __cplusplus
}
#endif

#endif /* VCHAN_WTSAPI32_H */
