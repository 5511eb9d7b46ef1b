// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The WTS virtual channel calls.  A channel handle (VC_T_WTS) owns the
 * channel's file object and a protected file handle to it, which
 * WTSVirtualChannelQuery(WTSVirtualFileHandle) hands out.  Reads and writes
 * go through the same aio path as ReadFile/WriteFile.  A static channel's
 * file reads whole messages (VC_FILE_MESSAGES); a dynamic channel's reads
 * CHANNEL_PDU_HEADER + at most CHANNEL_CHUNK_LENGTH bytes (VC_FILE_PDUS),
 * straight from the driver's PDU read mode into the caller's buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

struct vc_wts {
	struct vc_object obj;		/* VC_T_WTS */
	struct vc_file *file;		/* reference */
	HANDLE fh;			/* protected file handle to file */
};

static struct vc_wts *vc_wts_of(struct vc_object *o)
{
	return vc_container_of(o, struct vc_wts, obj);
}

static void vc_wts_last_handle(struct vc_object *o)
{
	vc_handle_close(vc_wts_of(o)->fh, VC_T_FILE, true);
}

static void vc_wts_destroy(struct vc_object *o)
{
	struct vc_wts *w = vc_wts_of(o);

	vc_object_put(&w->file->obj);
	free(w);
}

/* Channel names: 1..max of [A-Za-z0-9_.-], not . or .. */
static bool vc_name_ok(const char *name, size_t max)
{
	size_t i, len;

	if (!name)
		return false;
	len = strnlen(name, max + 1);
	if (!len || len > max)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

#define VC_DYN_FLAGS	(WTS_CHANNEL_OPTION_DYNAMIC | \
			 WTS_CHANNEL_OPTION_DYNAMIC_PRI_REAL | \
			 WTS_CHANNEL_OPTION_DYNAMIC_NO_COMPRESS)
#define VC_DYN_TIMEOUT_DEFAULT	30000u	/* ms */

/* How long a dynamic open waits for the daemon: $VCHAN_DYN_TIMEOUT_MS
 * (0: no limit), else 30 s. */
static uint32_t vc_dyn_timeout(void)
{
	const char *s = getenv("VCHAN_DYN_TIMEOUT_MS");
	unsigned long v;
	char *end;

	if (!s || !*s)
		return VC_DYN_TIMEOUT_DEFAULT;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return VC_DYN_TIMEOUT_DEFAULT;
	return (uint32_t)v;
}

/* The session end of channel 'name': a static channel's node, or a dynamic
 * channel the daemon accepted.  Returns the fd or -errno. */
