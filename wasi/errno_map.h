/* Host errno -> WASI errno. One table, used by the fd calls and by the path
 * resolver, so the guest sees the same number whichever side failed. */
#ifndef SBX_WASI_ERRNO_MAP_H
#define SBX_WASI_ERRNO_MAP_H

#include <stdint.h>

/* Maps a host errno value (positive) to its WASI errno. 0 maps to success;
 * values WASI has no name for map to EIO. */
uint16_t sbx_wasi_errno_from_host(int host_errno);

#endif
