// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Who takes completions off the ring: the threads that wait, and a reaper
 * thread for the completions nobody waits for.
 *
 * Every iocb signals the context's eventfd (IOCB_FLAG_RESFD).  A thread
 * that has to sleep in a wait (vc_thread_sleep_locked: alertable or not,
 * on events, for a synchronous request, in GetOverlappedResult) becomes
 * the *leader* if there is none: it sleeps in poll() on that eventfd
 * instead of on its condition variable, and each time it wakes it takes
 * the events off the ring itself (vc_aio_reap) and routes them, its own
 * and everybody else's.  A thread that finds a leader is a *follower*: it
 * sleeps on its condition variable as before.  When the leader's wait is
 * over (vc_thread_sleep_done_locked) it hands the role to a follower, if
 * any.  So a thread doing WriteFileEx + SleepEx gets its completions
 * without any other thread being scheduled.
 *
 * Waking a thread (vc_thread_wake_locked) sets its 'woken' flag and either
 * signals its condition variable or, if it is the one in poll(), signals
 * the thread's own "kick" eventfd, which it polls along with the
 * context's (made on its first lead, closed when it exits).  Kicks must
 * not go through the context's eventfd: the reaper may poll that one too,
 * and whoever resets it first would swallow a kick meant for the other.
 * A completion signal swallowed that way is harmless: whoever resets the
 * eventfd takes the events off the ring and routes them, which wakes their
 * threads.  Everything here is under vc_sync_lock.
 *
 * The reaper thread (all signals blocked) covers the time when no thread
 * waits.  It takes completions that someone may look at without waiting:
 *   - VC_REQ_OVERLAPPED requests (the OVERLAPPED and hEvent can be looked
 *     at without a wait): while any is in flight and no thread leads, the
 *     reaper polls the eventfd at once (it is "poked urgently");
 *   - the rest (the OVERLAPPED of ReadFileEx/WriteFileEx, requests of
 *     closed files or exited threads): the reaper WATCHes with a timer of
 *     VC_GRACE_MIN_MS, doubled each time it finds a leader at work, and
 *     polls the eventfd itself if it finds no leader when the timer
 *     fires.  Such completions are taken at most VC_GRACE_MIN_MS late
 *     even if no thread ever waits, and the reaper is not woken per
 *     completion while a thread reaps.
 * Its states: IDLE (nothing to watch: no timer), WATCH (timer), POLL (in
 * poll() on the eventfd, stepping down once a thread leads and no
 * VC_REQ_OVERLAPPED request is in flight).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define VC_GRACE_MIN_MS	10u
#define VC_GRACE_MAX_MS	1280u
#define VC_SPIN_DEFAULT	0u

enum vc_reaper_state {
	VC_REAPER_IDLE,
	VC_REAPER_WATCH,
	VC_REAPER_POLL,
};

/* All under vc_sync_lock. */
static struct vc_thread *vc_leader;
static struct vc_thread vc_followers = {	/* list head only */
	.fnext = &vc_followers, .fprev = &vc_followers,
};
static struct {
	pthread_cond_t cond;
	int state;		/* enum vc_reaper_state; read without the lock */
	bool running;		/* the thread exists (in this process) */
	bool want_poll;
	unsigned int grace_ms;
} vc_reaper;

static void vc_reaper_set_state(int s)
{
	__atomic_store_n(&vc_reaper.state, s, __ATOMIC_SEQ_CST);
}

/* ---- eventfds ---- */

static void vc_fd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* Only EAGAIN (counter full) is possible: already readable. */
	}
}

static void vc_fd_drain(int fd)
{
	uint64_t cnt;

	if (read(fd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing signalled since the last drain. */
	}
}

/*
 * poll() on the context's eventfd (and kick_fd, if >= 0) until one is
 * signalled or the deadline passes, and reset the ones that were.
 */
static void vc_fds_wait(int efd, int kick_fd, const struct timespec *deadline)
{
	struct pollfd pfd[2] = {
		{ .fd = efd, .events = POLLIN },
		{ .fd = kick_fd, .events = POLLIN },
	};
	struct timespec now, left, *tmo = NULL;

	if (deadline) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline->tv_sec - now.tv_sec;
		left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			return;
		tmo = &left;
	}
	if (ppoll(pfd, kick_fd >= 0 ? 2 : 1, tmo, NULL) <= 0)
		return;
	if (pfd[0].revents)
		vc_fd_drain(efd);
	if (kick_fd >= 0 && pfd[1].revents)
		vc_fd_drain(kick_fd);
}

