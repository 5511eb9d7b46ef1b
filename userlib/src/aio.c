// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The process's aio context and the routing of completions.
 *
 * One context per process, created on first I/O with $VCHAN_AIO_EVENTS
 * events (default 4096; halved while io_setup() says EAGAIN because of
 * fs.aio-max-nr).  Every iocb carries IOCB_FLAG_RESFD with the context's
 * eventfd.  Whoever reaps takes the events straight off the mmapped ring
 * (ring.c, no system call) under vc_reap_lock, in ring order, and routes
 * each to its request:
 *   VC_REQ_SYNC        marked done; the issuing thread (waiting) is woken;
 *   VC_REQ_OVERLAPPED  OVERLAPPED filled in, hEvent set, waiters woken;
 *   VC_REQ_EX          OVERLAPPED filled in, the request queued as an APC
 *                      to the issuing thread, whose alertable waits run it.
 * Who reaps (lead.c): a thread sleeping in a wait, if one does (the
 * "leader" polls the eventfd itself, so a thread doing WriteFileEx +
 * SleepEx gets its completions without another thread being scheduled);
 * otherwise the reaper thread, at once while VC_REQ_OVERLAPPED requests
 * are in flight, within 10 ms for the rest.  Every wait, GetOverlappedResult
 * and CancelIo also takes what is on the ring before it looks.
 * vc_inflight / vc_unattended count the requests submitted and not yet
 * routed (of them VC_REQ_OVERLAPPED) for the reaper's decisions.
 *
 * A submitter also reaps (under the same lock) right after io_submit():
 * a request that the kernel completed inside io_submit() has its event in
 * the ring by then, so the submitter learns for certain whether it failed
 * at once (then ReadFileEx/WriteFileEx return FALSE and queue nothing) or
 * not.  Until that check is over the request is "submitting" and routing
 * only records its result.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

#define VC_AIO_EVENTS_DEFAULT	4096u
#define VC_AIO_EVENTS_MIN	64u
#define VC_AIO_EVENTS_MAX	(1u << 20)
#define VC_REAP_BATCH		64

static pthread_mutex_t vc_aio_init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t vc_reap_lock = PTHREAD_MUTEX_INITIALIZER;
static io_context_t vc_ctx;		/* 0 until created */
static int vc_efd = -1;
static unsigned int vc_inflight;	/* atomic: submitted, not routed */
static unsigned int vc_unattended;	/* atomic: of them VC_REQ_OVERLAPPED */

static unsigned int vc_aio_events_wanted(void)
{
	const char *s = getenv("VCHAN_AIO_EVENTS");
	unsigned long v;
	char *end;

	if (!s || !*s)
		return VC_AIO_EVENTS_DEFAULT;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < VC_AIO_EVENTS_MIN)
		return VC_AIO_EVENTS_DEFAULT;
	return v > VC_AIO_EVENTS_MAX ? VC_AIO_EVENTS_MAX : (unsigned int)v;
}

/* ---- completion ---- */

/* The Windows outcome of a request from the kernel's result. */
static void vc_req_decode(struct vc_req *req, DWORD *err, DWORD *bytes)
{
	long res = req->res;

	*err = ERROR_SUCCESS;
	*bytes = 0;
	if (res < 0) {
		*err = vc_errno_to_win((int)-res,
				       req->is_write ? VC_OP_WRITE : VC_OP_READ);
		return;
	}
	if (req->is_write) {
		*bytes = (DWORD)res;
		return;
	}
	if (req->framed) {
		if (res == 0) {			/* end of file: peer gone */
			*err = ERROR_BROKEN_PIPE;
		} else if ((size_t)res < sizeof(req->hdr)) {
			*err = ERROR_GEN_FAILURE;
		} else {
			*bytes = (DWORD)(res - (long)sizeof(req->hdr));
			if (!(req->hdr.flags & VCHAN_PDU_LAST))
				*err = ERROR_MORE_DATA;
		}
		return;
	}
	*bytes = (DWORD)res;
	if (res == 0 && req->len) {
		/* End of file: of a regular file, or the writer is gone. */
		if (!req->file->seekable)
			*err = ERROR_BROKEN_PIPE;
		else if (req->kind != VC_REQ_SYNC)
			*err = ERROR_HANDLE_EOF;
	}
}

