/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvchan internals shared by the source files.
 *
 * Locks, outermost first (never take an earlier one while holding a later):
 *   vc_reap_lock   (aio.c)    serialises taking events off the ring and
 *                             routing them
 *   file->lock     (file.c)   a file's list of pending requests
 *   vc_sync_lock   (wait.c)   events, APC queues, waits, request states
 *   table lock     (handle.c) the handle table (a leaf)
 */
#ifndef VCHAN_INTERNAL_H
#define VCHAN_INTERNAL_H

#include <vchan/winbase.h>
#include <vchan/pchannel.h>
#include <vchan/wtsapi32.h>
#include <vchan/vchan.h>

#include <libaio.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/uio.h>

#define VC_EXPORT	__attribute__((visibility("default")))
#define VC_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define vc_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---- lasterror.c ---- */
/* Set the calling thread's last error; return FALSE / NULL / WAIT_FAILED. */
BOOL vc_fail(DWORD err);
void *vc_fail_null(DWORD err);
DWORD vc_fail_wait(DWORD err);

/* ---- errors.c: the one errno -> Windows table ---- */
enum vc_op {
	VC_OP_READ,	/* a read request's result */
	VC_OP_WRITE,	/* a write request's result */
	VC_OP_SUBMIT,	/* io_submit() itself */
	VC_OP_OPEN,	/* open() of a channel node */
	VC_OP_OTHER,
};
DWORD vc_errno_to_win(int err, enum vc_op op);
/* TRUE if a request that ended with -err at once failed "synchronously":
 * the ...Ex call then returns FALSE and queues nothing. */
bool vc_errno_is_sync(int err);
DWORD vc_win_to_status(DWORD win);	/* for OVERLAPPED.Internal */
DWORD vc_status_to_win(DWORD status);

/* ---- handle.c: objects and the handle table ---- */
enum vc_type {
	VC_T_ANY = 0,
	VC_T_EVENT,
	VC_T_FILE,
	VC_T_THREAD,
	VC_T_WTS,
};

struct vc_object {
	enum vc_type type;
	int refs;			/* atomic */
	int handles;			/* atomic: table slots naming it */
	void (*last_handle)(struct vc_object *);	/* may be NULL */
	void (*destroy)(struct vc_object *);
};

#define VC_HANDLE_PROTECTED	0x1	/* CloseHandle refuses it */

void vc_object_init(struct vc_object *o, enum vc_type type,
		    void (*last_handle)(struct vc_object *),
		    void (*destroy)(struct vc_object *));
void vc_object_get(struct vc_object *o);
void vc_object_put(struct vc_object *o);
/* A new handle naming o (takes a reference); NULL with the last error set. */
HANDLE vc_handle_new(struct vc_object *o, unsigned int flags);
/* The object h names with a reference, if it is of 'type' (VC_T_ANY: any);
 * NULL with ERROR_INVALID_HANDLE set otherwise. */
struct vc_object *vc_handle_ref(HANDLE h, enum vc_type type);
/* Close h if it names an object of 'type'; protected handles only with
 * 'force'.  Returns 0 or ERROR_INVALID_HANDLE. */
DWORD vc_handle_close(HANDLE h, enum vc_type type, bool force);
/* Slot flags of h (0 if not open). */
unsigned int vc_handle_flags(HANDLE h);
/* fork(): hold the table lock across it (the child releases it too). */
void vc_handle_atfork_prepare(void);
void vc_handle_atfork_parent(void);

#define VC_PSEUDO_PROCESS	((HANDLE)(LONG_PTR)-1)
#define VC_PSEUDO_THREAD	((HANDLE)(LONG_PTR)-2)

/* ---- thread.c: per-thread state and APC queues ---- */
struct vc_apc {
	struct vc_apc *next;
	/* Runs (discard false) or frees (discard true, the thread exited). */
	void (*fn)(struct vc_apc *apc, bool discard);
};

struct vc_thread {
	struct vc_object obj;		/* VC_T_THREAD */
	pthread_cond_t cond;		/* signalled under vc_sync_lock */
	struct vc_apc *apc_head;	/* under vc_sync_lock */
	struct vc_apc **apc_tail;
	bool dead;			/* under vc_sync_lock */
	/* lead.c, under vc_sync_lock */
	bool woken;			/* vc_thread_wake_locked since it slept */
	bool polling;			/* the leader: in poll() on the eventfd */
	int kick_fd;			/* eventfd waking it in poll(), or -1 */
	struct vc_thread *fnext, *fprev;	/* followers (sleeping) */
	pid_t tid;
};

