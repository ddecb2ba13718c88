/* Tests only (SBX_ESCAPE_HARNESS builds): see escape_harness.c. */
#ifndef SBX_ZYGOTE_ESCAPE_HARNESS_H
#define SBX_ZYGOTE_ESCAPE_HARNESS_H

/* In a confined worker: makes the forbidden call SBX_ESCAPE_TRY names, if
 * any. Returns only if it was refused with an error (after saying so on
 * stderr, exiting 98) or not asked for; success exits 99. */
void sbx_escape_attempt(void);

#endif
