// SPDX-License-Identifier: GPL-2.0
/*
 * vbench: the cost of many channels.  Raises the module's max_channels (and
 * this process's open-file limit) for the time of the test, creates @n idle
 * channels with the smallest rings, and measures the time and the memory
 * the kernel gave them (the drop of MemFree, page cache dropped before each
 * reading).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/vchan.h>

#include "vbench.h"

#define MAX_CHANNELS "/sys/module/vchan/parameters/max_channels"

static unsigned long read_ulong(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long v;

	if (!f || fscanf(f, "%lu", &v) != 1)
		die("%s: cannot read", path);
	fclose(f);
	return v;
}

static void write_ulong(const char *path, unsigned long v)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%lu\n", v) < 0 || fclose(f))
		die("%s: cannot write", path);
}

/* A /proc/meminfo field in bytes, after dropping the page cache. */
static void meminfo(double *free_b, double *slab_b)
{
	char line[128];
	unsigned long kb;
	FILE *f;

	sync();
	write_ulong("/proc/sys/vm/drop_caches", 3);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemFree: %lu kB", &kb) == 1)
			*free_b = kb * 1024.0;
		else if (sscanf(line, "Slab: %lu kB", &kb) == 1)
			*slab_b = kb * 1024.0;
	}
	fclose(f);
}

void scale(unsigned int n, struct scale_result *r)
{
	unsigned long old_max = read_ulong(MAX_CHANNELS);
	struct rlimit rl = { n + 256, n + 256 };
	double free0, slab0, free1, slab1, t0;
	struct vchan_create req;
	int ctl, *fds = calloc(n, sizeof(int));

	if (fds)
		memset(fds, 0xff, n * sizeof(int));	/* fault in before measuring */
	if (!fds || setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit(RLIMIT_NOFILE, %u): %s", n + 256, strerror(errno));
	ctl = open("/dev/vchan/control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("/dev/vchan/control: %s", strerror(errno));
	write_ulong(MAX_CHANNELS, n + 64);
	memset(&req, 0, sizeof(req));
	req.session = SESSION + 1;
	req.ring_to_client = req.ring_to_session = VCHAN_RING_MIN;
	r->ring = VCHAN_RING_MIN;

	meminfo(&free0, &slab0);
	t0 = now();
	for (unsigned int i = 0; i < n; i++) {
		snprintf(req.name, sizeof(req.name), "s%u", i);
		fds[i] = ioctl(ctl, VCHAN_IOC_CREATE, &req);
		if (fds[i] < 0)
			die("creating channel %u of %u: %s", i + 1, n, strerror(errno));
	}
	r->create_s = now() - t0;
	meminfo(&free1, &slab1);
	r->kmem_bytes = free0 - free1;
	r->slab_bytes = slab1 - slab0;

	t0 = now();
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
	r->destroy_s = now() - t0;
	write_ulong(MAX_CHANNELS, old_max);
	close(ctl);
	free(fds);
}
