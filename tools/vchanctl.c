// SPDX-License-Identifier: GPL-2.0
/*
 * vchanctl: list, watch and serve vchan virtual channels.
 *
 *   vchanctl list [--json]
 *   vchanctl top [--interval SEC] [--count N]
 *   vchanctl serve SESSION NAME [--ring SIZE] [--owner USER[:GROUP]]
 *                  [--mode MODE] [--shared] (--echo | --sink | --cat)
 *   vchanctl listen SESSION --echo
 *
 * list and top read /sys/class/vchan; serve creates a channel through
 * /dev/vchan/control and holds its client end until SIGINT or SIGTERM.
 * Exit status: 0 success, 1 failure of the operation, 2 bad usage.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vchan.h>

#define SYSFS_CLASS "/sys/class/vchan"
#define CONTROL "/dev/vchan/control"

static const char *prog = "vchanctl";

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void __attribute__((noreturn)) usage(FILE *f, int status)
{
	fprintf(f,
		"usage: vchanctl list [--json]\n"
		"       vchanctl top [--interval SEC] [--count N]\n"
		"       vchanctl serve SESSION NAME [--ring SIZE] [--owner USER[:GROUP]]\n"
		"                      [--mode MODE] [--shared] (--echo | --sink | --cat)\n"
		"       vchanctl listen SESSION --echo\n"
		"\n"
		"list   every channel: session, name, kind, owner, mode, ring sizes,\n"
		"       bytes/messages queued and in total each way, session ends open\n"
		"top    per-channel rates, refreshed in place\n"
		"serve  create a channel and hold its client end until interrupted:\n"
		"       --echo sends every message back whole, --sink counts what\n"
		"       arrives and prints totals and an FNV-1a checksum at exit,\n"
		"       --cat sends each read of stdin as one message and writes\n"
		"       what arrives to stdout\n"
		"listen accept every dynamic channel asked for in SESSION and echo\n"
		"       each message back whole on it, until interrupted\n"
		"See vchanctl(8).\n");
	exit(status);
}

static void need_module(void)
{
	if (access(SYSFS_CLASS, F_OK))
		die(1, "module not loaded: run sudo modprobe vchan");
}

/* ---- reading the channels from sysfs ---- */

struct chan {
	char dir[256];		/* ch<minor> */
	unsigned int session, flags, open;
	char name[VCHAN_NAME_MAX + 1];
	char owner[32], mode[8];
	/* [0]: to_client, [1]: to_session */
	uint64_t ring[2], qbytes[2], qmsgs[2], tbytes[2], tmsgs[2];
};

static int read_attr(const char *dir, const char *attr, char *buf, size_t size)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS_CLASS "/%s/%s", dir, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static uint64_t attr_u64(const char *dir, const char *attr)
{
	char buf[64];

	return read_attr(dir, attr, buf, sizeof(buf)) ? 0 : strtoull(buf, NULL, 0);
}

static bool read_chan(const char *dir, struct chan *c)
{
	static const char *const dirs[2] = { "to_client", "to_session" };
	char attr[64];
	int i;

	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	if (read_attr(dir, "name", c->name, sizeof(c->name)))
		return false;	/* gone meanwhile */
	c->session = attr_u64(dir, "session");
	c->flags = attr_u64(dir, "flags");
	c->open = attr_u64(dir, "session_open");
	read_attr(dir, "owner", c->owner, sizeof(c->owner));
	read_attr(dir, "mode", c->mode, sizeof(c->mode));
	for (i = 0; i < 2; i++) {
#define STAT(field, file) \
		(snprintf(attr, sizeof(attr), "%s/" file, dirs[i]), c->field[i] = attr_u64(dir, attr))
		STAT(ring, "ring_size");
		STAT(qbytes, "queued_bytes");
		STAT(qmsgs, "queued_msgs");
		STAT(tbytes, "total_bytes");
		STAT(tmsgs, "total_msgs");
#undef STAT
	}
	return true;
}

static int cmp_chan(const void *a, const void *b)
{
	const struct chan *x = a, *y = b;

	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* All channels, sorted by session and name. */
static struct chan *read_chans(size_t *count)
{
	struct chan *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	need_module();
	d = opendir(SYSFS_CLASS);
	if (!d)
		die(1, "%s: %s", SYSFS_CLASS, strerror(errno));
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "ch", 2))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				die(1, "out of memory");
		}
		if (read_chan(e->d_name, &v[n]))
			n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_chan);
	*count = n;
	return v;
}

