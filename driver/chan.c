// SPDX-License-Identifier: GPL-2.0
/*
 * The two ends of a channel: file operations shared by the client end (an
 * anonymous file returned by VCHAN_IOC_CREATE) and the session end (the node
 * /dev/vchan/<session>/<name>), and the channel's device.
 */
#include <linux/anon_inodes.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/ioctls.h>

#include "compat.h"
#include "vchan_priv.h"

/* Offsets are ignored: a channel is a stream of messages. */
static ssize_t vchan_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct vchan_end *end = iocb->ki_filp->private_data;

	return vchan_dir_read(end->rx, iocb, to, READ_ONCE(end->pdu_chunk));
}

static ssize_t vchan_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct vchan_end *end = iocb->ki_filp->private_data;

	return vchan_dir_write(end->tx, iocb, from);
}

static __poll_t vchan_poll(struct file *file, poll_table *wait)
{
	struct vchan_end *end = file->private_data;

	poll_wait(file, &end->rx->rwait, wait);
	poll_wait(file, &end->tx->wwait, wait);
	return vchan_dir_poll_in(end->rx) | vchan_dir_poll_out(end->tx);
}

static long vchan_get_info(struct vchan_chan *chan, void __user *argp)
{
	struct vchan_info info;

	memset(&info, 0, sizeof(info));
	info.session = chan->session;
	info.flags = chan->flags;
	info.uid = from_kuid_munged(current_user_ns(), chan->uid);
	info.gid = from_kgid_munged(current_user_ns(), chan->gid);
	info.mode = chan->mode;
	strscpy(info.name, chan->name, sizeof(info.name));
	mutex_lock(&vchan_lock);
	info.session_open = chan->sess_open;
	info.session_opens = chan->sess_opens;
	info.session_closes = chan->sess_closes;
	mutex_unlock(&vchan_lock);
	vchan_dir_info(&chan->to_client, &info.to_client);
	vchan_dir_info(&chan->to_session, &info.to_session);
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long vchan_purge(struct vchan_chan *chan, u32 __user *argp)
{
	u32 dirs;

	if (get_user(dirs, argp))
		return -EFAULT;
	if (!dirs || (dirs & ~(VCHAN_PURGE_TO_CLIENT | VCHAN_PURGE_TO_SESSION)))
		return -EINVAL;
	if (dirs & VCHAN_PURGE_TO_CLIENT)
		vchan_dir_purge(&chan->to_client);
	if (dirs & VCHAN_PURGE_TO_SESSION)
		vchan_dir_purge(&chan->to_session);
	return 0;
}

static long vchan_set_read_mode(struct vchan_end *end, void __user *argp)
{
	struct vchan_read_mode rm;

	if (copy_from_user(&rm, argp, sizeof(rm)))
		return -EFAULT;
	switch (rm.mode) {
	case VCHAN_READ_STREAM:
		if (rm.chunk)
			return -EINVAL;
		break;
	case VCHAN_READ_PDU:
		if (!rm.chunk)
			rm.chunk = VCHAN_PDU_CHUNK_DEFAULT;
		if (rm.chunk > VCHAN_MSG_MAX)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	WRITE_ONCE(end->pdu_chunk, rm.chunk);
	return 0;
}

static long vchan_get_read_mode(struct vchan_end *end, void __user *argp)
{
	struct vchan_read_mode rm = { .chunk = READ_ONCE(end->pdu_chunk) };

	rm.mode = rm.chunk ? VCHAN_READ_PDU : VCHAN_READ_STREAM;
	return copy_to_user(argp, &rm, sizeof(rm)) ? -EFAULT : 0;
}

static long vchan_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vchan_end *end = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case FIONREAD:
		return put_user((int)vchan_dir_next_len(end->rx), (int __user *)argp);
	case VCHAN_IOC_INFO:
		return vchan_get_info(end->chan, argp);
	case VCHAN_IOC_PURGE:
		return vchan_purge(end->chan, argp);
	case VCHAN_IOC_SET_READ_MODE:
		return vchan_set_read_mode(end, argp);
	case VCHAN_IOC_GET_READ_MODE:
		return vchan_get_read_mode(end, argp);
	default:
		return -ENOTTY;
	}
}