/*
 * Before sleeping, look at the ring for a little while: a completion due
 * within a few microseconds is cheaper to wait for awake than through a
 * sleep and a wake-up.  Only while requests are in flight (something may
 * come); $VCHAN_SPIN sets the number of looks.  Off by default: under
 * QEMU TCG on a shared 2-core host 1000 looks gained nothing measurable at
 * 64 B and 1600 B and halved the median at 64 KiB (the spinning vCPU
 * takes the host core the peer needs).
 */
static unsigned int vc_spin_limit(void)
{
	static unsigned int limit = ~0u;
	unsigned int l = __atomic_load_n(&limit, __ATOMIC_RELAXED);
	const char *s;

	if (l == ~0u) {
		s = getenv("VCHAN_SPIN");
		l = s && *s ? (unsigned int)strtoul(s, NULL, 10) : VC_SPIN_DEFAULT;
		__atomic_store_n(&limit, l, __ATOMIC_RELAXED);
	}
	return l;
}

static bool vc_spin(struct vc_thread *self)
{
	unsigned int i, n = vc_spin_limit();

	if (!vc_aio_inflight() || !vc_aio_ring_readable())
		return false;
	for (i = 0; i < n; i++) {
		if (!vc_aio_ring_empty() ||
		    __atomic_load_n(&self->woken, __ATOMIC_RELAXED))
			return true;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
	return false;
}

static bool vc_past(const struct timespec *deadline)
{
	struct timespec now;

	if (!deadline)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* ---- waking, sleeping, leading ---- */

void vc_thread_wake_locked(struct vc_thread *t)
{
	if (t->woken)
		return;		/* a wake (and kick) is already on its way */
	__atomic_store_n(&t->woken, true, __ATOMIC_RELAXED);
	if (!t->polling)
		pthread_cond_signal(&t->cond);
	else if (t != vc_self)
		vc_fd_signal(t->kick_fd);
	/* else: t is the caller, routing between two polls; it looks at
	 * 'woken' before it polls again. */
}

static void vc_follower_add(struct vc_thread *self)
{
	self->fprev = vc_followers.fprev;
	self->fnext = &vc_followers;
	vc_followers.fprev->fnext = self;
	vc_followers.fprev = self;
}

static void vc_follower_del(struct vc_thread *self)
{
	self->fprev->fnext = self->fnext;
	self->fnext->fprev = self->fprev;
	self->fnext = self->fprev = NULL;
}

bool vc_thread_sleep_locked(struct vc_thread *self,
			    const struct timespec *deadline)
{
	bool expired = false;
	int efd = vc_aio_efd();

	/* A wake before this call changed what the caller has just looked
	 * at under the lock: it is not a reason to return. */
	self->woken = false;
	if (efd >= 0 && self->kick_fd < 0)
		self->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0 || self->kick_fd < 0 ||
	    (vc_leader && vc_leader != self)) {
		vc_follower_add(self);
		while (!self->woken && !expired)
			expired = !vc_cond_wait_until(self, deadline);
		vc_follower_del(self);
		return self->woken || !expired;
	}

	vc_leader = self;
	self->polling = true;
	pthread_mutex_unlock(&vc_sync_lock);
	for (;;) {
		vc_aio_reap();
		pthread_mutex_lock(&vc_sync_lock);
		if (self->woken)
			break;
		if (vc_past(deadline)) {
			expired = true;
			break;
		}
		pthread_mutex_unlock(&vc_sync_lock);
		if (!vc_spin(self))
			vc_fds_wait(efd, self->kick_fd, deadline);
	}
	self->polling = false;
	return !expired;
}

void vc_thread_sleep_done_locked(struct vc_thread *self)
{
	if (vc_leader != self)
		return;
	vc_leader = NULL;
	if (vc_followers.fnext != &vc_followers) {
		vc_thread_wake_locked(vc_followers.fnext);
		return;
	}
	if (vc_aio_inflight())
		vc_reaper_poke_locked(vc_aio_unattended() != 0);
}

/* ---- the reaper ---- */

void vc_reaper_poke_locked(bool urgent)
{
	if (!vc_reaper.running || vc_leader)
		return;
	if (vc_reaper.state == VC_REAPER_POLL)
		return;
	if (urgent) {
		vc_reaper.want_poll = true;
		pthread_cond_signal(&vc_reaper.cond);
	} else if (vc_reaper.state == VC_REAPER_IDLE) {
		vc_reaper_set_state(VC_REAPER_WATCH);
		vc_reaper.grace_ms = VC_GRACE_MIN_MS;
		pthread_cond_signal(&vc_reaper.cond);
	}
}

bool vc_reaper_idle(void)
{
	return __atomic_load_n(&vc_reaper.state, __ATOMIC_SEQ_CST) ==
	       VC_REAPER_IDLE;
}

/* Poll the eventfd and reap until a thread leads and no VC_REQ_OVERLAPPED
 * request needs the reaper.  vc_sync_lock held on entry and exit. */
static void vc_reaper_poll_locked(int efd)
{
	vc_reaper_set_state(VC_REAPER_POLL);
	pthread_mutex_unlock(&vc_sync_lock);
	for (;;) {
		vc_aio_reap();
		pthread_mutex_lock(&vc_sync_lock);
		if (vc_leader && !vc_aio_unattended())
			break;
		pthread_mutex_unlock(&vc_sync_lock);
		vc_fds_wait(efd, -1, NULL);
	}
	vc_reaper.want_poll = false;
	vc_reaper.grace_ms = VC_GRACE_MIN_MS;
	vc_reaper_set_state(VC_REAPER_WATCH);
}

static void *vc_reaper_main(void *arg)
{
	int efd = (int)(intptr_t)arg;
	struct timespec deadline;

	pthread_mutex_lock(&vc_sync_lock);
	for (;;) {
		if (!vc_leader && (vc_reaper.want_poll || vc_aio_unattended())) {
			vc_reaper_poll_locked(efd);
			continue;
		}
		vc_reaper.want_poll = false;
		if (vc_reaper.state == VC_REAPER_IDLE) {
			pthread_cond_wait(&vc_reaper.cond, &vc_sync_lock);
			continue;
		}
		vc_deadline(&deadline, vc_reaper.grace_ms);
		if (pthread_cond_timedwait(&vc_reaper.cond, &vc_sync_lock,
					   &deadline) != ETIMEDOUT)
			continue;	/* poked: look again */
		if (!vc_aio_inflight())
			vc_reaper_set_state(VC_REAPER_IDLE);
		else if (!vc_leader)
			vc_reaper.want_poll = true;
		else if ((vc_reaper.grace_ms *= 2) > VC_GRACE_MAX_MS)
			vc_reaper_set_state(VC_REAPER_IDLE);
	}
	return NULL;
}

int vc_reaper_start(int efd)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;
	int r;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	r = pthread_cond_init(&vc_reaper.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (r)
		return r;
	vc_reaper_set_state(VC_REAPER_IDLE);
	vc_reaper.want_poll = false;
	vc_reaper.grace_ms = VC_GRACE_MIN_MS;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&tid, &attr, vc_reaper_main, (void *)(intptr_t)efd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		pthread_cond_destroy(&vc_reaper.cond);
		return r;
	}
	pthread_mutex_lock(&vc_sync_lock);
	vc_reaper.running = true;
	pthread_mutex_unlock(&vc_sync_lock);
	return 0;
}

void vc_lead_atfork_child(void)
{
	/* Only the forking thread exists, and it is in no wait. */
	vc_leader = NULL;
	vc_followers.fnext = vc_followers.fprev = &vc_followers;
	vc_reaper.running = false;
	vc_reaper.want_poll = false;
	vc_reaper_set_state(VC_REAPER_IDLE);
	if (vc_self) {
		vc_self->polling = false;
		vc_self->woken = false;
	}
}
