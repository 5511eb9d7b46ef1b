// SPDX-License-Identifier: GPL-2.0
/*
 * vchan: module unload and reload.  Any open vchan file pins the module
 * (delete_module with O_NONBLOCK fails with EWOULDBLOCK); load-time
 * parameters max_channels, control_mode and control_gid; and repeated
 * load/unload cycles with no growth in slab memory.
 *
 * These tests need the module file in VCHAN_KO (set by tools/vm-run) and
 * are skipped without it.  Whatever happens, they leave the module loaded
 * with the parameters it had at the start.
 */
#include <sys/syscall.h>

#include "vchan_util.h"

#include "kselftest_harness.h"

#define VCHAN_SYSMOD "/sys/module/vchan"

static int mod_unload(void)
{
	return syscall(SYS_delete_module, "vchan", O_NONBLOCK);
}

static int mod_load(const char *ko, const char *params)
{
	int fd, ret;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return ret;
}

static bool mod_loaded(void)
{
	return access(VCHAN_SYSMOD, F_OK) == 0;
}

/* "name=value ..." of every readable parameter of the loaded module. */
static int mod_params(char *buf, size_t len)
{
	char path[512], val[256];
	struct dirent *de;
	size_t used = 0;
	DIR *d;

	buf[0] = '\0';
	d = opendir(VCHAN_SYSFS_PARAMS);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), VCHAN_SYSFS_PARAMS "/%s", de->d_name);
		if (vchan_read_text(path, val, sizeof(val)))
			continue;
		used += snprintf(buf + used, len - used, "%s%s=%s",
				 used ? " " : "", de->d_name, val);
		if (used >= len) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

FIXTURE(mod) {
	const char *ko;
	char params[1024];	/* as loaded at the start */
	int fds[8];
};

FIXTURE_SETUP(mod)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(self->fds); i++)
		self->fds[i] = -1;
	self->ko = getenv("VCHAN_KO");
	if (!self->ko || !*self->ko)
		SKIP(return, "VCHAN_KO is not set: not reloading the module here");
	ASSERT_EQ(0, access(self->ko, R_OK)) TH_LOG("%s: %s", self->ko, strerror(errno));
	ASSERT_TRUE(mod_loaded()) TH_LOG("vchan is not loaded");
	ASSERT_EQ(0, mod_params(self->params, sizeof(self->params)));
}

/* Puts the module back as it was: loaded, with the original parameters. */
FIXTURE_TEARDOWN(mod)
{
	char now[1024];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(self->fds); i++)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	if (!self->ko || !*self->ko)
		return;
	if (mod_loaded()) {
		if (mod_params(now, sizeof(now)) == 0 && !strcmp(now, self->params))
			return;
		if (mod_unload())
			TH_LOG("cannot unload to restore parameters: %s", strerror(errno));
	}
	if (!mod_loaded())
		EXPECT_EQ(0, mod_load(self->ko, self->params))
			TH_LOG("reload %s '%s': %s", self->ko, self->params,
			       strerror(errno));
}

/* Reloads with the original parameters plus 'extra' (later ones win). */
static int reload(FIXTURE_DATA(mod) *self, const char *extra)
{
	char params[1200];

	if (mod_unload())
		return -1;
	snprintf(params, sizeof(params), "%s%s%s", self->params,
		 *self->params && *extra ? " " : "", extra);
	return mod_load(self->ko, params);
}

