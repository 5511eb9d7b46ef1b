// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * echo_demo - stream data through a virtual channel with overlapped I/O.
 *
 *   echo_demo [SESSION [CHANNEL [MIB]]]      (defaults: 1 demo 64)
 *
 * This is the program a Windows developer would write against the Remote
 * Desktop Services API, compiled unchanged against libvchan.  It expects an
 * RDP server (here: `vchanctl serve 1 demo --echo`) to have created the
 * static channel CHANNEL in session SESSION and to send every message back.
 *
 * What it shows:
 *   1. WTSVirtualChannelOpen opens the session end of the channel, and
 *      WTSVirtualChannelQuery(WTSVirtualFileHandle) gives a file handle for
 *      overlapped I/O.
 *   2. WriteFileEx and ReadFileEx start asynchronous writes and reads, each
 *      with a completion routine.  The routines run on this thread, one at a
 *      time, only while it waits alertably: here in SleepEx(INFINITE, TRUE).
 *      So the program needs no locks although many requests are in flight.
 *   3. A channel keeps message boundaries: every ReadFileEx returns exactly
 *      one message, and messages come back in the order they were sent.
 *
 * It sends MIB mebibytes as MSG_SIZE-byte messages, keeping DEPTH writes and
 * DEPTH reads in flight, checks every byte that comes back, draws a progress
 * bar and prints a summary.  Exit status 0 when every byte came back intact.
 *
 * Build: make examples (at the top of the tree; links libvchan.a and libaio).
 * Run it the way `make demo` does: userlib/examples/demo.sh
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vchan/winbase.h>
#include <vchan/wtsapi32.h>

#ifndef ERROR_INVALID_DATA
#define ERROR_INVALID_DATA	13L	/* winerror.h: "The data is invalid." */
#endif

#define MSG_SIZE	(64 * 1024)	/* bytes per message */
#define DEPTH		8		/* writes and reads in flight, each */

/*
 * One request: the OVERLAPPED comes first so that a completion routine,
 * which is handed the OVERLAPPED, can find the rest of the request.
 */
struct request {
	OVERLAPPED ov;
	uint64_t msg;			/* index of the message it carries */
	unsigned char buf[MSG_SIZE];
};

/*
 * The state of the transfer.  Completion routines get no user argument
 * besides the OVERLAPPED, so the state is a file-scope variable; it is only
 * ever touched by this one thread.
 */
static struct {
	HANDLE file;			/* the channel's overlapped file handle */
	uint64_t total_msgs;		/* messages to send */
	uint64_t next_write, next_read;	/* next message index to start */
	uint64_t written, verified;	/* messages completed */
	uint64_t bytes_back;		/* bytes read back and checked */
	uint64_t write_routines, read_routines;
	uint64_t alertable_waits;	/* SleepEx calls that ran routines */
	DWORD error;			/* first failure, 0 while all is well */
	const char *failed_call;
	int last_percent;
} demo;

static struct request writes[DEPTH], reads[DEPTH];

/*
 * The bytes of message @msg: a xorshift64 stream seeded with the index, so
 * that a lost, repeated, reordered or damaged message cannot pass the check.
 */
static void fill_message(unsigned char *p, uint64_t msg)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL * (msg + 1);

	for (size_t i = 0; i < MSG_SIZE; i += sizeof(x)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, sizeof(x));
	}
}

static void fail(const char *call, DWORD error)
{
	if (!demo.error) {
		demo.error = error ? error : ERROR_GEN_FAILURE;
		demo.failed_call = call;
	}
}

static void progress(void)
{
	int percent = (int)(100 * demo.verified / demo.total_msgs);
	int width = 40, done = percent * width / 100;

	if (percent == demo.last_percent)
		return;
	demo.last_percent = percent;
	/* On a terminal redraw one line; in a log, one line every 10%. */
	if (!isatty(STDOUT_FILENO) && percent % 10 && percent != 100)
		return;
	printf("%s[%.*s%*s] %3d%%  %6.1f MiB echoed%s",
	       isatty(STDOUT_FILENO) ? "\r" : "",
	       done, "########################################", width - done, "",
	       percent, demo.bytes_back / 1048576.0,
	       isatty(STDOUT_FILENO) && percent < 100 ? "" : "\n");
	fflush(stdout);
}

static void WINAPI write_done(DWORD error, DWORD bytes, LPOVERLAPPED ov);
static void WINAPI read_done(DWORD error, DWORD bytes, LPOVERLAPPED ov);

/* Start the next write on request @r, if any message is left to send. */
static void start_write(struct request *r)
{
	if (demo.error || demo.next_write == demo.total_msgs)
		return;
	r->msg = demo.next_write++;
	fill_message(r->buf, r->msg);
	memset(&r->ov, 0, sizeof(r->ov));
	/* One WriteFileEx is one message; write_done runs when it is accepted. */
	if (!WriteFileEx(demo.file, r->buf, MSG_SIZE, &r->ov, write_done))
		fail("WriteFileEx", GetLastError());
}

/* Start the next read on request @r, if any message is still to come. */
static void start_read(struct request *r)
{
	if (demo.error || demo.next_read == demo.total_msgs)
		return;
	/* Reads complete in the order they were started: this is message msg. */
	r->msg = demo.next_read++;
	memset(&r->ov, 0, sizeof(r->ov));
	if (!ReadFileEx(demo.file, r->buf, MSG_SIZE, &r->ov, read_done))
		fail("ReadFileEx", GetLastError());
}

