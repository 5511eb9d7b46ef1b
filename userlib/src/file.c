// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * File objects and the file I/O calls: ReadFile, WriteFile, ReadFileEx,
 * WriteFileEx, GetOverlappedResult(Ex), CancelIo, CancelIoEx.
 *
 * Every read and write is one aio request (aio.c); calls without an
 * OVERLAPPED submit and wait, so they stay ordered with the overlapped ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

static void vc_file_last_handle(struct vc_object *o)
{
	struct vc_file *f = vc_file_of(o);
	struct vc_req *req;

	/* The last handle is gone: nothing can wait for these any more
	 * except their routines and events.  Never blocks. */
	pthread_mutex_lock(&f->lock);
	f->closed = true;
	for (req = f->pending; req; req = req->next)
		vc_aio_cancel_locked(req);
	req = f->pending;
	pthread_mutex_unlock(&f->lock);
	if (req) {
		/* Their ends close the fd: have them reaped even if no thread
		 * waits. */
		pthread_mutex_lock(&vc_sync_lock);
		vc_reaper_poke_locked(false);
		pthread_mutex_unlock(&vc_sync_lock);
	}
}

static void vc_file_destroy(struct vc_object *o)
{
	struct vc_file *f = vc_file_of(o);

	/* Only now: a request in flight must never see its fd reused. */
	close(f->fd);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

struct vc_file *vc_file_new(int fd, enum vc_file_kind kind)
{
	struct vc_file *f;

	if (kind != VC_FILE_PLAIN) {
		struct vchan_read_mode m = {
			.mode = VCHAN_READ_PDU,
			.chunk = kind == VC_FILE_MESSAGES ? VCHAN_MSG_MAX :
				 CHANNEL_CHUNK_LENGTH,
		};

		if (ioctl(fd, VCHAN_IOC_SET_READ_MODE, &m) < 0)
			return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	vc_object_init(&f->obj, VC_T_FILE, vc_file_last_handle, vc_file_destroy);
	pthread_mutex_init(&f->lock, NULL);
	f->fd = fd;
	f->kind = kind;
	f->seekable = kind == VC_FILE_PLAIN && lseek(fd, 0, SEEK_CUR) >= 0;
	return f;
}

DWORD vc_file_sync_io(struct vc_file *f, bool is_write, void *buf, DWORD len,
		      DWORD ms, DWORD *bytes)
{
	struct vc_thread *self = vc_thread_self();
	long long off = 0;
	struct vc_req *req;
	DWORD err;

	*bytes = 0;
	if (!self)
		return ERROR_NOT_ENOUGH_MEMORY;
	if (f->seekable) {
		off = lseek(f->fd, 0, SEEK_CUR);
		if (off < 0)
			off = 0;
	}
	req = vc_req_new(f, self, VC_REQ_SYNC, is_write, buf, len, off);
	if (!req)
		return ERROR_NOT_ENOUGH_MEMORY;
	err = vc_aio_submit(req);
	if (!err) {
		vc_req_wait_sync(req, ms);
		err = req->err;
		*bytes = req->bytes;
		if (f->seekable && req->bytes)
			lseek(f->fd, off + req->bytes, SEEK_SET);
	}
	vc_req_free(req);
	return err;
}

unsigned int vc_file_cancel(struct vc_file *f, struct vc_thread *thread,
			    LPOVERLAPPED ov)
{
	unsigned int n = 0;
	struct vc_req *req;

	pthread_mutex_lock(&f->lock);
	for (req = f->pending; req; req = req->next) {
		if (thread && req->thread != thread)
			continue;
		if (ov && req->ov != ov)
			continue;
		vc_aio_cancel_locked(req);
		n++;
	}
	pthread_mutex_unlock(&f->lock);
	return n;
}

static HANDLE vc_event_handle(HANDLE h)
{
	/* The low bit of hEvent only means "no completion port" on Windows. */
	return (HANDLE)((uintptr_t)h & ~(uintptr_t)1);
}

static BOOL vc_file_io(HANDLE h, void *buf, DWORD len, LPDWORD count,
		       LPOVERLAPPED ov, LPOVERLAPPED_COMPLETION_ROUTINE routine,
		       bool is_write, bool ex)
{
	struct vc_event *ev = NULL;
	struct vc_thread *self;
	struct vc_object *o;
	struct vc_req *req;
	struct vc_file *f;
	long long off = 0;
	DWORD err = 0, st;

	if (count)
		*count = 0;
	if (ex && (!ov || !routine))
		return vc_fail(ERROR_INVALID_PARAMETER);
	o = vc_handle_ref(h, VC_T_FILE);
	if (!o)
		return FALSE;
	f = vc_file_of(o);
	self = vc_thread_self();
	if (!buf && len)
		err = is_write ? ERROR_INVALID_USER_BUFFER : ERROR_NOACCESS;
	else if (!ov && !count)
		err = ERROR_INVALID_PARAMETER;
	else if (!self)
		err = ERROR_NOT_ENOUGH_MEMORY;
	if (err)
		goto fail;

	if (!ov) {
		DWORD n;

		err = vc_file_sync_io(f, is_write, buf, len, INFINITE, &n);
		*count = n;
		vc_object_put(o);
		return err ? vc_fail(err) : TRUE;
	}

	if (!ex && ov->hEvent) {
		struct vc_object *eo = vc_handle_ref(vc_event_handle(ov->hEvent),
						     VC_T_EVENT);

		if (!eo) {
			err = ERROR_INVALID_HANDLE;
			goto fail;
		}
		ev = vc_event_of(eo);
	}
	if (f->seekable)
		off = (long long)ov->Offset | ((long long)ov->OffsetHigh << 32);
	req = vc_req_new(f, self, ex ? VC_REQ_EX : VC_REQ_OVERLAPPED, is_write,
			 buf, len, off);
	if (!req) {
		if (ev)
			vc_object_put(&ev->obj);
		err = ERROR_NOT_ENOUGH_MEMORY;
		goto fail;
	}
	req->ov = ov;
	req->routine = routine;
	req->event = ev;
	ov->InternalHigh = 0;
	__atomic_store_n(&ov->Internal, (ULONG_PTR)STATUS_PENDING,
			 __ATOMIC_RELEASE);
	if (ev) {
		pthread_mutex_lock(&vc_sync_lock);
		ev->signaled = false;
		pthread_mutex_unlock(&vc_sync_lock);
	}
	err = vc_aio_submit(req);
	if (err) {
		ov->Internal = vc_win_to_status(err);
		vc_req_free(req);
		goto fail;
	}
	vc_object_put(o);
	if (ex)
		return TRUE;
	st = (DWORD)__atomic_load_n(&ov->Internal, __ATOMIC_ACQUIRE);
	/*
	 * A cancel only ever ends a request that was pending (CancelIoEx on
	 * another thread, racing with this call): report it pending, as it was
	 * a moment ago; the OVERLAPPED and its event carry the abort.
	 */
	if (st == STATUS_PENDING || st == STATUS_CANCELLED)
		return vc_fail(ERROR_IO_PENDING);
	if (count)
		*count = (DWORD)ov->InternalHigh;
	err = vc_status_to_win(st);
	return err ? vc_fail(err) : TRUE;

fail:
	vc_object_put(o);
	return vc_fail(err);
}

VC_EXPORT BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer,
				DWORD nNumberOfBytesToWrite,
				LPDWORD lpNumberOfBytesWritten,
				LPOVERLAPPED lpOverlapped)
{
	return vc_file_io(hFile, (void *)(uintptr_t)lpBuffer,
			  nNumberOfBytesToWrite, lpNumberOfBytesWritten,
			  lpOverlapped, NULL, true, false);
}

VC_EXPORT BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer,
			       DWORD nNumberOfBytesToRead,
			       LPDWORD lpNumberOfBytesRead,
			       LPOVERLAPPED lpOverlapped)
{
	return vc_file_io(hFile, lpBuffer, nNumberOfBytesToRead,
			  lpNumberOfBytesRead, lpOverlapped, NULL, false, false);
}

