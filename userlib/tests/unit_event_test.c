// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Events and waits: manual and auto reset, wait-any and wait-all,
 * timeouts, cross-thread wake-ups, parameter errors.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <vchan/winbase.h>

#include "tap.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void t_manual_reset(void)
{
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);

	ASSERT_TRUE(ev);
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 0));
	EXPECT_EQ(TRUE, SetEvent(ev));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(ev, 0));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(ev, INFINITE));
	EXPECT_EQ(TRUE, SetEvent(ev));			/* already set: fine */
	EXPECT_EQ(TRUE, ResetEvent(ev));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 0));
	EXPECT_EQ(TRUE, ResetEvent(ev));
	EXPECT_EQ(TRUE, CloseHandle(ev));
}

static void t_auto_reset(void)
{
	HANDLE ev = CreateEventA(NULL, FALSE, FALSE, NULL);

	ASSERT_TRUE(ev);
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 0));
	EXPECT_EQ(TRUE, SetEvent(ev));
	EXPECT_EQ(TRUE, SetEvent(ev));			/* does not count */
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(ev, 0));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 0));
	EXPECT_EQ(TRUE, SetEvent(ev));
	EXPECT_EQ(TRUE, ResetEvent(ev));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 0));
	EXPECT_EQ(TRUE, CloseHandle(ev));
}

static void t_initial_state(void)
{
	HANDLE m = CreateEventA(NULL, TRUE, TRUE, NULL);
	HANDLE a = CreateEventW(NULL, FALSE, TRUE, NULL);

	ASSERT_TRUE(m);
	ASSERT_TRUE(a);
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(m, 0));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(m, 0));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(a, 0));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(a, 0));
	CloseHandle(m);
	CloseHandle(a);
}

static void t_named_events_unsupported(void)
{
	static const WCHAR wname[] = { 'x', 0 };

	SetLastError(0);
	EXPECT_EQ(0, (intptr_t)CreateEventA(NULL, TRUE, FALSE, "x"));
	EXPECT_EQ(ERROR_NOT_SUPPORTED, GetLastError());
	SetLastError(0);
	EXPECT_EQ(0, (intptr_t)CreateEventW(NULL, TRUE, FALSE, wname));
	EXPECT_EQ(ERROR_NOT_SUPPORTED, GetLastError());
}

static void t_wait_any_lowest_index(void)
{
	HANDLE h[3];
	int i;

	for (i = 0; i < 3; i++) {
		h[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
		ASSERT_TRUE(h[i]);
	}
	EXPECT_EQ(WAIT_TIMEOUT, WaitForMultipleObjects(3, h, FALSE, 0));
	SetEvent(h[2]);
	SetEvent(h[1]);
	EXPECT_EQ(WAIT_OBJECT_0 + 1, WaitForMultipleObjects(3, h, FALSE, 0));
	EXPECT_EQ(WAIT_OBJECT_0 + 2, WaitForMultipleObjects(3, h, FALSE, 0));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForMultipleObjects(3, h, FALSE, 0));
	/* The same event twice is fine in a wait-any. */
	{
		HANDLE twice[2] = { h[0], h[0] };

		SetEvent(h[0]);
		EXPECT_EQ(WAIT_OBJECT_0, WaitForMultipleObjects(2, twice, FALSE, 0));
	}
	for (i = 0; i < 3; i++)
		CloseHandle(h[i]);
}

static void t_wait_all(void)
{
	HANDLE h[2];

	h[0] = CreateEventA(NULL, FALSE, TRUE, NULL);	/* auto, set */
	h[1] = CreateEventA(NULL, TRUE, FALSE, NULL);	/* manual, clear */
	ASSERT_TRUE(h[0]);
	ASSERT_TRUE(h[1]);
	EXPECT_EQ(WAIT_TIMEOUT, WaitForMultipleObjects(2, h, TRUE, 50));
	/* The failed wait-all consumed nothing. */
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(h[0], 0));
	SetEvent(h[0]);
	SetEvent(h[1]);
	EXPECT_EQ(WAIT_OBJECT_0, WaitForMultipleObjects(2, h, TRUE, 0));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(h[0], 0));	/* consumed */
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(h[1], 0));	/* manual */
	CloseHandle(h[0]);
	CloseHandle(h[1]);
}

static void t_wait_parameter_errors(void)
{
	HANDLE h[MAXIMUM_WAIT_OBJECTS + 1];
	int i;

	for (i = 0; i <= MAXIMUM_WAIT_OBJECTS; i++) {
		h[i] = CreateEventA(NULL, TRUE, TRUE, NULL);
		ASSERT_TRUE(h[i]);
	}
	SetLastError(0);
	EXPECT_EQ(WAIT_FAILED, WaitForMultipleObjects(0, h, FALSE, 0));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	SetLastError(0);
	EXPECT_EQ(WAIT_FAILED, WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS + 1,
						      h, FALSE, 0));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	SetLastError(0);
	EXPECT_EQ(WAIT_FAILED, WaitForMultipleObjects(1, NULL, FALSE, 0));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
	EXPECT_EQ(WAIT_OBJECT_0, WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS,
							h, TRUE, 0));
	{
		HANDLE twice[2] = { h[0], h[0] }, dup;

		SetLastError(0);
		EXPECT_EQ(WAIT_FAILED, WaitForMultipleObjects(2, twice, TRUE, 0));
		EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
		/* Two handles of one event are the same object, too. */
		ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), h[0],
					    GetCurrentProcess(), &dup, 0, FALSE,
					    DUPLICATE_SAME_ACCESS));
		twice[1] = dup;
		SetLastError(0);
		EXPECT_EQ(WAIT_FAILED, WaitForMultipleObjects(2, twice, TRUE, 0));
		EXPECT_EQ(ERROR_INVALID_PARAMETER, GetLastError());
		CloseHandle(dup);
	}
	/* One bad handle fails the whole wait. */
	{
		HANDLE mixed[2] = { h[0], (HANDLE)(intptr_t)0x4444 };

		SetLastError(0);
		EXPECT_EQ(WAIT_FAILED, WaitForMultipleObjects(2, mixed, FALSE, 0));
		EXPECT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	}
	for (i = 0; i <= MAXIMUM_WAIT_OBJECTS; i++)
		CloseHandle(h[i]);
}

