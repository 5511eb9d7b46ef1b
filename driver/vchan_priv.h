/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vchan internals.
 *
 * A channel has two directions (struct vchan_dir): to_client, written by the
 * session end and read by the client end, and to_session the other way.
 * Each direction is a byte ring of a power-of-two size holding messages, each
 * a 4-byte length followed by the payload.  A message larger than the free
 * space streams through the ring: the reader may consume its start while the
 * writer still copies the rest in.
 *
 * Locking (outermost first):
 *   vchan_lock      (main.c) the channel registry, channel counts, and each
 *                   channel's session-end open state.
 *   dir->wlock      held by a blocking writer for the whole of its message,
 *                   so that messages never interleave and writers queue in
 *                   order.  Never held by a reader.
 *   dir->lock       everything else in struct vchan_dir.  Held while copying
 *                   to or from user memory, as pipe->mutex is.
 * Wake-ups are done after dir->lock is dropped.  Wait conditions read the
 * ring indices and flags with READ_ONCE, as fs/pipe.c does.
 */
#ifndef _VCHAN_PRIV_H
#define _VCHAN_PRIV_H

#include <linux/device.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/vchan.h>

struct vchan_dir {
	struct mutex wlock;		/* see "Locking" above */
	struct mutex lock;		/* see "Locking" above */
	wait_queue_head_t rwait;	/* readers, and pollers for EPOLLIN */
	wait_queue_head_t wwait;	/* writers, and pollers for EPOLLOUT */

	u8 *buf;
	u32 size;		/* power of two */
	u32 head;		/* bytes ever written into the ring */
	u32 tail;		/* bytes ever consumed from the ring */

	/* The message being written: see vchan_dir_write(). */
	bool wr_busy;		/* a message is in progress */
	u32 wr_start;		/* ring position of its length word */
	u32 wr_left;		/* its payload bytes not yet in the ring */
	u32 wr_need;		/* free space a sleeping writer waits for */
	u8 *wb_buf;		/* write-behind: the rest of that message */
	u32 wb_len;
	u32 wb_off;

	/* The message being read. */
	bool rd_busy;		/* its length word has been consumed */
	u32 rd_total;		/* its length */
	u32 rd_left;		/* its payload bytes not yet read */

	bool wgone;		/* no writer: reads return 0 when empty */
	bool rgone;		/* no reader: writes fail with EPIPE */

	u64 queued_bytes;
	u64 queued_msgs;
	u64 total_bytes;
	u64 total_msgs;
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

static inline struct vchan_chan *to_vchan(const struct device *dev)
{
	return container_of(dev, struct vchan_chan, dev);
}

/* dir.c */
int vchan_dir_init(struct vchan_dir *d, u32 size);
void vchan_dir_free(struct vchan_dir *d);
ssize_t vchan_dir_write(struct vchan_dir *d, struct iov_iter *from, bool nonblock);
ssize_t vchan_dir_read(struct vchan_dir *d, struct iov_iter *to, u32 pdu_chunk,
		       bool nonblock);
__poll_t vchan_dir_poll_in(struct vchan_dir *d);
__poll_t vchan_dir_poll_out(struct vchan_dir *d);
u32 vchan_dir_next_len(struct vchan_dir *d);
void vchan_dir_purge(struct vchan_dir *d);
void vchan_dir_hangup(struct vchan_dir *d, bool writer, bool gone);
void vchan_dir_info(struct vchan_dir *d, struct vchan_dir_info *info);

/* chan.c */
extern const struct file_operations vchan_fops;
extern const struct device_type vchan_chan_type;
int vchan_session_open(struct inode *inode, struct file *file);

/* main.c */
extern struct mutex vchan_lock;
struct vchan_chan *vchan_get_by_minor(unsigned int minor);
void vchan_destroy(struct vchan_chan *chan);

#endif /* _VCHAN_PRIV_H */
