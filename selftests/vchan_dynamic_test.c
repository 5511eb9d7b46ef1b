// SPDX-License-Identifier: GPL-2.0
/*
 * Dynamic channels: the listener, requests from /dev/vchan/dynamic/<session>,
 * accept and reject, timeouts, interruptions, the listener going away, and
 * hang-ups of dynamic channels both ways.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vchan_util.h"
#include "kselftest_harness.h"

#include "vchan_dyn.h"

#define DYN_SESSION_BASE 7100

static void on_signal(int sig)
{
	(void)sig;
}

FIXTURE(dyn) {
	__u32 session;
	int lfd;
	long long channels;	/* before the test */
};

FIXTURE_SETUP(dyn)
{
	static __u32 next;

	self->session = DYN_SESSION_BASE + next++;
	self->channels = vchan_channels();
	self->lfd = listen_on(self->session, 0666);
	ASSERT_LE(0, self->lfd) TH_LOG("VCHAN_IOC_LISTEN: %s", strerror(errno));
}

FIXTURE_TEARDOWN(dyn)
{
	if (self->lfd >= 0)
		close(self->lfd);
	/* Nothing left behind: every channel of the test is gone. */
	EXPECT_EQ(self->channels, vchan_channels());
}

TEST_F(dyn, listener_lifetime)
{
	char path[64];
	struct stat st;

	dyn_path(path, sizeof(path), self->session);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 0777);
	EXPECT_EQ(-1, listen_on(self->session, 0));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, vchan_poll(self->lfd, POLLIN, 0));

	close(self->lfd);
	self->lfd = -1;
	EXPECT_EQ(-1, stat(path, &st));
	EXPECT_EQ(ENOENT, errno);
	self->lfd = listen_on(self->session, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
}

TEST_F(dyn, listen_invalid)
{
	struct vchan_listen l = { .session = self->session + 1000, .mode = 01000 };
	int ctl = vchan_open_control();

	ASSERT_LE(0, ctl);
	EXPECT_EQ(-1, ioctl(ctl, VCHAN_IOC_LISTEN, &l));
	EXPECT_EQ(EINVAL, errno);
	l.mode = 0;
	l.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(ctl, VCHAN_IOC_LISTEN, &l));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(ctl, VCHAN_IOC_LISTEN, NULL));
	EXPECT_EQ(EFAULT, errno);
	close(ctl);
}

