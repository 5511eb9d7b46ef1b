// SPDX-License-Identifier: GPL-2.0
/*
 * vbench - vchan against its peers, inside one boot.
 *
 *   vbench [--runs N] [--time SEC] [--rtt N] [--channels N] [--kernel NAME]
 *          [--json FILE]
 *   vbench --only TRANSPORT:SIZE [--runs N] [--time SEC]
 *   vbench --only scale [--channels N]
 *   vbench --pair SIZE
 *
 * For each message size (64 B, 1600 B, 64 KiB, 1 MiB) and transport, N runs
 * (5) of one writer process streaming messages for SEC seconds (0.25) to one
 * reader process; the median run gives MB/s and messages/s.  Then 64-byte
 * ping-pong round trips (p50, p99 of N), and the cost of creating many
 * channels.  Prints tables with each figure's ratio to the best peer (pipe,
 * AF_UNIX SOCK_STREAM, AF_UNIX SOCK_SEQPACKET) and the targets;
 * --json writes one JSON record per figure per line.  Run as root with the
 * module loaded: bench/run.sh does that in a VM per kernel.  --only runs
 * just one transport at one size and prints each run's MB/s (for profiling:
 * perf record -a -g -- bench/vbench --only vchan-aio:64).  --pair times
 * one process writing and reading back SIZE-byte messages over each
 * blocking transport (pair.c): the data path's cost, with little noise.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vbench.h"

static void stream_link(struct link *l, size_t size) { socket_link(l, SOCK_STREAM, size); }
static void seqpacket_link(struct link *l, size_t size) { socket_link(l, SOCK_SEQPACKET, size); }

static const struct transport transports[] = {
	{ "vchan-block",    VCHAN,     true,  1,     vchan_link,     sync_writer,  sync_reader },
	{ "vchan-aio",      VCHAN,     false, DEPTH, vchan_link,     aio_writer,   aio_reader },
	{ "vchan-uring",    VCHAN,     false, DEPTH, vchan_link,     uring_writer, uring_reader },
	{ "vchan-libvchan", VCHAN,     false, DEPTH, vchan_link,     wfx_writer,   wfx_reader },
	{ "pipe",           PIPE,      true,  1,     pipe_link,      sync_writer,  sync_reader },
	{ "unix-stream",    STREAM,    true,  1,     stream_link,    sync_writer,  sync_reader },
	{ "unix-seqpacket", SEQPACKET, true,  1,     seqpacket_link, sync_writer,  sync_reader },
};
#define NT (sizeof(transports) / sizeof(transports[0]))

static const size_t sizes[] = { 64, 1600, 65536, 1048576 };
#define NS (sizeof(sizes) / sizeof(sizes[0]))

static struct {
	unsigned int runs, rtts, channels;
	double time;
	const char *kernel;
	FILE *json;
} opt = { 5, 2000, 10000, 0.25, "unknown", NULL };

static double mbps[NT][NS];		/* median MB/s (10^6 bytes) */
static double p50[NT], p99[NT];		/* round trip, microseconds */

static void wait_child(pid_t pid, const char *what, const struct transport *tr, size_t size)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		die("%s %zu B: the %s failed", tr->name, size, what);
}