/*
 * The last session end closing hangs up the client end's reads; for a
 * dynamic channel, which cannot be opened again, its writes too.
 */
static void vchan_session_close(struct vchan_chan *chan)
{
	mutex_lock(&vchan_lock);
	if (!--chan->sess_open) {
		chan->sess_closes++;
		vchan_dir_hangup(&chan->to_client, true, true);
		if (chan->unlisted)
			vchan_dir_hangup(&chan->to_session, false, true);
	}
	mutex_unlock(&vchan_lock);
}

static int vchan_release(struct inode *inode, struct file *file)
{
	struct vchan_end *end = file->private_data;
	struct vchan_chan *chan = end->chan;

	if (end->client)
		vchan_destroy(chan);
	else
		vchan_session_close(chan);
	kfree(end);
	put_device(&chan->dev);
	return 0;
}

static void vchan_end_init(struct vchan_end *end, struct file *file,
			   struct vchan_chan *chan, bool client)
{
	end->chan = chan;
	end->client = client;
	end->rx = client ? &chan->to_client : &chan->to_session;
	end->tx = client ? &chan->to_session : &chan->to_client;
	file->private_data = end;
	stream_open(file_inode(file), file);
	file->f_mode |= FMODE_NOWAIT;
}

/* A new anonymous file for one end of @chan; it holds a reference to it. */
struct file *vchan_end_file(struct vchan_chan *chan, bool client)
{
	struct vchan_end *end = kzalloc(sizeof(*end), GFP_KERNEL_ACCOUNT);
	struct file *file;

	if (!end)
		return ERR_PTR(-ENOMEM);
	file = anon_inode_getfile("[vchan]", &vchan_fops, end, O_RDWR);
	if (IS_ERR(file)) {
		kfree(end);
		return file;
	}
	get_device(&chan->dev);
	vchan_end_init(end, file, chan, client);
	return file;
}

/* Open of /dev/vchan/<session>/<name>: the session end. */
static int vchan_session_open(struct inode *inode, struct file *file)
{
	struct vchan_end *end;
	struct vchan_chan *chan;
	int ret = 0;

	end = kzalloc(sizeof(*end), GFP_KERNEL_ACCOUNT);
	if (!end)
		return -ENOMEM;

	mutex_lock(&vchan_lock);
	chan = vchan_get_by_minor(iminor(inode));
	if (!chan) {
		ret = -ENXIO;
	} else if (chan->sess_open && !(chan->flags & VCHAN_F_SHARED)) {
		ret = -EBUSY;
	} else {
		get_device(&chan->dev);
		if (!chan->sess_open++)
			vchan_dir_hangup(&chan->to_client, true, false);
		chan->sess_opens++;
	}
	mutex_unlock(&vchan_lock);
	if (ret) {
		kfree(end);
		return ret;
	}

	vchan_end_init(end, file, chan, false);
	return 0;
}

const struct file_operations vchan_fops = {
	.owner		= THIS_MODULE,
	.read_iter	= vchan_read_iter,
	.write_iter	= vchan_write_iter,
	.open		= vchan_session_open,
	.poll		= vchan_poll,
	.unlocked_ioctl	= vchan_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= vchan_release,
};

/* The node: /dev/vchan/<session>/<name>, with the owner and mode asked for. */
static char *vchan_chan_devnode(VCHAN_DEVNODE_CONST struct device *dev,
				umode_t *mode, kuid_t *uid, kgid_t *gid)
{
	const struct vchan_chan *chan = to_vchan(dev);

	vchan_node_owner(mode, uid, gid, chan->mode, chan->uid, chan->gid);
	return kasprintf(VCHAN_DEVNODE_GFP, "vchan/%u/%s", chan->session, chan->name);
}

static ssize_t session_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", to_vchan(dev)->session);
}
static DEVICE_ATTR_RO(session);

static ssize_t name_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", to_vchan(dev)->name);
}
static DEVICE_ATTR_RO(name);

