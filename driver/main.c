// SPDX-License-Identifier: GPL-2.0
/*
 * vchan: Remote Desktop virtual channels as character devices.
 *
 * The module owns one character-device region.  Minor 0 is the control node
 * /dev/vchan/control; every channel takes one more minor for its session
 * node /dev/vchan/<session>/<name>; minors from VCHAN_MINORS on are the
 * dynamic-channel request nodes /dev/vchan/dynamic/<session> (dyn.c).  The
 * control node is a device of our own class rather than a misc device
 * because devtmpfs only gives a node a group through the device type's
 * devnode callback, and control_gid needs that.
 *
 * A channel is created by VCHAN_IOC_CREATE on the control node and lives as
 * long as its client end is open: the client end's reference is the
 * registry's.  Session ends hold references of their own, so a channel that
 * was destroyed stays in memory, unreachable, until they close.  Dynamic
 * channels (VCHAN_IOC_DYN_ACCEPT) are 'unlisted': no node, no name in the
 * registry, and closing either end hangs up the other.
 */
#include <linux/cdev.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "compat.h"
#include "vchan_priv.h"

static unsigned int max_channels = 4096;
module_param(max_channels, uint, 0644);
MODULE_PARM_DESC(max_channels, "Most channels that may exist at once (<= 65535)");

static unsigned int default_ring = 65536;
module_param(default_ring, uint, 0444);
MODULE_PARM_DESC(default_ring, "Ring size in bytes of each direction when none is asked for");

static unsigned int max_ring = 4U << 20;
module_param(max_ring, uint, 0444);
MODULE_PARM_DESC(max_ring, "Largest ring size in bytes that may be asked for");

unsigned int max_aio_requests = 16384;
module_param(max_aio_requests, uint, 0644);
MODULE_PARM_DESC(max_aio_requests, "Most io_submit() requests queued in each direction of a channel");

unsigned int max_aio_bytes = 1U << 30;
module_param(max_aio_bytes, uint, 0644);
MODULE_PARM_DESC(max_aio_bytes, "Most bytes of io_submit() requests queued in each direction of a channel");

static unsigned int control_mode = 0600;
module_param(control_mode, uint, 0444);
MODULE_PARM_DESC(control_mode, "Permission bits of /dev/vchan/control");

static unsigned int control_gid;
module_param(control_gid, uint, 0444);
MODULE_PARM_DESC(control_gid, "Group of /dev/vchan/control");

/*
 * vchan_lock protects the registry: vchan_minors, vchan_names, vchan_count,
 * vchan_created, the retired totals, and each channel's session-end counts.
 * Device nodes are added and deleted under it, so that a name or minor is
 * never reused before its node is gone.
 */
DEFINE_MUTEX(vchan_lock);
static DEFINE_XARRAY_ALLOC1(vchan_minors);	/* minor -> live channel */
static DEFINE_HASHTABLE(vchan_names, 10);	/* (session, name) -> channel */
static unsigned int vchan_count;
static u64 vchan_created;
static u64 retired_bytes[2], retired_msgs[2];	/* of destroyed channels */

dev_t vchan_devt;
static struct cdev vchan_control_cdev;	/* minor 0 */
static struct cdev vchan_chan_cdev;	/* 1..VCHAN_MINORS-1: session ends */
static struct cdev vchan_dyn_cdev;	/* VCHAN_MINORS + n: dynamic request nodes */
static struct device *vchan_control;

static u32 name_hash(u32 session, const char *name)
{
	return jhash(name, strlen(name), session);
}

/* Called with vchan_lock held. */
static struct vchan_chan *vchan_find(u32 session, const char *name)
{
	struct vchan_chan *chan;

	hash_for_each_possible(vchan_names, chan, hnode, name_hash(session, name))
		if (chan->session == session && !strcmp(chan->name, name))
			return chan;
	return NULL;
}

/* Called with vchan_lock held: the live channel of a session node, or NULL. */
struct vchan_chan *vchan_get_by_minor(unsigned int minor)
{
	lockdep_assert_held(&vchan_lock);
	return xa_load(&vchan_minors, minor);
}

