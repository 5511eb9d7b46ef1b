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

/* ---- dynamic channels ---- */

/* Options of vchan_dyn_listen(); all-zero means root-owned, mode 0600. */
struct vchan_dyn_listen_opts {
	uint32_t uid;			/* owner of /dev/vchan/dynamic/<session> */
	uint32_t gid;			/* its group */
	uint32_t mode;			/* its permission bits; 0: 0600 */
};

/*
 * vchan_dyn_listen - become the listener for the dynamic channels of
 * session 'session'.
 *
 * control_fd: from vchan_control_open().  opts may be NULL.  While the
 * returned listener fd is open, /dev/vchan/dynamic/<session> exists and
 * programs of the session can ask for dynamic channels there
 * (vchan_dyn_open, WTSVirtualChannelOpenEx with WTS_CHANNEL_OPTION_DYNAMIC);
 * every request waits for the listener's answer.  Closing the listener fd
 * refuses every request still waiting (the requesters get -ECONNREFUSED)
 * and removes the node.  The fd is close-on-exec and poll()able: POLLIN
 * means a request is waiting to be read with vchan_dyn_next().  Set
 * O_NONBLOCK on it (fcntl) for an event loop.
 * Returns the listener fd, or -errno: -EBUSY (the session has a listener),
 * -EINVAL (mode bits outside 0777, unmapped uid or gid), -EACCES.
 */
int vchan_dyn_listen(int control_fd, uint32_t session,
		     const struct vchan_dyn_listen_opts *opts);

/*
 * vchan_dyn_next - read the next request from a listener fd into *req:
 * req->id (for vchan_dyn_accept / vchan_dyn_reject), req->name (NUL
 * terminated), req->flags (the VCHAN_DYN_PRI_* priority and
 * VCHAN_DYN_NO_COMPRESS bits exactly as the requester gave them, i.e. its
 * WTSVirtualChannelOpenEx flags without WTS_CHANNEL_OPTION_DYNAMIC),
 * req->pid and req->uid (of the requester, as seen from the caller's
 * namespaces).  Every request read must be answered; one the requester
 * gave up on (timeout, signal) answers with -ENOENT.
 *
 * Blocks until a request comes unless the fd is O_NONBLOCK; interrupted
 * waits are resumed.  Returns 0, or -errno: -EAGAIN (O_NONBLOCK and no
 * request), -EINVAL (req NULL), -EBADF.
 */
int vchan_dyn_next(int listener_fd, struct vchan_dyn_request *req);

/*
 * vchan_dyn_accept - accept request 'id': create its channel (rings of
 * ring_to_client / ring_to_session bytes, powers of two; 0: the module
 * default) and hand its session end to the requester.
 * Returns the channel's client-end fd (close-on-exec; closing it hangs up
 * the requester's end), or -errno: -ENOENT (no such request: unknown,
 * answered already, or given up by the requester), -EINVAL (bad ring
 * size), -ENOSPC, -ENOMEM.
 */
int vchan_dyn_accept(int listener_fd, uint64_t id, uint32_t ring_to_client,
		     uint32_t ring_to_session);

/*
 * vchan_dyn_reject - refuse request 'id'; its requester's vchan_dyn_open
 * returns -error (0: -ECONNREFUSED), which WTSVirtualChannelOpenEx turns
 * into a Windows error (see <vchan/wtsapi32.h>).
 * Returns 0, or -errno: -ENOENT (no such request), -EINVAL (error
 * negative or not an errno).
 */
int vchan_dyn_reject(int listener_fd, uint64_t id, int error);

/*
 * vchan_dyn_path - format "/dev/vchan/dynamic/<session>" into buf (size
 * len).  Returns the length, -ENAMETOOLONG if it does not fit, -EINVAL if
 * buf is NULL.
 */
int vchan_dyn_path(char *buf, size_t len, uint32_t session);

/*
 * vchan_dyn_open - ask the listener of session 'session' for a dynamic
 * channel 'name' (1..VCHAN_NAME_MAX characters of [A-Za-z0-9_.-], not "."
 * nor "..") with flags VCHAN_DYN_* (priority, no-compress), and wait for
 * the answer: at most timeout_ms milliseconds (0: until answered).
 * Interrupted waits are resumed for the time left.
 * Returns the session end's fd (close-on-exec, stream read mode), or
 * -errno: -ENOENT (no listener: /dev/vchan/dynamic/<session> does not
 * exist), -ECONNREFUSED (the listener refused without an errno of its own,
 * or went away), -ETIMEDOUT, the errno the listener rejected with,
 * -EINVAL (bad name or flags), -ENAMETOOLONG, -EACCES (the node's mode).
 */
int vchan_dyn_open(uint32_t session, const char *name, uint32_t flags,
		   uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* VCHAN_VCHAN_H */