TEST_F(mod, unload_refused_while_open)
{
	__u32 session = vchan_unique_session();
	struct stat st;
	int *ctl = &self->fds[0], *cl = &self->fds[1], *se = &self->fds[2];
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, NULL));

	*ctl = vchan_open_control();
	ASSERT_LE(0, *ctl);
	EXPECT_EQ(-1, mod_unload());
	EXPECT_EQ(EWOULDBLOCK, errno) TH_LOG("control fd open: %s", strerror(errno));

	*cl = vchan_create(*ctl, session, "pin", 0, 0);
	ASSERT_LE(0, *cl);
	close(*ctl);
	*ctl = -1;
	EXPECT_EQ(-1, mod_unload());
	EXPECT_EQ(EWOULDBLOCK, errno) TH_LOG("client end open: %s", strerror(errno));

	*se = vchan_open_node(session, "pin", O_RDWR);
	ASSERT_LE(0, *se);
	close(*cl);
	*cl = -1;
	/* Only a dangling session end left: it pins the module too. */
	EXPECT_EQ(-1, mod_unload());
	EXPECT_EQ(EWOULDBLOCK, errno) TH_LOG("session end open: %s", strerror(errno));
	EXPECT_EQ(-1, write(*se, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	close(*se);
	*se = -1;

	ASSERT_EQ(0, mod_unload()) TH_LOG("%s", strerror(errno));
	EXPECT_FALSE(mod_loaded());
	EXPECT_EQ(-1, stat(VCHAN_CONTROL, &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, stat(VCHAN_SYSFS_CLASS, &st));
	EXPECT_EQ(ENOENT, errno);

	ASSERT_EQ(0, mod_load(self->ko, self->params)) TH_LOG("%s", strerror(errno));
	ASSERT_TRUE(mod_loaded());
	EXPECT_EQ(0, vchan_channels());
	*ctl = vchan_open_control();
	ASSERT_LE(0, *ctl) TH_LOG("%s", strerror(errno));
	*cl = vchan_create(*ctl, session, "pin", 0, 0);
	EXPECT_LE(0, *cl) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(1, vchan_channels());
}

TEST_F(mod, enospc_at_max_channels)
{
	__u32 session = vchan_unique_session();
	char name[8];
	int i, fd, ctl;

	ASSERT_EQ(0, reload(self, "max_channels=4")) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(4, vchan_param("max_channels"));
	ctl = self->fds[7] = vchan_open_control();
	ASSERT_LE(0, ctl);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		self->fds[i] = vchan_create(ctl, session, name, 0, 0);
		ASSERT_LE(0, self->fds[i]) TH_LOG("channel %d: %s", i, strerror(errno));
	}
	EXPECT_EQ(4, vchan_channels());
	fd = vchan_create(ctl, session, "c4", 0, 0);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_FALSE(vchan_node_exists(session, "c4"));
	EXPECT_EQ(4, vchan_channels());

	/* One closed: room for one more. */
	close(self->fds[2]);
	self->fds[2] = -1;
	EXPECT_EQ(3, vchan_channels());
	self->fds[2] = vchan_create(ctl, session, "c4", 0, 0);
	EXPECT_LE(0, self->fds[2]) TH_LOG("%s", strerror(errno));
	fd = vchan_create(ctl, session, "c5", 0, 0);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENOSPC, errno);

	for (i = 0; i < 8; i++) {
		if (self->fds[i] >= 0)
			close(self->fds[i]);
		self->fds[i] = -1;
	}
	/* The teardown restores the original parameters. */
}

static int nobody_opens_control(void *p)
{
	(void)p;
	if (vchan_become_nobody())
		return 1;
	if (open(VCHAN_CONTROL, O_RDWR | O_CLOEXEC) < 0)
		return 2;
	return 0;
}

static int stranger_opens_control(void *p)
{
	(void)p;
	if (setgroups(0, NULL) || setresgid(12345, 12345, 12345) ||
	    setresuid(65534, 65534, 65534))
		return 1;
	if (open(VCHAN_CONTROL, O_RDWR | O_CLOEXEC) >= 0 || errno != EACCES)
		return 2;
	return 0;
}

