// SPDX-License-Identifier: LGPL-2.1-or-later
/* Event objects: CreateEventA/W, SetEvent, ResetEvent. */
#include <stdlib.h>

#include "internal.h"

static void vc_event_destroy(struct vc_object *o)
{
	free(vc_event_of(o));
}

void vc_event_set_locked(struct vc_event *ev)
{
	ev->signaled = true;
	vc_waitq_wake_locked(&ev->q);
}

static HANDLE vc_event_create(BOOL manual, BOOL initial, bool named)
{
	struct vc_event *ev;
	HANDLE h;

	if (named)
		return vc_fail_null(ERROR_NOT_SUPPORTED);
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return vc_fail_null(ERROR_NOT_ENOUGH_MEMORY);
	vc_object_init(&ev->obj, VC_T_EVENT, NULL, vc_event_destroy);
	ev->manual = manual != FALSE;
	ev->signaled = initial != FALSE;
	vc_waitq_init(&ev->q);
	h = vc_handle_new(&ev->obj, 0);
	vc_object_put(&ev->obj);	/* the handle holds it now */
	return h;
}

VC_EXPORT HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes,
				     BOOL bManualReset, BOOL bInitialState,
				     LPCSTR lpName)
{
	(void)lpEventAttributes;
	return vc_event_create(bManualReset, bInitialState, lpName != NULL);
}

VC_EXPORT HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes,
				     BOOL bManualReset, BOOL bInitialState,
				     LPCWSTR lpName)
{
	(void)lpEventAttributes;
	return vc_event_create(bManualReset, bInitialState, lpName != NULL);
}

static BOOL vc_event_change(HANDLE h, bool set)
{
	struct vc_object *o = vc_handle_ref(h, VC_T_EVENT);

	if (!o)
		return FALSE;
	pthread_mutex_lock(&vc_sync_lock);
	if (set)
		vc_event_set_locked(vc_event_of(o));
	else
		vc_event_of(o)->signaled = false;
	pthread_mutex_unlock(&vc_sync_lock);
	vc_object_put(o);
	return TRUE;
}

VC_EXPORT BOOL WINAPI SetEvent(HANDLE hEvent)
{
	return vc_event_change(hEvent, true);
}

VC_EXPORT BOOL WINAPI ResetEvent(HANDLE hEvent)
{
	return vc_event_change(hEvent, false);
}
