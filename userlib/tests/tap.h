/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny TAP harness for libvchan's tests.  Each test runs in a forked child
 * (fresh library state, crashes and hangs contained by a timeout) and gets
 * one kselftest-style line at column 0: "ok N name" or "not ok N name".
 * Diagnostics are "# " lines.
 *
 *   static void t_something(void) { EXPECT_EQ(1, x); ASSERT_TRUE(p); }
 *   static const struct tap_test tests[] = { TAP_TEST(t_something), ... };
 *   int main(void) { return tap_main(tests, TAP_COUNT(tests), 30); }
 *
 * A test may call tap_skip("why") to report "ok N name # SKIP why".
 */
#ifndef VCHAN_TESTS_TAP_H
#define VCHAN_TESTS_TAP_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct tap_test {
	const char *name;
	void (*fn)(void);
};

#define TAP_TEST(fn)	{ #fn + 2, fn }		/* drops the "t_" prefix */
#define TAP_COUNT(a)	(sizeof(a) / sizeof((a)[0]))

static int tap_failed;
#define TAP_SKIP_STATUS	77

static inline void tap_exit(int status);
static inline void tap_skip(const char *why)
{
	printf("# SKIP %s\n", why);
	tap_exit(TAP_SKIP_STATUS);
}

#define TAP_CMP(op, exp, act, fatal) do {					\
	long long _e = (long long)(exp), _a = (long long)(act);			\
	if (!(_e op _a)) {							\
		printf("# %s:%d: expected %s (%lld) " #op " %s (%lld)\n",	\
		       __FILE__, __LINE__, #exp, _e, #act, _a);			\
		tap_failed = 1;							\
		if (fatal)							\
			tap_exit(1);						\
								\
	}									\
} while (0)

#define EXPECT_EQ(e, a)	TAP_CMP(==, e, a, 0)
#define EXPECT_NE(e, a)	TAP_CMP(!=, e, a, 0)
#define EXPECT_LE(e, a)	TAP_CMP(<=, e, a, 0)
#define EXPECT_LT(e, a)	TAP_CMP(<, e, a, 0)
#define ASSERT_EQ(e, a)	TAP_CMP(==, e, a, 1)
#define ASSERT_NE(e, a)	TAP_CMP(!=, e, a, 1)
#define ASSERT_LE(e, a)	TAP_CMP(<=, e, a, 1)
#define EXPECT_TRUE(c)	TAP_CMP(!=, 0, !!(c), 0)
#define EXPECT_FALSE(c)	TAP_CMP(==, 0, !!(c), 0)
#define ASSERT_TRUE(c)	TAP_CMP(!=, 0, !!(c), 1)
#define EXPECT_MEM(e, a, n) do {						\
	if (memcmp((e), (a), (n))) {						\
		printf("# %s:%d: memory differs: %s vs %s\n",			\
		       __FILE__, __LINE__, #e, #a);				\
		tap_failed = 1;							\
	}									\
} while (0)

/* Runs every test, or with $VCHAN_TEST_ONLY=name,name... only those. */
/*
 * Leave the child: close every fd first, so that channel ends the test
 * still holds are gone before the kernel waits for the process's aio
 * requests (a queued write to a channel whose client end is this very
 * process could otherwise keep the exit waiting).
 */
static inline void tap_exit(int status)
{
	int fd;

	fflush(stdout);
	for (fd = 3; fd < 4096; fd++)
		close(fd);
	_exit(status);
}

static inline void tap_on_alarm(int sig)
{
	static const char msg[] = "# timeout\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	tap_exit(3);
}

static inline int tap_main(const struct tap_test *tests, size_t n,
			   unsigned int timeout_s)
{
	const char *only = getenv("VCHAN_TEST_ONLY");
	size_t i;
	int failed = 0;

	printf("TAP version 13\n1..%zu\n", n);
	fflush(stdout);
	for (i = 0; i < n; i++) {
		int status = 0;
		pid_t pid;

		if (only && *only) {
			char want[256];

			snprintf(want, sizeof(want), ",%s,", tests[i].name);
			{
				char list[1024];

				snprintf(list, sizeof(list), ",%s,", only);
				if (!strstr(list, want)) {
					printf("ok %zu %s # SKIP not selected\n",
					       i + 1, tests[i].name);
					continue;
				}
			}
		}
		pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			setvbuf(stdout, NULL, _IOLBF, 0);
			signal(SIGALRM, tap_on_alarm);
			alarm(timeout_s);
			tests[i].fn();
			tap_exit(tap_failed ? 1 : 0);
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == TAP_SKIP_STATUS) {
			printf("ok %zu %s # SKIP\n", i + 1, tests[i].name);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok %zu %s\n", i + 1, tests[i].name);
		} else {
			if (WIFSIGNALED(status))
				printf("# killed by signal %d%s\n", WTERMSIG(status),
				       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
			printf("not ok %zu %s\n", i + 1, tests[i].name);
			failed++;
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#endif /* VCHAN_TESTS_TAP_H */