/* The calling thread's state, NULL if it has none yet. */
extern __thread struct vc_thread *vc_self;
/* The calling thread's state (created on first use); NULL on ENOMEM. */
struct vc_thread *vc_thread_self(void);
/* Queue apc to t and wake it; false if t has exited.  vc_sync_lock held. */
bool vc_thread_queue_apc_locked(struct vc_thread *t, struct vc_apc *apc);
/* Run every APC queued to t (the calling thread); vc_sync_lock held on
 * entry and exit, dropped around each routine.  Returns how many ran. */
unsigned int vc_thread_run_apcs_locked(struct vc_thread *t);
/* The thread object named by a thread handle or GetCurrentThread(), with a
 * reference; NULL with the last error set. */
struct vc_thread *vc_thread_from_handle(HANDLE h);

/* ---- wait.c: the one wait loop ---- */
extern pthread_mutex_t vc_sync_lock;

struct vc_waiter {
	struct vc_waiter *next, *prev;
	struct vc_thread *thread;
};

struct vc_waitq {
	struct vc_waiter head;		/* circular list, under vc_sync_lock */
};

void vc_waitq_init(struct vc_waitq *q);
void vc_waitq_wake_locked(struct vc_waitq *q);
/* Waiters for any OVERLAPPED completion (GetOverlappedResult). */
extern struct vc_waitq vc_io_waitq;

struct vc_event;

/*
 * Wait with vc_sync_lock held.  Objects: n events, any or all.  pred: an
 * extra condition (checked under the lock; woken through vc_io_waitq).
 * Returns WAIT_OBJECT_0 + i, WAIT_TIMEOUT or WAIT_IO_COMPLETION (after
 * running the thread's APCs).
 */
DWORD vc_wait_locked(struct vc_thread *self, struct vc_event **evs, DWORD n,
		     bool all, DWORD ms, bool alertable,
		     bool (*pred)(void *), void *arg);
/* A timed wait on self->cond; returns false once the deadline passed. */
bool vc_cond_wait_until(struct vc_thread *self, const struct timespec *deadline);
void vc_deadline(struct timespec *ts, DWORD ms);

/* ---- lead.c: who reaps (the waiting threads, else the reaper) ---- */
/* Wake t: it returns from vc_thread_sleep_locked.  vc_sync_lock held. */
void vc_thread_wake_locked(struct vc_thread *t);
/*
 * Sleep until vc_thread_wake_locked(self) or the deadline (NULL: none),
 * taking and routing completions meanwhile if no other thread does.
 * vc_sync_lock held on entry and exit (dropped inside).  Returns false if
 * the deadline passed without a wake.  The caller looks at its condition
 * again after each return and calls vc_thread_sleep_done_locked once its
 * wait is over.
 */
bool vc_thread_sleep_locked(struct vc_thread *self,
			    const struct timespec *deadline);
/* The wait of self is over: hand the reaping role on.  vc_sync_lock held. */
void vc_thread_sleep_done_locked(struct vc_thread *self);
/* Requests are in flight and nobody may be reaping: have the reaper watch
 * (urgent: poll at once, for VC_REQ_OVERLAPPED).  vc_sync_lock held. */
void vc_reaper_poke_locked(bool urgent);
/* True if the reaper has nothing to watch (a lockless hint). */
bool vc_reaper_idle(void);
/* Start the reaper thread on the context's eventfd; 0 or an errno. */
int vc_reaper_start(int efd);
void vc_lead_atfork_child(void);

/* ---- ring.c: the completion ring in user space (vc_reap_lock held) ---- */
/* True if ctx's ring can be read here (else vc_ring_take uses
 * io_getevents and vc_ring_empty always says false). */
bool vc_ring_readable(io_context_t ctx);
/* True if ctx's ring holds no event (no system call). */
bool vc_ring_empty(io_context_t ctx);
/* Take up to max events off ctx's ring; returns how many. */
unsigned int vc_ring_take(io_context_t ctx, struct io_event *evs,
			  unsigned int max);

/* ---- event.c ---- */
struct vc_event {
	struct vc_object obj;		/* VC_T_EVENT */
	bool manual;
	bool signaled;			/* under vc_sync_lock */
	struct vc_waitq q;
};
void vc_event_set_locked(struct vc_event *ev);
static inline struct vc_event *vc_event_of(struct vc_object *o)
{
	return vc_container_of(o, struct vc_event, obj);
}

/* ---- file.c / aio.c: files and requests ---- */
enum vc_file_kind {
	VC_FILE_PLAIN,		/* any aio-capable fd: bytes */
	VC_FILE_MESSAGES,	/* channel end in PDU mode, chunk = max: one
				 * message per read, ERROR_MORE_DATA */
	VC_FILE_PDUS,		/* dynamic channel's session end in PDU mode,
				 * chunk = CHANNEL_CHUNK_LENGTH: the caller's
				 * buffer gets CHANNEL_PDU_HEADER + chunk */
};