static void vc_req_apc(struct vc_apc *apc, bool discard)
{
	struct vc_req *req = vc_container_of(apc, struct vc_req, apc);
	LPOVERLAPPED_COMPLETION_ROUTINE routine = req->routine;
	LPOVERLAPPED ov = req->ov;
	DWORD err = req->err, bytes = req->bytes;

	vc_req_free(req);
	if (!discard)
		routine(err, bytes, ov);
}

/* Deliver a request whose result is known (not under file->lock). */
static void vc_req_finish(struct vc_req *req)
{
	bool queued = true;
	DWORD err, bytes;

	vc_req_decode(req, &err, &bytes);
	req->err = err;
	req->bytes = bytes;
	if (req->kind != VC_REQ_SYNC) {
		/* Done with the file: a routine still queued must not keep it
		 * (and its fd) open after its last handle is closed. */
		vc_object_put(&req->file->obj);
		req->file = NULL;
	}
	pthread_mutex_lock(&vc_sync_lock);
	/* Under the lock, with the event: whoever sees the request over (and
	 * issues the next one on the same event, which resets it) must not
	 * meet this completion's SetEvent afterwards. */
	if (req->ov) {
		req->ov->InternalHigh = bytes;
		__atomic_store_n(&req->ov->Internal,
				 (ULONG_PTR)vc_win_to_status(err),
				 __ATOMIC_RELEASE);
	}
	switch (req->kind) {
	case VC_REQ_SYNC:
		req->done = true;
		vc_thread_wake_locked(req->thread);
		pthread_mutex_unlock(&vc_sync_lock);
		return;		/* the issuer frees it */
	case VC_REQ_OVERLAPPED:
		if (req->event)
			vc_event_set_locked(req->event);
		vc_waitq_wake_locked(&vc_io_waitq);
		queued = false;
		break;
	case VC_REQ_EX:
		vc_waitq_wake_locked(&vc_io_waitq);
		req->apc.fn = vc_req_apc;
		queued = vc_thread_queue_apc_locked(req->thread, &req->apc);
		break;
	}
	pthread_mutex_unlock(&vc_sync_lock);
	if (!queued)
		vc_req_free(req);
}

static void vc_file_unlink_locked(struct vc_req *req)
{
	struct vc_file *f = req->file;

	if (!req->linked)
		return;
	if (req->prev)
		req->prev->next = req->next;
	else
		f->pending = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->next = req->prev = NULL;
	req->linked = false;
}

/* An event for req arrived.  vc_reap_lock held. */
static void vc_aio_route(struct vc_req *req, long res)
{
	pthread_mutex_lock(&req->file->lock);
	vc_file_unlink_locked(req);
	pthread_mutex_unlock(&req->file->lock);
	if (req->kind == VC_REQ_OVERLAPPED)
		__atomic_sub_fetch(&vc_unattended, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&vc_inflight, 1, __ATOMIC_SEQ_CST);
	req->res = res;
	req->completed = true;
	if (!req->submitting)
		vc_req_finish(req);
}

/* Take every event in the ring.  vc_reap_lock held. */
static void vc_aio_reap_locked(void)
{
	struct io_event ev[VC_REAP_BATCH];
	unsigned int i, n;

	do {
		n = vc_ring_take(vc_ctx, ev, VC_REAP_BATCH);
		for (i = 0; i < n; i++)
			vc_aio_route(ev[i].data, (long)ev[i].res);
	} while (n == VC_REAP_BATCH);
}