static void vchan_unregister(struct vchan_chan *chan)
{
	lockdep_assert_held(&vchan_lock);
	if (!chan->unlisted) {
		hash_del(&chan->hnode);
		xa_erase(&vchan_minors, chan->minor);
	}
	vchan_count--;
	retired_bytes[0] += chan->to_client.total_bytes;
	retired_msgs[0] += chan->to_client.total_msgs;
	retired_bytes[1] += chan->to_session.total_bytes;
	retired_msgs[1] += chan->to_session.total_msgs;
}

/*
 * The client end is closed: the node goes away at once, session ends read
 * what is left and then EOF, and their writes fail with EPIPE.
 */
void vchan_destroy(struct vchan_chan *chan)
{
	mutex_lock(&vchan_lock);
	vchan_unregister(chan);
	if (!chan->unlisted)
		device_del(&chan->dev);
	mutex_unlock(&vchan_lock);
	vchan_dir_hangup(&chan->to_session, true, true);
	vchan_dir_hangup(&chan->to_client, false, true);
}

#define VCHAN_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

bool vchan_valid_name(const char *name, size_t len, bool dynamic)
{
	size_t i;

	if (!len || len > (dynamic ? VCHAN_NAME_MAX : VCHAN_STATIC_NAME_MAX))
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	/* ASCII only: the kernel's isalnum() takes Latin-1 letters too. */
	for (i = 0; i < len; i++)
		if (!name[i] || !strchr(VCHAN_NAME_CHARS, name[i]))
			return false;
	return true;
}

int vchan_ring_size(u32 *size)
{
	if (!*size)
		*size = default_ring;
	else if (*size < VCHAN_RING_MIN || *size > max_ring || !is_power_of_2(*size))
		return -EINVAL;
	return 0;
}

static int vchan_check_create(struct vchan_create *req, kuid_t *uid, kgid_t *gid)
{
	size_t len = strnlen(req->name, sizeof(req->name));
	unsigned int i;

	if (req->reserved0 || (req->flags & ~VCHAN_F_ALL))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(req->reserved); i++)
		if (req->reserved[i])
			return -EINVAL;
	if (len == sizeof(req->name) ||
	    !vchan_valid_name(req->name, len, req->flags & VCHAN_F_DYNAMIC))
		return -EINVAL;
	if (vchan_ring_size(&req->ring_to_client) ||
	    vchan_ring_size(&req->ring_to_session))
		return -EINVAL;
	if (req->mode & ~0777)
		return -EINVAL;
	if (!req->mode)
		req->mode = 0600;
	*uid = make_kuid(current_user_ns(), req->uid);
	*gid = make_kgid(current_user_ns(), req->gid);
	if (!uid_valid(*uid) || !gid_valid(*gid))
		return -EINVAL;
	return 0;
}

/* A channel with its rings; from here on put_device() frees it. */
static struct vchan_chan *vchan_alloc(const struct vchan_create *req,
				      kuid_t uid, kgid_t gid)
{
	struct vchan_chan *chan = kzalloc(sizeof(*chan), GFP_KERNEL_ACCOUNT);

	if (!chan)
		return NULL;
	device_initialize(&chan->dev);
	chan->dev.class = &vchan_class;
	chan->dev.type = &vchan_chan_type;
	chan->session = req->session;
	chan->flags = req->flags;
	chan->uid = uid;
	chan->gid = gid;
	chan->mode = req->mode;
	strscpy(chan->name, req->name, sizeof(chan->name));
	if (vchan_dir_init(&chan->to_client, &chan->dev, req->ring_to_client) ||
	    vchan_dir_init(&chan->to_session, &chan->dev, req->ring_to_session)) {
		put_device(&chan->dev);
		return NULL;
	}
	return chan;
}

/*
 * Make the channel visible: minor, name and node, all or nothing.  An
 * unlisted (dynamic) channel only counts against max_channels.
 */
