/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by libvchan's device tests (vm_wts_test, vm_dyn_test).
 * Include after tap.h and the vchan headers.
 */
#ifndef VCHAN_VM_UTIL_H
#define VCHAN_VM_UTIL_H

/* The WTSVirtualFileHandle of a channel handle (still owned by the channel). */
static inline HANDLE file_handle(HANDLE ch)
{
	PVOID p = NULL;
	DWORD len = 0;
	HANDLE fh;

	ASSERT_EQ(TRUE, WTSVirtualChannelQuery(ch, WTSVirtualFileHandle, &p, &len));
	ASSERT_EQ(sizeof(HANDLE), len);
	fh = *(HANDLE *)p;
	WTSFreeMemory(p);
	return fh;
}

#endif
