/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vchan internals.
 *
 * A channel has two directions (struct vchan_dir): to_client, written by the
 * session end and read by the client end, and to_session the other way.
 * Each direction is a byte ring of a power-of-two size holding messages, each
 * a 4-byte length followed by the payload.  A message that is not in the
 * ring waits in the direction's write queue as a request (struct vchan_req)
 * carrying its pages, or, for a blocking writer streaming it, holding its
 * place until the writer copies it in from its own buffer; asynchronous
 * (io_submit) reads that cannot complete at once wait in the read queue with
 * their pinned buffer.  See dir.c.
 *
 * Locking (outermost first):
 *   vchan_lock      (main.c) the channel registry, channel counts, and each
 *                   channel's session-end open state.
 *   dir->lock       everything in struct vchan_dir and the queued requests.
 *                   Held while copying to or from user memory and while
 *                   pinning pages, as pipe->mutex is (a streaming writer
 *                   copies its message into the ring under it).
 *   aio ctx_lock    (fs/aio.c) taken by kiocb_set_cancel_fn() and ki_complete()
 *                   under dir->lock; the cancel callback, called under it,
 *                   takes no lock of ours.
 * An asynchronous request's result is posted (ki_complete) under dir->lock
 * when the request leaves its queue, so results reach the submitter's
 * completion ring in the order the requests end: posted after unlocking,
 * another thread's request completing at once could overtake it.  ki_complete
 * neither sleeps nor calls back into the driver.  Wake-ups, waking blocked
 * writers and freeing requests are done after dir->lock is dropped; a
 * streaming writer's request is its own, never touched by others once the
 * lock is dropped (they only wake swait, and it frees the request).  Wait
 * conditions and poll read the ring indices and flags with READ_ONCE, as
 * fs/pipe.c does.
 */
#ifndef _VCHAN_PRIV_H
#define _VCHAN_PRIV_H

#include <linux/bvec.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/vchan.h>

struct vchan_dir {
	struct device *dev;		/* the channel's */
	struct mutex lock;		/* see "Locking" above */
	wait_queue_head_t rwait;	/* blocking readers, pollers for EPOLLIN */
	wait_queue_head_t wwait;	/* pollers for EPOLLOUT */
	wait_queue_head_t swait;	/* streaming writers: see kick_stream() */

	u8 *buf;
	u32 size;		/* power of two */
	u32 head;		/* bytes ever written into the ring */
	u32 tail;		/* bytes ever consumed from the ring */

	struct list_head wq;	/* write requests, oldest first */
	struct list_head rq;	/* asynchronous read requests, oldest first */
	u32 nwq;		/* entries on wq */
	u32 naio;		/* asynchronous requests queued, both lists */
	u64 aio_bytes;		/* their bytes */

	/*
	 * The head of wq is 'started' once its length word is in the ring, at
	 * wr_start: wr_busy.  Its payload follows in the ring only when all of
	 * it fits; otherwise the reader takes it straight from the request's
	 * pages once it reaches it: direct.
	 */
	bool wr_busy;
	bool direct;
	u32 wr_start;

	/* The message being read. */
	bool rd_busy;		/* its length word has been consumed */
	u32 rd_total;		/* its length */
	u32 rd_left;		/* its payload bytes not yet read */

	/* What the current locked section did to the ring: see dir_unlock(). */
	bool filled;		/* bytes went in, or a write queued */
	bool drained;		/* bytes were read or taken back */
	bool kicked;		/* a streaming writer was kicked: wake swait */

	bool wgone;		/* no writer: reads return 0 when empty */
	bool rgone;		/* no reader: writes fail with EPIPE */

	u64 queued_bytes;
	u64 queued_msgs;
	u64 total_bytes;
	u64 total_msgs;
};

enum vchan_req_kind {
	VCHAN_REQ_SYNC,		/* a blocking write(): its caller waits on done, or streams */
	VCHAN_REQ_AIO,		/* io_submit(): completes through ki_complete */
	VCHAN_REQ_BEHIND,	/* the kernel's copy of a message already reported written */
};

struct vchan_req {
	struct list_head node;	/* on d->wq or d->rq, then on a done list */
	struct vchan_dir *d;
	enum vchan_req_kind kind;
	bool is_read;
	bool queued;		/* on d->wq or d->rq; under d->lock */
	bool started;		/* write: its length word is in the ring */
	bool cancelled;		/* aio cancel asked for it; READ_ONCE */
	/*
	 * A streaming write (VCHAN_REQ_SYNC, no pages): its writer copies the
	 * message into the ring itself, from its own buffer, once it fits; it
	 * is never started nor on a done list.  waiting: under d->lock, its
	 * writer sleeps on d->swait until kick is set (READ_ONCE, by
	 * kick_stream()).
	 */
	bool stream;
	bool waiting;
	bool kick;
	struct kiocb *iocb;	/* VCHAN_REQ_AIO */
	refcount_t ref;
	struct completion done;	/* VCHAN_REQ_SYNC */
	struct work_struct cancel_work;

