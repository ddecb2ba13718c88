/* `sbx __zygote FD SLOTS MAX_MEMORY_BYTES STRATEGY`: the zygote, exec'd by
 * the daemon (sbx_zygote_client_exec) so that it starts from a fresh image:
 * its own address-space layout and stack canary, none of the daemon's
 * memory. Hidden and internal: the daemon is its only caller. It refuses to
 * run unless FD is an AF_UNIX SOCK_SEQPACKET socket, so that a stray
 * invocation cannot make it read control messages from a file or a
 * terminal. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/cli.h"
#include "zygote/zygote.h"

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max) return false;
    *out = v;
    return true;
}

static bool seqpacket_socket(int fd)
{
    int type = 0, domain = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)) return false;
    len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len)) return false;
    return type == SOCK_SEQPACKET && domain == AF_UNIX;
}

int cli_zygote(int argc, char **argv)
{
    uint64_t fd, slots, max_memory, strategy_plus_one;
    if (argc != 4 || !parse_u64(argv[0], INT32_MAX, &fd) ||
        !parse_u64(argv[1], UINT32_MAX, &slots) || !parse_u64(argv[2], UINT64_MAX, &max_memory)) {
        fprintf(stderr, "sbx: internal command; not for use by hand\n");
        return CLI_USAGE;
    }
    /* The strategy is -1 (the pool's default) or an enum value. */
    if (!strcmp(argv[3], "-1"))
        strategy_plus_one = 0;
    else if (parse_u64(argv[3], 15, &strategy_plus_one))
        strategy_plus_one++;
    else {
        fprintf(stderr, "sbx: internal command; not for use by hand\n");
        return CLI_USAGE;
    }
    if (fd < 3 || !seqpacket_socket((int)fd)) {
        fprintf(stderr, "sbx: fd %s is not a SOCK_SEQPACKET socket\n", argv[0]);
        return CLI_USAGE;
    }
    /* Whatever else the exec left open goes (the daemon passes none). */
    syscall(SYS_close_range, 3u, (unsigned)fd - 1, 0u);
    syscall(SYS_close_range, (unsigned)fd + 1, ~0u, 0u);
    struct sbx_zygote_config cfg = {.slots = (uint32_t)slots,
                                    .max_memory_bytes = max_memory,
                                    .strategy = (int)strategy_plus_one - 1,
                                    .huge_text = true};
    sbx_zygote_main((int)fd, &cfg);
}