static void t_timeouts(void)
{
	HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	long long t0, dt;

	ASSERT_TRUE(ev);
	t0 = now_ms();
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(ev, 150));
	dt = now_ms() - t0;
	EXPECT_LE(150, dt);
	EXPECT_LT(dt, 3000);
	t0 = now_ms();
	EXPECT_EQ(0, SleepEx(120, FALSE));
	dt = now_ms() - t0;
	EXPECT_LE(120, dt);
	EXPECT_LT(dt, 3000);
	t0 = now_ms();
	EXPECT_EQ(0, SleepEx(100, TRUE));	/* nothing queued */
	dt = now_ms() - t0;
	EXPECT_LE(100, dt);
	t0 = now_ms();
	Sleep(50);
	EXPECT_LE(50, now_ms() - t0);
	CloseHandle(ev);
}

struct setter {
	HANDLE ev;
	unsigned int delay_ms;
};

static void *set_later(void *arg)
{
	struct setter *s = arg;

	Sleep(s->delay_ms);
	SetEvent(s->ev);
	return NULL;
}

static void t_cross_thread_wake(void)
{
	struct setter s = { CreateEventA(NULL, FALSE, FALSE, NULL), 100 };
	long long t0;
	pthread_t t;

	ASSERT_TRUE(s.ev);
	t0 = now_ms();
	ASSERT_EQ(0, pthread_create(&t, NULL, set_later, &s));
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(s.ev, INFINITE));
	EXPECT_LE(90, now_ms() - t0);
	pthread_join(t, NULL);
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(s.ev, 0));
	CloseHandle(s.ev);
}

struct waiter {
	HANDLE ev;
	int *woken;
	pthread_mutex_t *lock;
};

static void *wait_and_count(void *arg)
{
	struct waiter *w = arg;

	if (WaitForSingleObject(w->ev, 10000) == WAIT_OBJECT_0) {
		pthread_mutex_lock(w->lock);
		(*w->woken)++;
		pthread_mutex_unlock(w->lock);
	}
	return NULL;
}

static int read_count(pthread_mutex_t *lock, int *v)
{
	int r;

	pthread_mutex_lock(lock);
	r = *v;
	pthread_mutex_unlock(lock);
	return r;
}

/* An auto-reset event releases one waiter per SetEvent; manual, all. */
static void t_waiters_released(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int woken = 0, i;
	pthread_t t[4];
	struct waiter w = { CreateEventA(NULL, FALSE, FALSE, NULL), &woken, &lock };

	ASSERT_TRUE(w.ev);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, wait_and_count, &w));
	Sleep(100);
	EXPECT_EQ(0, read_count(&lock, &woken));
	SetEvent(w.ev);
	Sleep(200);
	EXPECT_EQ(1, read_count(&lock, &woken));
	SetEvent(w.ev);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(2, woken);
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(w.ev, 0));
	CloseHandle(w.ev);

	woken = 0;
	w.ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	ASSERT_TRUE(w.ev);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, wait_and_count, &w));
	Sleep(100);
	SetEvent(w.ev);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(4, woken);
	CloseHandle(w.ev);
}

struct all_waiter {
	HANDLE h[2];
	DWORD r;
};

static void *wait_all_thread(void *arg)
{
	struct all_waiter *a = arg;

	a->r = WaitForMultipleObjects(2, a->h, TRUE, 10000);
	return NULL;
}

static void t_wait_all_blocks_until_all(void)
{
	struct all_waiter a;
	pthread_t t;

	a.h[0] = CreateEventA(NULL, FALSE, FALSE, NULL);
	a.h[1] = CreateEventA(NULL, FALSE, FALSE, NULL);
	a.r = 12345;
	ASSERT_EQ(0, pthread_create(&t, NULL, wait_all_thread, &a));
	SetEvent(a.h[0]);
	Sleep(100);
	/* Still waiting, and h[0] is still set (not consumed alone). */
	EXPECT_EQ(WAIT_OBJECT_0, WaitForSingleObject(a.h[0], 0));
	SetEvent(a.h[0]);
	SetEvent(a.h[1]);
	pthread_join(t, NULL);
	EXPECT_EQ(WAIT_OBJECT_0, a.r);
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(a.h[0], 0));
	EXPECT_EQ(WAIT_TIMEOUT, WaitForSingleObject(a.h[1], 0));
	CloseHandle(a.h[0]);
	CloseHandle(a.h[1]);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_manual_reset),
		TAP_TEST(t_auto_reset),
		TAP_TEST(t_initial_state),
		TAP_TEST(t_named_events_unsupported),
		TAP_TEST(t_wait_any_lowest_index),
		TAP_TEST(t_wait_all),
		TAP_TEST(t_wait_parameter_errors),
		TAP_TEST(t_timeouts),
		TAP_TEST(t_cross_thread_wake),
		TAP_TEST(t_waiters_released),
		TAP_TEST(t_wait_all_blocks_until_all),
	};

	return tap_main(tests, TAP_COUNT(tests), 60);
}
