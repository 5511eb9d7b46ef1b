// SPDX-License-Identifier: GPL-2.0
/*
 * Permissions between users and sessions: an unprivileged user cannot open
 * the control node in any mode (so cannot create channels nor listen), cannot
 * open another user's channel nor another session's dynamic node, while each
 * user reaches what was made theirs; a session has at most one listener,
 * whichever control file asks.  vchan_create_test.c covers node modes and
 * groups for one user.
 */
#include "vchan_util.h"
#include "kselftest_harness.h"
#include "vchan_fixture.h"

#define UID_A	1000	/* the user of session A */
#define UID_B	1001	/* the user of session B */

/* Drops to uid/gid 'id' with no supplementary groups. */
static int become(uid_t id)
{
	if (setgroups(0, NULL) || setresgid(id, id, id) || setresuid(id, id, id))
		return -1;
	return 0;
}

struct sessions {
	__u32 a, b;
};

static int dyn_open_node(__u32 session, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), VCHAN_DEV_DIR "/dynamic/%u", session);
	return open(path, flags | O_CLOEXEC);
}

/* 0 when 'fd' is -1 with EACCES, else a distinct non-zero code. */
static int denied(int fd, int code)
{
	if (fd >= 0) {
		close(fd);
		return code;
	}
	return errno == EACCES ? 0 : code + 1;
}

/* User B: its own channel and dynamic node yes, user A's and root's no. */
static int user_b(void *p)
{
	const struct sessions *s = p;
	static const int modes[] = { O_RDWR, O_RDONLY, O_WRONLY };
	unsigned int i;
	int fd, r;

	if (become(UID_B))
		return 1;
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		r = denied(open(VCHAN_CONTROL, modes[i] | O_CLOEXEC), 10);
		if (!r)
			r = denied(vchan_open_node(s->a, "chan", modes[i]), 20);
		if (!r)
			r = denied(dyn_open_node(s->a, modes[i]), 30);
		if (r)
			return r + 100 * i;
	}
	fd = vchan_open_node(s->b, "chan", O_RDWR);
	if (fd < 0)
		return 40;
	if (write(fd, "b", 1) != 1)
		return 41;
	close(fd);
	fd = dyn_open_node(s->b, O_RDWR);
	if (fd < 0)
		return 42;
	close(fd);
	return 0;
}

FIXTURE(perm) {
	struct sessions s;
	int ctl;
	int cl_a, cl_b;		/* client ends of the two sessions' channels */
	int l_a, l_b;		/* their listeners */
	long long base;
};

static int listen_as(int ctl, __u32 session, __u32 uid)
{
	struct vchan_listen l = { .session = session, .uid = uid, .gid = uid,
				  .mode = 0600 };

	return ioctl(ctl, VCHAN_IOC_LISTEN, &l);
}

static int create_as(int ctl, __u32 session, __u32 uid)
{
	struct vchan_create c;

	vchan_create_init(&c, session, "chan");
	c.uid = uid;
	c.gid = uid;
	c.mode = 0600;
	return vchan_create_full(ctl, &c);
}

FIXTURE_SETUP(perm)
{
	self->base = vchan_channels();
	self->ctl = vchan_open_control();
	ASSERT_LE(0, self->ctl);
	self->s.a = vchan_unique_session();
	self->s.b = vchan_unique_session();
	self->cl_a = create_as(self->ctl, self->s.a, UID_A);
	ASSERT_LE(0, self->cl_a);
	self->cl_b = create_as(self->ctl, self->s.b, UID_B);
	ASSERT_LE(0, self->cl_b);
	self->l_a = listen_as(self->ctl, self->s.a, UID_A);
	ASSERT_LE(0, self->l_a);
	self->l_b = listen_as(self->ctl, self->s.b, UID_B);
	ASSERT_LE(0, self->l_b);
}

FIXTURE_TEARDOWN(perm)
{
	close(self->l_b);
	close(self->l_a);
	close(self->cl_b);
	close(self->cl_a);
	close(self->ctl);
	EXPECT_EQ(self->base, vchan_channels());
}

TEST_F(perm, users_reach_only_their_own)
{
	char buf[8];
	int rc;

	rc = vchan_in_child(user_b, &self->s);
	EXPECT_EQ(0, rc) TH_LOG("user B: step %d (see user_b())", rc);
	/* What user B wrote arrived; nothing reached session A. */
	ASSERT_EQ(0, vchan_set_nonblock(self->cl_b, true));
	EXPECT_EQ(1, read(self->cl_b, buf, sizeof(buf)));
	EXPECT_EQ(0, vchan_dir(_metadata, self->cl_a, true).total_msgs);
	EXPECT_EQ(0, vchan_dir(_metadata, self->cl_a, true).queued_msgs);
	/* No request reached either listener (user B opened its node only). */
	EXPECT_EQ(0, vchan_poll(self->l_a, POLLIN, 0));
	EXPECT_EQ(0, vchan_poll(self->l_b, POLLIN, 0));
	EXPECT_EQ(self->base + 2, vchan_channels());
}

TEST_F(perm, one_listener_per_session)
{
	int ctl2 = vchan_open_control(), fd;

	ASSERT_LE(0, ctl2);
	/* Neither the same nor another control file registers a second one. */
	EXPECT_EQ(-1, listen_as(self->ctl, self->s.a, 0));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, listen_as(ctl2, self->s.a, 0));
	EXPECT_EQ(EBUSY, errno);
	/* The first still serves: its node is there with its owner. */
	fd = dyn_open_node(self->s.a, O_RDWR);
	EXPECT_LE(0, fd);
	close(fd);
	/* Once it is closed, the session may have a new one. */
	close(self->l_a);
	self->l_a = listen_as(ctl2, self->s.a, UID_A);
	EXPECT_LE(0, self->l_a);
	close(ctl2);
}

TEST_HARNESS_MAIN
