/* tests/ipc/test_memfd.c: sealed memfds for large payloads: a round trip
 * through a socket, the size check, and refusal of unsealed or non-memfd
 * files. */
#include <sys/mman.h>

#include "tests/ipc/helpers.h"
#include "ipc/memfd.h"

static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + 7);
    return p;
}

/* 1 MiB: far above the message cap, the reason memfds exist. */
Test(memfd, round_trip_through_a_socket)
{
    size_t n = 1 << 20;
    uint8_t *bytes = pattern(n);
    int before = count_fds();
    int mfd = sbx_memfd_from_bytes("module", bytes, n);
    cr_assert_geq(mfd, 0, "%s", strerror(-mfd));
    cr_assert_eq(fcntl(mfd, F_GET_SEALS) & (SBX_MEMFD_REQUIRED_SEALS | F_SEAL_SEAL),
                 SBX_MEMFD_REQUIRED_SEALS | F_SEAL_SEAL);

    Sbx__MemfdRef ref;
    sbx__memfd_ref__init(&ref);
    ref.has_fd_index = ref.has_size = 1;
    ref.fd_index = 0;
    ref.size = n;
    Sbx__LoadModule l;
    sbx__load_module__init(&l);
    l.source_case = SBX__LOAD_MODULE__SOURCE_MEMFD;
    l.memfd = &ref;
    Sbx__Request r;
    sbx__request__init(&r);
    r.has_id = 1;
    r.id = 1;
    r.body_case = SBX__REQUEST__BODY_LOAD_MODULE;
    r.load_module = &l;
    int sv[2];
    make_pair(sv);
    cr_assert_eq(sbx_ipc_send(sv[0], &r.base, &mfd, 1, 1000), 0);
    close(mfd);

    Sbx__Request *got;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_recv_request(sv[1], &got, fds, &nfds, 1000, &why), 0, "%s", why.message);
    const Sbx__MemfdRef *m = got->load_module->memfd;
    const void *map;
    cr_assert_eq(sbx_memfd_map(fds[m->fd_index], m->size, SBX_IPC_MAX_MODULE_BYTES, &map), 0);
    cr_assert_eq(memcmp(map, bytes, n), 0);
    sbx_memfd_unmap(map, n);
    uint8_t *copy = malloc(n);
    cr_assert_eq(sbx_memfd_read(fds[m->fd_index], m->size, SBX_IPC_MAX_MODULE_BYTES, copy), 0);
    cr_assert_eq(memcmp(copy, bytes, n), 0);
    free(copy);
    /* The receiver cannot change it either. */
    cr_assert_eq(write(fds[0], "x", 1), -1);
    cr_assert_eq(errno, EPERM);
    sbx_ipc_close_fds(fds, nfds);
    sbx_ipc_free(&got->base);
    close_pair(sv);
    cr_assert_eq(count_fds(), before);
    free(bytes);
}

Test(memfd, size_mismatch_is_refused)
{
    uint8_t *bytes = pattern(1000);
    int mfd = sbx_memfd_from_bytes("m", bytes, 1000);
    cr_assert_geq(mfd, 0);
    const void *map = (const void *)1;
    cr_assert_eq(sbx_memfd_map(mfd, 999, 1 << 20, &map), -EMSGSIZE);
    cr_assert_null(map);
    cr_assert_eq(sbx_memfd_map(mfd, 1001, 1 << 20, &map), -EMSGSIZE);
    cr_assert_eq(sbx_memfd_check(mfd, 1000, 999), -EMSGSIZE); /* above the maximum */
    uint8_t buf[1001];
    cr_assert_eq(sbx_memfd_read(mfd, 1001, 1 << 20, buf), -EMSGSIZE);
    cr_assert_eq(sbx_memfd_map(mfd, 0, 1 << 20, &map), -EINVAL);
    cr_assert_eq(sbx_memfd_check(mfd, 1000, 1000), 0);
    close(mfd);
    free(bytes);
}

Test(memfd, unsealed_or_not_a_memfd_is_refused)
{
    /* Unsealed: the sender could still shrink it under our mapping. */
    int mfd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    cr_assert_geq(mfd, 0);
    cr_assert_eq(write(mfd, "abcd", 4), 4);
    cr_assert_eq(sbx_memfd_check(mfd, 4, 100), -EPERM);
    /* Sealed against shrinking only: writes could still change the bytes. */
    cr_assert_eq(fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    cr_assert_eq(sbx_memfd_check(mfd, 4, 100), -EPERM);
    close(mfd);
    /* Without MFD_ALLOW_SEALING the kernel sets F_SEAL_SEAL only. */
    mfd = memfd_create("nosealing", MFD_CLOEXEC);
    cr_assert_eq(write(mfd, "abcd", 4), 4);
    cr_assert_eq(sbx_memfd_check(mfd, 4, 100), -EPERM);
    close(mfd);
    /* A pipe is not a file at all. */
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(sbx_memfd_check(p[0], 4, 100), -EBADF);
    close(p[0]);
    close(p[1]);
}

Test(memfd, empty_payload)
{
    int mfd = sbx_memfd_from_bytes("empty", NULL, 0);
    cr_assert_geq(mfd, 0);
    cr_assert_eq(sbx_memfd_check(mfd, 0, 100), 0);
    cr_assert_eq(sbx_memfd_read(mfd, 0, 100, NULL), 0);
    close(mfd);
}
