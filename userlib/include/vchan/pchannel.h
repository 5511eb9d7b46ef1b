/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <vchan/pchannel.h> - virtual channel protocol constants and the
 * CHANNEL_PDU_HEADER that reads of dynamic channels begin with
 * (MS-RDPBCGR 2.2.6.1, 2.2.1.1.1.1).
 */
#ifndef VCHAN_PCHANNEL_H
#define VCHAN_PCHANNEL_H

#include <vchan/winbase.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHANNEL_MAX_COUNT	31	/* static channels per connection */
#define CHANNEL_NAME_LEN	7	/* characters of a static channel name */
#define CHANNEL_CHUNK_LENGTH	1600	/* payload bytes per chunk */

/* CHANNEL_PDU_HEADER.flags */
#define CHANNEL_FLAG_FIRST		0x01
#define CHANNEL_FLAG_LAST		0x02
#define CHANNEL_FLAG_ONLY		(CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST)
#define CHANNEL_FLAG_MIDDLE		0
#define CHANNEL_FLAG_FAIL		0x100
#define CHANNEL_FLAG_SHOW_PROTOCOL	0x10
#define CHANNEL_FLAG_SUSPEND		0x20
#define CHANNEL_FLAG_RESUME		0x40

/* CHANNEL_DEF.options */
#define CHANNEL_OPTION_INITIALIZED		0x80000000u
#define CHANNEL_OPTION_ENCRYPT_RDP		0x40000000u
#define CHANNEL_OPTION_ENCRYPT_SC		0x20000000u
#define CHANNEL_OPTION_ENCRYPT_CS		0x10000000u
#define CHANNEL_OPTION_PRI_HIGH			0x08000000u
#define CHANNEL_OPTION_PRI_MED			0x04000000u
#define CHANNEL_OPTION_PRI_LOW			0x02000000u
#define CHANNEL_OPTION_COMPRESS_RDP		0x00800000u
#define CHANNEL_OPTION_COMPRESS			0x00400000u
#define CHANNEL_OPTION_SHOW_PROTOCOL		0x00200000u
#define CHANNEL_OPTION_REMOTE_CONTROL_PERSISTENT 0x00100000u

/*
 * Header of every chunk read from a dynamic channel: length is the TOTAL
 * length of the message the chunk belongs to; flags carries
 * CHANNEL_FLAG_FIRST on its first chunk and CHANNEL_FLAG_LAST on its last.
 */
typedef struct tagCHANNEL_PDU_HEADER {
	ULONG length;	/* total length of the message */
	ULONG flags;	/* CHANNEL_FLAG_* */
} CHANNEL_PDU_HEADER, *PCHANNEL_PDU_HEADER;

#define CHANNEL_PDU_LENGTH	(CHANNEL_CHUNK_LENGTH + sizeof(CHANNEL_PDU_HEADER))

typedef struct tagCHANNEL_DEF {
	char name[CHANNEL_NAME_LEN + 1];
	ULONG options;
} CHANNEL_DEF, *PCHANNEL_DEF, **PPCHANNEL_DEF;

#ifdef __cplusplus
}
#endif

#endif /* VCHAN_PCHANNEL_H */
