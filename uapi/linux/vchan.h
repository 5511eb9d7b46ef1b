/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vchan: Remote Desktop virtual channels as character devices.
 *
 * Nodes
 *   /dev/vchan/control          opened by the RDP server daemon (root:root 0600
 *                               unless the module parameters control_gid and
 *                               control_mode say otherwise).
 *   /dev/vchan/<session>/<name> the SESSION END of a channel, opened by programs
 *                               in that session; owner, group and mode are the
 *                               ones given at creation.
 *
 * VCHAN_IOC_CREATE on the control fd creates a channel and returns a new file
 * descriptor (close-on-exec) as the ioctl's return value: the CLIENT END,
 * which the daemon relays to the remote RDP client.  The channel lives as long
 * as the client end is open: when it is closed the node disappears at once; a
 * session end that is still open reads what was queued to it, then 0 (EOF);
 * its writes fail with EPIPE (no SIGPIPE) and poll reports EPOLLHUP.
 *
 * Closing the session end leaves the channel in place: what it wrote stays
 * readable at the client end, and another program may open the node.  While
 * no session end is open after one has been open, the client end sees
 * EPOLLHUP in poll and reads return 0 once the queue is empty; the next open
 * of the node clears that.  Data the client end writes while no session end is
 * open is kept for the next opener.  Only one session end may be open at a
 * time (EBUSY) unless the channel was created with VCHAN_F_SHARED.
 *
 * Data path
 *   Every write() is one message of 0..VCHAN_MSG_MAX bytes (EMSGSIZE beyond),
 *   delivered whole and in order; messages of concurrent writers never
 *   interleave.  A message that fits in the ring while no other is queued is
 *   copied in at once.  Otherwise it queues, in order: a blocking write
 *   sleeps until its message is in the ring or read.  A message that fits
 *   an empty ring (with its VCHAN_MSG_OVERHEAD) is copied in whole by its
 *   writer once there is room for it; a larger one is read straight from
 *   the writer's pages (one copy), and the reader may read its first bytes
 *   before write() returns.  If a signal arrives before the reader has
 *   consumed any byte of the message, the write returns EINTR (or restarts,
 *   with SA_RESTART) and nothing of it is delivered; once the reader has
 *   begun consuming it, the write completes: the rest of the message is
 *   copied into a kernel buffer and delivered from there, and write()
 *   returns the full length.
 *
 *   A non-blocking write (O_NONBLOCK) fails with EAGAIN while another message
 *   is queued in that direction or when fewer than VCHAN_MSG_OVERHEAD bytes
 *   of the ring are free; otherwise it succeeds at once: what does not fit
 *   in the ring is kept in a kernel buffer (charged to the writer's memory
 *   cgroup) until the reader makes room; when that buffer cannot be had,
 *   ENOMEM with nothing sent (never the OOM killer).  EPOLLOUT means exactly
 *   that a non-blocking write would be accepted.
 *
 * Asynchronous I/O
 *   io_submit() reads and writes (IOCB_CMD_PREAD[V]/PWRITE[V]; offsets are
 *   ignored) complete at once when they can, else queue (-EIOCBQUEUED) and
 *   complete through the aio ring, in submission order: a queued write holds
 *   its place against every later write, blocking, non-blocking or
 *   asynchronous; queued reads are served oldest first as data arrives (a
 *   blocking read() is not queued and may take data first).  The writer's
 *   and reader's pages are pinned at submission; the submitter's memory is
 *   never touched through its address space afterwards.  Each direction
 *   holds at most max_aio_requests requests and max_aio_bytes bytes of them
 *   (module parameters); beyond, the request fails with EAGAIN.
 *   RWF_NOWAIT (IOCB_NOWAIT) gives EAGAIN instead of queueing; io_uring
 *   relies on it and on poll wake-ups.
 *   io_cancel() ends a queued request with ECANCELED, nothing of it
 *   delivered; a write the reader has begun is never cut: the kernel copies
 *   the rest and delivers it, and the request completes at once with its
 *   full length (io_cancel returns EINPROGRESS either way, as for every
 *   request it found).  Once io_cancel() has returned, a request it found
 *   not begun is never begun: its event may come a little later, always
 *   ECANCELED.  Completion events reach the ring in the order the requests
 *   of a direction end.  A process that exits or calls io_destroy() cancels
 *   its requests the same way, so it never waits for a reader.  When the
 *   client end closes, the session end's queued writes end with EPIPE and
 *   its queued reads, once the queue is drained, with 0.
 *
 *   Ring space is used by the payload plus VCHAN_MSG_OVERHEAD bytes per
 *   message.
 *
 *   Plain read() returns bytes of at most one message; what does not fit in
 *   the buffer stays for the next read.  A read may return part of a message
 *   that is still streaming in; FIONREAD gives the bytes left in the current
 *   message (0 when no message is queued).  Plain reads skip zero-length
 *   messages.  EPOLLIN means the ring holds something, which may be only
 *   zero-length messages: a plain non-blocking read then fails with EAGAIN.
 *
 *   In PDU read mode (VCHAN_IOC_SET_READ_MODE) every read returns a
 *   struct vchan_pdu_header followed by at most 'chunk' payload bytes of one
 *   message: 'length' is the total length of the message, 'flags' has
 *   VCHAN_PDU_FIRST on its first chunk and VCHAN_PDU_LAST on its last (both
 *   on a message that fits one chunk, and on a zero-length message).  This is
 *   Microsoft's CHANNEL_PDU_HEADER framing.  A buffer shorter than the header
 *   fails with EMSGSIZE and consumes nothing.
 *
 * Channel ioctls (either end)
 *   VCHAN_IOC_INFO           struct vchan_info: names, counters, open counts.
 *   VCHAN_IOC_PURGE          drops what is queued in the directions given
 *                            (VCHAN_PURGE_*; EINVAL for 0 or unknown bits):
 *                            queued writes, blocking ones included, end with
 *                            ECANCELED.  A message is never cut: the rest of
 *                            a message a reader has begun stays and is
 *                            delivered whole.
 *   VCHAN_IOC_SET_READ_MODE  per open file: VCHAN_READ_STREAM or
 *                            VCHAN_READ_PDU with 'chunk' 1..VCHAN_MSG_MAX
 *                            (0 means 1600); EINVAL otherwise.
 *   VCHAN_IOC_GET_READ_MODE  the current mode and chunk.
 *   FIONREAD                 int: bytes left in the message at the head of
 *                            the file's read direction.
 *
 * Dynamic channels
 *   The daemon registers as the listener of a session with VCHAN_IOC_LISTEN
 *   on the control fd; the ioctl returns the listener fd, and while that is
 *   open the node /dev/vchan/dynamic/<session> exists, with the owner, group
 *   and mode given.  A program of the session opens that node and asks for a
 *   channel with VCHAN_IOC_DYN_OPEN, which blocks (interruptibly; at most
 *   timeout_ms if not 0) until the daemon answers and returns the session
 *   end's fd (close-on-exec).  The daemon read()s one struct
 *   vchan_dyn_request per read from the listener fd (poll: EPOLLIN; a buffer
 *   shorter than the record: EINVAL; O_NONBLOCK: EAGAIN) and answers each
 *   with VCHAN_IOC_DYN_ACCEPT, which creates the channel and returns its
 *   client end's fd, or VCHAN_IOC_DYN_REJECT.  A dynamic channel has no node
 *   and lives until either end closes; closing either end hangs up the
 *   other, as closing the client end does for a static channel (EOF after
 *   what was queued, EPIPE on writes, EPOLLHUP, queued requests end with
 *   EPIPE or 0).  The same name may be open any number of times at once.
 *   Errors of VCHAN_IOC_DYN_OPEN: ECONNREFUSED when the listener is gone or
 *   goes while the request waits; ETIMEDOUT; EINTR (the request is
 *   withdrawn); the errno the daemon rejected with; EINVAL for a bad name,
 *   unknown flags or reserved fields set.
 *   Errors of VCHAN_IOC_LISTEN: EBUSY when the session has a listener;
 *   EINVAL.  Errors of VCHAN_IOC_DYN_ACCEPT and _REJECT: ENOENT for an id
 *   that is unknown, answered already or withdrawn; EINVAL.
 *
 * Errors of VCHAN_IOC_CREATE
 *   EINVAL  a reserved field or unknown flag set; bad name (static channels:
 *           1..VCHAN_STATIC_NAME_MAX characters, VCHAN_F_DYNAMIC channels up to
 *           VCHAN_NAME_MAX, characters [A-Za-z0-9_.-], not "." nor "..", NUL
 *           terminated within name[]); a ring size that is not 0 nor a power of
 *           two in VCHAN_RING_MIN..max_ring; a mode with bits outside 0777; a
 *           uid or gid with no mapping in the caller's user namespace.
 *   EEXIST  a channel with that session and name exists.
 *   ENOSPC  max_channels channels exist.
 *   ENOMEM  the rings could not be allocated (they are charged to the
 *           creator's memory cgroup).
 *   EFAULT  bad pointer.
 */
#ifndef _UAPI_LINUX_VCHAN_H
#define _UAPI_LINUX_VCHAN_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VCHAN_STATIC_NAME_MAX	7	/* CHANNEL_NAME_LEN */
#define VCHAN_NAME_MAX		255	/* names created with VCHAN_F_DYNAMIC */
#define VCHAN_MSG_MAX		(16U << 20)	/* largest message, bytes */
#define VCHAN_RING_MIN		4096U	/* smallest ring, bytes */
#define VCHAN_MSG_OVERHEAD	4U	/* ring bytes used per message besides payload */
#define VCHAN_PDU_CHUNK_DEFAULT	1600U	/* CHANNEL_CHUNK_LENGTH */

/* struct vchan_create.flags */
#define VCHAN_F_SHARED		0x1	/* several session ends may be open */
#define VCHAN_F_DYNAMIC		0x2	/* a dynamic channel: long names */
#define VCHAN_F_ALL		(VCHAN_F_SHARED | VCHAN_F_DYNAMIC)

struct vchan_create {
	__u32 session;		/* session id, any value */
	__u32 flags;		/* VCHAN_F_* */
	__u32 ring_to_client;	/* bytes; 0: the default_ring module parameter */
	__u32 ring_to_session;	/* bytes; 0: the default_ring module parameter */
	__u32 uid;		/* owner of the session node */
	__u32 gid;		/* group of the session node */
	__u32 mode;		/* permission bits of the node; 0: 0600 */
	__u32 reserved0;	/* must be 0 */
	__u64 reserved[4];	/* must be 0 */
	char name[VCHAN_NAME_MAX + 1];	/* NUL terminated */
};

/* Counters of one direction, in struct vchan_info. */
struct vchan_dir_info {
	__u32 ring_size;	/* bytes */
	__u32 reserved;
	__u64 queued_bytes;	/* payload bytes accepted and not yet read */
	__u64 queued_msgs;	/* messages accepted and not yet wholly read */
	__u64 total_bytes;	/* payload bytes of every message accepted */
	__u64 total_msgs;	/* messages accepted */
};

struct vchan_info {
	__u32 session;
	__u32 flags;		/* VCHAN_F_* as created */
	__u32 uid;		/* of the node, in the caller's user namespace */
	__u32 gid;
	__u32 mode;
	__u32 session_open;	/* session ends open now */
	__u64 session_opens;	/* opens of the session end so far */
	__u64 session_closes;	/* last closes of a session end (hang-ups) */
	struct vchan_dir_info to_client;	/* written by the session end */
	struct vchan_dir_info to_session;	/* written by the client end */
	__u64 reserved[4];
	char name[VCHAN_NAME_MAX + 1];
};

/* VCHAN_IOC_PURGE argument: which directions to empty (either end may ask). */
#define VCHAN_PURGE_TO_CLIENT	0x1
#define VCHAN_PURGE_TO_SESSION	0x2

/* Read modes of one open file. */
#define VCHAN_READ_STREAM	0	/* plain read(): payload bytes */
#define VCHAN_READ_PDU		1	/* vchan_pdu_header + chunk per read */

struct vchan_read_mode {
	__u32 mode;		/* VCHAN_READ_* */
	__u32 chunk;		/* PDU payload bytes per read; 0: 1600 */
};

/* Header of every read in VCHAN_READ_PDU mode: Microsoft's CHANNEL_PDU_HEADER. */
struct vchan_pdu_header {
	__u32 length;		/* total length of the message */
	__u32 flags;		/* VCHAN_PDU_* */
};

#define VCHAN_PDU_FIRST		0x1
#define VCHAN_PDU_LAST		0x2

struct vchan_listen {
	__u32 session;
	__u32 uid;		/* owner of /dev/vchan/dynamic/<session> */
	__u32 gid;
	__u32 mode;		/* 0: 0600 */
	__u64 reserved[2];	/* must be 0 */
};

/* Priority and compression of a dynamic channel: WTS_CHANNEL_OPTION_DYNAMIC_*. */
#define VCHAN_DYN_PRI_LOW	0x0
#define VCHAN_DYN_PRI_MED	0x2
#define VCHAN_DYN_PRI_HIGH	0x4
#define VCHAN_DYN_PRI_REAL	0x6
#define VCHAN_DYN_NO_COMPRESS	0x8
#define VCHAN_DYN_FLAGS_ALL	0xe

struct vchan_dyn_open {
	__u32 flags;		/* VCHAN_DYN_* */
	__u32 timeout_ms;	/* 0: wait until answered */
	__u64 reserved[2];	/* must be 0 */
	char name[VCHAN_NAME_MAX + 1];	/* NUL terminated */
};

/* What the listener reads: one request. */
struct vchan_dyn_request {
	__u64 id;		/* for VCHAN_IOC_DYN_ACCEPT / _REJECT */
	__u32 flags;		/* VCHAN_DYN_* as asked */
	__u32 pid;		/* of the requester, in the listener's pid namespace */
	__u32 uid;		/* of the requester, in the listener's user namespace */
	__u32 reserved;
	char name[VCHAN_NAME_MAX + 1];
};

struct vchan_dyn_accept {
	__u64 id;
	__u32 ring_to_client;	/* as in struct vchan_create; 0: default */
	__u32 ring_to_session;
	__u64 reserved[2];	/* must be 0 */
};

struct vchan_dyn_reject {
	__u64 id;
	__s32 error;		/* positive errno for the requester; 0: ECONNREFUSED */
	__u32 reserved;		/* must be 0 */
};

#define VCHAN_IOC_MAGIC		0xB8

/* On /dev/vchan/control; returns the client-end fd. */
#define VCHAN_IOC_CREATE	_IOW(VCHAN_IOC_MAGIC, 0x40, struct vchan_create)
/* On either end of a channel. */
#define VCHAN_IOC_INFO		_IOR(VCHAN_IOC_MAGIC, 0x41, struct vchan_info)
#define VCHAN_IOC_PURGE		_IOW(VCHAN_IOC_MAGIC, 0x42, __u32)
#define VCHAN_IOC_SET_READ_MODE	_IOW(VCHAN_IOC_MAGIC, 0x43, struct vchan_read_mode)
#define VCHAN_IOC_GET_READ_MODE	_IOR(VCHAN_IOC_MAGIC, 0x44, struct vchan_read_mode)

/* On /dev/vchan/control; returns the listener fd. */
#define VCHAN_IOC_LISTEN	_IOW(VCHAN_IOC_MAGIC, 0x45, struct vchan_listen)
/* On /dev/vchan/dynamic/<session>; returns the session end's fd. */
#define VCHAN_IOC_DYN_OPEN	_IOW(VCHAN_IOC_MAGIC, 0x46, struct vchan_dyn_open)
/* On the listener fd; ACCEPT returns the client end's fd. */
#define VCHAN_IOC_DYN_ACCEPT	_IOW(VCHAN_IOC_MAGIC, 0x47, struct vchan_dyn_accept)
#define VCHAN_IOC_DYN_REJECT	_IOW(VCHAN_IOC_MAGIC, 0x48, struct vchan_dyn_reject)

#endif /* _UAPI_LINUX_VCHAN_H */