static const char *kind(const struct chan *c)
{
	return c->flags & VCHAN_F_DYNAMIC ? "dynamic" : "static";
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static int cmd_list(int argc, char **argv)
{
	bool json = argc == 2 && !strcmp(argv[1], "--json");
	struct chan *v;
	size_t n, i;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		usage(stdout, 0);
	if (argc > 2 || (argc == 2 && !json))
		usage(stderr, 2);
	v = read_chans(&n);
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			const struct chan *c = &v[i];

			printf("%s\n  {\"session\": %u, \"name\": ", i ? "," : "", c->session);
			json_string(c->name);
			printf(", \"kind\": \"%s\", \"shared\": %s, \"owner\": \"%s\", \"mode\": \"%s\", "
			       "\"session_open\": %u", kind(c), c->flags & VCHAN_F_SHARED ? "true" : "false",
			       c->owner, c->mode, c->open);
			for (int j = 0; j < 2; j++)
				printf(", \"%s\": {\"ring_size\": %" PRIu64 ", \"queued_bytes\": %" PRIu64
				       ", \"queued_msgs\": %" PRIu64 ", \"total_bytes\": %" PRIu64
				       ", \"total_msgs\": %" PRIu64 "}", j ? "to_session" : "to_client",
				       c->ring[j], c->qbytes[j], c->qmsgs[j], c->tbytes[j], c->tmsgs[j]);
			printf("}");
		}
		printf("%s]\n", n ? "\n" : "");
	} else if (!n) {
		printf("(no channels)\n");
	} else {
		printf("%-8s %-16s %-7s %-11s %-4s %-15s %-19s %-19s %-25s %-25s %s\n",
		       "SESSION", "NAME", "KIND", "OWNER", "MODE", "RING C/S",
		       "QUEUED->CLIENT", "QUEUED->SESSION", "TOTAL->CLIENT", "TOTAL->SESSION", "OPEN");
		for (i = 0; i < n; i++) {
			const struct chan *c = &v[i];
			char ring[40], q[2][40], t[2][48];

			snprintf(ring, sizeof(ring), "%" PRIu64 "/%" PRIu64, c->ring[0], c->ring[1]);
			for (int j = 0; j < 2; j++) {
				snprintf(q[j], sizeof(q[j]), "%" PRIu64 "B/%" PRIu64 "m", c->qbytes[j], c->qmsgs[j]);
				snprintf(t[j], sizeof(t[j]), "%" PRIu64 "B/%" PRIu64 "m", c->tbytes[j], c->tmsgs[j]);
			}
			printf("%-8u %-16s %-7s %-11s %-4s %-15s %-19s %-19s %-25s %-25s %u\n",
			       c->session, c->name, kind(c), c->owner, c->mode, ring,
			       q[0], q[1], t[0], t[1], c->open);
		}
	}
	free(v);
	return 0;
}

/* ---- top ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const struct chan *find(const struct chan *v, size_t n, const char *dir)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].dir, dir))
			return &v[i];
	return NULL;
}

static int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	double interval = 1, t0, t1;
	long count = -1, k;
	struct chan *old, *cur;
	size_t nold, ncur, i;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		if (c == 'h') {
			usage(stdout, 0);
		} else if (c == 'i') {
			interval = strtod(optarg, &end);
			if (*end || !(interval > 0))
				die(2, "--interval takes a positive number of seconds");
		} else if (c == 'n') {
			count = strtol(optarg, &end, 10);
			if (*end || count <= 0)
				die(2, "--count takes a positive whole number");
		} else {
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);

	old = read_chans(&nold);
	t0 = now();
	for (k = 0; count < 0 || k < count; k++) {
		struct timespec ts = { (time_t)interval, (long)((interval - (time_t)interval) * 1e9) };

		nanosleep(&ts, NULL);
		cur = read_chans(&ncur);
		t1 = now();
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		printf("vchan: %zu channels, every %.1fs\n", ncur, interval);
		printf("%-8s %-16s %14s %12s %14s %12s %5s\n", "SESSION", "NAME",
		       "->CLIENT B/s", "msg/s", "->SESSION B/s", "msg/s", "OPEN");
		for (i = 0; i < ncur; i++) {
			const struct chan *c = &cur[i], *o = find(old, nold, c->dir);
			double dt = t1 - t0, r[4] = { 0, 0, 0, 0 };

			if (o && !strcmp(o->name, c->name)) {
				r[0] = (c->tbytes[0] - o->tbytes[0]) / dt;
				r[1] = (c->tmsgs[0] - o->tmsgs[0]) / dt;
				r[2] = (c->tbytes[1] - o->tbytes[1]) / dt;
				r[3] = (c->tmsgs[1] - o->tmsgs[1]) / dt;
			}
			printf("%-8u %-16s %14.0f %12.0f %14.0f %12.0f %5u\n", c->session,
			       c->name, r[0], r[1], r[2], r[3], c->open);
		}
		fflush(stdout);
		free(old);
		old = cur;
		nold = ncur;
		t0 = t1;
	}
	free(old);
	return 0;
}

/* ---- serve ---- */

