// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reference-counted objects and the handle table.
 *
 * A HANDLE is never a pointer: it encodes a slot index and the slot's
 * generation, which changes every time the slot is freed.  A lookup checks
 * the bit pattern, the index, the generation and the type under the table
 * lock, so closed, stale, wrong-type and garbage handles are rejected
 * without touching memory they might point to.
 *
 *   bit 0-1   zero (Windows handles are multiples of 4)
 *   bit 2-23  slot index + 1
 *   bit 24..  generation (never 0), up to the second-highest bit: the top
 *             bit stays clear so pseudo handles (-1, -2) never match.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

#define VC_IDX_BITS	22u
#define VC_IDX_MAX	((1u << VC_IDX_BITS) - 1)	/* slots, at most */
#define VC_GEN_SHIFT	(VC_IDX_BITS + 2u)
#define VC_PTR_BITS	(sizeof(uintptr_t) * 8u)
#define VC_GEN_BITS	(VC_PTR_BITS - VC_GEN_SHIFT - 1u > 32u ? 32u : \
			 VC_PTR_BITS - VC_GEN_SHIFT - 1u)
#define VC_GEN_MASK	((uint32_t)(((uint64_t)1 << VC_GEN_BITS) - 1))

struct vc_slot {
	struct vc_object *obj;		/* NULL: free */
	uint32_t gen;
	uint32_t flags;
	uint32_t next_free;		/* index + 1 of the next free slot */
};

static pthread_mutex_t vc_table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vc_slot *vc_slots;
static uint32_t vc_nslots;	/* slots in use or on the free list */
static uint32_t vc_cap;
static uint32_t vc_free_head;	/* index + 1, 0: none */

void vc_object_init(struct vc_object *o, enum vc_type type,
		    void (*last_handle)(struct vc_object *),
		    void (*destroy)(struct vc_object *))
{
	o->type = type;
	o->refs = 1;
	o->handles = 0;
	o->last_handle = last_handle;
	o->destroy = destroy;
}

