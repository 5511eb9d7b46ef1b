/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vbench: vchan against pipes and AF_UNIX sockets, one writer process and
 * one reader process.  Shared declarations of the bench sources.
 */
#ifndef VBENCH_H
#define VBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEPTH		64	/* requests in flight, asynchronous transports */
#define BATCH		16	/* completions they wait for at once */
#define SESSION		4242	/* session of the bench's channels */

/*
 * The two ends of a transport.  wfd belongs to the writer, rfd to the
 * reader; node is the session-end node of a vchan channel, which the reader
 * opens itself (rfd is then -1 until it does).
 */
struct link {
	int wfd, rfd;
	char node[64];
	char name[8];
};

/* What the reader counted, in shared memory. */
struct tally {
	uint64_t msgs, bytes;
	double t_end;		/* when the last byte arrived */
};

enum kind { VCHAN, PIPE, STREAM, SEQPACKET };

struct transport {
	const char *name;
	enum kind kind;		/* what the link is: vchan or a peer */
	bool ping_pong;		/* measured for round-trip latency too */
	unsigned int depth;	/* requests in flight: buffers of each side */
	/* Make the link for messages of @size bytes. */
	void (*setup)(struct link *l, size_t size);
	/*
	 * Write @size-byte messages from @bufs (depth * size bytes, faulted in
	 * before the clock starts) until now() >= @deadline, then close wfd.
	 */
	void (*writer)(struct link *l, size_t size, char *bufs, double deadline);
	/* Read into @bufs until end of file, counting into @t. */
	void (*reader)(struct link *l, size_t size, char *bufs, struct tally *t);
};

/* pair.c */
void pair_cost(const struct transport **trs, unsigned int ntr, size_t size, double *ns);

/* util.c */
double now(void);
void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...);
void *xmalloc(size_t size);
void vchan_link(struct link *l, size_t size);
void pipe_link(struct link *l, size_t size);
void socket_link(struct link *l, int type, size_t size);
int open_node(const struct link *l);
void write_all(int fd, const void *buf, size_t n);
size_t read_some(int fd, void *buf, size_t n);

/* The writers and readers of each family (sync.c, aio.c, uring.c, libvchan.c). */
void sync_writer(struct link *l, size_t size, char *bufs, double deadline);
void sync_reader(struct link *l, size_t size, char *bufs, struct tally *t);
void aio_writer(struct link *l, size_t size, char *bufs, double deadline);
void aio_reader(struct link *l, size_t size, char *bufs, struct tally *t);
void uring_writer(struct link *l, size_t size, char *bufs, double deadline);
void uring_reader(struct link *l, size_t size, char *bufs, struct tally *t);
void wfx_writer(struct link *l, size_t size, char *bufs, double deadline);
void wfx_reader(struct link *l, size_t size, char *bufs, struct tally *t);

/*
 * latency.c: @n round trips of @size bytes over each of the @ntr transports
 * in turn; fills rtt[t][0..n-1] with seconds.
 */
void ping_pong(const struct transport **trs, unsigned int ntr, size_t size, unsigned int n,
	       double **rtt);

/* scale.c: creating @n channels; results in seconds and bytes. */
struct scale_result {
	double create_s, destroy_s;
	double kmem_bytes;	/* MemFree drop with the channels open */
	double slab_bytes;	/* of which slab */
	unsigned int ring;	/* ring size of each direction */
};
void scale(unsigned int n, struct scale_result *r);

#endif
