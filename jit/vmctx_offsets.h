/* Offsets of struct sbx_vmctx fields that assembly code uses. C code checks
 * them against offsetof() (see invoke.c), so they cannot drift. */
#ifndef SBX_JIT_VMCTX_OFFSETS_H
#define SBX_JIT_VMCTX_OFFSETS_H

#define SBX_VMCTX_FUEL           0
#define SBX_VMCTX_EPOCH          8
#define SBX_VMCTX_EPOCH_DEADLINE 16
#define SBX_VMCTX_MEMORY         24
#define SBX_VMCTX_TABLES         32
#define SBX_VMCTX_GLOBALS        40
#define SBX_VMCTX_FUNCS          48
#define SBX_VMCTX_TYPE_IDS       56
#define SBX_VMCTX_INSTANCE       64

#endif