struct vc_req;

struct vc_file {
	struct vc_object obj;		/* VC_T_FILE */
	int fd;
	enum vc_file_kind kind;
	bool seekable;
	pthread_mutex_t lock;
	bool closed;			/* last handle closed (under lock) */
	struct vc_req *pending;		/* submitted, not yet routed */
};

static inline struct vc_file *vc_file_of(struct vc_object *o)
{
	return vc_container_of(o, struct vc_file, obj);
}

/* A file object for fd (owned); NULL with errno set. */
struct vc_file *vc_file_new(int fd, enum vc_file_kind kind);

enum vc_req_kind {
	VC_REQ_SYNC,		/* the issuer waits for it */
	VC_REQ_OVERLAPPED,	/* ReadFile/WriteFile with an OVERLAPPED */
	VC_REQ_EX,		/* ReadFileEx/WriteFileEx: completion routine */
};

struct vc_req {
	struct vc_apc apc;		/* VC_REQ_EX: queued to the thread */
	struct vc_req *next, *prev;	/* file->pending */
	struct iocb cb;
	struct iovec iov[2];
	struct vchan_pdu_header hdr;	/* VC_FILE_MESSAGES reads */
	struct vc_file *file;		/* reference */
	struct vc_thread *thread;	/* issuer, reference */
	enum vc_req_kind kind;
	bool is_write;
	bool framed;			/* iov[0] is hdr */
	DWORD len;			/* bytes asked for */
	LPOVERLAPPED ov;
	LPOVERLAPPED_COMPLETION_ROUTINE routine;
	struct vc_event *event;		/* VC_REQ_OVERLAPPED hEvent, reference */
	/* under vc_reap_lock */
	bool submitting;		/* io_submit and its harvest not over */
	bool completed;			/* the kernel's result is in res */
	long res;
	/* under file->lock */
	bool linked;
	bool cancel;			/* cancel asked for while submitting */
	/* results, under vc_sync_lock for VC_REQ_SYNC */
	bool done;
	DWORD err;
	DWORD bytes;
};

/* Allocate a request for file (reference taken) issued by the caller. */
struct vc_req *vc_req_new(struct vc_file *file, struct vc_thread *self,
			  enum vc_req_kind kind, bool is_write, void *buf,
			  DWORD len, long long offset);
void vc_req_free(struct vc_req *req);
/*
 * Submit req.  Returns 0 when the request was accepted (it may be finished
 * already: for VC_REQ_OVERLAPPED and VC_REQ_EX the caller must not touch req
 * again), or the Windows error of a synchronous failure (req not submitted
 * or failed at once with nothing queued; the caller frees it).
 */
DWORD vc_aio_submit(struct vc_req *req);
/* Take and route every completion on the ring (takes vc_reap_lock; call
 * without file->lock and vc_sync_lock).  Costs no system call. */
void vc_aio_reap(void);
/* vc_aio_reap() if the ring holds something; with vc_sync_lock held, it is
 * dropped around the reaping. */
void vc_aio_reap_if_any(bool sync_locked);
/* True if the ring holds no event (lockless, no system call); false
 * also when it cannot tell (see vc_ring_readable). */
bool vc_aio_ring_empty(void);
/* True if the ring can be looked at in user space. */
bool vc_aio_ring_readable(void);
/* The context's eventfd, or -1 before the context exists. */
int vc_aio_efd(void);
/* Requests submitted and not yet routed; of them VC_REQ_OVERLAPPED. */
unsigned int vc_aio_inflight(void);
unsigned int vc_aio_unattended(void);
/* Ask the kernel to cancel req (file->lock held, req linked). */
void vc_aio_cancel_locked(struct vc_req *req);
/* Wait for a VC_REQ_SYNC request; ms INFINITE or a timeout after which it
 * is cancelled (and then waited for).  Returns true if it was cancelled
 * because of the timeout. */
bool vc_req_wait_sync(struct vc_req *req, DWORD ms);

/* ---- file.c helpers for wts.c ---- */
/* A synchronous read or write through the aio path.  Returns 0 or the
 * Windows error; *bytes set.  ms: read timeout (INFINITE: none). */
DWORD vc_file_sync_io(struct vc_file *f, bool is_write, void *buf, DWORD len,
		      DWORD ms, DWORD *bytes);
/* Cancel pending requests matching thread / ov (NULL: any).  Returns how
 * many were found. */
unsigned int vc_file_cancel(struct vc_file *f, struct vc_thread *thread,
			    LPOVERLAPPED ov);

#endif /* VCHAN_INTERNAL_H */
