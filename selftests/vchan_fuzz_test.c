// SPDX-License-Identifier: GPL-2.0
/*
 * An ioctl fuzzer: every vchan ioctl, FIONREAD and unknown command numbers
 * on every kind of vchan file (control, client end, session end, listener,
 * dynamic node), with boundary and random values in every field, reserved
 * fields set, command numbers with the wrong size or direction, bad names
 * ('/', "..", control and 8-bit bytes, empty, not NUL-terminated), and
 * NULL, unaligned, kernel-space, unmapped, read-only and half-mapped
 * argument pointers.  Each call must give exactly the result that
 * uapi/linux/vchan.h documents (a model of it below computes that), nothing
 * may be created by a call that fails, and afterwards no channel is left
 * and slab usage settles back (a leak per call would show; on the debug
 * kernel kmemleak does that job); the VM's console is checked for splats
 * by vm-run.
 *
 * Environment: VCHAN_FUZZ_SEED (printed at the start) replays a run;
 * VCHAN_FUZZ_ITERS sets the number of random calls (default 4000).
 */
#include <limits.h>
#include <stdarg.h>

#include "vchan_util.h"
#include "kselftest_harness.h"

#define PAGE		4096UL
#define MAX_ERRNO	4095	/* the kernel's: errnos are 1..MAX_ERRNO - 1 */
/*
 * Slab moves by up to ~200 kB between two settled readings around a run
 * (16 runs on 6.1: -92..+196 kB); a leak of 80 bytes in each of a run's
 * ~4,900 calls would add ~380 kB.  Smaller leaks are kmemleak's job, on the
 * debug kernel.
 */
#define SLAB_TOLERANCE_KB 320

enum fd_kind { K_CTL, K_CLIENT, K_SESSION, K_LISTENER, K_DYNNODE, K_COUNT };

static const char *const kind_name[K_COUNT] = {
	"control", "client end", "session end", "listener", "dynamic node"
};

enum ptr_kind { P_VALID, P_UNALIGNED, P_READONLY, P_NULL, P_KERNEL,
		P_UNMAPPED, P_HALF, P_COUNT };

static const char *const ptr_name[P_COUNT] = {
	"valid", "unaligned", "read-only", "NULL", "kernel", "unmapped",
	"half-mapped"
};

/* Every command a vchan file knows. */
static const unsigned int known_cmds[] = {
	VCHAN_IOC_CREATE, VCHAN_IOC_INFO, VCHAN_IOC_PURGE,
	VCHAN_IOC_SET_READ_MODE, VCHAN_IOC_GET_READ_MODE, VCHAN_IOC_LISTEN,
	VCHAN_IOC_DYN_OPEN, VCHAN_IOC_DYN_ACCEPT, VCHAN_IOC_DYN_REJECT,
	FIONREAD,
};

struct fuzz {
	uint64_t rng;
	__u32 session;		/* channels: "taken" exists in it */
	__u32 lsession;		/* has our listener */
	int fd[K_COUNT];
	int sfd2;		/* a second session end (read mode is per file) */
	struct vchan_read_mode rm[K_COUNT];	/* what GET_READ_MODE must say */
	uint8_t *area;		/* pages: rw, rw, none, read-only */
	uint8_t *gone;		/* an unmapped page */
	long long channels;	/* channels that must exist between calls */
	unsigned int calls, created, bad;
};

static uint64_t rnd(struct fuzz *f)	/* xorshift64* */
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ull;
}

#define PICK(f, arr) ((arr)[rnd(f) % ARRAY_SIZE(arr)])

static bool fd_supports(enum fd_kind k, unsigned int cmd)
{
	switch (k) {
	case K_CTL:
		return cmd == VCHAN_IOC_CREATE || cmd == VCHAN_IOC_LISTEN;
	case K_CLIENT:
	case K_SESSION:
		return cmd == VCHAN_IOC_INFO || cmd == VCHAN_IOC_PURGE ||
		       cmd == VCHAN_IOC_SET_READ_MODE ||
		       cmd == VCHAN_IOC_GET_READ_MODE || cmd == FIONREAD;
	case K_LISTENER:
		return cmd == VCHAN_IOC_DYN_ACCEPT || cmd == VCHAN_IOC_DYN_REJECT;
	case K_DYNNODE:
		return cmd == VCHAN_IOC_DYN_OPEN;
	default:
		return false;
	}
}

