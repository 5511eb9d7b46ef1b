// SPDX-License-Identifier: GPL-2.0
/*
 * vchan: creating and destroying channels, the session node's lifetime,
 * owner and mode, every VCHAN_IOC_CREATE error, exclusive and shared opens,
 * and node permissions.
 */
#include "vchan_util.h"

#include "kselftest_harness.h"

#include "vchan_fixture.h"

FIXTURE(create) {
	VCHAN_CHAN_FIXTURE;	/* the tests make their channels themselves */
	long long base;		/* channels that existed before the test */
};

FIXTURE_SETUP(create)
{
	vchan_chan_setup(_metadata, &self->chan);
	self->base = vchan_channels();
	ASSERT_LE(0, self->base) TH_LOG("cannot read " VCHAN_SYSFS_CHANNELS);
}

FIXTURE_TEARDOWN(create)
{
	vchan_chan_teardown(&self->chan);
}

/* The sysfs directory of the channel behind the node 'path'. */
static int chan_sysfs_dir(const char *path, char *dir, size_t len)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	snprintf(dir, len, VCHAN_SYSFS_CLASS "/ch%u", minor(st.st_rdev));
	return 0;
}

TEST_F(create, basic_lifetime)
{
	char path[512], dir[256], attr[320], text[300];
	struct vchan_info info;
	struct stat st;
	long long def_ring = vchan_param("default_ring");
	int cl, fl;

	ASSERT_EQ(65536, def_ring);
	ASSERT_FALSE(vchan_node_exists(self->session, "rdpdr"));

	cl = vchan_create(self->ctl, self->session, "rdpdr", 0, 0);
	ASSERT_LE(0, cl) TH_LOG("create: %s", strerror(errno));

	/* The client end: read-write and close-on-exec. */
	fl = fcntl(cl, F_GETFD);
	ASSERT_LE(0, fl);
	EXPECT_TRUE(fl & FD_CLOEXEC);
	fl = fcntl(cl, F_GETFL);
	ASSERT_LE(0, fl);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);

	EXPECT_EQ(self->base + 1, vchan_channels());

	/* The session node: char device, root:root 0600 by default. */
	vchan_node_path(path, sizeof(path), self->session, "rdpdr");
	ASSERT_EQ(0, stat(path, &st)) TH_LOG("stat %s: %s", path, strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);

	/* Its sysfs device. */
	ASSERT_EQ(0, chan_sysfs_dir(path, dir, sizeof(dir)));
	snprintf(attr, sizeof(attr), "%s/session", dir);
	EXPECT_EQ(self->session, vchan_read_num(attr));
	snprintf(attr, sizeof(attr), "%s/flags", dir);
	EXPECT_EQ(0, vchan_read_num(attr));
	snprintf(attr, sizeof(attr), "%s/name", dir);
	ASSERT_EQ(0, vchan_read_text(attr, text, sizeof(text)));
	EXPECT_STREQ("rdpdr", text);

	/* VCHAN_IOC_INFO from the client end. */
	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_EQ(self->session, info.session);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(0, info.uid);
	EXPECT_EQ(0, info.gid);
	EXPECT_EQ(0600, info.mode);
	EXPECT_EQ(0, info.session_open);
	EXPECT_EQ(0, info.session_opens);
	EXPECT_EQ(0, info.session_closes);
	EXPECT_EQ(def_ring, info.to_client.ring_size);
	EXPECT_EQ(def_ring, info.to_session.ring_size);
	EXPECT_EQ(0, info.to_client.queued_bytes);
	EXPECT_EQ(0, info.to_client.queued_msgs);
	EXPECT_EQ(0, info.to_client.total_bytes);
	EXPECT_EQ(0, info.to_client.total_msgs);
	EXPECT_EQ(0, info.to_session.queued_bytes);
	EXPECT_EQ(0, info.to_session.queued_msgs);
	EXPECT_EQ(0, info.to_session.total_bytes);
	EXPECT_EQ(0, info.to_session.total_msgs);
	EXPECT_STREQ("rdpdr", info.name);

	/* Closing the client end destroys the channel at once. */
	ASSERT_EQ(0, close(cl));
	EXPECT_EQ(-1, stat(path, &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, stat(dir, &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(self->base, vchan_channels());
	EXPECT_EQ(0, vchan_session_entries(self->session));
}

TEST_F(create, owner_mode_rings)
{
	struct vchan_create c;
	struct vchan_info info;
	char path[512], dir[256], attr[320];
	long long max_ring = vchan_param("max_ring");
	struct stat st;
	int cl;

	ASSERT_EQ(4194304, max_ring);
	vchan_create_init(&c, self->session, "cliprdr");
	c.uid = 1234;
	c.gid = 5678;
	c.mode = 0640;
	c.flags = VCHAN_F_SHARED;
	c.ring_to_client = VCHAN_RING_MIN;
	c.ring_to_session = max_ring;
	cl = vchan_create_full(self->ctl, &c);
	ASSERT_LE(0, cl) TH_LOG("create: %s", strerror(errno));

	vchan_node_path(path, sizeof(path), self->session, "cliprdr");
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0640, st.st_mode & 07777);
	EXPECT_EQ(1234, st.st_uid);
	EXPECT_EQ(5678, st.st_gid);

	ASSERT_EQ(0, chan_sysfs_dir(path, dir, sizeof(dir)));
	snprintf(attr, sizeof(attr), "%s/flags", dir);
	EXPECT_EQ(VCHAN_F_SHARED, vchan_read_num(attr));

	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_EQ(VCHAN_F_SHARED, info.flags);
	EXPECT_EQ(1234, info.uid);
	EXPECT_EQ(5678, info.gid);
	EXPECT_EQ(0640, info.mode);
	EXPECT_EQ(VCHAN_RING_MIN, info.to_client.ring_size);
	EXPECT_EQ(max_ring, info.to_session.ring_size);
	EXPECT_EQ(0, info.reserved[0]);
	EXPECT_EQ(0, info.reserved[1]);
	EXPECT_EQ(0, info.reserved[2]);
	EXPECT_EQ(0, info.reserved[3]);
	EXPECT_EQ(0, info.to_client.reserved);
	EXPECT_EQ(0, info.to_session.reserved);
	close(cl);
	EXPECT_FALSE(vchan_node_exists(self->session, "cliprdr"));
	EXPECT_EQ(self->base, vchan_channels());
}

/* An odd mode (0) with another user and a dynamic channel with a long name. */
TEST_F(create, dynamic_long_name)
{
	struct vchan_create c;
	struct vchan_info info;
	char name[VCHAN_NAME_MAX + 1], path[512], dir[256], attr[320];
	char text[300];
	struct stat st;
	int cl;

	memset(name, 'x', VCHAN_NAME_MAX);
	name[0] = 'M';
	name[VCHAN_NAME_MAX - 1] = '9';
	name[VCHAN_NAME_MAX] = '\0';
	vchan_create_init(&c, self->session, name);
	c.flags = VCHAN_F_DYNAMIC;
	c.uid = 65534;
	c.gid = 65534;
	cl = vchan_create_full(self->ctl, &c);
	ASSERT_LE(0, cl) TH_LOG("create: %s", strerror(errno));

	vchan_node_path(path, sizeof(path), self->session, name);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(65534, st.st_uid);
	EXPECT_EQ(65534, st.st_gid);
	ASSERT_EQ(0, chan_sysfs_dir(path, dir, sizeof(dir)));
	snprintf(attr, sizeof(attr), "%s/name", dir);
	ASSERT_EQ(0, vchan_read_text(attr, text, sizeof(text)));
	EXPECT_STREQ(name, text);
	snprintf(attr, sizeof(attr), "%s/flags", dir);
	EXPECT_EQ(VCHAN_F_DYNAMIC, vchan_read_num(attr));

	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_STREQ(name, info.name);
	EXPECT_EQ(VCHAN_F_DYNAMIC, info.flags);
	close(cl);
	EXPECT_EQ(self->base, vchan_channels());
	EXPECT_EQ(0, vchan_session_entries(self->session));
}

/* Names that are valid, at the edges of the rules. */
TEST_F(create, valid_names)
{
	static const struct {
		const char *name;
		__u32 flags;
	} ok[] = {
		{ "x", 0 },
		{ "abcdefg", 0 },		/* VCHAN_STATIC_NAME_MAX */
		{ "A-Z_a.9", 0 },
		{ "...", 0 },
		{ ".a", 0 },
		{ "-", 0 },
		{ "y", VCHAN_F_DYNAMIC },
		{ "Microsoft.Windows.RDS.Graphics", VCHAN_F_DYNAMIC },
	};
	int fds[ARRAY_SIZE(ok)];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		fds[i] = vchan_create(self->ctl, self->session, ok[i].name,
				      ok[i].flags, 0);
		EXPECT_LE(0, fds[i]) TH_LOG("'%s' flags %u: %s", ok[i].name,
					     ok[i].flags, strerror(errno));
		if (fds[i] >= 0)
			EXPECT_TRUE(vchan_node_exists(self->session, ok[i].name))
				TH_LOG("no node for '%s'", ok[i].name);
	}
	EXPECT_EQ(self->base + (long long)i, vchan_channels());
	for (i = 0; i < ARRAY_SIZE(ok); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	EXPECT_EQ(self->base, vchan_channels());
	EXPECT_EQ(0, vchan_session_entries(self->session));
}

enum bad_field {
	BAD_RESERVED0, BAD_RESERVED_0, BAD_RESERVED_1, BAD_RESERVED_2,
	BAD_RESERVED_3, BAD_FLAG_BIT2, BAD_FLAG_TOP, BAD_RING_TC_NOT_POW2,
	BAD_RING_TS_NOT_POW2, BAD_RING_TC_SMALL, BAD_RING_TS_SMALL,
	BAD_RING_TC_BIG, BAD_RING_TS_BIG, BAD_RING_ONE, BAD_MODE_STICKY,
	BAD_MODE_SUID, BAD_MODE_BIG, BAD_UID, BAD_GID,
	BAD_NAME_EMPTY, BAD_NAME_STATIC_LONG, BAD_NAME_DOT, BAD_NAME_DOTDOT,
	BAD_NAME_SLASH, BAD_NAME_SPACE, BAD_NAME_NEWLINE, BAD_NAME_UTF8,
	BAD_NAME_STAR, BAD_NAME_COLON, BAD_NAME_UNTERMINATED,
	BAD_NAME_DYN_UNTERMINATED, BAD_NAME_DYN_EMPTY, BAD_NAME_DYN_DOTDOT,
	BAD_NAME_DYN_SLASH, BAD_NAME_STATIC_LONG_DYN_LEN,
	BAD_COUNT
};

static void set_name(struct vchan_create *c, const char *name)
{
	snprintf(c->name, sizeof(c->name), "%s", name);
}

static const char *bad_setup(struct vchan_create *c, enum bad_field b,
			     __u32 max_ring)
{
	switch (b) {
	case BAD_RESERVED0:
		c->reserved0 = 1;
		return "reserved0";
	case BAD_RESERVED_0:
		c->reserved[0] = 1;
		return "reserved[0]";
	case BAD_RESERVED_1:
		c->reserved[1] = 1ull << 40;
		return "reserved[1]";
	case BAD_RESERVED_2:
		c->reserved[2] = 1;
		return "reserved[2]";
	case BAD_RESERVED_3:
		c->reserved[3] = ~0ull;
		return "reserved[3]";
	case BAD_FLAG_BIT2:
		c->flags = 1u << 2;
		return "flag bit 2";
	case BAD_FLAG_TOP:
		c->flags = VCHAN_F_SHARED | (1u << 31);
		return "flag bit 31";
	case BAD_RING_TC_NOT_POW2:
		c->ring_to_client = 65536 + 4096;
		return "ring_to_client 69632";
	case BAD_RING_TS_NOT_POW2:
		c->ring_to_session = 4097;
		return "ring_to_session 4097";
	case BAD_RING_TC_SMALL:
		c->ring_to_client = 2048;
		return "ring_to_client 2048";
	case BAD_RING_TS_SMALL:
		c->ring_to_session = 1;
		return "ring_to_session 1";
	case BAD_RING_TC_BIG:
		c->ring_to_client = max_ring * 2;
		return "ring_to_client 2*max_ring";
	case BAD_RING_TS_BIG:
		c->ring_to_session = 1u << 31;
		return "ring_to_session 2^31";
	case BAD_RING_ONE:
		c->ring_to_client = 4096;
		c->ring_to_session = 3000;
		return "ring_to_session 3000";
	case BAD_MODE_STICKY:
		c->mode = 01600;
		return "mode 01600";
	case BAD_MODE_SUID:
		c->mode = 04755;
		return "mode 04755";
	case BAD_MODE_BIG:
		c->mode = 0x10000 | 0600;
		return "mode 0x10180";
	case BAD_UID:
		c->uid = (__u32)-1;
		return "uid -1";
	case BAD_GID:
		c->gid = (__u32)-1;
		return "gid -1";
	case BAD_NAME_EMPTY:
		c->name[0] = '\0';
		return "empty name";
	case BAD_NAME_STATIC_LONG:
		set_name(c, "abcdefgh");
		return "static name of 8";
	case BAD_NAME_DOT:
		set_name(c, ".");
		return "name .";
	case BAD_NAME_DOTDOT:
		set_name(c, "..");
		return "name ..";
	case BAD_NAME_SLASH:
		set_name(c, "a/b");
		return "name a/b";
	case BAD_NAME_SPACE:
		set_name(c, "a b");
		return "name 'a b'";
	case BAD_NAME_NEWLINE:
		set_name(c, "ab\n");
		return "name ab\\n";
	case BAD_NAME_UTF8:
		set_name(c, "caf\xc3\xa9");
		return "name caf\\xc3\\xa9";
	case BAD_NAME_STAR:
		set_name(c, "a*");
		return "name a*";
	case BAD_NAME_COLON:
		set_name(c, "a:b");
		return "name a:b";
	case BAD_NAME_UNTERMINATED:
		memset(c->name, 'a', sizeof(c->name));
		return "static name not NUL terminated";
	case BAD_NAME_DYN_UNTERMINATED:
		c->flags = VCHAN_F_DYNAMIC;
		memset(c->name, 'a', sizeof(c->name));
		return "dynamic name not NUL terminated";
	case BAD_NAME_DYN_EMPTY:
		c->flags = VCHAN_F_DYNAMIC;
		c->name[0] = '\0';
		return "dynamic empty name";
	case BAD_NAME_DYN_DOTDOT:
		c->flags = VCHAN_F_DYNAMIC;
		set_name(c, "..");
		return "dynamic name ..";
	case BAD_NAME_DYN_SLASH:
		c->flags = VCHAN_F_DYNAMIC;
		set_name(c, "Microsoft/Windows");
		return "dynamic name with /";
	case BAD_NAME_STATIC_LONG_DYN_LEN:
		memset(c->name, 'b', 100);
		c->name[100] = '\0';
		return "static name of 100";
	case BAD_COUNT:
		break;
	}
	return NULL;
}

TEST_F(create, invalid_fields_einval)
{
	__u32 max_ring = vchan_param("max_ring");
	struct vchan_create c;
	int b, fd;

	ASSERT_LT(0, (int)max_ring);
	for (b = 0; b < BAD_COUNT; b++) {
		const char *what;

		vchan_create_init(&c, self->session, "good");
		what = bad_setup(&c, b, max_ring);
		fd = vchan_create_full(self->ctl, &c);
		EXPECT_EQ(-1, fd) TH_LOG("%s: accepted", what);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s: %s", what, strerror(errno));
		EXPECT_EQ(self->base, vchan_channels()) TH_LOG("%s: channel left", what);
		EXPECT_EQ(0, vchan_session_entries(self->session))
			TH_LOG("%s: node left", what);
	}

	/* The same request without the fault succeeds. */
	vchan_create_init(&c, self->session, "good");
	fd = vchan_create_full(self->ctl, &c);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(self->base + 1, vchan_channels());
	close(fd);
}

TEST_F(create, bad_pointer_efault)
{
	EXPECT_EQ(-1, ioctl(self->ctl, VCHAN_IOC_CREATE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->ctl, VCHAN_IOC_CREATE, (void *)16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(self->base, vchan_channels());
}

TEST_F(create, eexist)
{
	struct vchan_info info;
	int a, b, c, d;

	a = vchan_create(self->ctl, self->session, "echo", 0, 0);
	ASSERT_LE(0, a) TH_LOG("%s", strerror(errno));

	/* Same session and name: EEXIST, even with other flags. */
	EXPECT_EQ(-1, vchan_create(self->ctl, self->session, "echo", 0, 0));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, vchan_create(self->ctl, self->session, "echo",
				   VCHAN_F_DYNAMIC | VCHAN_F_SHARED, 0));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(self->base + 1, vchan_channels());
	/* The first one is untouched. */
	ASSERT_EQ(0, vchan_info(a, &info));
	EXPECT_EQ(0, info.flags);

	/* Same name in another session, other name in the same one: fine. */
	b = vchan_create(self->ctl, self->session + 1, "echo", 0, 0);
	EXPECT_LE(0, b) TH_LOG("%s", strerror(errno));
	c = vchan_create(self->ctl, self->session, "echo2", 0, 0);
	EXPECT_LE(0, c) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(self->base + 3, vchan_channels());

	/* Once the first is gone the name is free again. */
	close(a);
	d = vchan_create(self->ctl, self->session, "echo", 0, 0);
	EXPECT_LE(0, d) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(self->base + 3, vchan_channels());
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	if (d >= 0)
		close(d);
	EXPECT_EQ(self->base, vchan_channels());
}

/*
 * ENOSPC once max_channels, lowered at run time (the parameter is 0644),
 * is reached: nothing of the refused channel appears, and a channel closed
 * makes room again.  The module test covers the limit given at load time.
 */
TEST_F(create, enospc_at_lowered_max_channels)
{
	long long max = vchan_param("max_channels");
	int a, b, fd;

	ASSERT_LT(self->base + 2, max);
	ASSERT_EQ(0, vchan_set_param("max_channels", self->base + 2));
	a = vchan_create(self->ctl, self->session, "lim0", 0, 4096);
	EXPECT_LE(0, a) TH_LOG("%s", strerror(errno));
	b = vchan_create(self->ctl, self->session, "lim1", 0, 4096);
	EXPECT_LE(0, b) TH_LOG("%s", strerror(errno));
	fd = vchan_create(self->ctl, self->session, "full", 0, 4096);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_FALSE(vchan_node_exists(self->session, "full"));
	EXPECT_EQ(self->base + 2, vchan_channels());
	if (fd >= 0)
		close(fd);
	if (a >= 0)
		close(a);
	fd = vchan_create(self->ctl, self->session, "full", 0, 4096);
	EXPECT_LE(0, fd) TH_LOG("after a close: %s", strerror(errno));
	EXPECT_EQ(0, vchan_set_param("max_channels", max));
	if (b >= 0)
		close(b);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(self->base, vchan_channels());
}

TEST_F(create, exclusive_ebusy)
{
	struct vchan_info info;
	int cl, s1, s2, s3;

	cl = vchan_create(self->ctl, self->session, "excl", 0, 0);
	ASSERT_LE(0, cl);
	s1 = vchan_open_node(self->session, "excl", O_RDWR);
	ASSERT_LE(0, s1) TH_LOG("%s", strerror(errno));
	s2 = vchan_open_node(self->session, "excl", O_RDWR);
	EXPECT_EQ(-1, s2);
	EXPECT_EQ(EBUSY, errno);
	s2 = vchan_open_node(self->session, "excl", O_RDONLY | O_NONBLOCK);
	EXPECT_EQ(-1, s2);
	EXPECT_EQ(EBUSY, errno);

	ASSERT_EQ(0, vchan_info(s1, &info));
	EXPECT_EQ(1, info.session_open);
	EXPECT_EQ(1, info.session_opens);
	EXPECT_EQ(0, info.session_closes);

	/* A dup'ed descriptor is the same open file, not a second open. */
	s2 = dup(s1);
	ASSERT_LE(0, s2);
	close(s1);
	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_EQ(1, info.session_open);
	EXPECT_EQ(0, info.session_closes);
	close(s2);

	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_EQ(0, info.session_open);
	EXPECT_EQ(1, info.session_opens);
	EXPECT_EQ(1, info.session_closes);

	/* Free again after the session end closed. */
	s3 = vchan_open_node(self->session, "excl", O_RDWR);
	ASSERT_LE(0, s3) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_EQ(1, info.session_open);
	EXPECT_EQ(2, info.session_opens);
	EXPECT_EQ(1, info.session_closes);
	close(s3);
	close(cl);
}

TEST_F(create, shared_two_opens)
{
	struct vchan_info info;
	int cl, s1, s2;

	cl = vchan_create(self->ctl, self->session, "shr", VCHAN_F_SHARED, 0);
	ASSERT_LE(0, cl);
	s1 = vchan_open_node(self->session, "shr", O_RDWR);
	ASSERT_LE(0, s1) TH_LOG("%s", strerror(errno));
	s2 = vchan_open_node(self->session, "shr", O_RDWR);
	ASSERT_LE(0, s2) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_EQ(2, info.session_open);
	EXPECT_EQ(2, info.session_opens);
	EXPECT_EQ(0, info.session_closes);

	/* Only the last close of a session end is a hang-up. */
	close(s1);
	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_EQ(1, info.session_open);
	EXPECT_EQ(0, info.session_closes);
	EXPECT_EQ(0, vchan_poll(cl, POLLIN, 0) & POLLHUP);
	close(s2);
	ASSERT_EQ(0, vchan_info(cl, &info));
	EXPECT_EQ(0, info.session_open);
	EXPECT_EQ(2, info.session_opens);
	EXPECT_EQ(1, info.session_closes);
	close(cl);
}

/*
 * Reopen after the session end closed: what it wrote stays readable at the
 * client end, what the client wrote meanwhile waits for the next opener.
 */
TEST_F(create, reopen_keeps_data)
{
	char buf[64];
	int cl, s;

	cl = vchan_create(self->ctl, self->session, "reop", 0, 0);
	ASSERT_LE(0, cl);

	/* Written by the client before any session end opened. */
	ASSERT_EQ(5, write(cl, "early", 5));

	s = vchan_open_node(self->session, "reop", O_RDWR);
	ASSERT_LE(0, s);
	ASSERT_EQ(5, read(s, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "early", 5));
	ASSERT_EQ(4, write(s, "bye!", 4));
	ASSERT_EQ(0, close(s));

	ASSERT_EQ(7, write(cl, "pending", 7));
	ASSERT_EQ(4, read(cl, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "bye!", 4));

	EXPECT_TRUE(vchan_node_exists(self->session, "reop"));
	s = vchan_open_node(self->session, "reop", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, s) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(7, read(s, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "pending", 7));
	EXPECT_EQ(-1, read(s, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	close(s);
	close(cl);
}

/*
 * Closing the client end while the session end is open: the node goes at
 * once, the channel no longer exists (its name can be reused at once), the
 * session end keeps working on its own file.
 */
TEST_F(create, client_close_with_session_open)
{
	struct stat st;
	char path[512];
	int cl, s, cl2;

	cl = vchan_create(self->ctl, self->session, "gone", 0, 0);
	ASSERT_LE(0, cl);
	s = vchan_open_node(self->session, "gone", O_RDWR);
	ASSERT_LE(0, s);
	close(cl);
	vchan_node_path(path, sizeof(path), self->session, "gone");
	EXPECT_EQ(-1, stat(path, &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(self->base, vchan_channels());

	cl2 = vchan_create(self->ctl, self->session, "gone", 0, 0);
	EXPECT_LE(0, cl2) TH_LOG("recreate: %s", strerror(errno));
	EXPECT_EQ(self->base + 1, vchan_channels());
	/* The old session end is not connected to the new channel. */
	if (cl2 >= 0) {
		char c;

		vchan_set_nonblock(cl2, true);
		EXPECT_EQ(-1, write(s, "x", 1));
		EXPECT_EQ(EPIPE, errno);
		EXPECT_EQ(-1, read(cl2, &c, 1));
		EXPECT_EQ(EAGAIN, errno);
		close(cl2);
	}
	close(s);
	EXPECT_EQ(self->base, vchan_channels());
}

TEST_F(create, unknown_ioctls_enotty)
{
	struct vchan_info info;
	struct vchan_create c;
	int cl, s, arg = 0;

	cl = vchan_create(self->ctl, self->session, "tty", 0, 0);
	ASSERT_LE(0, cl);
	s = vchan_open_node(self->session, "tty", O_RDWR);
	ASSERT_LE(0, s);

	EXPECT_EQ(-1, ioctl(self->ctl, _IO(VCHAN_IOC_MAGIC, 0x7f), &arg));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(cl, _IO(VCHAN_IOC_MAGIC, 0x7f), &arg));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(s, _IO('T', 0x7e), &arg));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(s, TCGETS, &arg));
	EXPECT_EQ(ENOTTY, errno);

	/* Channel ioctls are not control ioctls and the other way round. */
	EXPECT_EQ(-1, ioctl(self->ctl, VCHAN_IOC_INFO, &info));
	EXPECT_EQ(ENOTTY, errno);
	vchan_create_init(&c, self->session, "tty2");
	EXPECT_EQ(-1, ioctl(cl, VCHAN_IOC_CREATE, &c));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(s, VCHAN_IOC_CREATE, &c));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_FALSE(vchan_node_exists(self->session, "tty2"));
	EXPECT_EQ(self->base + 1, vchan_channels());
	close(s);
	close(cl);
}

/* --- permissions: run in a child that became nobody (65534) --- */

struct perm_args {
	__u32 session;
};

/* Exit codes: 0 ok; 10+n: step n failed. */
static int perm_child(void *p)
{
	struct perm_args *a = p;
	int fd;

	if (vchan_become_nobody())
		return 1;
	fd = open(VCHAN_CONTROL, O_RDWR);
	if (fd >= 0 || errno != EACCES)
		return 10;
	fd = open(VCHAN_CONTROL, O_RDONLY);
	if (fd >= 0 || errno != EACCES)
		return 11;
	fd = vchan_open_node(a->session, "root", O_RDWR);
	if (fd >= 0 || errno != EACCES)
		return 12;
	fd = vchan_open_node(a->session, "root", O_RDONLY);
	if (fd >= 0 || errno != EACCES)
		return 13;
	/* owner 65534, 0600 */
	fd = vchan_open_node(a->session, "mine", O_RDWR);
	if (fd < 0)
		return 14;
	if (write(fd, "hi", 2) != 2)
		return 15;
	close(fd);
	/* group 65534, 0060 */
	fd = vchan_open_node(a->session, "grp", O_RDWR);
	if (fd < 0)
		return 16;
	close(fd);
	/* root 0644: reading allowed, writing not */
	fd = vchan_open_node(a->session, "ro", O_RDWR);
	if (fd >= 0 || errno != EACCES)
		return 17;
	fd = vchan_open_node(a->session, "ro", O_RDONLY);
	if (fd < 0)
		return 18;
	if (write(fd, "x", 1) != -1 || errno != EBADF)
		return 19;
	close(fd);
	return 0;
}

TEST_F(create, permissions)
{
	struct perm_args a = { .session = self->session };
	struct vchan_create c;
	int root, mine, grp, ro, rc;
	char buf[8];

	root = vchan_create(self->ctl, self->session, "root", 0, 0);
	ASSERT_LE(0, root);

	vchan_create_init(&c, self->session, "mine");
	c.uid = 65534;
	c.mode = 0600;
	mine = vchan_create_full(self->ctl, &c);
	ASSERT_LE(0, mine);

	vchan_create_init(&c, self->session, "grp");
	c.gid = 65534;
	c.mode = 0060;
	grp = vchan_create_full(self->ctl, &c);
	ASSERT_LE(0, grp);

	vchan_create_init(&c, self->session, "ro");
	c.mode = 0644;
	ro = vchan_create_full(self->ctl, &c);
	ASSERT_LE(0, ro);

	rc = vchan_in_child(perm_child, &a);
	EXPECT_EQ(0, rc) TH_LOG("child failed at step %d (see perm_child)", rc);

	/* What nobody wrote arrived. */
	vchan_set_nonblock(mine, true);
	EXPECT_EQ(2, read(mine, buf, sizeof(buf)));
	close(root);
	close(mine);
	close(grp);
	close(ro);
	EXPECT_EQ(self->base, vchan_channels());
}

TEST_HARNESS_MAIN