VC_EXPORT BOOL WINAPI WriteFileEx(HANDLE hFile, LPCVOID lpBuffer,
				  DWORD nNumberOfBytesToWrite,
				  LPOVERLAPPED lpOverlapped,
				  LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
	return vc_file_io(hFile, (void *)(uintptr_t)lpBuffer,
			  nNumberOfBytesToWrite, NULL, lpOverlapped,
			  lpCompletionRoutine, true, true);
}

VC_EXPORT BOOL WINAPI ReadFileEx(HANDLE hFile, LPVOID lpBuffer,
				 DWORD nNumberOfBytesToRead,
				 LPOVERLAPPED lpOverlapped,
				 LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
	return vc_file_io(hFile, lpBuffer, nNumberOfBytesToRead, NULL,
			  lpOverlapped, lpCompletionRoutine, false, true);
}

static bool vc_ov_done(void *arg)
{
	LPOVERLAPPED ov = arg;

	return (DWORD)__atomic_load_n(&ov->Internal, __ATOMIC_ACQUIRE) !=
	       STATUS_PENDING;
}

static BOOL vc_overlapped_result(HANDLE h, LPOVERLAPPED ov, LPDWORD count,
				 DWORD ms, BOOL alertable, bool use_event)
{
	struct vc_object *o = vc_handle_ref(h, VC_T_FILE);
	DWORD err, st;

	if (!o)
		return FALSE;
	vc_object_put(o);
	if (!ov || !count)
		return vc_fail(ERROR_INVALID_PARAMETER);
	vc_aio_reap_if_any(false);
	if (!vc_ov_done(ov)) {
		struct vc_thread *self;
		DWORD r;

		if (ms == 0)
			return vc_fail(ERROR_IO_INCOMPLETE);
		if (use_event && ov->hEvent &&
		    WaitForSingleObject(vc_event_handle(ov->hEvent), ms) ==
		    WAIT_FAILED)
			return FALSE;
		self = vc_thread_self();
		if (!self)
			return vc_fail(ERROR_NOT_ENOUGH_MEMORY);
		pthread_mutex_lock(&vc_sync_lock);
		r = vc_wait_locked(self, NULL, 0, false, ms, alertable,
				   vc_ov_done, ov);
		pthread_mutex_unlock(&vc_sync_lock);
		if (r == WAIT_TIMEOUT || r == WAIT_IO_COMPLETION)
			return vc_fail(r);
	}
	st = (DWORD)__atomic_load_n(&ov->Internal, __ATOMIC_ACQUIRE);
	*count = (DWORD)ov->InternalHigh;
	err = vc_status_to_win(st);
	return err ? vc_fail(err) : TRUE;
}

