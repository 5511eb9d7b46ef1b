/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels vchan builds against (Debian's 6.1
 * and 6.12), in one place.
 */
#ifndef _VCHAN_COMPAT_H
#define _VCHAN_COMPAT_H

#include <linux/version.h>

/* Kernel 'major.minor' or later; LINUX_VERSION_CODE would also hold the sublevel. */
#define VCHAN_KERNEL_AT_LEAST(major, minor)				\
	(LINUX_VERSION_MAJOR * 256 + LINUX_VERSION_PATCHLEVEL >=	\
	 (major) * 256 + (minor))

/* device_type.devnode takes a const device from 6.2. */
#if VCHAN_KERNEL_AT_LEAST(6, 2)
#define VCHAN_DEVNODE_CONST const
#else
#define VCHAN_DEVNODE_CONST
#endif

/* class_attribute show/store take a const class and attribute from 6.4. */
#if VCHAN_KERNEL_AT_LEAST(6, 4)
#define VCHAN_CLASS_CONST const
#else
#define VCHAN_CLASS_CONST
#endif

#endif /* _VCHAN_COMPAT_H */