TEST_F(dyn, accept_and_talk)
{
	struct vchan_dyn_request req;
	struct requester r;
	char name[201], buf[64];
	struct vchan_info info;
	int cl;

	memset(name, 'n', 200);
	name[200] = 0;
	ASSERT_EQ(0, start_request(&r, self->session, name, VCHAN_DYN_PRI_HIGH |
				   VCHAN_DYN_NO_COMPRESS, 0));
	ASSERT_EQ(0, next_request(self->lfd, &req));
	EXPECT_EQ(1, req.id);
	EXPECT_EQ(VCHAN_DYN_PRI_HIGH | VCHAN_DYN_NO_COMPRESS, req.flags);
	EXPECT_EQ((__u32)getpid(), req.pid);
	EXPECT_EQ(getuid(), req.uid);
	EXPECT_STREQ(name, req.name);

	cl = accept_req(self->lfd, req.id);
	ASSERT_LE(0, cl) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(FD_CLOEXEC, fcntl(cl, F_GETFD));
	ASSERT_EQ(0, finish_request(&r));
	ASSERT_LE(0, r.ret) TH_LOG("DYN_OPEN: %s", strerror(r.err));
	EXPECT_EQ(FD_CLOEXEC, fcntl(r.ret, F_GETFD));
	EXPECT_EQ(self->channels + 1, vchan_channels());

	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_EQ(self->session, info.session);
	EXPECT_EQ(VCHAN_F_DYNAMIC, info.flags);
	EXPECT_STREQ(name, info.name);
	EXPECT_EQ(1, info.session_open);

	EXPECT_EQ(5, write(r.ret, "hello", 5));
	EXPECT_EQ(5, read(cl, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(3, write(cl, "abc", 3));
	EXPECT_EQ(3, read(r.ret, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));

	/* A second accept of the same id: it is answered already. */
	EXPECT_EQ(-1, accept_req(self->lfd, req.id));
	EXPECT_EQ(ENOENT, errno);

	/* The session end goes: the client end reads what is left, then EOF. */
	EXPECT_EQ(2, write(r.ret, "zz", 2));
	close(r.ret);
	EXPECT_EQ(POLLIN | POLLHUP, vchan_poll(cl, POLLIN | POLLOUT, 0));
	EXPECT_EQ(2, read(cl, buf, sizeof(buf)));
	EXPECT_EQ(0, read(cl, buf, sizeof(buf)));
	EXPECT_EQ(-1, write(cl, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	close(cl);
}

TEST_F(dyn, client_close_hangs_up_session)
{
	struct vchan_dyn_request req;
	struct requester r;
	char buf[8];
	int cl;

	ASSERT_EQ(0, start_request(&r, self->session, "drdynvc", 0, 0));
	ASSERT_EQ(0, next_request(self->lfd, &req));
	cl = accept_req(self->lfd, req.id);
	ASSERT_LE(0, cl);
	ASSERT_EQ(0, finish_request(&r));
	ASSERT_LE(0, r.ret);
	EXPECT_EQ(4, write(cl, "last", 4));
	close(cl);
	EXPECT_EQ(POLLIN | POLLHUP, vchan_poll(r.ret, POLLIN | POLLOUT, 0));
	EXPECT_EQ(4, read(r.ret, buf, sizeof(buf)));
	EXPECT_EQ(0, read(r.ret, buf, sizeof(buf)));
	EXPECT_EQ(-1, write(r.ret, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	close(r.ret);
}

TEST_F(dyn, reject_with_errno)
{
	struct vchan_dyn_request req;
	struct requester r;

	ASSERT_EQ(0, start_request(&r, self->session, "nope", 0, 0));
	ASSERT_EQ(0, next_request(self->lfd, &req));
	EXPECT_EQ(0, reject_req(self->lfd, req.id, EACCES));
	ASSERT_EQ(0, finish_request(&r));
	EXPECT_EQ(-1, r.ret);
	EXPECT_EQ(EACCES, r.err);

	ASSERT_EQ(0, start_request(&r, self->session, "nope", 0, 0));
	ASSERT_EQ(0, next_request(self->lfd, &req));
	EXPECT_EQ(0, reject_req(self->lfd, req.id, 0));
	ASSERT_EQ(0, finish_request(&r));
	EXPECT_EQ(-1, r.ret);
	EXPECT_EQ(ECONNREFUSED, r.err);
	EXPECT_EQ(-1, reject_req(self->lfd, req.id, 0));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(dyn, timeout_withdraws)
{
	struct vchan_dyn_request req;
	struct requester r;

	/* Unread: the request disappears from the listener's queue. */
	ASSERT_EQ(0, start_request(&r, self->session, "slow", 0, 50));
	ASSERT_EQ(0, finish_request(&r));
	EXPECT_EQ(-1, r.ret);
	EXPECT_EQ(ETIMEDOUT, r.err);
	EXPECT_EQ(0, vchan_poll(self->lfd, POLLIN, 0));
	ASSERT_EQ(0, vchan_set_nonblock(self->lfd, true));
	EXPECT_EQ(-1, read(self->lfd, &req, sizeof(req)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, vchan_set_nonblock(self->lfd, false));

	/* Read but unanswered: its id is unknown afterwards. */
	ASSERT_EQ(0, start_request(&r, self->session, "slow", 0, 200));
	ASSERT_EQ(0, next_request(self->lfd, &req));
	ASSERT_EQ(0, finish_request(&r));
	EXPECT_EQ(ETIMEDOUT, r.err);
	EXPECT_EQ(-1, accept_req(self->lfd, req.id));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(dyn, interrupted_withdraws)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vchan_dyn_request req;
	struct requester r;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, start_request(&r, self->session, "intr", 0, 0));
	ASSERT_EQ(0, next_request(self->lfd, &req));
	ASSERT_EQ(0, pthread_kill(r.thread, SIGUSR1));
	ASSERT_EQ(0, finish_request(&r));
	EXPECT_EQ(-1, r.ret);
	EXPECT_EQ(EINTR, r.err);
	EXPECT_EQ(-1, accept_req(self->lfd, req.id));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(dyn, listener_death_refuses)
{
	struct vchan_dyn_request req;
	struct requester r[3];
	struct vchan_dyn_open o;
	char path[64];
	int i, node;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, start_request(&r[i], self->session, "gone", 0, 0));
	/* One read (waiting for an answer), two still pending. */
	ASSERT_EQ(0, next_request(self->lfd, &req));
	dyn_path(path, sizeof(path), self->session);
	node = open(path, O_RDWR);
	ASSERT_LE(0, node);
	close(self->lfd);
	self->lfd = -1;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, finish_request(&r[i]));
		EXPECT_EQ(-1, r[i].ret);
		EXPECT_EQ(ECONNREFUSED, r[i].err);
	}
	memset(&o, 0, sizeof(o));
	strcpy(o.name, "late");
	EXPECT_EQ(-1, ioctl(node, VCHAN_IOC_DYN_OPEN, &o));
	EXPECT_EQ(ECONNREFUSED, errno);
	close(node);
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(dyn, hundred_concurrent)
{
	static struct requester r[100];
	int cl[100], i, j, seen[100] = { 0 };
	struct vchan_dyn_request req;
	char buf[16];

	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, start_request(&r[i], self->session, "many", VCHAN_DYN_PRI_MED, 0));
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, next_request(self->lfd, &req));
		EXPECT_EQ(VCHAN_DYN_PRI_MED, req.flags);
		EXPECT_STREQ("many", req.name);
		cl[i] = accept_req(self->lfd, req.id);
		ASSERT_LE(0, cl[i]);
	}
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, finish_request(&r[i]));
		ASSERT_LE(0, r[i].ret) TH_LOG("request %d: %s", i, strerror(r[i].err));
		snprintf(buf, sizeof(buf), "%03d", i);
		ASSERT_EQ(3, write(r[i].ret, buf, 3));
	}
	EXPECT_EQ(self->channels + 100, vchan_channels());
	/* Each channel carries exactly one requester's message. */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(3, read(cl[i], buf, sizeof(buf)));
		buf[3] = 0;
		j = atoi(buf);
		ASSERT_TRUE(j >= 0 && j < 100);
		EXPECT_EQ(0, seen[j]);
		seen[j] = 1;
		close(cl[i]);
		close(r[j].ret);
	}
}