	struct bio_vec *bv;	/* the pages */
	unsigned int nr;
	unsigned int idx;	/* write: where the rest of the message starts */
	size_t off;
	struct iov_iter iter;	/* read: the buffer */
	size_t len;		/* write: message length; read: buffer size */
	size_t left;		/* write: bytes not yet in the ring or read */
	u32 pdu_chunk;		/* read */
	ssize_t res;
};

struct vchan_chan {
	struct device dev;	/* holds the reference count */
	struct hlist_node hnode;	/* in the name hash, under vchan_lock */
	unsigned int minor;
	u32 session;
	u32 flags;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;

	bool unlisted;		/* dynamic: no node, not in the registry */

	/* Under vchan_lock. */
	unsigned int sess_open;
	u64 sess_opens;
	u64 sess_closes;

	struct vchan_dir to_client;
	struct vchan_dir to_session;
	char name[VCHAN_NAME_MAX + 1];
};

/* One open file of a channel: the client end or a session end. */
struct vchan_end {
	struct vchan_chan *chan;
	struct vchan_dir *rx;	/* read by this end */
	struct vchan_dir *tx;	/* written by this end */
	bool client;
	u32 pdu_chunk;		/* 0: plain reads; else PDU mode. READ_ONCE */
};

/*
 * devnode callbacks allocate the node's name with this: they must not fail,
 * or devtmpfs would silently make the node under the device's own name
 * ("ch5") and later, asking again, fail to delete it.
 */
#define VCHAN_DEVNODE_GFP	(GFP_KERNEL | __GFP_NOFAIL)

/* For devnode callbacks: the node's owner and mode, where devtmpfs asks. */
static inline void vchan_node_owner(umode_t *mode, kuid_t *uid, kgid_t *gid,
				    umode_t m, kuid_t u, kgid_t g)
{
	if (mode)
		*mode = m;
	if (uid)
		*uid = u;
	if (gid)
		*gid = g;
}

static inline struct vchan_chan *to_vchan(const struct device *dev)
{
	return container_of(dev, struct vchan_chan, dev);
}

/* dir.c */
int vchan_dir_init(struct vchan_dir *d, struct device *dev, u32 size);
void vchan_dir_free(struct vchan_dir *d);
ssize_t vchan_dir_write(struct vchan_dir *d, struct kiocb *iocb, struct iov_iter *from);
ssize_t vchan_dir_read(struct vchan_dir *d, struct kiocb *iocb, struct iov_iter *to,
		       u32 pdu_chunk);
__poll_t vchan_dir_poll_in(struct vchan_dir *d);
__poll_t vchan_dir_poll_out(struct vchan_dir *d);
u32 vchan_dir_next_len(struct vchan_dir *d);
void vchan_dir_purge(struct vchan_dir *d);
void vchan_dir_hangup(struct vchan_dir *d, bool writer, bool gone);
void vchan_dir_info(struct vchan_dir *d, struct vchan_dir_info *info);
void vchan_dir_cancel(struct vchan_dir *d, struct vchan_req *r);

/* req.c */
extern struct workqueue_struct *vchan_wq;
struct vchan_req *vchan_req_alloc(struct vchan_dir *d, enum vchan_req_kind kind,
				  struct kiocb *iocb, size_t len);
void vchan_req_put(struct vchan_req *r);
int vchan_req_pin(struct vchan_req *r, struct iov_iter *it);
int vchan_req_copy(struct vchan_req *r, struct iov_iter *from);
size_t vchan_req_to_iter(struct vchan_req *r, size_t n, struct iov_iter *to);
void vchan_req_to_buf(struct vchan_req *r,
		      void (*put)(void *ctx, const void *src, u32 n), void *ctx);
void vchan_req_post(struct vchan_req *r);
void vchan_req_complete_all(struct list_head *done);
void vchan_req_set_cancel(struct vchan_req *r);

/* chan.c */
extern const struct file_operations vchan_fops;
extern const struct device_type vchan_chan_type;
struct file *vchan_end_file(struct vchan_chan *chan, bool client);

/* dyn.c */
extern const struct file_operations vchan_dyn_fops;
long vchan_listen(void __user *argp);

/* main.c */
#define VCHAN_MINORS	65536
extern struct mutex vchan_lock;
extern struct class vchan_class;
extern dev_t vchan_devt;
bool vchan_valid_name(const char *name, size_t len, bool dynamic);
int vchan_ring_size(u32 *size);
long vchan_new(struct vchan_create *req, kuid_t uid, kgid_t gid,
	       struct file **session);
extern unsigned int max_aio_requests;
extern unsigned int max_aio_bytes;
struct vchan_chan *vchan_get_by_minor(unsigned int minor);
void vchan_destroy(struct vchan_chan *chan);

#endif /* _VCHAN_PRIV_H */
