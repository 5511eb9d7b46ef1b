// SPDX-License-Identifier: GPL-2.0
/*
 * Dynamic channels: a session's listener and the requests it answers.
 *
 * VCHAN_IOC_LISTEN makes the daemon the listener of a session: it gets the
 * listener fd, and /dev/vchan/dynamic/<session> appears.  A program opens
 * that node and calls VCHAN_IOC_DYN_OPEN; its request (on its own stack)
 * goes on the listener's pending list, the daemon read()s it (it moves to
 * the waiting list) and answers it.  Whoever takes a request off the lists
 * answers it and completes it: the daemon (accept, reject), the listener's
 * release (ECONNREFUSED), or the requester itself when it gives up (timeout,
 * signal).  A requester that finds its request gone waits for that answer,
 * which comes without sleeping on anything else.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "compat.h"
#include "vchan_priv.h"

struct vchan_listener {
	struct device dev;	/* /dev/vchan/dynamic/<session>; the refcount */
	u32 session;
	u32 index;		/* minor - VCHAN_MINORS */
	kuid_t uid;
	kgid_t gid;
	umode_t mode;

	spinlock_t lock;	/* protects the fields below */
	bool dead;		/* the listener fd is closed */
	u64 next_id;
	struct list_head pending;	/* not yet read by the daemon */
	struct list_head waiting;	/* read, not yet answered */
	wait_queue_head_t wait;	/* the daemon's reads and polls */
};

struct vchan_dyn_req {
	struct list_head node;	/* on pending or waiting, under the lock */
	u64 id;
	u32 flags;
	struct pid *pid;
	kuid_t uid;
	char name[VCHAN_NAME_MAX + 1];
	struct completion done;
	int err;		/* the answer: 0 and file, or an errno */
	struct file *file;	/* the session end */
};

/* Listeners by index (their minor - VCHAN_MINORS), under vchan_lock. */
static DEFINE_XARRAY_ALLOC(vchan_listeners);

static struct vchan_listener *to_listener(struct device *dev)
{
	return container_of(dev, struct vchan_listener, dev);
}

/* Answer @r, which the caller took off the lists under l->lock. */
static void answer(struct vchan_dyn_req *r, int err, struct file *file)
{
	r->err = err;
	r->file = file;
	complete(&r->done);	/* @r may be gone after this */
}

static struct vchan_dyn_req *take(struct vchan_listener *l, u64 id)
{
	struct list_head *lists[] = { &l->waiting, &l->pending };
	struct vchan_dyn_req *r;
	unsigned int i;

	spin_lock(&l->lock);
	for (i = 0; i < ARRAY_SIZE(lists); i++)
		list_for_each_entry(r, lists[i], node)
			if (r->id == id) {
				list_del_init(&r->node);
				spin_unlock(&l->lock);
				return r;
			}
	spin_unlock(&l->lock);
	return NULL;
}

static long vchan_dyn_accept(struct vchan_listener *l, void __user *argp)
{
	struct vchan_dyn_accept a;
	struct vchan_create req;
	struct vchan_dyn_req *r;
	struct file *session;
	long fd;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.reserved[0] || a.reserved[1] || vchan_ring_size(&a.ring_to_client) ||
	    vchan_ring_size(&a.ring_to_session))
		return -EINVAL;
	r = take(l, a.id);
	if (!r)
		return -ENOENT;

	memset(&req, 0, sizeof(req));
	req.session = l->session;
	req.flags = VCHAN_F_DYNAMIC;
	req.ring_to_client = a.ring_to_client;
	req.ring_to_session = a.ring_to_session;
	req.mode = 0600;
	strscpy(req.name, r->name, sizeof(req.name));
	fd = vchan_new(&req, r->uid, l->gid, &session);
	answer(r, fd < 0 ? fd : 0, fd < 0 ? NULL : session);
	return fd;
}

static long vchan_dyn_reject(struct vchan_listener *l, void __user *argp)
{
	struct vchan_dyn_reject rj;
	struct vchan_dyn_req *r;

	if (copy_from_user(&rj, argp, sizeof(rj)))
		return -EFAULT;
	if (rj.reserved || rj.error < 0 || rj.error >= MAX_ERRNO)
		return -EINVAL;
	r = take(l, rj.id);
	if (!r)
		return -ENOENT;
	answer(r, rj.error ? -rj.error : -ECONNREFUSED, NULL);
	return 0;
}

