// SPDX-License-Identifier: GPL-2.0
/* vbench: blocking write() and read(), for vchan and every peer. */
#include <stdlib.h>
#include <unistd.h>

#include "vbench.h"

void sync_writer(struct link *l, size_t size, double deadline)
{
	char *buf = xmalloc(size);

	do	/* at least one message, however late this process starts */
		write_all(l->wfd, buf, size);
	while (now() < deadline);
	close(l->wfd);
	free(buf);
}

/*
 * A message transport returns one message per read; for a byte stream the
 * message count is bytes / size.
 */
void sync_reader(struct link *l, size_t size, struct tally *t)
{
	char *buf = xmalloc(size);
	size_t n;

	if (l->rfd < 0)
		l->rfd = open_node(l);
	while ((n = read_some(l->rfd, buf, size))) {
		t->msgs++;
		t->bytes += n;
		t->t_end = now();
	}
	close(l->rfd);
	free(buf);
}