static int vc_channel_fd(DWORD session, const char *name, DWORD flags)
{
	char path[64 + VCHAN_NAME_MAX];
	int fd;

	if (flags & WTS_CHANNEL_OPTION_DYNAMIC)
		return vchan_dyn_open(session, name,
				      flags & ~(DWORD)WTS_CHANNEL_OPTION_DYNAMIC,
				      vc_dyn_timeout());
	if (vchan_channel_path(path, sizeof(path), session, name) < 0)
		return -EINVAL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static HANDLE vc_wts_open(DWORD session, const char *name, DWORD flags)
{
	bool dyn = flags & WTS_CHANNEL_OPTION_DYNAMIC;
	struct vc_file *f;
	struct vc_wts *w;
	HANDLE h;
	int fd, r;

	if (flags & ~(dyn ? (DWORD)VC_DYN_FLAGS : 0))
		return vc_fail_null(ERROR_INVALID_PARAMETER);
	if (!vc_name_ok(name, dyn ? VCHAN_NAME_MAX : CHANNEL_NAME_LEN))
		return vc_fail_null(ERROR_INVALID_PARAMETER);
	if (session == WTS_CURRENT_SESSION) {
		uint32_t s;

		r = vchan_session_current(&s);
		if (r == -EINVAL)
			return vc_fail_null(ERROR_INVALID_PARAMETER);
		if (r < 0)
			return vc_fail_null(ERROR_FILE_NOT_FOUND);
		session = s;
	}
	fd = vc_channel_fd(session, name, flags);
	if (fd < 0)
		return vc_fail_null(vc_errno_to_win(-fd, VC_OP_OPEN));
	f = vc_file_new(fd, dyn ? VC_FILE_PDUS : VC_FILE_MESSAGES);
	if (!f) {
		DWORD err = vc_errno_to_win(errno, VC_OP_OPEN);

		close(fd);
		return vc_fail_null(err);
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		vc_object_put(&f->obj);
		return vc_fail_null(ERROR_NOT_ENOUGH_MEMORY);
	}
	vc_object_init(&w->obj, VC_T_WTS, vc_wts_last_handle, vc_wts_destroy);
	w->file = f;		/* the creation reference */
	w->fh = vc_handle_new(&f->obj, VC_HANDLE_PROTECTED);
	if (!w->fh) {
		vc_object_put(&w->obj);
		return NULL;
	}
	h = vc_handle_new(&w->obj, 0);
	if (!h) {
		vc_handle_close(w->fh, VC_T_FILE, true);
		vc_object_put(&w->obj);
		return NULL;
	}
	vc_object_put(&w->obj);		/* the handle holds it now */
	return h;
}

VC_EXPORT HANDLE WINAPI WTSVirtualChannelOpen(HANDLE hServer, DWORD SessionId,
					      LPCSTR pVirtualName)
{
	if (hServer != WTS_CURRENT_SERVER_HANDLE)
		return vc_fail_null(ERROR_INVALID_HANDLE);
	return vc_wts_open(SessionId, pVirtualName, 0);
}

VC_EXPORT HANDLE WINAPI WTSVirtualChannelOpenEx(DWORD SessionId,
						LPCSTR pVirtualName,
						DWORD flags)
{
	return vc_wts_open(SessionId, pVirtualName, flags);
}

VC_EXPORT BOOL WINAPI WTSVirtualChannelClose(HANDLE hChannelHandle)
{
	DWORD err = vc_handle_close(hChannelHandle, VC_T_WTS, false);

	return err ? vc_fail(err) : TRUE;
}

VC_EXPORT BOOL WINAPI WTSVirtualChannelRead(HANDLE hChannelHandle,
					    ULONG TimeOut, PCHAR Buffer,
					    ULONG BufferSize, PULONG pBytesRead)
{
	struct vc_object *o = vc_handle_ref(hChannelHandle, VC_T_WTS);
	DWORD err, n = 0;

	if (!o)
		return FALSE;
	if (!pBytesRead)
		err = ERROR_INVALID_PARAMETER;
	else if (!Buffer && BufferSize)
		err = ERROR_NOACCESS;
	else
		err = vc_file_sync_io(vc_wts_of(o)->file, false, Buffer,
				      BufferSize, TimeOut, &n);
	vc_object_put(o);
	if (pBytesRead)
		*pBytesRead = n;
	/* The rest of a longer message comes with the next reads (dynamic
	 * channels: each read is CHANNEL_PDU_HEADER + a chunk anyway); a
	 * timeout (the read was cancelled with nothing consumed) is "nothing
	 * yet". */
	if (err == ERROR_MORE_DATA || err == ERROR_OPERATION_ABORTED)
		err = 0;
	return err ? vc_fail(err) : TRUE;
}

VC_EXPORT BOOL WINAPI WTSVirtualChannelWrite(HANDLE hChannelHandle,
					     const CHAR *Buffer, ULONG Length,
					     PULONG pBytesWritten)
{
	struct vc_object *o = vc_handle_ref(hChannelHandle, VC_T_WTS);
	DWORD err, n = 0;

	if (!o)
		return FALSE;
	if (!pBytesWritten)
		err = ERROR_INVALID_PARAMETER;
	else if (!Buffer && Length)
		err = ERROR_INVALID_USER_BUFFER;
	else
		err = vc_file_sync_io(vc_wts_of(o)->file, true,
				      (void *)(uintptr_t)Buffer, Length,
				      INFINITE, &n);
	vc_object_put(o);
	if (pBytesWritten)
		*pBytesWritten = n;
	return err ? vc_fail(err) : TRUE;
}

static BOOL vc_wts_purge(HANDLE h, __u32 dirs)
{
	struct vc_object *o = vc_handle_ref(h, VC_T_WTS);
	int r;

	if (!o)
		return FALSE;
	r = ioctl(vc_wts_of(o)->file->fd, VCHAN_IOC_PURGE, &dirs);
	vc_object_put(o);
	return r < 0 ? vc_fail(vc_errno_to_win(errno, VC_OP_OTHER)) : TRUE;
}

VC_EXPORT BOOL WINAPI WTSVirtualChannelPurgeInput(HANDLE hChannelHandle)
{
	return vc_wts_purge(hChannelHandle, VCHAN_PURGE_TO_SESSION);
}

VC_EXPORT BOOL WINAPI WTSVirtualChannelPurgeOutput(HANDLE hChannelHandle)
{
	return vc_wts_purge(hChannelHandle, VCHAN_PURGE_TO_CLIENT);
}

VC_EXPORT BOOL WINAPI WTSVirtualChannelQuery(HANDLE hChannelHandle,
					     WTS_VIRTUAL_CLASS WtsVirtualClass,
					     PVOID *ppBuffer,
					     DWORD *pBytesReturned)
{
	struct vc_object *o = vc_handle_ref(hChannelHandle, VC_T_WTS);
	HANDLE *p;

	if (!o)
		return FALSE;
	if (!ppBuffer || !pBytesReturned) {
		vc_object_put(o);
		return vc_fail(ERROR_INVALID_PARAMETER);
	}
	*ppBuffer = NULL;
	*pBytesReturned = 0;
	switch (WtsVirtualClass) {
	case WTSVirtualFileHandle:
		p = malloc(sizeof(*p));
		if (!p) {
			vc_object_put(o);
			return vc_fail(ERROR_NOT_ENOUGH_MEMORY);
		}
		*p = vc_wts_of(o)->fh;
		vc_object_put(o);
		*ppBuffer = p;
		*pBytesReturned = sizeof(*p);
		return TRUE;
	case WTSVirtualClientData:
		vc_object_put(o);
		return vc_fail(ERROR_NOT_SUPPORTED);
	}
	vc_object_put(o);
	return vc_fail(ERROR_INVALID_PARAMETER);
}

VC_EXPORT void WINAPI WTSFreeMemory(PVOID pMemory)
{
	free(pMemory);
}
