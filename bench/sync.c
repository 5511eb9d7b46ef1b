// SPDX-License-Identifier: GPL-2.0
/* vbench: blocking write() and read(), for vchan and every peer. */
#include <unistd.h>

#include "vbench.h"

void sync_writer(struct link *l, size_t size, char *bufs, double deadline)
{
	do	/* at least one message, however late this process starts */
		write_all(l->wfd, bufs, size);
	while (now() < deadline);
	close(l->wfd);
}

/*
 * A message transport returns one message per read; for a byte stream the
 * message count is bytes / size.
 */
void sync_reader(struct link *l, size_t size, char *bufs, struct tally *t)
{
	size_t n;

	if (l->rfd < 0)
		l->rfd = open_node(l);
	while ((n = read_some(l->rfd, bufs, size))) {
		t->msgs++;
		t->bytes += n;
		t->t_end = now();
	}
	close(l->rfd);
}