enum serve_mode {
	SERVE_NONE, SERVE_ECHO, SERVE_SINK, SERVE_CAT,
	WATCH_SIGNAL, WATCH_STDIN, WATCH_LISTEN,	/* not channels: see struct loop */
};

static uint32_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end || end == s || v > UINT32_MAX)
		die(2, "bad size '%s' (bytes, or with K or M)", s);
	return v;
}

static uint32_t parse_id(const char *s, bool group)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s && !*end && v <= UINT32_MAX)
		return v;
	if (group) {
		struct group *g = getgrnam(s);

		if (!g)
			die(2, "no group '%s'", s);
		return g->gr_gid;
	} else {
		struct passwd *p = getpwnam(s);

		if (!p)
			die(2, "no user '%s'", s);
		return p->pw_uid;
	}
}

static int open_control(void)
{
	int ctl = open(CONTROL, O_RDWR | O_CLOEXEC);

	if (ctl >= 0)
		return ctl;
	if (errno == ENOENT)
		need_module();
	if (errno == EACCES)
		die(1, "%s: permission denied (run as root or as a member of its group)", CONTROL);
	die(1, "%s: %s", CONTROL, strerror(errno));
}

static int create_channel(struct vchan_create *req)
{
	int ctl = open_control(), fd, err;

	fd = ioctl(ctl, VCHAN_IOC_CREATE, req);
	err = errno;
	close(ctl);
	if (fd >= 0)
		return fd;
	switch (err) {
	case EEXIST:
		die(1, "channel %u/%s exists", req->session, req->name);
	case ENOSPC:
		die(1, "too many channels (module parameter max_channels)");
	case EINVAL:
		die(1, "channel %u/%s: invalid name, ring size, owner or mode (names: 1-7 "
		    "characters of A-Z a-z 0-9 _ . -; rings: powers of two from 4096 up "
		    "to the module's max_ring)", req->session, req->name);
	default:
		die(1, "creating channel %u/%s: %s", req->session, req->name, strerror(err));
	}
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct server {
	int fd;
	enum serve_mode mode;
	unsigned char *msg;	/* the message being reassembled */
	size_t len;		/* its bytes so far */
	bool have_out;		/* echo: msg is complete and waits to be written */
	uint64_t msgs, bytes, sum;
};

/* Reassemble PDUs; returns true when msg holds a whole message. */
static bool take_pdu(struct server *s, const unsigned char *pdu, size_t n)
{
	struct vchan_pdu_header h;

	memcpy(&h, pdu, sizeof(h));
	if (h.flags & VCHAN_PDU_FIRST)
		s->len = 0;
	memcpy(s->msg + s->len, pdu + sizeof(h), n - sizeof(h));
	s->len += n - sizeof(h);
	return h.flags & VCHAN_PDU_LAST;
}

/*
 * Read what is there; stop when a whole echo message waits to go out.
 * Returns false at end of file: no session end.
 */
static bool drain_channel(struct server *s, unsigned char *buf, size_t size)
{
	while (!s->have_out) {
		ssize_t n = read(s->fd, buf, size);

		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die(1, "reading the channel: %s", strerror(errno));
			return n < 0;
		}
		if (s->mode == SERVE_CAT) {
			if (write(STDOUT_FILENO, buf, n) != n)
				die(1, "writing stdout: %s", strerror(errno));
			continue;
		}
		if (!take_pdu(s, buf, n))
			continue;
		s->msgs++;
		s->bytes += s->len;
		s->sum = fnv1a(s->sum, s->msg, s->len);
		s->have_out = s->mode == SERVE_ECHO;
	}
	return true;
}

static void flush_echo(struct server *s)
{
	if (!s->have_out)
		return;
	if (write(s->fd, s->msg, s->len) == (ssize_t)s->len)
		s->have_out = false;
	else if (errno != EAGAIN)
		die(1, "writing the channel: %s", strerror(errno));
}

