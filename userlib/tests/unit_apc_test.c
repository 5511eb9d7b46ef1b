// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * User APCs: QueueUserAPC, alertable and non-alertable waits, FIFO order,
 * delivery only on the target thread, errors.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vchan/winbase.h>

#include "tap.h"

#define MAX_RUNS 1000

static ULONG_PTR runs[MAX_RUNS];
static pid_t run_tid[MAX_RUNS];
static int nruns;

static void WINAPI record_apc(ULONG_PTR p)
{
	if (nruns < MAX_RUNS) {
		run_tid[nruns] = gettid();
		runs[nruns] = p;
	}
	nruns++;
}

static void t_runs_only_in_alertable_waits(void)
{
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	HANDLE evs[1] = { ev };

	ASSERT_TRUE(ev);
	EXPECT_NE(0, QueueUserAPC(record_apc, GetCurrentThread(), 7));
	EXPECT_EQ(0, nruns);				/* not at queue time */
	EXPECT_EQ(0, SleepEx(0, FALSE));
	Sleep(10);
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 10));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObjectEx(ev, 10, FALSE));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForMultipleObjectsEx(1, evs, FALSE, 10, FALSE));
	EXPECT_EQ(0, nruns);				/* non-alertable: nothing */
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	EXPECT_EQ(1, nruns);
	EXPECT_EQ(7, runs[0]);
	EXPECT_EQ(gettid(), run_tid[0]);
	EXPECT_EQ(0, SleepEx(0, TRUE));			/* exactly once */
	EXPECT_EQ(1, nruns);

	EXPECT_NE(0, QueueUserAPC(record_apc, GetCurrentThread(), 8));
	EXPECT_EQ(WAIT_IO_COMPLETION, WaitForSingleObjectEx(ev, INFINITE, TRUE));
	EXPECT_EQ(2, nruns);
	EXPECT_NE(0, QueueUserAPC(record_apc, GetCurrentThread(), 9));
	EXPECT_EQ(WAIT_IO_COMPLETION,
		  WaitForMultipleObjectsEx(1, evs, TRUE, INFINITE, TRUE));
	EXPECT_EQ(3, nruns);
	EXPECT_EQ(9, runs[2]);
	CloseHandle(ev);
}

static void t_fifo_all_in_one_wait(void)
{
	int i;

	for (i = 0; i < 500; i++)
		ASSERT_NE(0, QueueUserAPC(record_apc, GetCurrentThread(),
					  (ULONG_PTR)i));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(INFINITE, TRUE));
	EXPECT_EQ(500, nruns);
	for (i = 0; i < 500; i++)
		if (runs[i] != (ULONG_PTR)i) {
			EXPECT_EQ(i, runs[i]);
			break;
		}
	EXPECT_EQ(0, SleepEx(0, TRUE));
}

static void t_signalled_object_before_apc(void)
{
	HANDLE ev = CreateEventA(NULL, TRUE, TRUE, NULL);

	ASSERT_TRUE(ev);
	EXPECT_NE(0, QueueUserAPC(record_apc, GetCurrentThread(), 1));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObjectEx(ev, 0, TRUE));
	EXPECT_EQ(0, nruns);
	ResetEvent(ev);
	EXPECT_EQ(WAIT_IO_COMPLETION, WaitForSingleObjectEx(ev, 0, TRUE));
	EXPECT_EQ(1, nruns);
	CloseHandle(ev);
}

static void WINAPI requeue_apc(ULONG_PTR p)
{
	record_apc(p);
	if (p < 3)
		QueueUserAPC(requeue_apc, GetCurrentThread(), p + 1);
}

/* An APC queued by an APC runs in the same alertable wait. */
static void t_apc_queued_from_apc(void)
{
	EXPECT_NE(0, QueueUserAPC(requeue_apc, GetCurrentThread(), 0));
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));
	EXPECT_EQ(4, nruns);
	EXPECT_EQ(3, runs[3]);
	EXPECT_EQ(0, SleepEx(0, TRUE));
}

struct remote {
	HANDLE target;
	HANDLE go;
	int queued;
};

static void *queue_to_target(void *arg)
{
	struct remote *r = arg;

	WaitForSingleObject(r->go, INFINITE);
	r->queued = (int)QueueUserAPC(record_apc, r->target, 42);
	/* This thread's own alertable wait runs nothing of the target's. */
	SleepEx(0, TRUE);
	return NULL;
}

/* QueueUserAPC from another thread through a real thread handle wakes the
 * target's alertable wait and runs there. */