/* The kernel copies _IOC_SIZE bytes; FIONREAD's argument is an int. */
static size_t arg_size(unsigned int cmd)
{
	return cmd == FIONREAD ? sizeof(int) : _IOC_SIZE(cmd);
}

/* Whether the kernel writes the argument (a read-only one gives EFAULT). */
static bool writes_arg(unsigned int cmd)
{
	return cmd == FIONREAD || cmd == VCHAN_IOC_INFO ||
	       cmd == VCHAN_IOC_GET_READ_MODE;
}

/* ---- names ---- */

static bool name_char_ok(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

/* The uapi rule: 1..max characters of [A-Za-z0-9_.-], not "." nor "..". */
static bool name_ok(const char *name, size_t field, size_t max)
{
	size_t len = strnlen(name, field), i;

	if (len == field || len < 1 || len > max)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (i = 0; i < len; i++)
		if (!name_char_ok(name[i]))
			return false;
	return true;
}

/* 8-bit bytes included: the kernel's isalnum() takes Latin-1 letters. */
static const char *const fixed_names[] = {
	"a", "Z", "0", "_", "-", "...", "a.b", "A-Z_09", "seven77", "eight888",
	"", ".", "..", "/", "a/b", "../x", "..a", "a..", "sp ace", "tab\t",
	"ctl\x01", "del\x7f", "nl\n", "\xc0", "caf\xe9", "\xff", "\x80x",
	"x:y", "a*", "a\\b", "%s%n",
};

/* A name in 'name' (VCHAN_NAME_MAX + 1 bytes), sometimes without a NUL. */
static void fuzz_name(struct fuzz *f, char *name)
{
	size_t field = VCHAN_NAME_MAX + 1, len, i;

	memset(name, 0, field);
	switch (rnd(f) % 8) {
	case 0 ... 3:
		snprintf(name, field, "%s", PICK(f, fixed_names));
		break;
	case 4:		/* 255: the longest dynamic name, maybe with one bad byte */
		memset(name, 'n', VCHAN_NAME_MAX);
		if (rnd(f) % 2)
			name[rnd(f) % VCHAN_NAME_MAX] = (char)(rnd(f) % 256 ?: 1);
		break;
	case 5:		/* no NUL within name[] */
		memset(name, 'm', field);
		break;
	default:	/* random bytes, random length, mostly valid ones */
		len = 1 + rnd(f) % (rnd(f) % 2 ? 8 : VCHAN_NAME_MAX);
		for (i = 0; i < len; i++) {
			static const char ok[] =
				"abcXYZ019_.-";

			name[i] = rnd(f) % 16 ? ok[rnd(f) % (sizeof(ok) - 1)] :
				  (char)(1 + rnd(f) % 255);
		}
		break;
	}
}

/* ---- random field values ---- */

static const __u32 ring_vals[] = {
	0, 4096, 8192, 65536, 1U << 22, 4095, 4097, 1, 2, 2048, 6000,
	1U << 23, 1U << 31, 0xffffffff, 0x10001000,
};

static const __u32 id_vals[] = {	/* uid and gid */
	0, 0, 65534, 1000, 0xfffffffe, 0xffffffff,
};

static const __u32 mode_vals[] = {
	0, 0600, 0666, 0777, 0644, 01000, 04755, 0100600, 0xffffffff,
};

static __u32 u32_any(struct fuzz *f)
{
	static const __u32 edge[] = { 0, 1, 2, 3, 4, 0x7fffffff, 0x80000000,
				      0xfffffffe, 0xffffffff };

	return rnd(f) % 2 ? PICK(f, edge) : (__u32)rnd(f);
}

/* A reserved field: mostly 0, sometimes one bit. */
static __u64 reserved_val(struct fuzz *f)
{
	return rnd(f) % 4 ? 0 : 1ull << (rnd(f) % 64);
}

static bool ring_ok(__u32 r, long long max_ring)
{
	return !r || (r >= VCHAN_RING_MIN && r <= max_ring && !(r & (r - 1)));
}

static bool id_ok(__u32 id)
{
	return id != 0xffffffff;	/* no mapping in the initial namespace */
}

/* ---- one call ---- */

struct call {
	unsigned int cmd;
	enum fd_kind kind;
	enum ptr_kind ptr;
	union {
		struct vchan_create create;
		struct vchan_listen listen;
		struct vchan_dyn_open dopen;
		struct vchan_dyn_accept accept;
		struct vchan_dyn_reject reject;
		struct vchan_read_mode rm;
		struct vchan_info info;
		__u32 u32;
		int i;
	} a;
	int expect;		/* 0: success, else the errno */
	char what[160];
};

/* Fills c->a with random values for c->cmd and works out the documented result. */
static void make_args(struct fuzz *f, struct call *c, long long max_ring)
{
	unsigned int i;
	bool ok;

	memset(&c->a, 0, sizeof(c->a));
	switch (c->cmd) {
	case VCHAN_IOC_CREATE: {
		struct vchan_create *cr = &c->a.create;

		cr->session = rnd(f) % 4 ? f->session : u32_any(f);
		cr->flags = rnd(f) % 2 ? rnd(f) % 4 : u32_any(f);
		cr->ring_to_client = PICK(f, ring_vals);
		cr->ring_to_session = rnd(f) % 2 ? 0 : PICK(f, ring_vals);
		cr->uid = PICK(f, id_vals);
		cr->gid = PICK(f, id_vals);
		cr->mode = PICK(f, mode_vals);
		cr->reserved0 = reserved_val(f) & 0xffffffff;
		for (i = 0; i < ARRAY_SIZE(cr->reserved); i++)
			cr->reserved[i] = reserved_val(f);
		if (rnd(f) % 4)
			fuzz_name(f, cr->name);
		else
			snprintf(cr->name, sizeof(cr->name), "taken");
		ok = !cr->reserved0 && !cr->reserved[0] && !cr->reserved[1] &&
		     !cr->reserved[2] && !cr->reserved[3] &&
		     !(cr->flags & ~VCHAN_F_ALL) &&
		     name_ok(cr->name, sizeof(cr->name),
			     cr->flags & VCHAN_F_DYNAMIC ? VCHAN_NAME_MAX :
							   VCHAN_STATIC_NAME_MAX) &&
		     ring_ok(cr->ring_to_client, max_ring) &&
		     ring_ok(cr->ring_to_session, max_ring) &&
		     !(cr->mode & ~0777) && id_ok(cr->uid) && id_ok(cr->gid);
		if (!ok)
			c->expect = EINVAL;
		else if (cr->session == f->session && !strcmp(cr->name, "taken"))
			c->expect = EEXIST;
		snprintf(c->what, sizeof(c->what),
			 "CREATE session %#x flags %#x rings %#x/%#x uid %u gid %u mode %#o res %#x/%llx.. name[0..1] %02x %02x len %zu",
			 cr->session, cr->flags, cr->ring_to_client,
			 cr->ring_to_session, cr->uid, cr->gid, cr->mode,
			 cr->reserved0, (unsigned long long)(cr->reserved[0] |
				cr->reserved[1] | cr->reserved[2] | cr->reserved[3]),
			 (unsigned char)cr->name[0], (unsigned char)cr->name[1],
			 strnlen(cr->name, sizeof(cr->name)));
		break;
	}
	case VCHAN_IOC_LISTEN: {
		struct vchan_listen *l = &c->a.listen;

		l->session = f->lsession + rnd(f) % 2;
		l->uid = PICK(f, id_vals);
		l->gid = PICK(f, id_vals);
		l->mode = PICK(f, mode_vals);
		l->reserved[0] = reserved_val(f);
		l->reserved[1] = reserved_val(f);
		ok = !l->reserved[0] && !l->reserved[1] && !(l->mode & ~0777) &&
		     id_ok(l->uid) && id_ok(l->gid);
		c->expect = !ok ? EINVAL : l->session == f->lsession ? EBUSY : 0;
		snprintf(c->what, sizeof(c->what),
			 "LISTEN session %#x uid %u gid %u mode %#o res %llx/%llx",
			 l->session, l->uid, l->gid, l->mode,
			 (unsigned long long)l->reserved[0],
			 (unsigned long long)l->reserved[1]);
		break;
	}
	case VCHAN_IOC_DYN_OPEN: {
		struct vchan_dyn_open *o = &c->a.dopen;
		static const __u32 flag_vals[] = { 0, 2, 4, 6, 8, 0xe, 1, 0x10,
						   0x80000000, 0xffffffff };

		o->flags = PICK(f, flag_vals);
		/*
		 * Never 0 (wait until answered) nor long: a call the model
		 * gets wrong must not hang the test.  Nobody answers, so a
		 * valid request times out.
		 */
		o->timeout_ms = 1 + rnd(f) % 3;
		o->reserved[0] = reserved_val(f);
		o->reserved[1] = reserved_val(f);
		fuzz_name(f, o->name);
		ok = !o->reserved[0] && !o->reserved[1] &&
		     !(o->flags & ~VCHAN_DYN_FLAGS_ALL) &&
		     name_ok(o->name, sizeof(o->name), VCHAN_NAME_MAX);
		c->expect = ok ? ETIMEDOUT : EINVAL;
		snprintf(c->what, sizeof(c->what),
			 "DYN_OPEN flags %#x res %llx/%llx name[0..1] %02x %02x len %zu",
			 o->flags, (unsigned long long)o->reserved[0],
			 (unsigned long long)o->reserved[1],
			 (unsigned char)o->name[0], (unsigned char)o->name[1],
			 strnlen(o->name, sizeof(o->name)));
		break;
	}
	case VCHAN_IOC_DYN_ACCEPT: {
		struct vchan_dyn_accept *a = &c->a.accept;

		a->id = rnd(f) % 2 ? rnd(f) % 4 : rnd(f);
		a->ring_to_client = PICK(f, ring_vals);
		a->ring_to_session = PICK(f, ring_vals);
		a->reserved[0] = reserved_val(f);
		a->reserved[1] = reserved_val(f);
		ok = !a->reserved[0] && !a->reserved[1] &&
		     ring_ok(a->ring_to_client, max_ring) &&
		     ring_ok(a->ring_to_session, max_ring);
		c->expect = ok ? ENOENT : EINVAL;	/* no request is pending */
		snprintf(c->what, sizeof(c->what),
			 "DYN_ACCEPT id %llu rings %#x/%#x res %llx/%llx",
			 (unsigned long long)a->id, a->ring_to_client,
			 a->ring_to_session, (unsigned long long)a->reserved[0],
			 (unsigned long long)a->reserved[1]);
		break;
	}
	case VCHAN_IOC_DYN_REJECT: {
		struct vchan_dyn_reject *r = &c->a.reject;
		static const __s32 err_vals[] = { 0, 1, EPERM, ECONNREFUSED,
						  MAX_ERRNO - 1, MAX_ERRNO,
						  4096, -1, -EPERM, INT_MIN,
						  INT_MAX };

		r->id = rnd(f) % 2 ? rnd(f) % 4 : rnd(f);
		r->error = PICK(f, err_vals);
		r->reserved = reserved_val(f) & 0xffffffff;
		/* "positive errno; 0: ECONNREFUSED": an errno is below MAX_ERRNO. */
		ok = !r->reserved && r->error >= 0 && r->error < MAX_ERRNO;
		c->expect = ok ? ENOENT : EINVAL;
		snprintf(c->what, sizeof(c->what),
			 "DYN_REJECT id %llu error %d res %#x",
			 (unsigned long long)r->id, r->error, r->reserved);
		break;
	}
	case VCHAN_IOC_PURGE:
		c->a.u32 = u32_any(f);
		c->expect = !c->a.u32 || (c->a.u32 & ~(VCHAN_PURGE_TO_CLIENT |
					   VCHAN_PURGE_TO_SESSION)) ? EINVAL : 0;
		snprintf(c->what, sizeof(c->what), "PURGE %#x", c->a.u32);
		break;
	case VCHAN_IOC_SET_READ_MODE: {
		static const __u32 chunk_vals[] = { 0, 1, 8, 1600, VCHAN_MSG_MAX,
						    VCHAN_MSG_MAX + 1, 0xffffffff };

		c->a.rm.mode = rnd(f) % 4 ? rnd(f) % 2 : u32_any(f);
		c->a.rm.chunk = rnd(f) % 2 ? PICK(f, chunk_vals) : u32_any(f);
		/*
		 * "VCHAN_READ_STREAM or VCHAN_READ_PDU with 'chunk'
		 * 1..VCHAN_MSG_MAX (0 means 1600); EINVAL otherwise": a chunk
		 * belongs to PDU mode only.
		 */
		if (c->a.rm.mode == VCHAN_READ_STREAM)
			c->expect = c->a.rm.chunk ? EINVAL : 0;
		else if (c->a.rm.mode == VCHAN_READ_PDU)
			c->expect = c->a.rm.chunk > VCHAN_MSG_MAX ? EINVAL : 0;
		else
			c->expect = EINVAL;
		snprintf(c->what, sizeof(c->what), "SET_READ_MODE mode %u chunk %u",
			 c->a.rm.mode, c->a.rm.chunk);
		break;
	}
	case VCHAN_IOC_INFO:
	case VCHAN_IOC_GET_READ_MODE:
	case FIONREAD:
		memset(&c->a, 0xa5, sizeof(c->a));	/* must be overwritten */
		snprintf(c->what, sizeof(c->what), "%s",
			 c->cmd == FIONREAD ? "FIONREAD" :
			 c->cmd == VCHAN_IOC_INFO ? "INFO" : "GET_READ_MODE");
		break;
	default:
		snprintf(c->what, sizeof(c->what), "command %#x", c->cmd);
		break;
	}
}

/* A command number no vchan file knows (nor the VFS: no 'T', 'f', 'X', ...). */
static unsigned int unknown_cmd(struct fuzz *f)
{
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };
	unsigned int i, cmd, type, known;

	for (;;) {
		switch (rnd(f) % 3) {
		case 0:		/* a vchan command with the wrong size or direction */
			known = PICK(f, known_cmds);
			if (known == FIONREAD)
				continue;
			cmd = _IOC(PICK(f, dirs), _IOC_TYPE(known), _IOC_NR(known),
				   rnd(f) % 2 ? (_IOC_SIZE(known) + (rnd(f) % 2 ? 1 : -1)) &
						_IOC_SIZEMASK : rnd(f) & _IOC_SIZEMASK);
			break;
		case 1:		/* vchan's magic, another number */
			cmd = _IOC(PICK(f, dirs), VCHAN_IOC_MAGIC, rnd(f) & 0xff,
				   rnd(f) % 300);
			break;
		default:	/* another magic */
			cmd = _IOC(PICK(f, dirs), rnd(f) & 0xff, rnd(f) & 0xff,
				   rnd(f) % 300);
			break;
		}
		type = _IOC_TYPE(cmd);
		/* The VFS handles some numbers itself for every file. */
		if (type == 0 || type == 'T' || type == 'f' || type == 'X' ||
		    type == 0x94 || type == 0x15 || type == 'v')
			continue;
		for (i = 0; i < ARRAY_SIZE(known_cmds); i++)
			if (cmd == known_cmds[i])
				break;
		if (i == ARRAY_SIZE(known_cmds))
			return cmd;
	}
}