static long vchan_listener_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct vchan_listener *l = file->private_data;

	switch (cmd) {
	case VCHAN_IOC_DYN_ACCEPT:
		return vchan_dyn_accept(l, (void __user *)arg);
	case VCHAN_IOC_DYN_REJECT:
		return vchan_dyn_reject(l, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static bool has_pending(struct vchan_listener *l)
{
	return !list_empty_careful(&l->pending);
}

/* One struct vchan_dyn_request per read. */
static ssize_t vchan_listener_read(struct file *file, char __user *buf,
				   size_t count, loff_t *ppos)
{
	struct vchan_listener *l = file->private_data;
	struct vchan_dyn_request rec;
	struct vchan_dyn_req *r;

	if (count < sizeof(rec))
		return -EINVAL;
	memset(&rec, 0, sizeof(rec));
	spin_lock(&l->lock);
	while (list_empty(&l->pending)) {
		spin_unlock(&l->lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(l->wait, has_pending(l)))
			return -ERESTARTSYS;
		spin_lock(&l->lock);
	}
	r = list_first_entry(&l->pending, struct vchan_dyn_req, node);
	rec.id = r->id;
	rec.flags = r->flags;
	rec.pid = pid_nr_ns(r->pid, task_active_pid_ns(current));
	rec.uid = from_kuid_munged(current_user_ns(), r->uid);
	strscpy(rec.name, r->name, sizeof(rec.name));
	list_move_tail(&r->node, &l->waiting);
	spin_unlock(&l->lock);

	if (!copy_to_user(buf, &rec, sizeof(rec)))
		return sizeof(rec);
	/* Not delivered: put it back first in line, if it is still there. */
	spin_lock(&l->lock);
	list_for_each_entry(r, &l->waiting, node)
		if (r->id == rec.id) {
			list_move(&r->node, &l->pending);
			break;
		}
	spin_unlock(&l->lock);
	return -EFAULT;
}

static __poll_t vchan_listener_poll(struct file *file, poll_table *wait)
{
	struct vchan_listener *l = file->private_data;

	poll_wait(file, &l->wait, wait);
	return has_pending(l) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The daemon is gone: its node goes, and every request is refused. */
static int vchan_listener_release(struct inode *inode, struct file *file)
{
	struct vchan_listener *l = file->private_data;
	struct vchan_dyn_req *r, *tmp;

	mutex_lock(&vchan_lock);
	xa_erase(&vchan_listeners, l->index);
	device_del(&l->dev);
	mutex_unlock(&vchan_lock);

	spin_lock(&l->lock);
	l->dead = true;
	list_splice_init(&l->waiting, &l->pending);
	list_for_each_entry_safe(r, tmp, &l->pending, node) {
		list_del_init(&r->node);
		answer(r, -ECONNREFUSED, NULL);
	}
	spin_unlock(&l->lock);
	put_device(&l->dev);
	return 0;
}

static const struct file_operations vchan_listener_fops = {
	.owner		= THIS_MODULE,
	.read		= vchan_listener_read,
	.poll		= vchan_listener_poll,
	.unlocked_ioctl	= vchan_listener_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= vchan_listener_release,
	.llseek		= noop_llseek,
};

static char *vchan_listener_devnode(VCHAN_DEVNODE_CONST struct device *dev,
				    umode_t *mode, kuid_t *uid, kgid_t *gid)
{
	const struct vchan_listener *l = container_of(dev, struct vchan_listener, dev);

	vchan_node_owner(mode, uid, gid, l->mode, l->uid, l->gid);
	return kasprintf(VCHAN_DEVNODE_GFP, "vchan/dynamic/%u", l->session);
}

static void vchan_listener_free(struct device *dev)
{
	kfree(to_listener(dev));
}

static const struct device_type vchan_listener_type = {
	.name		= "vchan_listener",
	.devnode	= vchan_listener_devnode,
	.release	= vchan_listener_free,
};

/* Called with vchan_lock held. */
static bool session_has_listener(u32 session)
{
	struct vchan_listener *l;
	unsigned long i;

	xa_for_each(&vchan_listeners, i, l)
		if (l->session == session)
			return true;
	return false;
}

/* Add the listener and its node, all or nothing.  Consumes @l on failure. */
static int vchan_listener_add(struct vchan_listener *l)
{
	int ret;

	mutex_lock(&vchan_lock);
	if (session_has_listener(l->session))
		ret = -EBUSY;
	else
		ret = xa_alloc(&vchan_listeners, &l->index, l,
			       XA_LIMIT(0, VCHAN_MINORS - 1), GFP_KERNEL);
	if (!ret) {
		l->dev.devt = MKDEV(MAJOR(vchan_devt), VCHAN_MINORS + l->index);
		ret = dev_set_name(&l->dev, "dyn%u", l->session);
		if (!ret)
			ret = device_add(&l->dev);
		if (ret)
			xa_erase(&vchan_listeners, l->index);
	}
	mutex_unlock(&vchan_lock);
	if (ret)
		put_device(&l->dev);
	return ret;
}

long vchan_listen(void __user *argp)
{
	struct vchan_listener *l;
	struct vchan_listen req;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.reserved[0] || req.reserved[1] || (req.mode & ~0777))
		return -EINVAL;
	l = kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);
	if (!l)
		return -ENOMEM;
	device_initialize(&l->dev);
	l->dev.class = &vchan_class;
	l->dev.type = &vchan_listener_type;
	l->session = req.session;
	l->mode = req.mode ?: 0600;
	l->uid = make_kuid(current_user_ns(), req.uid);
	l->gid = make_kgid(current_user_ns(), req.gid);
	spin_lock_init(&l->lock);
	INIT_LIST_HEAD(&l->pending);
	INIT_LIST_HEAD(&l->waiting);
	init_waitqueue_head(&l->wait);
	if (!uid_valid(l->uid) || !gid_valid(l->gid)) {
		put_device(&l->dev);
		return -EINVAL;
	}
	ret = vchan_listener_add(l);
	if (ret)
		return ret;

	fd = get_unused_fd_flags(O_CLOEXEC);
	file = fd < 0 ? ERR_PTR(fd) :
	       anon_inode_getfile("[vchan-listener]", &vchan_listener_fops, l, O_RDWR);
	if (IS_ERR(file)) {
		if (fd >= 0)
			put_unused_fd(fd);
		mutex_lock(&vchan_lock);
		xa_erase(&vchan_listeners, l->index);
		device_del(&l->dev);
		mutex_unlock(&vchan_lock);
		put_device(&l->dev);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
}

/* ---- /dev/vchan/dynamic/<session>: where programs ask ---- */

static int vchan_dyn_node_open(struct inode *inode, struct file *file)
{
	struct vchan_listener *l;

	mutex_lock(&vchan_lock);
	l = xa_load(&vchan_listeners, iminor(inode) - VCHAN_MINORS);
	if (l)
		get_device(&l->dev);
	mutex_unlock(&vchan_lock);
	if (!l)
		return -ENXIO;
	file->private_data = l;
	return nonseekable_open(inode, file);
}

static int vchan_dyn_node_release(struct inode *inode, struct file *file)
{
	struct vchan_listener *l = file->private_data;

	put_device(&l->dev);
	return 0;
}

/* Withdraw @r if nobody has taken it yet; else wait for its answer. */
static void withdraw(struct vchan_listener *l, struct vchan_dyn_req *r, int err)
{
	spin_lock(&l->lock);
	if (!list_empty(&r->node)) {
		list_del_init(&r->node);
		r->err = err;
		spin_unlock(&l->lock);
		return;
	}
	spin_unlock(&l->lock);
	wait_for_completion(&r->done);
}

static long vchan_dyn_request(struct vchan_listener *l, void __user *argp)
{
	struct vchan_dyn_open o;
	struct vchan_dyn_req r;
	long left;
	size_t len;
	int fd;

	if (copy_from_user(&o, argp, sizeof(o)))
		return -EFAULT;
	len = strnlen(o.name, sizeof(o.name));
	if (o.reserved[0] || o.reserved[1] || (o.flags & ~VCHAN_DYN_FLAGS_ALL) ||
	    len == sizeof(o.name) || !vchan_valid_name(o.name, len, true))
		return -EINVAL;

	memset(&r, 0, sizeof(r));
	INIT_LIST_HEAD(&r.node);
	init_completion(&r.done);
	r.flags = o.flags;
	r.uid = current_uid();
	strscpy(r.name, o.name, sizeof(r.name));
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;

	spin_lock(&l->lock);
	if (l->dead) {
		spin_unlock(&l->lock);
		put_unused_fd(fd);
		return -ECONNREFUSED;
	}
	r.pid = get_pid(task_tgid(current));
	r.id = ++l->next_id;
	list_add_tail(&r.node, &l->pending);
	spin_unlock(&l->lock);
	wake_up_interruptible_poll(&l->wait, EPOLLIN | EPOLLRDNORM);

	left = o.timeout_ms ? msecs_to_jiffies(o.timeout_ms) : MAX_SCHEDULE_TIMEOUT;
	left = wait_for_completion_interruptible_timeout(&r.done, left);
	if (left <= 0)
		withdraw(l, &r, left ? -EINTR : -ETIMEDOUT);
	put_pid(r.pid);
	if (r.err) {
		put_unused_fd(fd);
		return r.err;
	}
	fd_install(fd, r.file);
	return fd;
}

static long vchan_dyn_node_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	if (cmd == VCHAN_IOC_DYN_OPEN)
		return vchan_dyn_request(file->private_data, (void __user *)arg);
	return -ENOTTY;
}

const struct file_operations vchan_dyn_fops = {
	.owner		= THIS_MODULE,
	.open		= vchan_dyn_node_open,
	.release	= vchan_dyn_node_release,
	.unlocked_ioctl	= vchan_dyn_node_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