TEST_F(mod, control_mode_and_gid)
{
	struct stat st;

	ASSERT_EQ(0, stat(VCHAN_CONTROL, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_gid);
	EXPECT_EQ(2, vchan_in_child(nobody_opens_control, NULL));

	ASSERT_EQ(0, reload(self, "control_mode=0660 control_gid=65534"))
		TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, stat(VCHAN_CONTROL, &st));
	EXPECT_EQ(0660, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(65534, st.st_gid);
	EXPECT_EQ(0, vchan_in_child(nobody_opens_control, NULL));
	EXPECT_EQ(0, vchan_in_child(stranger_opens_control, NULL));
}

/* ---- load/unload cycles ---- */

/* One cycle: unload, load, create a channel and move data both ways. */
static int cycle(FIXTURE_DATA(mod) *self, int n)
{
	__u32 session = vchan_unique_session();
	char buf[4096];
	int ctl, cl, se, ret = 0;

	if (mod_unload())
		return -1;
	if (mod_load(self->ko, self->params))
		return -2;
	ctl = vchan_open_control();
	if (ctl < 0)
		return -3;
	cl = vchan_create(ctl, session, "cyc", n & 1 ? VCHAN_F_SHARED : 0, 0);
	close(ctl);
	if (cl < 0)
		return -4;
	se = vchan_open_node(session, "cyc", O_RDWR);
	if (se < 0) {
		close(cl);
		return -5;
	}
	vchan_fill(buf, sizeof(buf), n, 0);
	if (write(se, buf, sizeof(buf)) != sizeof(buf) ||
	    write(cl, buf, 100) != 100 ||
	    read(cl, buf, sizeof(buf)) != sizeof(buf) ||
	    vchan_check(buf, sizeof(buf), n, 0) >= 0)
		ret = -6;
	/* Leave the to-session message queued: freed with the channel. */
	close(se);
	close(cl);
	return ret;
}

#define WARMUP_CYCLES 10
/*
 * 100 cycles take ~50 s on the debug kernel, where kmemleak (scanned by
 * vm-run after the tests and after rmmod) finds a leak of any one of them
 * exactly: 20 do there.
 */
#define CYCLES (vchan_debug_kernel() ? 20 : 100)
/*
 * Tolerance for slab growth over CYCLES cycles.  After drop_caches and a
 * shrink of every cache, an idle VM's Slab value moves by tens of kB at
 * most (per-cpu partial slabs, our own process' files and task structs);
 * a leak of even 2 kB per cycle (say one channel struct, or the sysfs
 * nodes of one device) adds 200 kB.
 */
#define SLAB_TOLERANCE_KB 192

TEST_F_TIMEOUT(mod, load_unload_cycles_no_leak, 900)
{
	long long before, after, vm_before, vm_after;
	int i, r;

	for (i = 0; i < WARMUP_CYCLES; i++) {
		r = cycle(self, i);
		ASSERT_EQ(0, r) TH_LOG("warm-up cycle %d failed at step %d: %s",
				       i, -r, strerror(errno));
	}
	before = vchan_settled_slab_kb();
	vm_before = vchan_meminfo_kb("VmallocUsed");
	ASSERT_LT(0, before);
	for (i = 0; i < CYCLES; i++) {
		r = cycle(self, WARMUP_CYCLES + i);
		ASSERT_EQ(0, r) TH_LOG("cycle %d failed at step %d: %s",
				       i, -r, strerror(errno));
	}
	after = vchan_settled_slab_kb();
	vm_after = vchan_meminfo_kb("VmallocUsed");
	TH_LOG("Slab %lld -> %lld kB, VmallocUsed %lld -> %lld kB over %d cycles",
	       before, after, vm_before, vm_after, CYCLES);
	EXPECT_GE(before + SLAB_TOLERANCE_KB, after)
		TH_LOG("slab grew by %lld kB over %d load/unload cycles",
		       after - before, CYCLES);
	/* Module images and vmalloc'ed rings: 100 leaks would be megabytes. */
	EXPECT_GE(vm_before + 1024, vm_after)
		TH_LOG("vmalloc grew by %lld kB", vm_after - vm_before);
	EXPECT_TRUE(mod_loaded());
}

TEST_HARNESS_MAIN
