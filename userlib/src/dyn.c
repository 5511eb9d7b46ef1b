// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Dynamic channels in the native API of <vchan/vchan.h>: the daemon's side
 * (listen, next request, accept, reject) and the requester's
 * (vchan_dyn_open, which WTSVirtualChannelOpenEx uses).  Plain calls with
 * -errno returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

VC_EXPORT int vchan_dyn_listen(int control_fd, uint32_t session,
			       const struct vchan_dyn_listen_opts *opts)
{
	struct vchan_listen l;
	int fd;

	memset(&l, 0, sizeof(l));
	l.session = session;
	if (opts) {
		l.uid = opts->uid;
		l.gid = opts->gid;
		l.mode = opts->mode;
	}
	fd = ioctl(control_fd, VCHAN_IOC_LISTEN, &l);
	return fd < 0 ? -errno : fd;
}

VC_EXPORT int vchan_dyn_next(int listener_fd, struct vchan_dyn_request *req)
{
	ssize_t n;

	if (!req)
		return -EINVAL;
	do
		n = read(listener_fd, req, sizeof(*req));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*req) ? 0 : -EIO;
}

VC_EXPORT int vchan_dyn_accept(int listener_fd, uint64_t id,
			       uint32_t ring_to_client, uint32_t ring_to_session)
{
	struct vchan_dyn_accept a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.id = id;
	a.ring_to_client = ring_to_client;
	a.ring_to_session = ring_to_session;
	fd = ioctl(listener_fd, VCHAN_IOC_DYN_ACCEPT, &a);
	return fd < 0 ? -errno : fd;
}

VC_EXPORT int vchan_dyn_reject(int listener_fd, uint64_t id, int error)
{
	struct vchan_dyn_reject rj;

	memset(&rj, 0, sizeof(rj));
	rj.id = id;
	rj.error = error;
	return ioctl(listener_fd, VCHAN_IOC_DYN_REJECT, &rj) < 0 ? -errno : 0;
}

VC_EXPORT int vchan_dyn_path(char *buf, size_t len, uint32_t session)
{
	int n;

	if (!buf)
		return -EINVAL;
	n = snprintf(buf, len, VCHAN_DEV_ROOT "/dynamic/%u", session);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

static long long vc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

VC_EXPORT int vchan_dyn_open(uint32_t session, const char *name,
			     uint32_t flags, uint32_t timeout_ms)
{
	char path[64];
	struct vchan_dyn_open o;
	long long deadline = vc_now_ms() + timeout_ms;
	size_t len;
	int node, fd;

	if (!name)
		return -EINVAL;
	len = strnlen(name, VCHAN_NAME_MAX + 1);
	if (len > VCHAN_NAME_MAX)
		return -ENAMETOOLONG;
	memset(&o, 0, sizeof(o));
	o.flags = flags;
	memcpy(o.name, name, len);
	vchan_dyn_path(path, sizeof(path), session);
	node = open(path, O_RDWR | O_CLOEXEC);
	if (node < 0)
		return -errno;
	/* A signal makes the kernel withdraw the request (EINTR): ask again,
	 * for what is left of the time. */
	for (;;) {
		o.timeout_ms = timeout_ms;
		if (timeout_ms) {
			long long left = deadline - vc_now_ms();

			if (left <= 0) {
				fd = -1;
				errno = ETIMEDOUT;
				break;
			}
			o.timeout_ms = (uint32_t)left;
		}
		fd = ioctl(node, VCHAN_IOC_DYN_OPEN, &o);
		if (fd >= 0 || errno != EINTR)
			break;
	}
	if (fd < 0)
		fd = -errno;
	close(node);
	return fd;
}