/* One run: MB/s from the start signal to the last byte read. */
static double run_once(const struct transport *tr, size_t size)
{
	struct tally *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ready[2], go[2];
	pid_t reader, writer;
	struct link l;
	char c[2];
	double t0, v;

	if (t == MAP_FAILED || pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		die("mmap/pipe: %s", strerror(errno));
	tr->setup(&l, size);
	reader = fork();
	if (!reader) {
		char *bufs = xmalloc(tr->depth * size);

		close(l.wfd);
		close(go[1]);
		if (write(ready[1], "r", 1) != 1 || read(go[0], c, 1) != 0)
			_exit(1);
		tr->reader(&l, size, bufs, t);
		_exit(0);
	}
	writer = fork();
	if (!writer) {
		char *bufs = xmalloc(tr->depth * size);

		if (l.rfd >= 0)
			close(l.rfd);
		close(go[1]);
		if (write(ready[1], "w", 1) != 1 || read(go[0], c, 1) != 0)
			_exit(1);
		tr->writer(&l, size, bufs, now() + opt.time);
		_exit(0);
	}
	if (reader < 0 || writer < 0)
		die("fork: %s", strerror(errno));
	close(l.wfd);
	if (l.rfd >= 0)
		close(l.rfd);
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], c, 1) != 1 || read(ready[0], c + 1, 1) != 1)
		die("%s: a child died before starting", tr->name);
	t0 = now();
	close(go[1]);		/* both children read end of file: go */
	wait_child(writer, "writer", tr, size);
	wait_child(reader, "reader", tr, size);
	close(ready[0]);
	if (!t->bytes || t->bytes % size)
		die("%s %zu B: the reader got %llu bytes", tr->name, size,
		    (unsigned long long)t->bytes);
	v = t->bytes / (t->t_end - t0) / 1e6;
	munmap(t, sizeof(*t));
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double best_peer_mbps(unsigned int s)
{
	double best = 0;

	for (unsigned int i = 0; i < NT; i++)
		if (transports[i].kind != VCHAN && mbps[i][s] > best)
			best = mbps[i][s];
	return best;
}

static double best_peer_rtt(const double *v)
{
	double best = INFINITY;

	for (unsigned int i = 0; i < NT; i++)
		if (transports[i].kind != VCHAN && transports[i].ping_pong && v[i] < best)
			best = v[i];
	return best;
}

static void record(const char *transport, size_t size, const char *metric, double value, double ratio)
{
	if (!opt.json)
		return;
	fprintf(opt.json, "{\"kernel\": \"%s\", \"transport\": \"%s\", \"size\": %zu, "
		"\"metric\": \"%s\", \"value\": %.6g, \"ratio\": ", opt.kernel, transport,
		size, metric, value);
	if (isnan(ratio))
		fprintf(opt.json, "null}\n");
	else
		fprintf(opt.json, "%.3f}\n", ratio);
}

static void size_name(char *buf, size_t len, size_t size)
{
	if (size >= 1048576 && !(size % 1048576))
		snprintf(buf, len, "%zu MiB", size >> 20);
	else if (size >= 1024 && !(size % 1024))
		snprintf(buf, len, "%zu KiB", size >> 10);
	else
		snprintf(buf, len, "%zu B", size);
}

/*
 * The runs of one size go round the transports in turn, so that a change in
 * the machine's load (other VMs, other jobs) hits every transport alike.
 */
static void throughput(void)
{
	double v[NT][opt.runs];
	char name[32];

	for (unsigned int s = 0; s < NS; s++) {
		for (unsigned int r = 0; r < opt.runs; r++)
			for (unsigned int i = 0; i < NT; i++)
				v[i][r] = run_once(&transports[i], sizes[s]);
		for (unsigned int i = 0; i < NT; i++)
			mbps[i][s] = median(v[i], opt.runs);
		fprintf(stderr, ".");
	}
	fprintf(stderr, "\n");

	printf("\n%s: throughput, median of %u runs of %.2f s; MB/s, messages/s, x best peer\n",
	       opt.kernel, opt.runs, opt.time);
	printf("%-15s", "transport");
	for (unsigned int s = 0; s < NS; s++) {
		size_name(name, sizeof(name), sizes[s]);
		printf(" | %-25s", name);
	}
	printf("\n");
	for (unsigned int i = 0; i < NT; i++) {
		printf("%-15s", transports[i].name);
		for (unsigned int s = 0; s < NS; s++) {
			double ratio = mbps[i][s] / best_peer_mbps(s);
			double msgs = mbps[i][s] * 1e6 / sizes[s];

			printf(" | %7.1f %9.0f %5.2fx", mbps[i][s], msgs, ratio);
			record(transports[i].name, sizes[s], "mb_per_s", mbps[i][s], ratio);
			record(transports[i].name, sizes[s], "msgs_per_s", msgs, ratio);
		}
		printf("\n");
	}
}

