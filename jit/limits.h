/* Implementation limits of sbx's front end, all in one place. A module that
 * exceeds one is rejected with "<what> (limit N)" before anything is allocated
 * for it, so hostile sizes cannot cause unbounded allocation.
 *
 * The numbers follow the limits browsers agree on in the JS API spec (so a
 * module that loads in a browser loads here), except where sbx is stricter
 * for a reason given beside the number. */
#ifndef SBX_JIT_LIMITS_H
#define SBX_JIT_LIMITS_H

#define SBX_MAX_MODULE_SIZE      (1024u * 1024 * 1024) /* 1 GiB */
#define SBX_MAX_TYPES            1000000u
#define SBX_MAX_FUNCTIONS        1000000u
#define SBX_MAX_IMPORTS          100000u
#define SBX_MAX_EXPORTS          100000u
#define SBX_MAX_GLOBALS          1000000u
#define SBX_MAX_DATA_SEGMENTS    100000u
#define SBX_MAX_ELEM_SEGMENTS    10000000u
#define SBX_MAX_TABLES           100000u
#define SBX_MAX_TABLE_SIZE       10000000u /* declared minimum, elements */
#define SBX_MAX_BODY_SIZE        7654321u  /* bytes of one function body */
#define SBX_MAX_LOCALS           50000u    /* declared locals + parameters */
#define SBX_MAX_PARAMS           1000u
#define SBX_MAX_RESULTS          1000u
#define SBX_MAX_BR_TABLE_TARGETS 65520u
#define SBX_MAX_NAME_LEN         100000u /* bytes of one import/export name */
#define SBX_MAX_SECTIONS         10000u  /* custom sections included */
/* Control nesting: the compiler keeps one frame per level, so bound it.
 * Browsers have no explicit limit; 10,000 levels is far past any real code. */
#define SBX_MAX_NESTING 10000u
/* Linear memory: 65536 pages of 64 KiB = 4 GiB, the whole 32-bit space. */
#define SBX_MAX_MEMORY_PAGES 65536u
#define SBX_PAGE_SIZE        65536u

#endif