/* The event loop of serve and listen: what each epoll entry is. */
struct loop {
	int ep;
	unsigned char *buf;	/* one PDU */
	size_t size;
	struct server sig, in, listener;	/* fd and mode only */
};

static void watch(struct loop *lp, struct server *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, s->fd, &ev))
		die(1, "epoll_ctl: %s", strerror(errno));
}

static void loop_init(struct loop *lp)
{
	sigset_t sigs;

	memset(lp, 0, sizeof(*lp));
	lp->size = sizeof(struct vchan_pdu_header) + VCHAN_MSG_MAX;
	lp->buf = malloc(lp->size);
	if (!lp->buf)
		die(1, "out of memory");
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	lp->sig.fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	lp->sig.mode = WATCH_SIGNAL;
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	if (lp->sig.fd < 0 || lp->ep < 0)
		die(1, "epoll/signalfd: %s", strerror(errno));
	watch(lp, &lp->sig, EPOLLIN);
}

/* Serve a channel's client end: PDU reads (but --cat), non-blocking. */
static struct server *add_channel(struct loop *lp, int fd, enum serve_mode mode)
{
	struct vchan_read_mode rm = { VCHAN_READ_PDU, VCHAN_MSG_MAX };
	struct server *s = calloc(1, sizeof(*s));

	if (!s || !(s->msg = malloc(VCHAN_MSG_MAX)))
		die(1, "out of memory");
	s->fd = fd;
	s->mode = mode;
	s->sum = 0xcbf29ce484222325ULL;
	if (mode != SERVE_CAT && ioctl(fd, VCHAN_IOC_SET_READ_MODE, &rm))
		die(1, "VCHAN_IOC_SET_READ_MODE: %s", strerror(errno));
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		die(1, "fcntl: %s", strerror(errno));
	/* Edge-triggered: the client end reports EPOLLHUP while no session end is open. */
	watch(lp, s, EPOLLIN | EPOLLOUT | EPOLLET);
	return s;
}

static void drop_channel(struct server *s)
{
	close(s->fd);	/* also leaves the epoll set */
	free(s->msg);
	free(s);
}

/* --cat: one message per read of stdin, waiting for room if need be. */
static void stdin_to_channel(struct loop *lp, int fd)
{
	ssize_t r = read(STDIN_FILENO, lp->buf, 65536);

	if (r <= 0) {
		epoll_ctl(lp->ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
		return;
	}
	while (write(fd, lp->buf, r) != r) {
		struct pollfd pfd = { fd, POLLOUT, 0 };

		if (errno != EAGAIN)
			die(1, "writing the channel: %s", strerror(errno));
		poll(&pfd, 1, -1);
	}
}

/* A dynamic channel request: accept it and echo on the new channel. */
static void accept_request(struct loop *lp)
{
	struct vchan_dyn_request req;
	struct vchan_dyn_accept a;
	int fd;

	if (read(lp->listener.fd, &req, sizeof(req)) != sizeof(req))
		return;
	memset(&a, 0, sizeof(a));
	a.id = req.id;
	fd = ioctl(lp->listener.fd, VCHAN_IOC_DYN_ACCEPT, &a);
	if (fd < 0) {
		fprintf(stderr, "%s: accepting '%s' from pid %u: %s\n", prog, req.name,
			req.pid, strerror(errno));
		return;
	}
	fprintf(stderr, "%s: accepted '%s' (flags 0x%x) from pid %u\n", prog,
		req.name, req.flags, req.pid);
	add_channel(lp, fd, SERVE_ECHO);
}

/* Run until SIGINT or SIGTERM.  @single: the served channel, if one. */
static void run(struct loop *lp, struct server *single)
{
	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(lp->ep, evs, 16, -1), i;

		if (n < 0 && errno != EINTR)
			die(1, "epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			struct server *s = evs[i].data.ptr;

			if (s->mode == WATCH_SIGNAL)
				return;
			if (s->mode == WATCH_STDIN) {
				stdin_to_channel(lp, single->fd);
			} else if (s->mode == WATCH_LISTEN) {
				accept_request(lp);
			} else {
				flush_echo(s);
				/* A dynamic channel ends when its session end does. */
				if (!drain_channel(s, lp->buf, lp->size) && s != single)
					drop_channel(s);
				else
					flush_echo(s);
			}
		}
	}
}

