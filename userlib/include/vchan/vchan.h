/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <vchan/vchan.h> - libvchan's native API, for the RDP server daemon side
 * (and for tools).  Plain C types; errors are returned as negative errno
 * values, never through GetLastError.  See <linux/vchan.h> (installed with
 * this header) for the kernel contract behind every call.
 */
#ifndef VCHAN_VCHAN_H
#define VCHAN_VCHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vchan.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VCHAN_CONTROL_PATH	"/dev/vchan/control"
#define VCHAN_DEV_ROOT		"/dev/vchan"

/* Options of vchan_channel_create(); all-zero means the defaults. */
struct vchan_channel_opts {
	uint32_t ring_to_client;	/* bytes, power of two; 0: module default */
	uint32_t ring_to_session;	/* bytes, power of two; 0: module default */
	uint32_t uid;			/* owner of the session node */
	uint32_t gid;			/* group of the session node */
	uint32_t mode;			/* permission bits; 0: 0600 */
};

/*
 * vchan_control_open - open /dev/vchan/control read-write, close-on-exec.
 * Returns the fd, or -errno (-ENOENT: the module is not loaded; -EACCES).
 */
int vchan_control_open(void);

/*
 * vchan_channel_create - create channel 'name' of session 'session'.
 *
 * control_fd: from vchan_control_open().  flags: VCHAN_F_SHARED,
 * VCHAN_F_DYNAMIC.  opts may be NULL (rings of the module default size,
 * node owned by root with mode 0600).
 * Returns the client-end fd (close-on-exec; the channel lives as long as it
 * is open), or -errno: -EINVAL (bad name, flags, ring size, mode), -EEXIST,
 * -ENOSPC, -ENOMEM, -ENAMETOOLONG (name longer than VCHAN_NAME_MAX).
 */
int vchan_channel_create(int control_fd, uint32_t session, const char *name,
			 uint32_t flags, const struct vchan_channel_opts *opts);

/*
 * vchan_channel_path - format the session-end node path
 * "/dev/vchan/<session>/<name>" into buf (size len).
 * Returns the length, or -ENAMETOOLONG if it does not fit, -EINVAL if name
 * is NULL.
 */
int vchan_channel_path(char *buf, size_t len, uint32_t session,
		       const char *name);

/*
 * vchan_message_write - write one message of len bytes (blocking fds wait
 * for the message to be accepted; EINTR before anything was sent is
 * retried).  Returns len, or -errno (-EPIPE: the other end is gone,
 * -EAGAIN on a non-blocking fd, -EMSGSIZE above VCHAN_MSG_MAX).
 */
ssize_t vchan_message_write(int fd, const void *buf, size_t len);

/*
 * vchan_message_read - read bytes of at most one message (stream read mode).
 * What does not fit in buf stays for the next call (vchan_message_pending
 * tells how much).  Returns the byte count, 0 at end of file (the other end
 * is gone and nothing is queued), or -errno.
 */
ssize_t vchan_message_read(int fd, void *buf, size_t len);

/*
 * vchan_message_pending - bytes left in the message at the head of fd's
 * read direction (FIONREAD), 0 if none.  Returns the count or -errno.
 */
ssize_t vchan_message_pending(int fd);

/*
 * vchan_pdu_read - read one chunk in PDU read mode (see
 * vchan_read_mode_set): buf receives a struct vchan_pdu_header followed by
 * the chunk.  Returns header + chunk bytes, 0 at end of file, or -errno
 * (-EMSGSIZE: len is smaller than the header; nothing consumed).
 */
ssize_t vchan_pdu_read(int fd, void *buf, size_t len);

/*
 * vchan_read_mode_set - VCHAN_READ_STREAM, or VCHAN_READ_PDU with chunk
 * 1..VCHAN_MSG_MAX payload bytes per read (0: 1600).  Per open file.
 * vchan_read_mode_get - the current mode and chunk (either may be NULL).
 * Return 0 or -errno (-EINVAL, -ENOTTY: not a channel fd).
 */
int vchan_read_mode_set(int fd, uint32_t mode, uint32_t chunk);
int vchan_read_mode_get(int fd, uint32_t *mode, uint32_t *chunk);

/*
 * vchan_channel_info - names, counters and open counts of the channel fd
 * belongs to (either end).  Returns 0 or -errno.
 */
int vchan_channel_info(int fd, struct vchan_info *info);

/*
 * vchan_channel_purge - drop what is queued in the directions 'dirs'
 * (VCHAN_PURGE_TO_CLIENT, VCHAN_PURGE_TO_SESSION).  Returns 0 or -errno.
 */
int vchan_channel_purge(int fd, uint32_t dirs);

/*
 * vchan_session_current - the session id WTS_CURRENT_SESSION stands for in
 * this process: $VCHAN_SESSION if set, else /proc/self/sessionid if set.
 * Returns 0 with *session set, -EINVAL for a malformed $VCHAN_SESSION,
 * -ENOENT when no session is known.
 */
int vchan_session_current(uint32_t *session);

/* vchan_handle_from_fd() flags */
#define VCHAN_HANDLE_MESSAGES	0x1	/* fd is a channel end: message reads */

/*
 * vchan_handle_from_fd - wrap fd in a Windows file HANDLE usable with
 * ReadFile, WriteFile, ReadFileEx, WriteFileEx, GetOverlappedResult(Ex),
 * CancelIo(Ex), DuplicateHandle and CloseHandle of <vchan/winbase.h>.
 *
 * The handle owns fd: CloseHandle of its last handle closes it.  With
 * VCHAN_HANDLE_MESSAGES fd must be a channel end (either end); it is put in
 * PDU read mode so that reads report ERROR_MORE_DATA as on Windows message
 * pipes.  Without it fd may be any file aio can read and write (pipes,
 * regular files: OVERLAPPED.Offset is used for those; calls without an
 * OVERLAPPED use and advance the file offset).
 * Returns the handle (a void * that is a HANDLE), or NULL with errno set
 * (EBADF, ENOTTY for a non-channel fd with VCHAN_HANDLE_MESSAGES, EINVAL for
 * unknown flags, ENOMEM).  On failure fd is left open.
 */
void *vchan_handle_from_fd(int fd, unsigned int flags);

/*
 * vchan_handle_fd - the fd behind a file HANDLE (still owned by it), or
 * -EBADF if handle is not an open file handle.
 */
int vchan_handle_fd(void *handle);

#ifdef __cplusplus
}
#endif

#endif /* VCHAN_VCHAN_H */