TEST_F(dyn, bad_input)
{
	static const char *const bad_names[] = { "", ".", "..", "a/b", "sp ace", "ctl\x01" };
	struct vchan_dyn_accept bad_rings = { .id = 1, .ring_to_client = 1000 };
	struct vchan_dyn_open o;
	char small[8];
	char path[64];
	unsigned int i;
	int node;

	dyn_path(path, sizeof(path), self->session);
	node = open(path, O_RDWR);
	ASSERT_LE(0, node);
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		memset(&o, 0, sizeof(o));
		strcpy(o.name, bad_names[i]);
		EXPECT_EQ(-1, ioctl(node, VCHAN_IOC_DYN_OPEN, &o)) {
			TH_LOG("'%s'", bad_names[i]);
		}
		EXPECT_EQ(EINVAL, errno);
	}
	memset(&o, 0, sizeof(o));
	memset(o.name, 'x', sizeof(o.name));	/* no NUL */
	EXPECT_EQ(-1, ioctl(node, VCHAN_IOC_DYN_OPEN, &o));
	EXPECT_EQ(EINVAL, errno);
	memset(&o, 0, sizeof(o));
	strcpy(o.name, "ok");
	o.flags = 0x1;		/* WTS_CHANNEL_OPTION_DYNAMIC is the library's */
	EXPECT_EQ(-1, ioctl(node, VCHAN_IOC_DYN_OPEN, &o));
	EXPECT_EQ(EINVAL, errno);
	o.flags = 0x10;
	EXPECT_EQ(-1, ioctl(node, VCHAN_IOC_DYN_OPEN, &o));
	EXPECT_EQ(EINVAL, errno);
	o.flags = 0;
	o.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(node, VCHAN_IOC_DYN_OPEN, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(node, VCHAN_IOC_DYN_OPEN, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(node, VCHAN_IOC_INFO, NULL));
	EXPECT_EQ(ENOTTY, errno);
	close(node);

	/* Nothing was queued for the daemon, and unknown ids are refused. */
	EXPECT_EQ(0, vchan_poll(self->lfd, POLLIN, 0));
	EXPECT_EQ(-1, accept_req(self->lfd, 12345));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, reject_req(self->lfd, 12345, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, reject_req(self->lfd, 1, -5));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->lfd, VCHAN_IOC_DYN_ACCEPT, &bad_rings));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->lfd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->lfd, VCHAN_IOC_CREATE, NULL));
	EXPECT_EQ(ENOTTY, errno);
}

TEST(no_listener_no_node)
{
	char path[64];

	dyn_path(path, sizeof(path), DYN_SESSION_BASE + 999);
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
}

TEST_HARNESS_MAIN