static ssize_t flags_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "0x%x\n", to_vchan(dev)->flags);
}
static DEVICE_ATTR_RO(flags);

static ssize_t session_open_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_vchan(dev)->sess_open));
}
static DEVICE_ATTR_RO(session_open);

static ssize_t owner_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	const struct vchan_chan *chan = to_vchan(dev);

	return sysfs_emit(buf, "%u:%u\n", from_kuid(&init_user_ns, chan->uid),
			  from_kgid(&init_user_ns, chan->gid));
}
static DEVICE_ATTR_RO(owner);

static ssize_t mode_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%04o\n", to_vchan(dev)->mode);
}
static DEVICE_ATTR_RO(mode);

static struct attribute *vchan_chan_attrs[] = {
	&dev_attr_session.attr,
	&dev_attr_name.attr,
	&dev_attr_flags.attr,
	&dev_attr_session_open.attr,
	&dev_attr_owner.attr,
	&dev_attr_mode.attr,
	NULL
};

static const struct attribute_group vchan_chan_group = {
	.attrs = vchan_chan_attrs,
};

/* ch<minor>/to_client/ and ch<minor>/to_session/: the VCHAN_IOC_INFO counters. */
struct vchan_stat_attr {
	struct device_attribute attr;
	bool to_session;
};

static ssize_t stat_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	const struct vchan_stat_attr *sa = container_of(attr, struct vchan_stat_attr, attr);
	struct vchan_chan *chan = to_vchan(dev);
	const char *name = attr->attr.name;
	struct vchan_dir_info i;
	u64 val;

	vchan_dir_info(sa->to_session ? &chan->to_session : &chan->to_client, &i);
	if (!strcmp(name, "ring_size"))
		val = i.ring_size;
	else if (!strcmp(name, "queued_bytes"))
		val = i.queued_bytes;
	else if (!strcmp(name, "queued_msgs"))
		val = i.queued_msgs;
	else if (!strcmp(name, "total_bytes"))
		val = i.total_bytes;
	else
		val = i.total_msgs;
	return sysfs_emit(buf, "%llu\n", val);
}

#define VCHAN_STAT(ts, name) { __ATTR(name, 0444, stat_show, NULL), (ts) }

static struct vchan_stat_attr vchan_stats[] = {
	VCHAN_STAT(false, ring_size),
	VCHAN_STAT(false, queued_bytes),
	VCHAN_STAT(false, queued_msgs),
	VCHAN_STAT(false, total_bytes),
	VCHAN_STAT(false, total_msgs),
	VCHAN_STAT(true, ring_size),
	VCHAN_STAT(true, queued_bytes),
	VCHAN_STAT(true, queued_msgs),
	VCHAN_STAT(true, total_bytes),
	VCHAN_STAT(true, total_msgs),
};

static struct attribute *to_client_attrs[] = {
	&vchan_stats[0].attr.attr, &vchan_stats[1].attr.attr,
	&vchan_stats[2].attr.attr, &vchan_stats[3].attr.attr,
	&vchan_stats[4].attr.attr, NULL
};

static struct attribute *to_session_attrs[] = {
	&vchan_stats[5].attr.attr, &vchan_stats[6].attr.attr,
	&vchan_stats[7].attr.attr, &vchan_stats[8].attr.attr,
	&vchan_stats[9].attr.attr, NULL
};

static const struct attribute_group to_client_group = {
	.name = "to_client",
	.attrs = to_client_attrs,
};

static const struct attribute_group to_session_group = {
	.name = "to_session",
	.attrs = to_session_attrs,
};

static const struct attribute_group *vchan_chan_groups[] = {
	&vchan_chan_group,
	&to_client_group,
	&to_session_group,
	NULL
};

static void vchan_chan_release(struct device *dev)
{
	struct vchan_chan *chan = to_vchan(dev);

	vchan_dir_free(&chan->to_client);
	vchan_dir_free(&chan->to_session);
	kfree(chan);
}

const struct device_type vchan_chan_type = {
	.name		= "vchan_channel",
	.groups		= vchan_chan_groups,
	.devnode	= vchan_chan_devnode,
	.release	= vchan_chan_release,
};
