// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Waits: one loop (vc_wait_locked) behind SleepEx, WaitForSingleObject(Ex),
 * WaitForMultipleObjects(Ex) and GetOverlappedResult(Ex).
 *
 * Everything a wait can be satisfied by (event states, APC queues, request
 * states) is guarded by vc_sync_lock.  A waiting thread sleeps through
 * vc_thread_sleep_locked (lead.c): on its own condition variable, or, if no
 * other thread does, in poll() on the aio eventfd, taking completions off
 * the ring itself.  Whoever changes a state it waits for wakes it
 * (vc_thread_wake_locked): an event wakes the waiters queued on it, an APC
 * wakes its target thread, a completed overlapped request wakes the
 * waiters of vc_io_waitq.
 *
 * Order of checks, as in the NT kernel: the objects first (a signalled
 * object satisfies the wait even if APCs are queued), then the thread's
 * APC queue for alertable waits, then the timeout.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

pthread_mutex_t vc_sync_lock = PTHREAD_MUTEX_INITIALIZER;
struct vc_waitq vc_io_waitq = {
	.head = { &vc_io_waitq.head, &vc_io_waitq.head, NULL },
};

void vc_waitq_init(struct vc_waitq *q)
{
	q->head.next = q->head.prev = &q->head;
	q->head.thread = NULL;
}

static void vc_waitq_add(struct vc_waitq *q, struct vc_waiter *w,
			 struct vc_thread *t)
{
	w->thread = t;
	w->prev = q->head.prev;
	w->next = &q->head;
	q->head.prev->next = w;
	q->head.prev = w;
}

static void vc_waitq_del(struct vc_waiter *w)
{
	w->prev->next = w->next;
	w->next->prev = w->prev;
	w->next = w->prev = w;
}

void vc_waitq_wake_locked(struct vc_waitq *q)
{
	struct vc_waiter *w;

	for (w = q->head.next; w != &q->head; w = w->next)
		vc_thread_wake_locked(w->thread);
}

void vc_deadline(struct timespec *ts, DWORD ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

bool vc_cond_wait_until(struct vc_thread *self, const struct timespec *deadline)
{
	if (!deadline) {
		pthread_cond_wait(&self->cond, &vc_sync_lock);
		return true;
	}
	return pthread_cond_timedwait(&self->cond, &vc_sync_lock,
				      deadline) != ETIMEDOUT;
}

/* Satisfies the wait on evs if it can (consuming auto-reset states). */
static bool vc_try_objects(struct vc_event **evs, DWORD n, bool all,
			   DWORD *ret)
{
	DWORD i;

	if (all) {
		for (i = 0; i < n; i++)
			if (!evs[i]->signaled)
				return false;
		for (i = 0; i < n; i++)
			if (!evs[i]->manual)
				evs[i]->signaled = false;
		*ret = WAIT_OBJECT_0;
		return true;
	}
	for (i = 0; i < n; i++) {
		if (evs[i]->signaled) {
			if (!evs[i]->manual)
				evs[i]->signaled = false;
			*ret = WAIT_OBJECT_0 + i;
			return true;
		}
	}
	return false;
}

DWORD vc_wait_locked(struct vc_thread *self, struct vc_event **evs, DWORD n,
		     bool all, DWORD ms, bool alertable,
		     bool (*pred)(void *), void *arg)
{
	struct vc_waiter w[MAXIMUM_WAIT_OBJECTS + 1];
	struct timespec deadline;
	bool registered = false, expired = false;
	DWORD i, ret;

	/* Completions already on the ring may satisfy the wait at once. */
	vc_aio_reap_if_any(true);
	for (;;) {
		if (n && vc_try_objects(evs, n, all, &ret))
			break;
		if (pred && pred(arg)) {
			ret = WAIT_OBJECT_0;
			break;
		}
		if (alertable && self->apc_head) {
			ret = WAIT_IO_COMPLETION;
			break;
		}
		if (ms == 0 || expired) {
			ret = WAIT_TIMEOUT;
			break;
		}
		if (!registered) {
			for (i = 0; i < n; i++)
				vc_waitq_add(&evs[i]->q, &w[i], self);
			if (pred)
				vc_waitq_add(&vc_io_waitq, &w[n], self);
			if (ms != INFINITE)
				vc_deadline(&deadline, ms);
			registered = true;
		}
		expired = !vc_thread_sleep_locked(self, ms == INFINITE ? NULL :
						  &deadline);
	}
	vc_thread_sleep_done_locked(self);
	if (registered) {
		for (i = 0; i < n; i++)
			vc_waitq_del(&w[i]);
		if (pred)
			vc_waitq_del(&w[n]);
	}
	if (ret == WAIT_IO_COMPLETION)
		vc_thread_run_apcs_locked(self);
	return ret;
}

VC_EXPORT DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable)
{
	struct vc_thread *self = vc_thread_self();
	DWORD r;

	if (!self) {
		/* No memory for thread state: a plain sleep, nothing to run. */
		struct timespec ts = {
			.tv_sec = dwMilliseconds / 1000,
			.tv_nsec = (long)(dwMilliseconds % 1000) * 1000000L,
		};

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		return 0;
	}
	pthread_mutex_lock(&vc_sync_lock);
	r = vc_wait_locked(self, NULL, 0, false, dwMilliseconds, bAlertable,
			   NULL, NULL);
	pthread_mutex_unlock(&vc_sync_lock);
	return r == WAIT_IO_COMPLETION ? WAIT_IO_COMPLETION : 0;
}

