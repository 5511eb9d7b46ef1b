// SPDX-License-Identifier: GPL-2.0
/*
 * dyn-echo-client SESSION NAME: ask for a dynamic channel, send messages of
 * 4 B to 128 KiB in steps of 113 B, and check that each comes back whole in
 * PDU reads (CHANNEL_PDU_HEADER framing, 1600-byte chunks).  For
 * tools/tests/vchanctl-test.sh, against `vchanctl listen SESSION --echo`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vchan.h>

static int fail(const char *what, size_t len)
{
	fprintf(stderr, "dyn-echo-client: %s (message of %zu bytes): %s\n", what, len,
		strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct vchan_read_mode rm = { VCHAN_READ_PDU, 0 };
	unsigned char *msg = malloc(128 << 10), *back = malloc(128 << 10);
	unsigned char pdu[sizeof(struct vchan_pdu_header) + VCHAN_PDU_CHUNK_DEFAULT];
	struct vchan_dyn_open o;
	char path[64];
	size_t len, i, count = 0;
	int node, fd;

	if (argc != 3 || !msg || !back)
		return 2;
	snprintf(path, sizeof(path), "/dev/vchan/dynamic/%s", argv[1]);
	node = open(path, O_RDWR | O_CLOEXEC);
	if (node < 0)
		return fail("open", 0);
	memset(&o, 0, sizeof(o));
	o.flags = VCHAN_DYN_PRI_REAL;
	o.timeout_ms = 10000;
	snprintf(o.name, sizeof(o.name), "%s", argv[2]);
	fd = ioctl(node, VCHAN_IOC_DYN_OPEN, &o);
	if (fd < 0 || ioctl(fd, VCHAN_IOC_SET_READ_MODE, &rm))
		return fail("VCHAN_IOC_DYN_OPEN", 0);

	for (len = 4; len <= (128 << 10); len += 113, count++) {
		struct vchan_pdu_header h;
		size_t got = 0;

		for (i = 0; i < len; i++)
			msg[i] = (unsigned char)(i * 7 + len);
		if (write(fd, msg, len) != (ssize_t)len)
			return fail("write", len);
		do {
			ssize_t n = read(fd, pdu, sizeof(pdu));

			if (n < (ssize_t)sizeof(h))
				return fail("read", len);
			memcpy(&h, pdu, sizeof(h));
			n -= sizeof(h);
			if (h.length != len || (!got) != !!(h.flags & VCHAN_PDU_FIRST) ||
			    got + n > len) {
				fprintf(stderr, "dyn-echo-client: bad PDU {%u, %#x} at %zu of %zu\n",
					h.length, h.flags, got, len);
				return 1;
			}
			memcpy(back + got, pdu + sizeof(h), n);
			got += n;
		} while (!(h.flags & VCHAN_PDU_LAST));
		if (got != len || memcmp(msg, back, len)) {
			fprintf(stderr, "dyn-echo-client: message of %zu bytes came back wrong\n", len);
			return 1;
		}
	}
	printf("%zu messages echoed whole\n", count);
	return 0;
}
