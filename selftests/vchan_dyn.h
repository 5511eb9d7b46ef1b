/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vchan selftests: dynamic channels from both sides, the daemon's listener
 * and a program's request (in a thread of its own, as VCHAN_IOC_DYN_OPEN
 * blocks until answered).
 */
#ifndef _VCHAN_DYN_H
#define _VCHAN_DYN_H

#include "vchan_util.h"

static inline void dyn_path(char *buf, size_t len, __u32 session)
{
	snprintf(buf, len, "/dev/vchan/dynamic/%u", session);
}

static inline int listen_on(__u32 session, __u32 mode)
{
	struct vchan_listen l = { .session = session, .mode = mode };
	int ctl = vchan_open_control(), fd;

	if (ctl < 0)
		return -1;
	fd = ioctl(ctl, VCHAN_IOC_LISTEN, &l);
	close(ctl);
	return fd;
}

/* One program asking for a channel, in a thread of its own. */
struct requester {
	__u32 session;
	__u32 flags;
	__u32 timeout_ms;
	char name[VCHAN_NAME_MAX + 1];
	int node;		/* the open dynamic node */
	int ret;		/* the ioctl's result */
	int err;		/* its errno */
	pthread_t thread;
};

static inline void *request_fn(void *p)
{
	struct requester *r = p;
	struct vchan_dyn_open o;

	memset(&o, 0, sizeof(o));
	o.flags = r->flags;
	o.timeout_ms = r->timeout_ms;
	strcpy(o.name, r->name);
	r->ret = ioctl(r->node, VCHAN_IOC_DYN_OPEN, &o);
	r->err = errno;
	return NULL;
}

static inline int start_request(struct requester *r, __u32 session,
				const char *name, __u32 flags, __u32 timeout_ms)
{
	char path[64];

	memset(r, 0, sizeof(*r));
	r->session = session;
	r->flags = flags;
	r->timeout_ms = timeout_ms;
	snprintf(r->name, sizeof(r->name), "%s", name);
	dyn_path(path, sizeof(path), session);
	r->node = open(path, O_RDWR | O_CLOEXEC);
	if (r->node < 0)
		return -1;
	return pthread_create(&r->thread, NULL, request_fn, r) ? -1 : 0;
}

static inline int finish_request(struct requester *r)
{
	int ret = vchan_join(r->thread, NULL);

	close(r->node);
	return ret;
}

/* The next request the listener reads, waiting at most 10 s for one. */
static inline int next_request(int lfd, struct vchan_dyn_request *req)
{
	if (vchan_poll(lfd, POLLIN, 10000) != POLLIN)
		return -1;
	return read(lfd, req, sizeof(*req)) == sizeof(*req) ? 0 : -1;
}

static inline int accept_req(int lfd, __u64 id)
{
	struct vchan_dyn_accept a = { .id = id };

	return ioctl(lfd, VCHAN_IOC_DYN_ACCEPT, &a);
}

static inline int reject_req(int lfd, __u64 id, int error)
{
	struct vchan_dyn_reject rj = { .id = id, .error = error };

	return ioctl(lfd, VCHAN_IOC_DYN_REJECT, &rj);
}

#endif /* _VCHAN_DYN_H */