/* Where the argument goes for pointer kind p. */
static void *place(struct fuzz *f, enum ptr_kind p, size_t size)
{
	switch (p) {
	case P_VALID:
		return f->area;
	case P_UNALIGNED:
		return f->area + 1;
	case P_READONLY:
		return f->area + 3 * PAGE;
	case P_NULL:
		return NULL;
	case P_KERNEL:
		return (void *)0xffff888000000000ul;
	case P_UNMAPPED:
		return f->gone;
	case P_HALF:		/* ends in the PROT_NONE page */
		return f->area + 2 * PAGE - (size > 1 ? size / 2 : 1);
	default:
		return NULL;
	}
}

/*
 * Makes the call and checks it.  Returns false (with the mismatch logged)
 * if the result is not the documented one.
 */
static bool do_call(struct __test_metadata *_metadata, struct fuzz *f,
		    struct call *c)
{
	size_t size = arg_size(c->cmd);
	int fd = f->fd[c->kind], ret, err;
	long long now;
	void *arg;

	if (!fd_supports(c->kind, c->cmd)) {
		c->expect = ENOTTY;
	} else if (c->ptr >= P_NULL || (c->ptr == P_READONLY && writes_arg(c->cmd))) {
		c->expect = EFAULT;
	}
	arg = place(f, c->ptr, size);
	if (c->ptr == P_READONLY) {	/* the contents, written while writable */
		mprotect(arg, PAGE, PROT_READ | PROT_WRITE);
		memcpy(arg, &c->a, sizeof(c->a));
		mprotect(arg, PAGE, PROT_READ);
	} else if (c->ptr == P_HALF) {
		/*
		 * What fits before the hole; an unknown command's size may
		 * be up to 16 KiB, far more than c->a (whose stack
		 * neighbours must not be read).
		 */
		size_t room = f->area + 2 * PAGE - (uint8_t *)arg;

		memset(arg, 0x5a, room);
		memcpy(arg, &c->a, room < sizeof(c->a) ? room : sizeof(c->a));
	} else if (arg && c->ptr <= P_UNALIGNED) {
		memcpy(arg, &c->a, sizeof(c->a));
	}
	f->calls++;
	ret = ioctl(fd, c->cmd, arg);
	err = errno;