static int vchan_register(struct vchan_chan *chan)
{
	u32 minor;
	int ret;

	mutex_lock(&vchan_lock);
	if (chan->unlisted)
		ret = vchan_count >= max_channels ? -ENOSPC : 0;
	else if (vchan_find(chan->session, chan->name))
		ret = -EEXIST;
	else if (vchan_count >= max_channels)
		ret = -ENOSPC;
	else
		ret = xa_alloc(&vchan_minors, &minor, chan,
			       XA_LIMIT(1, VCHAN_MINORS - 1), GFP_KERNEL);
	if (ret || chan->unlisted)
		goto unlock;

	chan->minor = minor;
	chan->dev.devt = MKDEV(MAJOR(vchan_devt), minor);
	ret = dev_set_name(&chan->dev, "ch%u", minor);
	if (!ret)
		ret = device_add(&chan->dev);
	if (ret) {
		xa_erase(&vchan_minors, minor);
		goto unlock;
	}
	hash_add(vchan_names, &chan->hnode, name_hash(chan->session, chan->name));
unlock:
	if (!ret) {
		vchan_count++;
		vchan_created++;
	}
	mutex_unlock(&vchan_lock);
	return ret == -EBUSY ? -ENOSPC : ret;	/* xa_alloc: no minor left */
}

/*
 * Create a channel and return its client end's fd.  With @session (dynamic
 * channels, which have no node), also return a file for its session end.
 */
long vchan_new(struct vchan_create *req, kuid_t uid, kgid_t gid,
	       struct file **session)
{
	struct vchan_chan *chan = vchan_alloc(req, uid, gid);
	struct file *file;
	int fd, ret;

	if (!chan)
		return -ENOMEM;
	chan->unlisted = session;
	ret = vchan_register(chan);
	if (ret) {
		put_device(&chan->dev);
		return ret;
	}
	file = vchan_end_file(chan, true);
	if (IS_ERR(file)) {
		vchan_destroy(chan);
		put_device(&chan->dev);
		return PTR_ERR(file);
	}
	put_device(&chan->dev);	/* the client end holds the channel now */

	if (session) {
		mutex_lock(&vchan_lock);
		chan->sess_open = 1;
		chan->sess_opens = 1;
		mutex_unlock(&vchan_lock);
		*session = vchan_end_file(chan, false);
		if (IS_ERR(*session)) {
			fput(file);	/* destroys the channel */
			return PTR_ERR(*session);
		}
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		fput(file);
		if (session)
			fput(*session);
		return fd;
	}
	fd_install(fd, file);
	return fd;
}

static long vchan_create(void __user *argp)
{
	struct vchan_create req;
	kuid_t uid;
	kgid_t gid;
	int ret;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	ret = vchan_check_create(&req, &uid, &gid);
	if (ret)
		return ret;
	return vchan_new(&req, uid, gid, NULL);
}