static void t_apc_from_other_thread(void)
{
	struct remote r = { NULL, CreateEventA(NULL, TRUE, FALSE, NULL), 0 };
	pthread_t t;

	ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), GetCurrentThread(),
				    GetCurrentProcess(), &r.target, 0, FALSE,
				    DUPLICATE_SAME_ACCESS));
	ASSERT_EQ(0, pthread_create(&t, NULL, queue_to_target, &r));
	SetEvent(r.go);
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(INFINITE, TRUE));
	pthread_join(t, NULL);
	EXPECT_EQ(1, r.queued);
	EXPECT_EQ(1, nruns);
	EXPECT_EQ(42, runs[0]);
	EXPECT_EQ(gettid(), run_tid[0]);
	CloseHandle(r.target);
	CloseHandle(r.go);
}

static void *exit_at_once(void *arg)
{
	HANDLE *h = arg;

	DuplicateHandle(GetCurrentProcess(), GetCurrentThread(),
			GetCurrentProcess(), h, 0, FALSE, DUPLICATE_SAME_ACCESS);
	/* Queued to itself and never waited for: discarded at exit. */
	QueueUserAPC(record_apc, GetCurrentThread(), 5);
	return NULL;
}

static void t_queue_errors_and_exited_thread(void)
{
	HANDLE dead = NULL, ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	pthread_t t;

	SetLastError(0);
	EXPECT_EQ(0, QueueUserAPC(NULL, GetCurrentThread(), 0));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	SetLastError(0);
	EXPECT_EQ(0, QueueUserAPC(record_apc, ev, 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	SetLastError(0);
	EXPECT_EQ(0, QueueUserAPC(record_apc, NULL, 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	SetLastError(0);
	EXPECT_EQ(0, QueueUserAPC(record_apc, GetCurrentProcess(), 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());

	ASSERT_EQ(0, pthread_create(&t, NULL, exit_at_once, &dead));
	pthread_join(t, NULL);
	ASSERT_TRUE(dead);
	SetLastError(0);
	EXPECT_EQ(0, QueueUserAPC(record_apc, dead, 0));
	EXPECT_EQ(ERROR_GEN_FAILURE, GetLastError());
	EXPECT_EQ(0, SleepEx(50, TRUE));		/* nothing came here */
	EXPECT_EQ(0, nruns);
	EXPECT_EQ(TRUE, CloseHandle(dead));
	CloseHandle(ev);
}

struct sleeper {
	HANDLE self;
	HANDLE ready;
	DWORD r;
	pid_t tid;
};

static void *sleep_alertably(void *arg)
{
	struct sleeper *s = arg;

	s->tid = gettid();
	DuplicateHandle(GetCurrentProcess(), GetCurrentThread(),
			GetCurrentProcess(), &s->self, 0, FALSE,
			DUPLICATE_SAME_ACCESS);
	SetEvent(s->ready);
	s->r = SleepEx(INFINITE, TRUE);
	return NULL;
}

/* SleepEx(INFINITE, TRUE) returns only for an APC, and only its own. */
static void t_apc_wakes_infinite_sleep(void)
{
	struct sleeper s = { NULL, CreateEventA(NULL, TRUE, FALSE, NULL), 0, 0 };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, sleep_alertably, &s));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(s.ready, 10000));
	/* An APC to this (main) thread does not wake the sleeper. */
	QueueUserAPC(record_apc, GetCurrentThread(), 1);
	Sleep(100);
	EXPECT_EQ(0, nruns);
	EXPECT_NE(0, QueueUserAPC(record_apc, s.self, 2));
	pthread_join(t, NULL);
	EXPECT_EQ(WAIT_IO_COMPLETION, s.r);
	EXPECT_EQ(1, nruns);
	EXPECT_EQ(2, runs[0]);
	EXPECT_EQ(s.tid, run_tid[0]);
	EXPECT_EQ(WAIT_IO_COMPLETION, SleepEx(0, TRUE));	/* main's own */
	EXPECT_EQ(2, nruns);
	EXPECT_EQ(1, runs[1]);
	CloseHandle(s.self);
	CloseHandle(s.ready);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_runs_only_in_alertable_waits),
		TAP_TEST(t_fifo_all_in_one_wait),
		TAP_TEST(t_signalled_object_before_apc),
		TAP_TEST(t_apc_queued_from_apc),
		TAP_TEST(t_apc_from_other_thread),
		TAP_TEST(t_queue_errors_and_exited_thread),
		TAP_TEST(t_apc_wakes_infinite_sleep),
	};

	return tap_main(tests, TAP_COUNT(tests), 60);
}
