# SPDX-License-Identifier: GPL-2.0
#
# make                  build driver/vchan.ko for the running kernel (or KDIR=...)
# make KVER=6.12        build driver/vchan.ko for an installed Debian kernel
# make check            the test command: deps, build, lint, VM tests on 6.1, 6.12 and the debug kernel
# make debug-kernel     build (or reuse) the 6.12 debug kernel (KASAN, lockdep, kmemleak, ...)
# make kmod-debug       build the module against it: build/kmod/debug/driver/vchan.ko
# make lint             checkpatch --strict, sparse (C=2) and W=1 on both kernels
# make selftests        build the kselftests on the host
# make deps             install the Debian packages the project needs (root)
# make demo             the first thing to run: 64 MiB through a channel in a VM (root)
# make bench            the benchmark (bench/): vchan against pipes and sockets, in VMs

TOP := $(CURDIR)
BUILD := $(TOP)/build
KERNELS := 6.1 6.12

# Short names of the Debian kernels -> their installed release.
kver_of = $(patsubst /lib/modules/%/build,%,$(firstword $(wildcard \
	$(if $(filter 6.1,$(1)),/lib/modules/6.1.*-amd64/build,\
	$(if $(filter 6.12,$(1)),/lib/modules/6.12.*-amd64/build,\
	/lib/modules/$(1)/build)))))
kdir_of = /lib/modules/$(call kver_of,$(1))/build

ifdef KVER
KDIR ?= $(call kdir_of,$(KVER))
else
KDIR ?= /lib/modules/$(shell uname -r)/build
endif

DRIVER_SRC := $(wildcard $(TOP)/driver/*.c $(TOP)/driver/*.h) $(TOP)/driver/Kbuild
KSRC := $(BUILD)/ksrc

.PHONY: all module modules clean lint checkpatch sparse selftests tools userlib check deps ksrc FORCE
.PHONY: debug-kernel kmod-debug examples demo

all: module

module:
	@test -d "$(KDIR)" || { echo "no kernel headers at $(KDIR): install them, or use KVER=6.1 / KVER=6.12 or KDIR=..." >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(TOP) modules

# Out-of-tree builds for each Debian kernel, each in its own directory of
# links to the sources so that they never share objects:
# build/kmod/<kernel>/driver/vchan.ko
kmod_dir = $(BUILD)/$(2)/$(1)
define kmod_tree
	@mkdir -p $(1)/driver
	@ln -sfn $(TOP)/uapi $(1)/uapi
	@ln -sf $(TOP)/Kbuild $(1)/Kbuild
	@ln -sf $(TOP)/VERSION $(1)/VERSION
	@for f in $(DRIVER_SRC); do ln -sf $$f $(1)/driver/; done
endef

modules: $(foreach k,$(KERNELS),kmod-$(k))

kmod-%: FORCE
	$(call kmod_tree,$(call kmod_dir,$*,kmod))
	$(MAKE) -C $(call kdir_of,$*) M=$(call kmod_dir,$*,kmod) modules

# The debug kernel: Debian's linux-source-6.12 configured with
# kernel/debug.config, built once under build/debug-kernel/ and reused while
# the fragment, the tarball and the compiler are unchanged (its script
# checks that in a second).  kmod-debug is an explicit rule, so it wins over
# kmod-%.
DEBUG_KDIR := $(BUILD)/debug-kernel/linux-source-6.12

debug-kernel:
	$(TOP)/kernel/build-debug.sh

kmod-debug: debug-kernel
	$(call kmod_tree,$(call kmod_dir,debug,kmod))
	$(MAKE) -C $(DEBUG_KDIR) M=$(call kmod_dir,debug,kmod) modules

# Lint lane: sparse and W=1 in a separate tree so every object is rebuilt
# with the checks on; any diagnostic fails.
lint: checkpatch $(foreach k,$(KERNELS),sparse-$(k))

sparse-%: FORCE
	$(call kmod_tree,$(call kmod_dir,$*,lint))
	@rm -f $(call kmod_dir,$*,lint)/driver/*.o
	$(MAKE) -C $(call kdir_of,$*) M=$(call kmod_dir,$*,lint) C=2 W=1 modules 2>&1 | tee $(call kmod_dir,$*,lint)/lint.log
	@! grep -E 'warning:|error:' $(call kmod_dir,$*,lint)/lint.log

checkpatch: ksrc
	perl $(KSRC)/scripts/checkpatch.pl --strict --no-tree --show-types --terse \
		-f $(wildcard driver/*.c driver/*.h) uapi/linux/vchan.h | tee $(BUILD)/checkpatch.log
	@! grep -E '(ERROR|WARNING|CHECK):' $(BUILD)/checkpatch.log

# kselftest_harness.h and checkpatch.pl come from Debian's linux-source-6.12.
KSRC_MEMBERS := tools/testing/selftests/kselftest_harness.h tools/testing/selftests/kselftest.h \
	scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch
ksrc: $(KSRC)/.stamp
$(KSRC)/.stamp: /usr/src/linux-source-6.12.tar.xz
	@rm -rf $(KSRC) && mkdir -p $(KSRC)
	tar -xJf $< -C $(KSRC) --strip-components=1 $(addprefix linux-source-6.12/,$(KSRC_MEMBERS))
	@touch $@

selftests: ksrc
	$(MAKE) -C selftests KSFT_INC=$(KSRC)/tools/testing/selftests

# vchanctl and the VM test helpers; libvchan (userlib/) and its tests.
TOOLS_CFLAGS := -O2 -g -Wall -Wextra -Werror -I$(TOP)/uapi
tools: tools/vchanctl tools/tests/dyn-echo-client
tools/vchanctl: tools/vchanctl.c uapi/linux/vchan.h
	$(CC) $(TOOLS_CFLAGS) -o $@ $<
tools/tests/dyn-echo-client: tools/tests/dyn-echo-client.c uapi/linux/vchan.h
	$(CC) $(TOOLS_CFLAGS) -o $@ $<

userlib:
	$(MAKE) -C userlib all vm-tests

deps:
	scripts/deps.sh

# The example programs of libvchan (userlib/examples/).
EXAMPLES := userlib/examples/echo_demo
examples: $(EXAMPLES)
userlib/examples/%: userlib/examples/%.c userlib/libvchan.a
	$(CC) $(TOOLS_CFLAGS) -I$(TOP)/userlib/include -o $@ $< userlib/libvchan.a -laio -pthread
userlib/libvchan.a: FORCE
	$(MAKE) -C userlib libvchan.a

demo:
	scripts/deps.sh
	$(MAKE) tools examples
	tools/vm-run --kernel 6.12 -- userlib/examples/demo.sh

include bench/bench.mk

check:
	scripts/check.sh

clean:
	rm -rf $(BUILD)
	-$(MAKE) -C selftests clean
	-$(MAKE) -C userlib clean
	rm -f tools/vchanctl tools/tests/dyn-echo-client $(EXAMPLES)
	rm -rf driver/*.o driver/*.ko driver/*.mod* driver/.*.cmd driver/modules.order \
		.*.cmd Module.symvers modules.order .tmp_versions

FORCE:

# --- Installing ----------------------------------------------------------------
# make install / uninstall [PREFIX=/usr/local] [DESTDIR=] [LIBDIR=...]
#     libvchan, its headers and vchan.pc, vchanctl, man pages, udev rule,
#     modules-load.d entry
# make modules_install [KVER=6.12] [DESTDIR=]   the kernel's modules_install
#     into /lib/modules/<release>/updates, then depmod
# make dkms-install / dkms-remove   (root) sources in /usr/src/vchan-<version>,
#     built and installed by DKMS for every kernel that has headers
# The version is VERSION's, everywhere.
VERSION := $(shell cat $(TOP)/VERSION)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /lib/udev/rules.d
MODLOADDIR ?= /usr/lib/modules-load.d
MAN_PAGES := man/vchan.4 man/libvchan.3 tools/vchanctl.8
# libvchan(3) documents every exported call; each name gets a link to it.
LIBVCHAN_CALLS = $(shell sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);$$/\1/p' $(TOP)/userlib/libvchan.map)
DKMS_SRC = $(DESTDIR)/usr/src/vchan-$(VERSION)
KRELEASE = $(if $(KVER),$(call kver_of,$(KVER)),$(shell uname -r))
DKMS_KERNELS = $(patsubst /lib/modules/%/build,%,$(wildcard /lib/modules/*/build))