	if (c->expect) {
		if (ret == -1 && err == c->expect) {
			now = vchan_channels();
			EXPECT_EQ(f->channels, now)
				TH_LOG("%s on the %s (%s pointer) created a channel",
				       c->what, kind_name[c->kind], ptr_name[c->ptr]);
			return now == f->channels;
		}
		TH_LOG("%s on the %s (%s pointer): expected %s, got %d (%s)",
		       c->what, kind_name[c->kind], ptr_name[c->ptr],
		       strerror(c->expect), ret, ret < 0 ? strerror(err) : "success");
		if (ret >= 0 && (c->cmd == VCHAN_IOC_CREATE ||
				 c->cmd == VCHAN_IOC_LISTEN ||
				 c->cmd == VCHAN_IOC_DYN_OPEN))
			close(ret);
		return false;
	}
	if (ret < 0 || (ret > 0 && c->cmd != VCHAN_IOC_CREATE &&
			c->cmd != VCHAN_IOC_LISTEN)) {
		TH_LOG("%s on the %s (%s pointer): expected success, got %d (%s)",
		       c->what, kind_name[c->kind], ptr_name[c->ptr], ret,
		       ret < 0 ? strerror(err) : "a number");
		return false;
	}
	switch (c->cmd) {
	case VCHAN_IOC_CREATE:
	case VCHAN_IOC_LISTEN:
		f->created++;
		if (c->cmd == VCHAN_IOC_CREATE && vchan_channels() != f->channels + 1) {
			TH_LOG("%s: channel count %lld, not %lld", c->what,
			       vchan_channels(), f->channels + 1);
			close(ret);
			return false;
		}
		close(ret);
		return vchan_channels() == f->channels;
	case VCHAN_IOC_SET_READ_MODE:
		f->rm[c->kind].mode = c->a.rm.mode;
		f->rm[c->kind].chunk = c->a.rm.mode == VCHAN_READ_PDU ?
				       c->a.rm.chunk ?: VCHAN_PDU_CHUNK_DEFAULT : 0;
		return true;
	case VCHAN_IOC_GET_READ_MODE: {
		struct vchan_read_mode got;

		memcpy(&got, arg, sizeof(got));
		if (got.mode == f->rm[c->kind].mode && got.chunk == f->rm[c->kind].chunk)
			return true;
		TH_LOG("GET_READ_MODE on the %s: %u/%u, set was %u/%u",
		       kind_name[c->kind], got.mode, got.chunk,
		       f->rm[c->kind].mode, f->rm[c->kind].chunk);
		return false;
	}
	case VCHAN_IOC_INFO: {
		struct vchan_info got;

		memcpy(&got, arg, sizeof(got));
		if (got.session == f->session && !strcmp(got.name, "fz") &&
		    !got.reserved[0] && !got.reserved[3] && !got.to_client.reserved)
			return true;
		TH_LOG("INFO on the %s: session %#x name '%.16s'", kind_name[c->kind],
		       got.session, got.name);
		return false;
	}
	case FIONREAD: {
		int n;

		memcpy(&n, arg, sizeof(n));
		if (!n)
			return true;
		TH_LOG("FIONREAD on the %s: %d on an empty channel", kind_name[c->kind], n);
		return false;
	}
	default:
		return true;
	}
}