VC_EXPORT void WINAPI Sleep(DWORD dwMilliseconds)
{
	SleepEx(dwMilliseconds, FALSE);
}

VC_EXPORT DWORD WINAPI WaitForMultipleObjectsEx(DWORD nCount,
						const HANDLE *lpHandles,
						BOOL bWaitAll,
						DWORD dwMilliseconds,
						BOOL bAlertable)
{
	struct vc_event *evs[MAXIMUM_WAIT_OBJECTS];
	struct vc_thread *self;
	DWORD i, j, r = WAIT_FAILED, err = 0;

	if (!nCount || nCount > MAXIMUM_WAIT_OBJECTS || !lpHandles)
		return vc_fail_wait(ERROR_INVALID_PARAMETER);
	for (i = 0; i < nCount; i++) {
		struct vc_object *o = vc_handle_ref(lpHandles[i], VC_T_EVENT);

		if (!o) {
			err = ERROR_INVALID_HANDLE;
			break;
		}
		evs[i] = vc_event_of(o);
	}
	if (!err && bWaitAll) {
		for (j = 0; j < nCount && !err; j++)
			for (r = j + 1; r < nCount; r++)
				if (evs[j] == evs[r])
					err = ERROR_INVALID_PARAMETER;
	}
	self = err ? NULL : vc_thread_self();
	if (!err && !self)
		err = ERROR_NOT_ENOUGH_MEMORY;
	if (!err) {
		pthread_mutex_lock(&vc_sync_lock);
		r = vc_wait_locked(self, evs, nCount, bWaitAll, dwMilliseconds,
				   bAlertable, NULL, NULL);
		pthread_mutex_unlock(&vc_sync_lock);
	}
	for (j = 0; j < i; j++)
		vc_object_put(&evs[j]->obj);
	return err ? vc_fail_wait(err) : r;
}

VC_EXPORT DWORD WINAPI WaitForMultipleObjects(DWORD nCount,
					      const HANDLE *lpHandles,
					      BOOL bWaitAll,
					      DWORD dwMilliseconds)
{
	return WaitForMultipleObjectsEx(nCount, lpHandles, bWaitAll,
					dwMilliseconds, FALSE);
}

VC_EXPORT DWORD WINAPI WaitForSingleObjectEx(HANDLE hHandle,
					     DWORD dwMilliseconds,
					     BOOL bAlertable)
{
	return WaitForMultipleObjectsEx(1, &hHandle, FALSE, dwMilliseconds,
					bAlertable);
}

VC_EXPORT DWORD WINAPI WaitForSingleObject(HANDLE hHandle,
					   DWORD dwMilliseconds)
{
	return WaitForMultipleObjectsEx(1, &hHandle, FALSE, dwMilliseconds,
					FALSE);
}
