// SPDX-License-Identifier: LGPL-2.1-or-later
/* The native API of <vchan/vchan.h>: plain calls with -errno returns. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

VC_EXPORT int vchan_control_open(void)
{
	int fd = open(VCHAN_CONTROL_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

VC_EXPORT int vchan_channel_create(int control_fd, uint32_t session,
				   const char *name, uint32_t flags,
				   const struct vchan_channel_opts *opts)
{
	struct vchan_create c;
	size_t len;
	int r;

	if (!name)
		return -EINVAL;
	len = strnlen(name, VCHAN_NAME_MAX + 1);
	if (len > VCHAN_NAME_MAX)
		return -ENAMETOOLONG;
	memset(&c, 0, sizeof(c));
	c.session = session;
	c.flags = flags;
	if (opts) {
		c.ring_to_client = opts->ring_to_client;
		c.ring_to_session = opts->ring_to_session;
		c.uid = opts->uid;
		c.gid = opts->gid;
		c.mode = opts->mode;
	}
	memcpy(c.name, name, len);
	r = ioctl(control_fd, VCHAN_IOC_CREATE, &c);
	return r < 0 ? -errno : r;
}

VC_EXPORT int vchan_channel_path(char *buf, size_t len, uint32_t session,
				 const char *name)
{
	int n;

	if (!name || !buf)
		return -EINVAL;
	n = snprintf(buf, len, VCHAN_DEV_ROOT "/%u/%s", session, name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

VC_EXPORT ssize_t vchan_message_write(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static ssize_t vc_read_retry(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

VC_EXPORT ssize_t vchan_message_read(int fd, void *buf, size_t len)
{
	return vc_read_retry(fd, buf, len);
}

VC_EXPORT ssize_t vchan_pdu_read(int fd, void *buf, size_t len)
{
	return vc_read_retry(fd, buf, len);
}

VC_EXPORT ssize_t vchan_message_pending(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) < 0 ? -errno : n;
}

VC_EXPORT int vchan_read_mode_set(int fd, uint32_t mode, uint32_t chunk)
{
	struct vchan_read_mode m = { .mode = mode, .chunk = chunk };

	return ioctl(fd, VCHAN_IOC_SET_READ_MODE, &m) < 0 ? -errno : 0;
}

VC_EXPORT int vchan_read_mode_get(int fd, uint32_t *mode, uint32_t *chunk)
{
	struct vchan_read_mode m;

	if (ioctl(fd, VCHAN_IOC_GET_READ_MODE, &m) < 0)
		return -errno;
	if (mode)
		*mode = m.mode;
	if (chunk)
		*chunk = m.chunk;
	return 0;
}

VC_EXPORT int vchan_channel_info(int fd, struct vchan_info *info)
{
	if (!info)
		return -EINVAL;
	return ioctl(fd, VCHAN_IOC_INFO, info) < 0 ? -errno : 0;
}

VC_EXPORT int vchan_channel_purge(int fd, uint32_t dirs)
{
	__u32 d = dirs;

	return ioctl(fd, VCHAN_IOC_PURGE, &d) < 0 ? -errno : 0;
}

/* A decimal session id 0..0xFFFFFFFE (0xFFFFFFFF is WTS_CURRENT_SESSION). */
static int vc_parse_session(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	while (*end == '\n')
		end++;
	if (errno || *end || v >= 0xFFFFFFFFull)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

VC_EXPORT int vchan_session_current(uint32_t *session)
{
	const char *env = getenv("VCHAN_SESSION");
	char buf[32];
	ssize_t n;
	int fd;

	if (!session)
		return -EINVAL;
	if (env)
		return vc_parse_session(env, session);
	fd = open("/proc/self/sessionid", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	buf[n] = 0;
	/* 4294967295: no audit session (not set by a login). */
	return vc_parse_session(buf, session) ? -ENOENT : 0;
}

VC_EXPORT void *vchan_handle_from_fd(int fd, unsigned int flags)
{
	struct vc_file *f;
	DWORD saved = GetLastError();
	HANDLE h;

	if (flags & ~(unsigned int)VCHAN_HANDLE_MESSAGES) {
		errno = EINVAL;
		return NULL;
	}
	if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
		errno = EBADF;
		return NULL;
	}
	f = vc_file_new(fd, (flags & VCHAN_HANDLE_MESSAGES) ?
			VC_FILE_MESSAGES : VC_FILE_PLAIN);
	if (!f)
		return NULL;
	h = vc_handle_new(&f->obj, 0);
	if (!h) {
		f->fd = -1;		/* the caller keeps fd */
		vc_object_put(&f->obj);
		SetLastError(saved);
		errno = ENOMEM;
		return NULL;
	}
	vc_object_put(&f->obj);
	return h;
}

VC_EXPORT int vchan_handle_fd(void *handle)
{
	DWORD saved = GetLastError();
	struct vc_object *o = vc_handle_ref(handle, VC_T_FILE);
	int fd;

	if (!o) {
		SetLastError(saved);
		return -EBADF;
	}
	fd = vc_file_of(o)->fd;
	vc_object_put(o);
	return fd;
}