static uint64_t fuzz_seed(void)
{
	const char *s = getenv("VCHAN_FUZZ_SEED");
	struct timespec ts;

	if (s && *s)
		return strtoull(s, NULL, 0) ?: 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000003u ^ ts.tv_nsec ^ getpid()) | 1;
}

static unsigned int fuzz_iters(void)
{
	const char *s = getenv("VCHAN_FUZZ_ITERS");

	return s && *s ? strtoul(s, NULL, 0) : 4000;
}

FIXTURE(fuzz) {
	struct fuzz f;
	int taken;		/* client end of "taken" */
	long long base;		/* channels before the test */
	long long max_ring;
};

FIXTURE_SETUP(fuzz)
{
	struct fuzz *f = &self->f;
	struct vchan_listen l;
	char path[64];

	memset(f, 0, sizeof(*f));
	self->base = vchan_channels();
	ASSERT_LE(0, self->base);
	self->max_ring = vchan_param("max_ring");
	ASSERT_LT(0, self->max_ring);
	f->session = vchan_unique_session();
	f->lsession = vchan_unique_session();
	vchan_unique_session();		/* lsession + 1: free for LISTEN */
	f->fd[K_CTL] = vchan_open_control();
	ASSERT_LE(0, f->fd[K_CTL]);
	f->fd[K_CLIENT] = vchan_create(f->fd[K_CTL], f->session, "fz", 0, 0);
	ASSERT_LE(0, f->fd[K_CLIENT]);
	f->fd[K_SESSION] = vchan_open_node(f->session, "fz", O_RDWR);
	ASSERT_LE(0, f->fd[K_SESSION]);
	self->taken = vchan_create(f->fd[K_CTL], f->session, "taken", 0, 0);
	ASSERT_LE(0, self->taken);
	memset(&l, 0, sizeof(l));
	l.session = f->lsession;
	f->fd[K_LISTENER] = ioctl(f->fd[K_CTL], VCHAN_IOC_LISTEN, &l);
	ASSERT_LE(0, f->fd[K_LISTENER]);
	snprintf(path, sizeof(path), VCHAN_DEV_DIR "/dynamic/%u", f->lsession);
	f->fd[K_DYNNODE] = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, f->fd[K_DYNNODE]);
	f->channels = self->base + 2;
	ASSERT_EQ(f->channels, vchan_channels());

	/* rw, rw, none, read-only; and a page that is gone. */
	f->area = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->area);
	ASSERT_EQ(0, mprotect(f->area + 2 * PAGE, PAGE, PROT_NONE));
	ASSERT_EQ(0, mprotect(f->area + 3 * PAGE, PAGE, PROT_READ));
	f->gone = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->gone);
	ASSERT_EQ(0, munmap(f->gone, PAGE));
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fuzz *f = &self->f;
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (f->fd[k] > 0)
			close(f->fd[k]);
	if (self->taken > 0)
		close(self->taken);
	if (f->area)
		munmap(f->area, 4 * PAGE);
}