static long vchan_control_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	switch (cmd) {
	case VCHAN_IOC_CREATE:
		return vchan_create((void __user *)arg);
	case VCHAN_IOC_LISTEN:
		return vchan_listen((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vchan_control_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= vchan_control_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static char *vchan_control_devnode(VCHAN_DEVNODE_CONST struct device *dev,
				   umode_t *mode, kuid_t *uid, kgid_t *gid)
{
	vchan_node_owner(mode, uid, gid, control_mode, GLOBAL_ROOT_UID,
			 KGIDT_INIT(control_gid));
	return kstrdup("vchan/control", VCHAN_DEVNODE_GFP);
}

static void vchan_control_release(struct device *dev)
{
	kfree(dev);
}

static const struct device_type vchan_control_type = {
	.name		= "vchan_control",
	.devnode	= vchan_control_devnode,
	.release	= vchan_control_release,
};

static int vchan_control_add(void)
{
	struct device *dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	int ret;

	if (!dev)
		return -ENOMEM;
	device_initialize(dev);
	dev->class = &vchan_class;
	dev->type = &vchan_control_type;
	dev->devt = vchan_devt;
	ret = dev_set_name(dev, "control");
	if (!ret)
		ret = device_add(dev);
	if (ret) {
		put_device(dev);
		return ret;
	}
	vchan_control = dev;
	return 0;
}

/* Module-wide figures under /sys/class/vchan/. */
static ssize_t channels_show(VCHAN_CLASS_CONST struct class *class,
			     VCHAN_CLASS_CONST struct class_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(vchan_count));
}
static CLASS_ATTR_RO(channels);

static ssize_t created_show(VCHAN_CLASS_CONST struct class *class,
			    VCHAN_CLASS_CONST struct class_attribute *attr, char *buf)
{
	u64 n;

	mutex_lock(&vchan_lock);
	n = vchan_created;
	mutex_unlock(&vchan_lock);
	return sysfs_emit(buf, "%llu\n", n);
}
static CLASS_ATTR_RO(created);

/* Totals of messages and bytes accepted each way, destroyed channels included. */
static ssize_t totals_show(VCHAN_CLASS_CONST struct class *class,
			   VCHAN_CLASS_CONST struct class_attribute *attr, char *buf)
{
	u64 bytes[2], msgs[2];
	struct vchan_chan *chan;
	struct vchan_dir_info di;
	unsigned long minor;
	int i;

	mutex_lock(&vchan_lock);
	for (i = 0; i < 2; i++) {
		bytes[i] = retired_bytes[i];
		msgs[i] = retired_msgs[i];
	}
	xa_for_each(&vchan_minors, minor, chan) {
		vchan_dir_info(&chan->to_client, &di);
		bytes[0] += di.total_bytes;
		msgs[0] += di.total_msgs;
		vchan_dir_info(&chan->to_session, &di);
		bytes[1] += di.total_bytes;
		msgs[1] += di.total_msgs;
	}
	mutex_unlock(&vchan_lock);
	return sysfs_emit(buf, "to_client %llu bytes %llu msgs\nto_session %llu bytes %llu msgs\n",
			  bytes[0], msgs[0], bytes[1], msgs[1]);
}
static CLASS_ATTR_RO(totals);

static struct attribute *vchan_class_attrs[] = {
	&class_attr_channels.attr,
	&class_attr_created.attr,
	&class_attr_totals.attr,
	NULL
};
ATTRIBUTE_GROUPS(vchan_class);

struct class vchan_class = {
	.name		= "vchan",
	.class_groups	= vchan_class_groups,
};

static int __init vchan_init(void)
{
	int ret;

	if (!is_power_of_2(max_ring) || max_ring < VCHAN_RING_MIN ||
	    !is_power_of_2(default_ring) || default_ring < VCHAN_RING_MIN ||
	    default_ring > max_ring || (control_mode & ~0777) ||
	    max_channels >= VCHAN_MINORS)
		return -EINVAL;

	vchan_wq = alloc_workqueue("vchan", 0, 0);
	if (!vchan_wq)
		return -ENOMEM;
	ret = alloc_chrdev_region(&vchan_devt, 0, 2 * VCHAN_MINORS, "vchan");
	if (ret)
		goto unwq;
	cdev_init(&vchan_control_cdev, &vchan_control_fops);
	ret = cdev_add(&vchan_control_cdev, vchan_devt, 1);
	if (ret)
		goto unregion;
	cdev_init(&vchan_chan_cdev, &vchan_fops);
	ret = cdev_add(&vchan_chan_cdev, vchan_devt + 1, VCHAN_MINORS - 1);
	if (ret)
		goto uncontrol;
	cdev_init(&vchan_dyn_cdev, &vchan_dyn_fops);
	ret = cdev_add(&vchan_dyn_cdev, vchan_devt + VCHAN_MINORS, VCHAN_MINORS);
	if (ret)
		goto unchan;
	ret = class_register(&vchan_class);
	if (ret)
		goto uncdev;
	ret = vchan_control_add();
	if (ret)
		goto unclass;
	return 0;

unclass:
	class_unregister(&vchan_class);
uncdev:
	cdev_del(&vchan_dyn_cdev);
unchan:
	cdev_del(&vchan_chan_cdev);
uncontrol:
	cdev_del(&vchan_control_cdev);
unregion:
	unregister_chrdev_region(vchan_devt, 2 * VCHAN_MINORS);
unwq:
	destroy_workqueue(vchan_wq);
	return ret;
}

static void __exit vchan_exit(void)
{
	/* Cancel work may still hold the last reference to a channel. */
	destroy_workqueue(vchan_wq);
	device_unregister(vchan_control);
	class_unregister(&vchan_class);
	cdev_del(&vchan_dyn_cdev);
	cdev_del(&vchan_chan_cdev);
	cdev_del(&vchan_control_cdev);
	unregister_chrdev_region(vchan_devt, 2 * VCHAN_MINORS);
}

module_init(vchan_init);
module_exit(vchan_exit);
MODULE_DESCRIPTION("Remote Desktop virtual channels");
MODULE_LICENSE("GPL");
MODULE_VERSION(VCHAN_VERSION);
