/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixture helpers shared by the vchan selftests: a channel under test with
 * its client and session ends, and threads blocked in a system call.
 *
 * Unlike vchan_util.h these use the harness' ASSERT and EXPECT macros (they
 * take the test's _metadata), so they are for the test's own thread only;
 * include this header after kselftest_harness.h.
 */
#ifndef VCHAN_FIXTURE_H
#define VCHAN_FIXTURE_H

#include "vchan_util.h"

#define VCHAN_CHAN_MEMBERS						\
	int ctl;		/* /dev/vchan/control */		\
	__u32 session;		/* this test's own session id */	\
	int cl;			/* client end */			\
	int se;			/* session end */			\
	int se2;		/* a second session end */		\
	char name[16]		/* the channel's name */

struct vchan_chan {
	VCHAN_CHAN_MEMBERS;
};

/*
 * The members of a fixture for one channel, named for the test bodies
 * (self->ctl, self->cl, self->se, ...) and grouped as one struct vchan_chan
 * (self->chan) for the helpers below: the kernel's struct_group() idiom.
 * An fd member is -1 when not open.
 */
#define VCHAN_CHAN_FIXTURE						\
	union {								\
		struct { VCHAN_CHAN_MEMBERS; };				\
		struct vchan_chan chan;					\
	}

/* FIXTURE_SETUP: no channel yet, the control device open, a session id. */
static inline void vchan_chan_setup(struct __test_metadata *_metadata,
				    struct vchan_chan *c)
{
	c->cl = c->se = c->se2 = -1;
	c->name[0] = '\0';
	c->ctl = vchan_open_control();
	ASSERT_LE(0, c->ctl) TH_LOG("open %s: %s", VCHAN_CONTROL, strerror(errno));
	c->session = vchan_unique_session();
}

/* FIXTURE_TEARDOWN: closes whatever is open. */
static inline void vchan_chan_teardown(struct vchan_chan *c)
{
	if (c->se2 >= 0)
		close(c->se2);
	if (c->se >= 0)
		close(c->se);
	if (c->cl >= 0)
		close(c->cl);
	if (c->ctl >= 0)
		close(c->ctl);
}

/* Creates channel 'name' with both rings of 'ring' bytes: its client end. */
static inline void vchan_make_chan(struct __test_metadata *_metadata,
				   struct vchan_chan *c, const char *name,
				   __u32 ring, __u32 flags)
{
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->cl = vchan_create(c->ctl, c->session, c->name, flags, ring);
	ASSERT_LE(0, c->cl) TH_LOG("create: %s", strerror(errno));
}

/* Opens a session end of the channel: the fd, or -1 with errno set. */
static inline int vchan_open_se(const struct vchan_chan *c, int flags)
{
	return vchan_open_node(c->session, c->name, O_RDWR | flags);
}

/* Creates the channel and opens its session end. */
static inline void vchan_make_pair(struct __test_metadata *_metadata,
				   struct vchan_chan *c, const char *name,
				   __u32 ring, __u32 flags)
{
	vchan_make_chan(_metadata, c, name, ring, flags);
	c->se = vchan_open_se(c, 0);
	ASSERT_LE(0, c->se) TH_LOG("open: %s", strerror(errno));
}

/* The counters of one direction of fd's channel. */
static inline struct vchan_dir_info vchan_dir(struct __test_metadata *_metadata,
					      int fd, bool to_client)
{
	struct vchan_info info;

	memset(&info, 0, sizeof(info));
	EXPECT_EQ(0, vchan_info(fd, &info));
	return to_client ? info.to_client : info.to_session;
}

/* The PDU header at the start of buf is of a 'len'-byte message, 'fl' its flags. */
#define EXPECT_PDU(buf, len, fl) do {					\
	struct vchan_pdu_header __h;					\
									\
	memcpy(&__h, (buf), sizeof(__h));				\
	EXPECT_EQ((len), __h.length);					\
	EXPECT_EQ((fl), __h.flags);					\
} while (0)

/*
 * Starts a thread that makes 'call' on fd (struct vchan_blocked) and returns
 * once it sleeps in it.  vchan_finish_blocked() joins it.
 */
static inline void vchan_start_blocked(struct __test_metadata *_metadata,
				       struct vchan_blocked *b,
				       enum vchan_call call, int fd, void *buf,
				       size_t len)
{
	uint64_t v;

	b->call = call;
	b->fd = fd;
	b->buf = buf;
	b->len = len;
	b->ret = -2;
	b->err = 0;
	b->revents = 0;
	b->ready = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, b->ready);
	ASSERT_EQ(0, pthread_create(&b->t, NULL, vchan_blocked_fn, b));
	ASSERT_EQ(sizeof(v), read(b->ready, &v, sizeof(v)));
	close(b->ready);
	ASSERT_EQ(0, vchan_wait_sleeping(b->tid)) TH_LOG("thread never blocked");
}

static inline void vchan_finish_blocked(struct __test_metadata *_metadata,
					struct vchan_blocked *b)
{
	ASSERT_EQ(0, vchan_join(b->t, NULL)) TH_LOG("blocked thread never returned");
}

#endif /* VCHAN_FIXTURE_H */
