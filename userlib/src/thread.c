// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread state: the APC queue each thread's alertable waits drain, the
 * condition variable its waits sleep on, and thread handles for
 * QueueUserAPC.  The state outlives the thread while handles or requests
 * still refer to it; once the thread has exited it is marked dead and what
 * is queued to it is discarded (a routine never runs on another thread).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static pthread_key_t vc_thread_key;
static pthread_once_t vc_thread_once = PTHREAD_ONCE_INIT;
__thread struct vc_thread *vc_self;

static void vc_apc_list_discard(struct vc_apc *a)
{
	while (a) {
		struct vc_apc *next = a->next;

		a->fn(a, true);
		a = next;
	}
}

/* pthread key destructor: the thread is exiting. */
static void vc_thread_exit(void *p)
{
	struct vc_thread *t = p;
	struct vc_apc *list;

	pthread_mutex_lock(&vc_sync_lock);
	t->dead = true;
	/* Its requests still in flight are reaped by someone else. */
	if (vc_aio_inflight())
		vc_reaper_poke_locked(false);
	list = t->apc_head;
	t->apc_head = NULL;
	t->apc_tail = &t->apc_head;
	pthread_mutex_unlock(&vc_sync_lock);
	vc_apc_list_discard(list);
	if (t->kick_fd >= 0)
		close(t->kick_fd);
	t->kick_fd = -1;
	vc_self = NULL;
	vc_object_put(&t->obj);
}

static void vc_thread_destroy(struct vc_object *o)
{
	struct vc_thread *t = vc_container_of(o, struct vc_thread, obj);

	pthread_cond_destroy(&t->cond);
	free(t);
}

static void vc_thread_key_init(void)
{
	pthread_key_create(&vc_thread_key, vc_thread_exit);
}

struct vc_thread *vc_thread_self(void)
{
	struct vc_thread *t = vc_self;
	pthread_condattr_t ca;

	if (t)
		return t;
	pthread_once(&vc_thread_once, vc_thread_key_init);
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	vc_object_init(&t->obj, VC_T_THREAD, NULL, vc_thread_destroy);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&t->cond, &ca)) {
		pthread_condattr_destroy(&ca);
		free(t);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	t->apc_tail = &t->apc_head;
	t->kick_fd = -1;
	t->tid = (pid_t)syscall(SYS_gettid);
	if (pthread_setspecific(vc_thread_key, t)) {
		vc_thread_destroy(&t->obj);
		return NULL;
	}
	vc_self = t;
	return t;
}

bool vc_thread_queue_apc_locked(struct vc_thread *t, struct vc_apc *apc)
{
	if (t->dead)
		return false;
	apc->next = NULL;
	*t->apc_tail = apc;
	t->apc_tail = &apc->next;
	vc_thread_wake_locked(t);
	return true;
}

unsigned int vc_thread_run_apcs_locked(struct vc_thread *t)
{
	unsigned int n = 0;
	struct vc_apc *a;

	while ((a = t->apc_head)) {
		t->apc_head = a->next;
		if (!t->apc_head)
			t->apc_tail = &t->apc_head;
		pthread_mutex_unlock(&vc_sync_lock);
		a->fn(a, false);
		n++;
		pthread_mutex_lock(&vc_sync_lock);
	}
	return n;
}

struct vc_thread *vc_thread_from_handle(HANDLE h)
{
	struct vc_object *o;
	struct vc_thread *t;

	if (h == VC_PSEUDO_THREAD) {
		t = vc_thread_self();
		if (!t)
			return vc_fail_null(ERROR_NOT_ENOUGH_MEMORY);
		vc_object_get(&t->obj);
		return t;
	}
	o = vc_handle_ref(h, VC_T_THREAD);
	return o ? vc_container_of(o, struct vc_thread, obj) : NULL;
}

VC_EXPORT HANDLE WINAPI GetCurrentThread(void)
{
	return VC_PSEUDO_THREAD;
}

VC_EXPORT DWORD WINAPI GetCurrentThreadId(void)
{
	struct vc_thread *t = vc_self;

	return t ? (DWORD)t->tid : (DWORD)syscall(SYS_gettid);
}

/* A QueueUserAPC entry. */
struct vc_user_apc {
	struct vc_apc apc;
	PAPCFUNC fn;
	ULONG_PTR data;
};

static void vc_user_apc_fn(struct vc_apc *apc, bool discard)
{
	struct vc_user_apc *u = vc_container_of(apc, struct vc_user_apc, apc);
	PAPCFUNC fn = u->fn;
	ULONG_PTR data = u->data;

	free(u);
	if (!discard)
		fn(data);
}

VC_EXPORT DWORD WINAPI QueueUserAPC(PAPCFUNC pfnAPC, HANDLE hThread,
				    ULONG_PTR dwData)
{
	struct vc_user_apc *u;
	struct vc_thread *t;
	bool queued;

	t = vc_thread_from_handle(hThread);
	if (!t)
		return 0;
	if (!pfnAPC) {
		vc_object_put(&t->obj);
		return vc_fail(ERROR_INVALID_PARAMETER);
	}
	u = malloc(sizeof(*u));
	if (!u) {
		vc_object_put(&t->obj);
		return vc_fail(ERROR_NOT_ENOUGH_MEMORY);
	}
	u->apc.fn = vc_user_apc_fn;
	u->fn = pfnAPC;
	u->data = dwData;
	pthread_mutex_lock(&vc_sync_lock);
	queued = vc_thread_queue_apc_locked(t, &u->apc);
	pthread_mutex_unlock(&vc_sync_lock);
	vc_object_put(&t->obj);
	if (!queued) {
		free(u);
		return vc_fail(ERROR_GEN_FAILURE);
	}
	return 1;
}