static void latency(void)
{
	const struct transport *trs[NT];
	double *rtt[NT];
	unsigned int n = 0;

	for (unsigned int i = 0; i < NT; i++) {
		if (!transports[i].ping_pong)
			continue;
		trs[n] = &transports[i];
		rtt[n] = calloc(opt.rtts, sizeof(double));
		if (!rtt[n++])
			die("out of memory");
	}
	ping_pong(trs, n, 64, opt.rtts, rtt);
	for (unsigned int i = 0, k = 0; i < NT; i++) {
		if (!transports[i].ping_pong)
			continue;
		qsort(rtt[k], opt.rtts, sizeof(double), cmp_double);
		p50[i] = rtt[k][opt.rtts / 2] * 1e6;
		p99[i] = rtt[k][opt.rtts * 99 / 100] * 1e6;
		free(rtt[k++]);
	}
	printf("\n%s: 64 B ping-pong round trip, %u round trips; microseconds, x best peer\n",
	       opt.kernel, opt.rtts);
	for (unsigned int i = 0; i < NT; i++) {
		double r50, r99;

		if (!transports[i].ping_pong)
			continue;
		r50 = p50[i] / best_peer_rtt(p50);
		r99 = p99[i] / best_peer_rtt(p99);
		printf("%-15s p50 %7.1f (%4.2fx)  p99 %7.1f (%4.2fx)\n", transports[i].name,
		       p50[i], r50, p99[i], r99);
		record(transports[i].name, 64, "rtt_p50_us", p50[i], r50);
		record(transports[i].name, 64, "rtt_p99_us", p99[i], r99);
	}
}

static void channels(void)
{
	struct scale_result r;

	scale(opt.channels, &r);
	printf("\n%s: %u idle channels (rings %u B each way): created in %.2f s, closed in %.2f s;\n"
	       "  kernel memory %.1f MiB (slab %.1f MiB), %.0f B per channel\n", opt.kernel,
	       opt.channels, r.ring, r.create_s, r.destroy_s, r.kmem_bytes / 1048576,
	       r.slab_bytes / 1048576, r.kmem_bytes / opt.channels);
	record("vchan", r.ring, "channels", opt.channels, NAN);
	record("vchan", r.ring, "create_channels_s", r.create_s, NAN);
	record("vchan", r.ring, "destroy_channels_s", r.destroy_s, NAN);
	record("vchan", r.ring, "kmem_channels_bytes", r.kmem_bytes, NAN);
	record("vchan", r.ring, "bytes_per_idle_channel", r.kmem_bytes / opt.channels, NAN);
}

static unsigned int index_of(const char *name);

/* --pair SIZE: ns per write+read pair in one process, blocking transports. */
static int pair(size_t size)
{
	const struct transport *trs[NT];
	unsigned int n = 0, pipe = 0;
	double ns[NT];

	for (unsigned int i = 0; i < NT; i++) {
		if (transports[i].writer != sync_writer)
			continue;
		if (transports[i].kind == PIPE)
			pipe = n;
		trs[n++] = &transports[i];
	}
	pair_cost(trs, n, size, ns);
	printf("%zu B, one process, fastest round: ns per write+read pair (x pipe)\n", size);
	for (unsigned int i = 0; i < n; i++)
		printf("%-15s %8.0f (%4.2fx)\n", trs[i]->name, ns[i], ns[i] / ns[pipe]);
	return 0;
}

static void channels(void);