static int serve(int fd, enum serve_mode mode)
{
	struct server *s;
	struct loop lp;

	loop_init(&lp);
	s = add_channel(&lp, fd, mode);
	if (mode == SERVE_CAT) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lp.in };

		lp.in.fd = STDIN_FILENO;
		lp.in.mode = WATCH_STDIN;
		epoll_ctl(lp.ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
	}
	run(&lp, s);
	if (mode == SERVE_SINK)
		printf("messages %" PRIu64 " bytes %" PRIu64 " fnv1a64 %016" PRIx64 "\n",
		       s->msgs, s->bytes, s->sum);
	else if (mode == SERVE_ECHO)
		fprintf(stderr, "%s: echoed %" PRIu64 " messages, %" PRIu64 " bytes\n",
			prog, s->msgs, s->bytes);
	drop_channel(s);
	free(lp.buf);
	return 0;
}

static int cmd_listen(int argc, char **argv)
{
	struct vchan_listen req;
	struct loop lp;
	char *end;
	unsigned long v;
	int ctl;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		usage(stdout, 0);
	if (argc != 3 || strcmp(argv[2], "--echo"))
		usage(stderr, 2);
	v = strtoul(argv[1], &end, 10);
	if (*end || end == argv[1] || v > UINT32_MAX)
		die(2, "bad session id '%s'", argv[1]);
	memset(&req, 0, sizeof(req));
	req.session = v;
	req.mode = 0666;
	ctl = open_control();
	loop_init(&lp);
	lp.listener.fd = ioctl(ctl, VCHAN_IOC_LISTEN, &req);
	if (lp.listener.fd < 0)
		die(1, errno == EBUSY ? "session %u has a listener already" :
		    "listening on session %u: %s", req.session, strerror(errno));
	close(ctl);
	lp.listener.mode = WATCH_LISTEN;
	watch(&lp, &lp.listener, EPOLLIN);
	fprintf(stderr, "%s: listening for dynamic channels on /dev/vchan/dynamic/%u\n",
		prog, req.session);
	run(&lp, NULL);
	free(lp.buf);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ring", required_argument, NULL, 'r' },
		{ "owner", required_argument, NULL, 'o' },
		{ "mode", required_argument, NULL, 'm' },
		{ "shared", no_argument, NULL, 's' },
		{ "echo", no_argument, NULL, 'E' },
		{ "sink", no_argument, NULL, 'S' },
		{ "cat", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct vchan_create req;
	enum serve_mode mode = SERVE_NONE;
	char *end, *colon;
	unsigned long v;
	int c, fd;

	memset(&req, 0, sizeof(req));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			req.ring_to_client = req.ring_to_session = parse_size(optarg);
			break;
		case 'o':
			colon = strchr(optarg, ':');
			if (colon)
				*colon = 0;
			req.uid = parse_id(optarg, false);
			req.gid = colon ? parse_id(colon + 1, true) : 0;
			if (!colon) {
				struct passwd *p = getpwuid(req.uid);

				req.gid = p ? p->pw_gid : req.uid;
			}
			break;
		case 'm':
			v = strtoul(optarg, &end, 8);
			if (*end || end == optarg || v > 0777)
				die(2, "--mode takes octal permission bits, e.g. 0660");
			req.mode = v;
			break;
		case 's':
			req.flags |= VCHAN_F_SHARED;
			break;
		case 'E':
		case 'S':
		case 'C':
			if (mode != SERVE_NONE)
				die(2, "give one of --echo, --sink and --cat");
			mode = c == 'E' ? SERVE_ECHO : c == 'S' ? SERVE_SINK : SERVE_CAT;
			break;
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	if (argc - optind != 2 || mode == SERVE_NONE)
		usage(stderr, 2);
	v = strtoul(argv[optind], &end, 10);
	if (*end || end == argv[optind] || v > UINT32_MAX)
		die(2, "bad session id '%s'", argv[optind]);
	req.session = v;
	if (strlen(argv[optind + 1]) > VCHAN_NAME_MAX)
		die(2, "channel name too long");
	strcpy(req.name, argv[optind + 1]);

	fd = create_channel(&req);
	fprintf(stderr, "%s: serving /dev/vchan/%u/%s\n", prog, req.session, req.name);
	return serve(fd, mode);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage(stderr, 2);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		usage(stdout, 0);
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "top"))
		return cmd_top(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "listen"))
		return cmd_listen(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
	usage(stderr, 2);
}