/* Completion routine of WriteFileEx: reuse the request for the next message. */
static void WINAPI write_done(DWORD error, DWORD bytes, LPOVERLAPPED ov)
{
	struct request *r = (struct request *)ov;

	demo.write_routines++;
	if (error || bytes != MSG_SIZE) {
		fail("write completion", error);
		return;
	}
	demo.written++;
	start_write(r);
}

/* Completion routine of ReadFileEx: check the message, read the next one. */
static void WINAPI read_done(DWORD error, DWORD bytes, LPOVERLAPPED ov)
{
	static unsigned char want[MSG_SIZE];
	struct request *r = (struct request *)ov;

	demo.read_routines++;
	if (error || bytes != MSG_SIZE) {
		/* ERROR_MORE_DATA would mean a message longer than ours. */
		fail("read completion", error);
		return;
	}
	fill_message(want, r->msg);
	if (memcmp(want, r->buf, MSG_SIZE)) {
		fprintf(stderr, "\nmessage %llu came back damaged\n",
			(unsigned long long)r->msg);
		fail("verification", ERROR_INVALID_DATA);
		return;
	}
	demo.verified++;
	demo.bytes_back += bytes;
	progress();
	start_read(r);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	DWORD session = argc > 1 ? (DWORD)strtoul(argv[1], NULL, 10) : 1;
	const char *name = argc > 2 ? argv[2] : "demo";
	unsigned long mib = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
	HANDLE channel;
	HANDLE *file;
	DWORD len;
	double t0, dt;
	BOOL cancelled = FALSE;
	int i;

	if (argc > 4 || !mib || mib > 1024) {
		fprintf(stderr, "usage: echo_demo [SESSION [CHANNEL [MIB (1-1024)]]]\n");
		return 2;
	}

	/* 1. Open the channel and get its file handle for overlapped I/O. */
	channel = WTSVirtualChannelOpen(WTS_CURRENT_SERVER_HANDLE, session, name);
	if (!channel) {
		fprintf(stderr, "WTSVirtualChannelOpen(%u, \"%s\") failed: error %u%s\n",
			session, name, GetLastError(),
			GetLastError() == ERROR_FILE_NOT_FOUND ?
			" (no such channel: start `vchanctl serve 1 demo --echo` first)" : "");
		return 1;
	}
	if (!WTSVirtualChannelQuery(channel, WTSVirtualFileHandle, (PVOID *)&file, &len)) {
		fprintf(stderr, "WTSVirtualChannelQuery failed: error %u\n", GetLastError());
		return 1;
	}
	demo.file = *file;
	WTSFreeMemory(file);	/* the handle stays valid until WTSVirtualChannelClose */

	demo.total_msgs = (uint64_t)mib * 1048576 / MSG_SIZE;
	demo.last_percent = -1;
	printf("echo_demo: %lu MiB through /dev/vchan/%u/%s as %llu messages of %d KiB, "
	       "%d writes and %d reads in flight\n", mib, session, name,
	       (unsigned long long)demo.total_msgs, MSG_SIZE / 1024, DEPTH, DEPTH);

	/* 2. Start DEPTH reads and DEPTH writes; the routines keep them going. */
	t0 = seconds();
	for (i = 0; i < DEPTH; i++) {
		start_read(&reads[i]);
		start_write(&writes[i]);
	}

	/*
	 * 3. Wait alertably: SleepEx returns WAIT_IO_COMPLETION after it has run
	 * the routines of the requests that completed.  After a failure no new
	 * request starts; CancelIo ends those still in flight (their routines
	 * run with ERROR_OPERATION_ABORTED) so that the loop can finish.
	 */
	while (demo.read_routines < demo.next_read || demo.write_routines < demo.next_write ||
	       (!demo.error && demo.verified < demo.total_msgs)) {
		if (demo.error && !cancelled)
			cancelled = CancelIo(demo.file) || GetLastError() == ERROR_NOT_FOUND;
		if (SleepEx(INFINITE, TRUE) == WAIT_IO_COMPLETION)
			demo.alertable_waits++;
	}
	dt = seconds() - t0;

	WTSVirtualChannelClose(channel);	/* also closes demo.file */

	if (demo.error) {
		fprintf(stderr, "\necho_demo: %s failed: error %u after %llu of %llu messages\n",
			demo.failed_call, demo.error, (unsigned long long)demo.verified,
			(unsigned long long)demo.total_msgs);
		return 1;
	}
	printf("\nsummary\n"
	       "  bytes        %llu sent, %llu received and verified\n"
	       "  messages     %llu each way, every one whole and in order\n"
	       "  time         %.2f s\n"
	       "  throughput   %.1f MiB/s each way\n"
	       "  completions  %llu write routines, %llu read routines, run by %llu alertable SleepEx calls\n",
	       (unsigned long long)(demo.written * MSG_SIZE),
	       (unsigned long long)demo.bytes_back,
	       (unsigned long long)demo.verified, dt,
	       demo.bytes_back / 1048576.0 / dt,
	       (unsigned long long)demo.write_routines,
	       (unsigned long long)demo.read_routines,
	       (unsigned long long)demo.alertable_waits);
	return 0;
}