/* Every command and pointer kind on every file, boundary values first. */
static void sweep(struct __test_metadata *_metadata, FIXTURE_DATA(fuzz) *self)
{
	struct fuzz *f = &self->f;
	unsigned int i, k, p;
	struct call c;

	for (k = 0; k < K_COUNT; k++)
		for (i = 0; i < ARRAY_SIZE(known_cmds); i++)
			for (p = 0; p < P_COUNT; p++) {
				memset(&c, 0, sizeof(c));
				c.cmd = known_cmds[i];
				c.kind = k;
				c.ptr = p;
				make_args(f, &c, self->max_ring);
				if (!do_call(_metadata, f, &c))
					f->bad++;
			}
}

/* A name of the list, or 255 bytes (extra 0), or 256 without a NUL (extra 1). */
static void set_name(char *name, unsigned int i)
{
	memset(name, 0, VCHAN_NAME_MAX + 1);
	if (i < ARRAY_SIZE(fixed_names))
		strcpy(name, fixed_names[i]);
	else
		memset(name, 'q', VCHAN_NAME_MAX + (i - ARRAY_SIZE(fixed_names)));
}

/* Every name of the fixed list, static and dynamic, in CREATE and DYN_OPEN. */
static void names(struct __test_metadata *_metadata, FIXTURE_DATA(fuzz) *self)
{
	struct fuzz *f = &self->f;
	unsigned int i, how;
	struct call c;
	bool ok;

	for (i = 0; i < ARRAY_SIZE(fixed_names) + 2; i++)
		for (how = 0; how < 3; how++) {	/* static, dynamic, DYN_OPEN */
			memset(&c, 0, sizeof(c));
			c.ptr = P_VALID;
			if (how < 2) {
				c.kind = K_CTL;
				c.cmd = VCHAN_IOC_CREATE;
				c.a.create.session = f->session;
				c.a.create.flags = how ? VCHAN_F_DYNAMIC : 0;
				set_name(c.a.create.name, i);
				ok = name_ok(c.a.create.name, VCHAN_NAME_MAX + 1,
					     how ? VCHAN_NAME_MAX : VCHAN_STATIC_NAME_MAX);
				c.expect = ok ? 0 : EINVAL;
			} else {
				c.kind = K_DYNNODE;
				c.cmd = VCHAN_IOC_DYN_OPEN;
				c.a.dopen.timeout_ms = 1;
				set_name(c.a.dopen.name, i);
				ok = name_ok(c.a.dopen.name, VCHAN_NAME_MAX + 1,
					     VCHAN_NAME_MAX);
				c.expect = ok ? ETIMEDOUT : EINVAL;
			}
			snprintf(c.what, sizeof(c.what), "%s, name #%u (%s)",
				 how == 0 ? "CREATE static" : how == 1 ?
				 "CREATE dynamic" : "DYN_OPEN", i,
				 i < ARRAY_SIZE(fixed_names) ? "list" :
				 i == ARRAY_SIZE(fixed_names) ? "255 bytes" :
				 "256 bytes, no NUL");
			if (!do_call(_metadata, f, &c))
				f->bad++;
		}
}