/* --only TRANSPORT:SIZE, or --only scale */
static int only(const char *arg)
{
	char name[32];
	size_t size;

	if (!strcmp(arg, "scale")) {
		channels();
		return 0;
	}
	if (sscanf(arg, "%31[^:]:%zu", name, &size) != 2 || !size)
		die("--only takes TRANSPORT:SIZE, e.g. vchan-aio:64");
	for (unsigned int r = 0; r < opt.runs; r++)
		printf("%s %zu B: %.1f MB/s\n", name, size, run_once(&transports[index_of(name)], size));
	return 0;
}

static unsigned int index_of(const char *name)
{
	for (unsigned int i = 0; i < NT; i++)
		if (!strcmp(transports[i].name, name))
			return i;
	die("no transport %s", name);
}

static void target(const char *what, double value, double want, bool at_most)
{
	bool ok = at_most ? value <= want : value >= want;

	printf("  %-58s %5.2fx (%s %.2fx) %s\n", what, value, at_most ? "<=" : ">=", want,
	       ok ? "met" : "SHORT");
}

static void targets(void)
{
	unsigned int blk = index_of("vchan-block"), aio = index_of("vchan-aio");
	unsigned int wfx = index_of("vchan-libvchan"), pipe = index_of("pipe");
	char what[80], name[32];

	printf("\n%s: targets\n", opt.kernel);
	for (unsigned int s = 0; s < NS; s++) {
		size_name(name, sizeof(name), sizes[s]);
		snprintf(what, sizeof(what), "blocking vchan / best peer, %s", name);
		target(what, mbps[blk][s] / best_peer_mbps(s), 1.0, false);
	}
	for (unsigned int s = 0; s < 2; s++) {
		size_name(name, sizeof(name), sizes[s]);
		snprintf(what, sizeof(what), "libaio vchan / best peer, messages/s, %s", name);
		target(what, mbps[aio][s] / best_peer_mbps(s), 2.0, false);
	}
	target("libaio vchan / best peer, 1 MiB", mbps[aio][NS - 1] / best_peer_mbps(NS - 1), 1.5, false);
	for (unsigned int s = 0; s < NS; s++) {
		size_name(name, sizeof(name), sizes[s]);
		snprintf(what, sizeof(what), "libvchan WriteFileEx/ReadFileEx / raw libaio, %s", name);
		target(what, mbps[wfx][s] / mbps[aio][s], 0.85, false);
	}
	target("64 B round trip p50, blocking vchan / pipe", p50[blk] / p50[pipe], 1.1, true);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "time", required_argument, NULL, 't' },
		{ "rtt", required_argument, NULL, 'l' },
		{ "channels", required_argument, NULL, 'c' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "json", required_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },
		{ "pair", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char *one = NULL;
	const char *pair_size = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': opt.runs = atoi(optarg); break;
		case 't': opt.time = atof(optarg); break;
		case 'l': opt.rtts = atoi(optarg); break;
		case 'c': opt.channels = atoi(optarg); break;
		case 'k': opt.kernel = optarg; break;
		case 'o': one = optarg; break;
		case 'p': pair_size = optarg; break;
		case 'j':
			opt.json = fopen(optarg, "w");
			if (!opt.json)
				die("%s: %s", optarg, strerror(errno));
			break;
		default:
			fprintf(stderr, "usage: vbench [--runs N] [--time SEC] [--rtt N] "
				"[--channels N] [--kernel NAME] [--json FILE]\n"
				"       vbench --only TRANSPORT:SIZE [--runs N] [--time SEC]\n"
				"       vbench --only scale [--channels N]\n"
				"       vbench --pair SIZE\n");
			return 2;
		}
	}
	if (!opt.runs || !(opt.time > 0) || opt.rtts < 100 || !opt.channels)
		die("--runs, --time, --channels must be positive, --rtt at least 100");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (one)
		return only(one);
	if (pair_size)
		return pair(strtoul(pair_size, NULL, 0));
	throughput();
	latency();
	channels();
	targets();
	if (opt.json && fclose(opt.json))
		die("writing the JSON records: %s", strerror(errno));
	return 0;
}