void vc_aio_reap(void)
{
	if (!__atomic_load_n(&vc_ctx, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vc_reap_lock);
	vc_aio_reap_locked();
	pthread_mutex_unlock(&vc_reap_lock);
}

void vc_aio_reap_if_any(bool sync_locked)
{
	io_context_t ctx = __atomic_load_n(&vc_ctx, __ATOMIC_ACQUIRE);

	if (!ctx || vc_ring_empty(ctx))
		return;
	if (sync_locked)
		pthread_mutex_unlock(&vc_sync_lock);
	vc_aio_reap();
	if (sync_locked)
		pthread_mutex_lock(&vc_sync_lock);
}

bool vc_aio_ring_empty(void)
{
	return vc_ring_empty(__atomic_load_n(&vc_ctx, __ATOMIC_ACQUIRE));
}

bool vc_aio_ring_readable(void)
{
	return vc_ring_readable(__atomic_load_n(&vc_ctx, __ATOMIC_ACQUIRE));
}

int vc_aio_efd(void)
{
	if (!__atomic_load_n(&vc_ctx, __ATOMIC_ACQUIRE))
		return -1;
	return vc_efd;
}

unsigned int vc_aio_inflight(void)
{
	return __atomic_load_n(&vc_inflight, __ATOMIC_SEQ_CST);
}

unsigned int vc_aio_unattended(void)
{
	return __atomic_load_n(&vc_unattended, __ATOMIC_SEQ_CST);
}

/* The context, created on first use.  0 with *err set on failure. */
static io_context_t vc_aio_ctx(DWORD *err)
{
	io_context_t ctx = __atomic_load_n(&vc_ctx, __ATOMIC_ACQUIRE);
	unsigned int nr;
	int efd, r;

	if (ctx)
		return ctx;
	pthread_mutex_lock(&vc_aio_init_lock);
	ctx = vc_ctx;
	if (ctx)
		goto out;
	*err = ERROR_NOT_ENOUGH_MEMORY;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		goto out;
	for (nr = vc_aio_events_wanted();; nr /= 2) {
		ctx = 0;
		r = io_setup((int)nr, &ctx);
		if (r != -EAGAIN || nr / 2 < VC_AIO_EVENTS_MIN)
			break;
	}
	if (r < 0) {
		*err = vc_errno_to_win(-r, VC_OP_SUBMIT);
		close(efd);
		ctx = 0;
		goto out;
	}
	vc_efd = efd;
	if (vc_reaper_start(efd)) {
		vc_efd = -1;
		io_destroy(ctx);
		close(efd);
		ctx = 0;
		goto out;
	}
	__atomic_store_n(&vc_ctx, ctx, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&vc_aio_init_lock);
	return ctx;
}

/* ---- requests ---- */

struct vc_req *vc_req_new(struct vc_file *file, struct vc_thread *self,
			  enum vc_req_kind kind, bool is_write, void *buf,
			  DWORD len, long long offset)
{
	struct vc_req *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	vc_object_get(&file->obj);
	vc_object_get(&self->obj);
	req->file = file;
	req->thread = self;
	req->kind = kind;
	req->is_write = is_write;
	req->len = len;
	if (is_write) {
		io_prep_pwrite(&req->cb, file->fd, buf, len, offset);
	} else if (file->kind == VC_FILE_MESSAGES) {
		req->framed = true;
		req->iov[0].iov_base = &req->hdr;
		req->iov[0].iov_len = sizeof(req->hdr);
		req->iov[1].iov_base = buf;
		req->iov[1].iov_len = len;
		io_prep_preadv(&req->cb, file->fd, req->iov, 2, 0);
	} else {
		io_prep_pread(&req->cb, file->fd, buf, len, offset);
	}
	req->cb.data = req;
	return req;
}

void vc_req_free(struct vc_req *req)
{
	if (req->file)
		vc_object_put(&req->file->obj);
	vc_object_put(&req->thread->obj);
	if (req->event)
		vc_object_put(&req->event->obj);
	free(req);
}

void vc_aio_cancel_locked(struct vc_req *req)
{
	struct io_event ev;

	req->cancel = true;
	if (vc_ctx)
		io_cancel(vc_ctx, &req->cb, &ev);
}

DWORD vc_aio_submit(struct vc_req *req)
{
	struct vc_file *f = req->file;
	struct iocb *cbp = &req->cb;
	DWORD err = 0;
	io_context_t ctx = vc_aio_ctx(&err);
	enum vc_req_kind kind;
	int r, tries;

	if (!ctx)
		return err;
	io_set_eventfd(&req->cb, vc_efd);

	pthread_mutex_lock(&f->lock);
	if (f->closed) {
		pthread_mutex_unlock(&f->lock);
		return ERROR_INVALID_HANDLE;
	}
	req->submitting = true;
	req->prev = NULL;
	req->next = f->pending;
	if (f->pending)
		f->pending->prev = req;
	f->pending = req;
	req->linked = true;
	pthread_mutex_unlock(&f->lock);

	/* Counted before the kernel can complete it (routing uncounts). */
	if (req->kind == VC_REQ_OVERLAPPED)
		__atomic_add_fetch(&vc_unattended, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&vc_inflight, 1, __ATOMIC_SEQ_CST);
	for (tries = 0;; tries++) {
		r = io_submit(ctx, 1, &cbp);
		if (r == 1)
			break;
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN && tries == 0) {
			/* Completed events not yet taken hold slots. */
			pthread_mutex_lock(&vc_reap_lock);
			vc_aio_reap_locked();
			pthread_mutex_unlock(&vc_reap_lock);
			continue;
		}
		break;
	}
	if (r != 1) {
		pthread_mutex_lock(&f->lock);
		vc_file_unlink_locked(req);
		pthread_mutex_unlock(&f->lock);
		if (req->kind == VC_REQ_OVERLAPPED)
			__atomic_sub_fetch(&vc_unattended, 1, __ATOMIC_SEQ_CST);
		__atomic_sub_fetch(&vc_inflight, 1, __ATOMIC_SEQ_CST);
		return vc_errno_to_win(r < 0 ? -r : EIO, VC_OP_SUBMIT);
	}

	pthread_mutex_lock(&vc_reap_lock);
	vc_aio_reap_locked();
	if (!req->completed) {
		pthread_mutex_lock(&f->lock);
		if (req->cancel)	/* CancelIo(Ex) came before io_submit */
			vc_aio_cancel_locked(req);
		pthread_mutex_unlock(&f->lock);
		kind = req->kind;
		req->submitting = false;
		pthread_mutex_unlock(&vc_reap_lock);
		/* req may be gone by now.  A synchronous request's issuer waits
		 * for it (and so reaps); for the others make sure that someone
		 * will, even if no thread waits. */
		if (kind == VC_REQ_OVERLAPPED ||
		    (kind == VC_REQ_EX && vc_reaper_idle())) {
			pthread_mutex_lock(&vc_sync_lock);
			vc_reaper_poke_locked(kind == VC_REQ_OVERLAPPED);
			pthread_mutex_unlock(&vc_sync_lock);
		}
		return 0;
	}
	pthread_mutex_unlock(&vc_reap_lock);

	if (req->res < 0 && vc_errno_is_sync((int)-req->res))
		return vc_errno_to_win((int)-req->res,
				       req->is_write ? VC_OP_WRITE : VC_OP_READ);
	vc_req_finish(req);
	return 0;
}