TEST_F_TIMEOUT(fuzz, ioctls, 600)
{
	struct fuzz *f = &self->f;
	unsigned int n = fuzz_iters(), i;
	long long before, after;
	uint64_t seed = fuzz_seed();
	long long t0 = vchan_now_ms();
	struct call c;

	ksft_print_msg("seed %#llx (VCHAN_FUZZ_SEED), %u calls (VCHAN_FUZZ_ITERS)\n",
		       (unsigned long long)seed, n);
	f->rng = seed;
	/* Warm the caches the calls use before measuring slab. */
	sweep(_metadata, self);
	names(_metadata, self);
	before = vchan_settled_slab_kb();
	ASSERT_LT(0, before);

	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof(c));
		c.kind = rnd(f) % K_COUNT;
		switch (rnd(f) % 8) {
		case 0:
			c.cmd = unknown_cmd(f);
			break;
		case 1 ... 2:
			c.cmd = PICK(f, known_cmds);
			break;
		default:	/* mostly what this file knows */
			do
				c.cmd = PICK(f, known_cmds);
			while (!fd_supports(c.kind, c.cmd));
			break;
		}
		c.ptr = rnd(f) % 4 ? P_VALID : rnd(f) % P_COUNT;
		make_args(f, &c, self->max_ring);
		if (!do_call(_metadata, f, &c))
			f->bad++;
		if (f->bad >= 20) {
			TH_LOG("stopping after 20 wrong results (call %u)", i);
			break;
		}
	}
	sweep(_metadata, self);
	names(_metadata, self);

	/* Nothing created, nothing queued, nothing leaked. */
	EXPECT_EQ(self->base + 2, vchan_channels());
	EXPECT_EQ(0, vchan_poll(f->fd[K_LISTENER], POLLIN, 0));
	EXPECT_EQ(0, vchan_fionread(f->fd[K_CLIENT]));
	after = vchan_slab_settles(before + SLAB_TOLERANCE_KB, 3000);
	ksft_print_msg("%u calls in %lld ms, %u created something, %u wrong; Slab %lld -> %lld kB\n",
		       f->calls, vchan_now_ms() - t0, f->created, f->bad, before, after);
	EXPECT_EQ(0, f->bad);
	/*
	 * KASAN's quarantine holds freed objects in their slabs, so on the
	 * debug kernel slab usage says little; kmemleak, which vm-run scans
	 * there after the tests, finds leaks exactly.
	 */
	if (!vchan_debug_kernel())
		EXPECT_GE(before + SLAB_TOLERANCE_KB, after)
			TH_LOG("slab grew by %lld kB over %u calls", after - before,
			       f->calls);
}

TEST_HARNESS_MAIN
