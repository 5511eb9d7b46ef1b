/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the asynchronous I/O tests share (vchan_aio_test.c through libaio,
 * vchan_uring_test.c through io_uring): sets of messages of known sizes and
 * contents, and the checks of what a draining reader gets.  Include after
 * vchan_fixture.h.
 */
#ifndef VCHAN_ASYNC_H
#define VCHAN_ASYNC_H

#include "vchan_fixture.h"

#define MiB		(1U << 20)
#define READ_CHUNK	65536U		/* PDU chunk of the draining reader */
#define RING		VCHAN_RING_MIN
#define HDR		VCHAN_MSG_OVERHEAD

/*
 * Sizes of the async tests' message sets.  vchan_mixed_len: 0 B to 1 MiB,
 * most small; 1,000 of them make about 41 MiB (25 messages near 1 MiB, 100
 * up to 256 KiB, 20 empty, the rest under 8 KiB).  vchan_small_len: about
 * 12 KiB on average, some empty, one in 23 of 100-200 KB.
 */
static inline uint32_t vchan_mix(uint32_t i)
{
	uint32_t x = i * 2654435761u;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return x;
}

static inline size_t vchan_mixed_len(unsigned int i)
{
	uint32_t x = vchan_mix(i);

	if (i == 500)
		return 1U << 20;
	if (i % 50 == 0)
		return 0;
	if (i % 40 == 7)
		return (1U << 20) - x % 65536;
	if (i % 10 == 3)
		return x % 262144;
	return x % 8192;
}

static inline size_t vchan_small_len(unsigned int i)
{
	uint32_t x = vchan_mix(i + 7777);

	if (i % 17 == 0)
		return 0;
	if (i % 23 == 5)
		return 100000 + x % 100000;
	return x % 12000;
}

/* Checksum of 'len' bytes of pattern 'seed' (0 if out of memory). */
static inline uint64_t vchan_pattern_sum(size_t len, uint32_t seed)
{
	uint8_t *p = vchan_alloc(len);
	uint64_t sum;

	if (!p)
		return 0;
	vchan_fill(p, len, seed, 0);
	sum = vchan_checksum(p, len);
	vchan_free(p, len);
	return sum;
}

/* ---- sets of messages with known sizes and contents ---- */

struct vchan_msgs {
	unsigned int n;
	size_t *len;
	size_t *off;		/* in arena */
	uint32_t *seed;
	uint64_t *sum;
	uint8_t *arena;
	size_t total;
};

static inline void vchan_msgs_free(struct vchan_msgs *m)
{
	vchan_free(m->arena, m->total);
	free(m->len);
	free(m->off);
	free(m->seed);
	free(m->sum);
	memset(m, 0, sizeof(*m));
}

/* n messages: message i has len_of(i) bytes of pattern seed_base + i. */
static inline int vchan_msgs_init(struct vchan_msgs *m, unsigned int n,
				  size_t (*len_of)(unsigned int),
				  uint32_t seed_base)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->n = n;
	m->len = calloc(n, sizeof(*m->len));
	m->off = calloc(n, sizeof(*m->off));
	m->seed = calloc(n, sizeof(*m->seed));
	m->sum = calloc(n, sizeof(*m->sum));
	if (!m->len || !m->off || !m->seed || !m->sum)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		m->len[i] = len_of(i);
		m->off[i] = m->total;
		m->total += m->len[i];
		m->seed[i] = seed_base + i;
	}
	m->arena = vchan_alloc(m->total);
	if (!m->arena)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		vchan_fill(m->arena + m->off[i], m->len[i], m->seed[i], 0);
		m->sum[i] = vchan_checksum(m->arena + m->off[i], m->len[i]);
	}
	return 0;
}

/* ---- what the reader gets ---- */

/*
 * The next message at 'fd' (PDU mode, READ_CHUNK; rbuf holds 1 MiB) is
 * whole and is the one of 'len' bytes of pattern 'seed' whose checksum is
 * 'sum'.
 */
static inline void vchan_expect_msg(struct __test_metadata *_metadata, int fd,
				    uint8_t *rbuf, size_t len, uint32_t seed,
				    uint64_t sum, const char *what,
				    unsigned int idx)
{
	long long n = vchan_read_pdu_msg(fd, rbuf, MiB, READ_CHUNK);

	ASSERT_EQ((long long)len, n) TH_LOG("%s %u: read %lld (%s)", what, idx,
					    n, n < 0 ? strerror(-n) : "length");
	ASSERT_EQ(-1, vchan_check(rbuf, len, seed, 0))
		TH_LOG("%s %u: wrong byte", what, idx);
	ASSERT_EQ(sum, vchan_checksum(rbuf, len)) TH_LOG("%s %u: checksum", what, idx);
}

/* The next message at fd is message i of m, whole. */
static inline void vchan_expect_nth(struct __test_metadata *_metadata, int fd,
				    uint8_t *rbuf, const struct vchan_msgs *m,
				    unsigned int i)
{
	vchan_expect_msg(_metadata, fd, rbuf, m->len[i], m->seed[i], m->sum[i],
			 "message", i);
}

/*
 * The direction of fd's channel has nothing queued and has carried 'msgs'
 * messages of 'bytes' bytes in all.
 */
static inline void vchan_expect_carried(struct __test_metadata *_metadata,
					int fd, bool to_client, __u64 msgs,
					__u64 bytes)
{
	struct vchan_dir_info di = vchan_dir(_metadata, fd, to_client);

	EXPECT_EQ(0, di.queued_msgs);
	EXPECT_EQ(0, di.queued_bytes);
	EXPECT_EQ(msgs, di.total_msgs);
	EXPECT_EQ(bytes, di.total_bytes);
}

#endif /* VCHAN_ASYNC_H */