VC_EXPORT BOOL WINAPI GetOverlappedResult(HANDLE hFile,
					  LPOVERLAPPED lpOverlapped,
					  LPDWORD lpNumberOfBytesTransferred,
					  BOOL bWait)
{
	return vc_overlapped_result(hFile, lpOverlapped,
				    lpNumberOfBytesTransferred,
				    bWait ? INFINITE : 0, FALSE, true);
}

VC_EXPORT BOOL WINAPI GetOverlappedResultEx(HANDLE hFile,
					    LPOVERLAPPED lpOverlapped,
					    LPDWORD lpNumberOfBytesTransferred,
					    DWORD dwMilliseconds,
					    BOOL bAlertable)
{
	return vc_overlapped_result(hFile, lpOverlapped,
				    lpNumberOfBytesTransferred, dwMilliseconds,
				    bAlertable, false);
}

static BOOL vc_cancel(HANDLE h, bool own_thread, LPOVERLAPPED ov)
{
	struct vc_object *o = vc_handle_ref(h, VC_T_FILE);
	struct vc_thread *self = NULL;
	unsigned int n;

	if (!o)
		return FALSE;
	if (own_thread) {
		self = vc_thread_self();
		if (!self) {
			vc_object_put(o);
			return vc_fail(ERROR_NOT_FOUND);  /* it issued nothing */
		}
	}
	vc_aio_reap_if_any(false);	/* what is over is not pending */
	n = vc_file_cancel(vc_file_of(o), self, ov);
	vc_object_put(o);
	return n ? TRUE : vc_fail(ERROR_NOT_FOUND);
}

VC_EXPORT BOOL WINAPI CancelIo(HANDLE hFile)
{
	return vc_cancel(hFile, true, NULL);
}

VC_EXPORT BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped)
{
	return vc_cancel(hFile, false, lpOverlapped);
}