bool vc_req_wait_sync(struct vc_req *req, DWORD ms)
{
	struct vc_thread *self = req->thread;
	struct timespec deadline;
	bool timed_out = false;

	if (ms != INFINITE)
		vc_deadline(&deadline, ms);
	pthread_mutex_lock(&vc_sync_lock);
	while (!req->done) {
		if (!vc_thread_sleep_locked(self, ms == INFINITE ? NULL :
					    &deadline)) {
			timed_out = !req->done;
			break;
		}
	}
	vc_thread_sleep_done_locked(self);
	pthread_mutex_unlock(&vc_sync_lock);
	if (!timed_out)
		return false;

	pthread_mutex_lock(&req->file->lock);
	if (req->linked)
		vc_aio_cancel_locked(req);
	pthread_mutex_unlock(&req->file->lock);
	pthread_mutex_lock(&vc_sync_lock);
	while (!req->done)
		vc_thread_sleep_locked(self, NULL);
	vc_thread_sleep_done_locked(self);
	pthread_mutex_unlock(&vc_sync_lock);
	return true;
}

/* ---- fork ---- */

static void vc_atfork_prepare(void)
{
	pthread_mutex_lock(&vc_aio_init_lock);
	pthread_mutex_lock(&vc_reap_lock);
	pthread_mutex_lock(&vc_sync_lock);
	vc_handle_atfork_prepare();
}

static void vc_atfork_parent(void)
{
	vc_handle_atfork_parent();
	pthread_mutex_unlock(&vc_sync_lock);
	pthread_mutex_unlock(&vc_reap_lock);
	pthread_mutex_unlock(&vc_aio_init_lock);
}

/*
 * The child has no aio context (contexts are not inherited) and no reaper:
 * it makes its own on first I/O.  Requests the parent had pending never
 * complete in the child.
 */
static void vc_atfork_child(void)
{
	if (vc_efd >= 0)
		close(vc_efd);
	vc_efd = -1;
	vc_ctx = 0;
	vc_inflight = 0;
	vc_unattended = 0;
	vc_lead_atfork_child();
	vc_atfork_parent();
}

__attribute__((constructor)) static void vc_aio_init(void)
{
	pthread_atfork(vc_atfork_prepare, vc_atfork_parent, vc_atfork_child);
}
