// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one place where Linux errno values become Windows error codes, and
 * Windows error codes become the NTSTATUS values of OVERLAPPED.Internal.
 */
#include <errno.h>

#include "internal.h"

/*
 * One row per errno.  A column left 0 falls back to 'other'.  'sync': a
 * request that ends with this error at once (inside io_submit) failed
 * synchronously: ReadFileEx/WriteFileEx return FALSE and queue nothing
 * (rule 6: resource limits; bad buffers and arguments).  The others
 * (broken pipe, cancellation, ...) are outcomes of an accepted request and
 * reach the completion routine.
 */
static const struct vc_errno_row {
	int err;
	DWORD read, write, submit, open, other;
	bool sync;
} vc_errno_rows[] = {
	{ EAGAIN,	ERROR_INVALID_USER_BUFFER, ERROR_INVALID_USER_BUFFER,
			ERROR_INVALID_USER_BUFFER, ERROR_BUSY, ERROR_BUSY, true },
	{ ENOMEM,	0, 0, 0, 0, ERROR_NOT_ENOUGH_MEMORY, true },
	{ EFAULT,	ERROR_NOACCESS, ERROR_INVALID_USER_BUFFER, 0, 0,
			ERROR_NOACCESS, true },
	{ EINVAL,	0, 0, 0, ERROR_INVALID_PARAMETER, ERROR_INVALID_PARAMETER,
			true },
	{ EBADF,	0, 0, 0, 0, ERROR_INVALID_HANDLE, true },
	{ EMSGSIZE,	ERROR_INSUFFICIENT_BUFFER, ERROR_BAD_LENGTH, 0, 0,
			ERROR_INSUFFICIENT_BUFFER, true },
	{ EOPNOTSUPP,	0, 0, 0, 0, ERROR_NOT_SUPPORTED, true },
	{ ENOSYS,	0, 0, 0, 0, ERROR_NOT_SUPPORTED, true },
	{ ENOTTY,	0, 0, 0, 0, ERROR_INVALID_FUNCTION, true },
	{ ECANCELED,	0, 0, 0, 0, ERROR_OPERATION_ABORTED, false },
	{ EINTR,	0, 0, 0, 0, ERROR_OPERATION_ABORTED, false },
	{ EPIPE,	0, 0, 0, 0, ERROR_BROKEN_PIPE, false },
	{ ENOTCONN,	0, 0, 0, 0, ERROR_PIPE_NOT_CONNECTED, false },
	{ ECONNRESET,	0, 0, 0, 0, ERROR_BROKEN_PIPE, false },
	{ ENOENT,	0, 0, 0, 0, ERROR_FILE_NOT_FOUND, true },
	{ ENODEV,	0, 0, 0, 0, ERROR_FILE_NOT_FOUND, true },
	{ ENXIO,	0, 0, 0, 0, ERROR_FILE_NOT_FOUND, true },
	{ ENOTDIR,	0, 0, 0, 0, ERROR_FILE_NOT_FOUND, true },
	{ EACCES,	0, 0, 0, 0, ERROR_ACCESS_DENIED, true },
	{ EPERM,	0, 0, 0, 0, ERROR_ACCESS_DENIED, true },
	{ EROFS,	0, 0, 0, 0, ERROR_ACCESS_DENIED, true },
	{ EBUSY,	0, 0, 0, 0, ERROR_BUSY, true },
	{ EEXIST,	0, 0, 0, 0, ERROR_ALREADY_EXISTS, true },
	{ ENAMETOOLONG,	0, 0, 0, 0, ERROR_INVALID_NAME, true },
	{ EMFILE,	0, 0, 0, 0, ERROR_TOO_MANY_OPEN_FILES, true },
	{ ENFILE,	0, 0, 0, 0, ERROR_TOO_MANY_OPEN_FILES, true },
	{ ENOSPC,	0, ERROR_DISK_FULL, 0, 0, ERROR_NOT_ENOUGH_MEMORY, true },
	{ ECONNREFUSED,	0, 0, 0, ERROR_FILE_NOT_FOUND, ERROR_FILE_NOT_FOUND,
			true },
	{ ETIMEDOUT,	0, 0, 0, 0, ERROR_SEM_TIMEOUT, false },
	{ EIO,		ERROR_READ_FAULT, ERROR_WRITE_FAULT, 0, 0,
			ERROR_GEN_FAILURE, false },
};

static const struct vc_errno_row *vc_errno_row(int err)
{
	size_t i;

	for (i = 0; i < VC_ARRAY_SIZE(vc_errno_rows); i++)
		if (vc_errno_rows[i].err == err)
			return &vc_errno_rows[i];
	return NULL;
}

DWORD vc_errno_to_win(int err, enum vc_op op)
{
	const struct vc_errno_row *r = vc_errno_row(err);
	DWORD w = 0;

	if (!err)
		return ERROR_SUCCESS;
	if (!r)
		return ERROR_GEN_FAILURE;
	switch (op) {
	case VC_OP_READ:
		w = r->read;
		break;
	case VC_OP_WRITE:
		w = r->write;
		break;
	case VC_OP_SUBMIT:
		w = r->submit;
		break;
	case VC_OP_OPEN:
		w = r->open;
		break;
	case VC_OP_OTHER:
		break;
	}
	return w ? w : r->other;
}

bool vc_errno_is_sync(int err)
{
	const struct vc_errno_row *r = vc_errno_row(err);

	return r ? r->sync : false;
}

/* Windows errors with an NTSTATUS of their own; others travel as
 * 0xE0000000 | code (severity error, customer bit). */
static const struct {
	DWORD win;
	DWORD status;
} vc_status_rows[] = {
	{ ERROR_SUCCESS,		0 },
	{ ERROR_IO_PENDING,		STATUS_PENDING },
	{ ERROR_MORE_DATA,		STATUS_BUFFER_OVERFLOW },
	{ ERROR_OPERATION_ABORTED,	STATUS_CANCELLED },
	{ ERROR_BROKEN_PIPE,		STATUS_PIPE_BROKEN },
	{ ERROR_INVALID_HANDLE,		STATUS_INVALID_HANDLE },
	{ ERROR_INVALID_PARAMETER,	STATUS_INVALID_PARAMETER },
	{ ERROR_NOT_ENOUGH_MEMORY,	STATUS_NO_MEMORY },
	{ ERROR_ACCESS_DENIED,		STATUS_ACCESS_DENIED },
	{ ERROR_INSUFFICIENT_BUFFER,	STATUS_BUFFER_TOO_SMALL },
	{ ERROR_NOT_SUPPORTED,		STATUS_NOT_SUPPORTED },
	{ ERROR_HANDLE_EOF,		STATUS_END_OF_FILE },
};

#define VC_STATUS_CUSTOM	0xE0000000u

DWORD vc_win_to_status(DWORD win)
{
	size_t i;

	for (i = 0; i < VC_ARRAY_SIZE(vc_status_rows); i++)
		if (vc_status_rows[i].win == win)
			return vc_status_rows[i].status;
	return VC_STATUS_CUSTOM | (win & 0xFFFFu);
}

DWORD vc_status_to_win(DWORD status)
{
	size_t i;

	for (i = 0; i < VC_ARRAY_SIZE(vc_status_rows); i++)
		if (vc_status_rows[i].status == status)
			return vc_status_rows[i].win;
	if ((status & 0xFFFF0000u) == VC_STATUS_CUSTOM)
		return status & 0xFFFFu;
	return ERROR_GEN_FAILURE;
}