void vc_object_get(struct vc_object *o)
{
	__atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

void vc_object_put(struct vc_object *o)
{
	if (o && __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0)
		o->destroy(o);
}

static HANDLE vc_encode(uint32_t idx, uint32_t gen)
{
	return (HANDLE)(((uintptr_t)gen << VC_GEN_SHIFT) |
			((uintptr_t)(idx + 1) << 2));
}

/* The slot h names, or NULL.  Table lock held. */
static struct vc_slot *vc_decode(HANDLE h)
{
	uintptr_t v = (uintptr_t)h;
	uint32_t idx, gen;

	if (!v || (v & 3u) || (v >> (VC_PTR_BITS - 1u)))
		return NULL;
	idx = (uint32_t)((v >> 2) & VC_IDX_MAX);
	gen = (uint32_t)(v >> VC_GEN_SHIFT);
	if (!idx || idx > vc_nslots || !gen)
		return NULL;
	idx--;
	if (vc_slots[idx].gen != gen || !vc_slots[idx].obj)
		return NULL;
	return &vc_slots[idx];
}

HANDLE vc_handle_new(struct vc_object *o, unsigned int flags)
{
	struct vc_slot *s;
	uint32_t idx;

	pthread_mutex_lock(&vc_table_lock);
	if (vc_free_head) {
		idx = vc_free_head - 1;
		vc_free_head = vc_slots[idx].next_free;
	} else {
		if (vc_nslots == vc_cap) {
			uint32_t cap = vc_cap ? vc_cap * 2 : 64;
			struct vc_slot *n;

			if (cap > VC_IDX_MAX)
				cap = VC_IDX_MAX;
			n = cap > vc_cap ? realloc(vc_slots, cap * sizeof(*n)) : NULL;
			if (!n) {
				pthread_mutex_unlock(&vc_table_lock);
				return vc_fail_null(ERROR_NOT_ENOUGH_MEMORY);
			}
			vc_slots = n;
			vc_cap = cap;
		}
		idx = vc_nslots++;
		vc_slots[idx].gen = 1;
	}
	s = &vc_slots[idx];
	s->obj = o;
	s->flags = flags;
	s->next_free = 0;
	vc_object_get(o);
	__atomic_add_fetch(&o->handles, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&vc_table_lock);
	return vc_encode(idx, s->gen);
}

struct vc_object *vc_handle_ref(HANDLE h, enum vc_type type)
{
	struct vc_object *o = NULL;
	struct vc_slot *s;

	pthread_mutex_lock(&vc_table_lock);
	s = vc_decode(h);
	if (s && (type == VC_T_ANY || s->obj->type == type)) {
		o = s->obj;
		vc_object_get(o);
	}
	pthread_mutex_unlock(&vc_table_lock);
	if (!o)
		vc_fail(ERROR_INVALID_HANDLE);
	return o;
}

unsigned int vc_handle_flags(HANDLE h)
{
	struct vc_slot *s;
	unsigned int flags = 0;

	pthread_mutex_lock(&vc_table_lock);
	s = vc_decode(h);
	if (s)
		flags = s->flags;
	pthread_mutex_unlock(&vc_table_lock);
	return flags;
}

DWORD vc_handle_close(HANDLE h, enum vc_type type, bool force)
{
	struct vc_object *o;
	struct vc_slot *s;
	uint32_t idx;

	pthread_mutex_lock(&vc_table_lock);
	s = vc_decode(h);
	if (!s || (type != VC_T_ANY && s->obj->type != type) ||
	    ((s->flags & VC_HANDLE_PROTECTED) && !force)) {
		pthread_mutex_unlock(&vc_table_lock);
		return ERROR_INVALID_HANDLE;
	}
	o = s->obj;
	idx = (uint32_t)(s - vc_slots);
	s->obj = NULL;
	s->flags = 0;
	s->gen = (s->gen + 1) & VC_GEN_MASK;
	if (!s->gen)
		s->gen = 1;
	s->next_free = vc_free_head;
	vc_free_head = idx + 1;
	pthread_mutex_unlock(&vc_table_lock);

	if (__atomic_sub_fetch(&o->handles, 1, __ATOMIC_ACQ_REL) == 0 &&
	    o->last_handle)
		o->last_handle(o);
	vc_object_put(o);
	return 0;
}

VC_EXPORT HANDLE WINAPI GetCurrentProcess(void)
{
	return VC_PSEUDO_PROCESS;
}

VC_EXPORT BOOL WINAPI CloseHandle(HANDLE hObject)
{
	DWORD err;

	if (hObject == VC_PSEUDO_PROCESS || hObject == VC_PSEUDO_THREAD)
		return TRUE;
	pthread_mutex_lock(&vc_table_lock);
	{
		struct vc_slot *s = vc_decode(hObject);

		/* WTS channel handles belong to WTSVirtualChannelClose. */
		err = (s && s->obj->type == VC_T_WTS) ? ERROR_INVALID_HANDLE : 0;
	}
	pthread_mutex_unlock(&vc_table_lock);
	if (!err)
		err = vc_handle_close(hObject, VC_T_ANY, false);
	return err ? vc_fail(err) : TRUE;
}

VC_EXPORT BOOL WINAPI DuplicateHandle(HANDLE hSourceProcessHandle,
				      HANDLE hSourceHandle,
				      HANDLE hTargetProcessHandle,
				      LPHANDLE lpTargetHandle,
				      DWORD dwDesiredAccess, BOOL bInheritHandle,
				      DWORD dwOptions)
{
	const DWORD known = DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS;
	struct vc_object *o = NULL;
	HANDLE h = NULL;
	DWORD err = 0;

	(void)dwDesiredAccess;
	(void)bInheritHandle;
	if (hSourceProcessHandle != VC_PSEUDO_PROCESS ||
	    hTargetProcessHandle != VC_PSEUDO_PROCESS)
		return vc_fail(ERROR_INVALID_HANDLE);
	if (dwOptions & ~known)
		return vc_fail(ERROR_INVALID_PARAMETER);
	if (!lpTargetHandle) {
		if (!(dwOptions & DUPLICATE_CLOSE_SOURCE))
			return vc_fail(ERROR_INVALID_PARAMETER);
		return CloseHandle(hSourceHandle);
	}
	*lpTargetHandle = NULL;

	if (hSourceHandle == VC_PSEUDO_PROCESS) {
		err = ERROR_NOT_SUPPORTED;
	} else if (hSourceHandle == VC_PSEUDO_THREAD) {
		struct vc_thread *t = vc_thread_from_handle(hSourceHandle);

		if (!t)
			return FALSE;
		o = &t->obj;
	} else {
		o = vc_handle_ref(hSourceHandle, VC_T_ANY);
		if (!o)
			return FALSE;
		if (o->type == VC_T_WTS)
			err = ERROR_INVALID_HANDLE;
	}
	if (!err) {
		h = vc_handle_new(o, 0);
		if (!h)
			err = GetLastError();
	}
	vc_object_put(o);
	if (dwOptions & DUPLICATE_CLOSE_SOURCE) {
		DWORD saved = GetLastError();

		CloseHandle(hSourceHandle);
		SetLastError(saved);
	}
	if (err)
		return vc_fail(err);
	*lpTargetHandle = h;
	return TRUE;
}

void vc_handle_atfork_prepare(void)
{
	pthread_mutex_lock(&vc_table_lock);
}

void vc_handle_atfork_parent(void)
{
	pthread_mutex_unlock(&vc_table_lock);
}
