// SPDX-License-Identifier: GPL-2.0
/*
 * vbench: vchan through libvchan, as a Windows program would use it:
 * WriteFileEx on the client end (wrapped with vchan_handle_from_fd), and
 * ReadFileEx on the session end opened with WTSVirtualChannelOpen, DEPTH
 * requests in flight, completion routines run by SleepEx.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vchan/vchan.h>
#include <vchan/winbase.h>
#include <vchan/wtsapi32.h>

#include "vbench.h"

/* One request; the routine finds it from its OVERLAPPED. */
struct wfx_req {
	OVERLAPPED ov;
	char *buf;
};

/* The state of this process's transfer (routines get no other argument). */
static struct {
	HANDLE file;
	size_t size;
	double deadline;
	struct tally *t;
	unsigned int inflight;
	bool eof;
} wfx;

static void WINAPI wrote(DWORD error, DWORD bytes, LPOVERLAPPED ov)
{
	struct wfx_req *r = (struct wfx_req *)ov;

	wfx.inflight--;
	if (error || bytes != wfx.size)
		die("WriteFileEx completion: error %u, %u bytes", error, bytes);
	if (now() >= wfx.deadline)
		return;
	memset(&r->ov, 0, sizeof(r->ov));
	if (!WriteFileEx(wfx.file, r->buf, wfx.size, &r->ov, wrote))
		die("WriteFileEx: error %u", GetLastError());
	wfx.inflight++;
}

static void WINAPI got(DWORD error, DWORD bytes, LPOVERLAPPED ov)
{
	struct wfx_req *r = (struct wfx_req *)ov;

	wfx.inflight--;
	if (error == ERROR_BROKEN_PIPE) {	/* the client end closed */
		wfx.eof = true;
		return;
	}
	if (error)
		die("ReadFileEx completion: error %u", error);
	wfx.t->msgs++;
	wfx.t->bytes += bytes;
	wfx.t->t_end = now();
	if (wfx.eof)
		return;
	memset(&r->ov, 0, sizeof(r->ov));
	if (!ReadFileEx(wfx.file, r->buf, wfx.size, &r->ov, got))
		die("ReadFileEx: error %u", GetLastError());
	wfx.inflight++;
}

static struct wfx_req *wfx_reqs(size_t size, char *bufs)
{
	struct wfx_req *reqs = calloc(DEPTH, sizeof(*reqs));

	if (!reqs)
		die("out of memory");
	for (unsigned int i = 0; i < DEPTH; i++)
		reqs[i].buf = bufs + i * size;
	return reqs;
}

static void wfx_wait(void)
{
	while (wfx.inflight)
		SleepEx(INFINITE, TRUE);
}

void wfx_writer(struct link *l, size_t size, char *bufs, double deadline)
{
	struct wfx_req *reqs = wfx_reqs(size, bufs);

	wfx.file = vchan_handle_from_fd(l->wfd, VCHAN_HANDLE_MESSAGES);
	if (!wfx.file)
		die("vchan_handle_from_fd failed");
	wfx.size = size;
	wfx.deadline = deadline;
	for (unsigned int i = 0; i < DEPTH; i++) {
		if (!WriteFileEx(wfx.file, reqs[i].buf, size, &reqs[i].ov, wrote))
			die("WriteFileEx: error %u", GetLastError());
		wfx.inflight++;
	}
	wfx_wait();
	CloseHandle(wfx.file);	/* closes the client end */
}

void wfx_reader(struct link *l, size_t size, char *bufs, struct tally *t)
{
	struct wfx_req *reqs = wfx_reqs(size, bufs);
	HANDLE chan, *file;
	DWORD len;

	chan = WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, SESSION, l->name);
	if (!chan)
		die("WTSVirtualChannelOpen %s: error %u", l->name, GetLastError());
	if (!WTSVirtualChannelQuery(chan, WTSVirtualFileHandle, (PVOID *)&file, &len))
		die("WTSVirtualChannelQuery: error %u", GetLastError());
	wfx.file = *file;
	WTSFreeMemory(file);
	wfx.size = size;
	wfx.t = t;
	for (unsigned int i = 0; i < DEPTH; i++) {
		if (!ReadFileEx(wfx.file, reqs[i].buf, size, &reqs[i].ov, got))
			die("ReadFileEx: error %u", GetLastError());
		wfx.inflight++;
	}
	wfx_wait();
	WTSVirtualChannelClose(chan);
}