.PHONY: install uninstall modules_install dkms-src dkms-install dkms-remove

install: tools/vchanctl
	$(MAKE) -C userlib install PREFIX=$(PREFIX)
	install -D -m 0755 tools/vchanctl $(DESTDIR)$(BINDIR)/vchanctl
	for p in $(MAN_PAGES); do install -D -m 0644 $$p $(DESTDIR)$(MANDIR)/man$${p##*.}/$${p##*/} || exit; done
	for f in $(LIBVCHAN_CALLS); do ln -sf libvchan.3 $(DESTDIR)$(MANDIR)/man3/$$f.3; done
	install -D -m 0644 udev/60-vchan.rules $(DESTDIR)$(UDEVRULESDIR)/60-vchan.rules
	install -D -m 0644 udev/modules-load.conf $(DESTDIR)$(MODLOADDIR)/vchan.conf

uninstall:
	$(MAKE) -C userlib uninstall PREFIX=$(PREFIX)
	rm -f $(DESTDIR)$(BINDIR)/vchanctl $(DESTDIR)$(UDEVRULESDIR)/60-vchan.rules \
		$(DESTDIR)$(MODLOADDIR)/vchan.conf \
		$(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p))) \
		$(foreach f,$(LIBVCHAN_CALLS),$(DESTDIR)$(MANDIR)/man3/$(f).3)

modules_install: module
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_DIR=updates $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KRELEASE)

dkms-src:
	install -d $(DKMS_SRC)/driver $(DKMS_SRC)/uapi/linux
	install -m 0644 Kbuild VERSION $(DKMS_SRC)/
	install -m 0644 driver/Kbuild $(wildcard driver/*.c driver/*.h) $(DKMS_SRC)/driver/
	install -m 0644 uapi/linux/vchan.h $(DKMS_SRC)/uapi/linux/
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DKMS_SRC)/dkms.conf

dkms-install: dkms-src
	dkms status vchan/$(VERSION) | grep -q . || dkms add vchan/$(VERSION)
	for k in $(DKMS_KERNELS); do dkms install vchan/$(VERSION) -k $$k || exit; done

dkms-remove:
	dkms status vchan/$(VERSION) | grep -q . && dkms remove vchan/$(VERSION) --all || true
	rm -rf /usr/src/vchan-$(VERSION)
