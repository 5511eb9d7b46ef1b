// SPDX-License-Identifier: LGPL-2.1-or-later
/* The per-thread last error: GetLastError, SetLastError. */
#include "internal.h"

static __thread DWORD vc_last_error;

VC_EXPORT DWORD WINAPI GetLastError(void)
{
	return vc_last_error;
}

VC_EXPORT void WINAPI SetLastError(DWORD dwErrCode)
{
	vc_last_error = dwErrCode;
}

BOOL vc_fail(DWORD err)
{
	vc_last_error = err;
	return FALSE;
}

void *vc_fail_null(DWORD err)
{
	vc_last_error = err;
	return NULL;
}

DWORD vc_fail_wait(DWORD err)
{
	vc_last_error = err;
	return WAIT_FAILED;
}
