/* Receiving into an arena (sbx_ipc_recv_arena): the same messages and the
 * same refusals as sbx_ipc_recv, with the unpacked message in the caller's
 * storage while it fits, on the heap past it, and the fds of a refused
 * packet closed. Run under ASan, a free of arena memory or a leak of what
 * spilled to the heap fails the build's sanitizer job. */
#include "tests/ipc/helpers.h"

static uint8_t packet[SBX_IPC_MAX_MESSAGE];
static _Alignas(16) uint8_t mem[4096];

static struct sbx_ipc_arena arena(size_t size)
{
    return (struct sbx_ipc_arena){.packet = packet, .mem = mem, .size = size};
}

static bool inside(const void *p, size_t size)
{
    return (const uint8_t *)p >= mem && (const uint8_t *)p < mem + size;
}

/* Sends r with nsend fds and receives it into a. */
static Sbx__Request *through_arena(const Sbx__Request *r, size_t nsend, struct sbx_ipc_arena *a,
                                   int *fds, size_t *nfds)
{
    int sv[2];
    make_pair(sv);
    const int send_fds[2] = {0, 1};
    cr_assert_eq(sbx_ipc_send(sv[0], &r->base, send_fds, nsend, 1000), 0);
    Sbx__Request *got = NULL;
    cr_assert_eq(sbx_ipc_recv_arena(sv[1], &sbx__request__descriptor, a, (ProtobufCMessage **)&got,
                                    fds, nfds, SBX_IPC_MAX_FDS, 1000),
                 0);
    close_pair(sv);
    return got;
}

Test(arena, a_message_lands_in_the_arena_with_its_fds)
{
    Sbx__Request *r = new_spawn(2);
    struct sbx_ipc_arena a = arena(sizeof mem);
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    Sbx__Request *got = through_arena(r, 2, &a, fds, &nfds);
    free_spawn(r);
    cr_assert_eq(nfds, 2);
    cr_assert(inside(got, sizeof mem) && inside(got->spawn, sizeof mem));
    cr_assert_str_eq(got->spawn->module_id, TEST_MODULE_ID);
    cr_assert_eq(got->spawn->n_argv, 3);
    cr_assert_str_eq(got->spawn->argv[2], "x");
    cr_assert_str_eq(got->spawn->env[1], "LANG=C");
    cr_assert_gt(a.used, 0);
    sbx_ipc_arena_free(&a, &got->base);
    cr_assert_eq(a.used, 0, "freed: the next message starts at the arena's beginning");
    sbx_ipc_close_fds(fds, nfds);
}

/* A message bigger than the arena: what does not fit comes from the heap
 * (freed by sbx_ipc_arena_free; LeakSanitizer would say otherwise). */
Test(arena, what_does_not_fit_spills_to_the_heap)
{
    Sbx__Request *r = new_spawn(0);
    static char *many[200];
    static char text[200][40];
    for (int i = 0; i < 200; i++) {
        snprintf(text[i], sizeof text[i], "argument number %d of many", i);
        many[i] = text[i];
    }
    r->spawn->n_argv = 200, r->spawn->argv = many;
    struct sbx_ipc_arena a = arena(512);
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    Sbx__Request *got = through_arena(r, 0, &a, fds, &nfds);
    free_spawn(r);
    cr_assert_eq(got->spawn->n_argv, 200);
    cr_assert_str_eq(got->spawn->argv[199], "argument number 199 of many");
    bool spilled = false;
    for (int i = 0; i < 200; i++)
        spilled |= !inside(got->spawn->argv[i], 512);
    cr_assert(spilled, "some of it came from the heap");
    cr_assert_leq(a.used, 512);
    sbx_ipc_arena_free(&a, &got->base);
}

Test(arena, bytes_that_do_not_unpack_are_refused_and_their_fds_closed)
{
    int sv[2];
    make_pair(sv);
    int before = count_fds();
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    cr_assert_eq(sbx_ipc_send_raw(sv[0], junk, sizeof junk, pipefd, 2, 1000), 0);
    close(pipefd[0]), close(pipefd[1]);
    struct sbx_ipc_arena a = arena(sizeof mem);
    ProtobufCMessage *got = (ProtobufCMessage *)&a; /* must be reset */
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 7;
    cr_assert_eq(sbx_ipc_recv_arena(sv[1], &sbx__request__descriptor, &a, &got, fds, &nfds,
                                    SBX_IPC_MAX_FDS, 1000),
                 -EPROTO);
    cr_assert_null(got);
    cr_assert_eq(nfds, 0);
    cr_assert_eq(count_fds(), before, "the packet's fds were closed");
    close_pair(sv);
}

Test(arena, the_unpack_budget_holds)
{
    size_t len;
    uint8_t *buf = expanding_spawn(60000, &len);
    int sv[2];
    make_pair(sv);
    cr_assert_eq(sbx_ipc_send_raw(sv[0], buf, len, NULL, 0, 1000), 0);
    free(buf);
    struct sbx_ipc_arena a = arena(sizeof mem);
    ProtobufCMessage *got;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    cr_assert_eq(sbx_ipc_recv_arena(sv[1], &sbx__request__descriptor, &a, &got, fds, &nfds,
                                    SBX_IPC_MAX_FDS, 1000),
                 -ENOBUFS);
    cr_assert_null(got);
    close_pair(sv);
}

Test(arena, an_arena_without_storage_is_refused)
{
    int sv[2];
    make_pair(sv);
    struct sbx_ipc_arena none = {0};
    ProtobufCMessage *got;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    cr_assert_eq(sbx_ipc_recv_arena(sv[1], &sbx__request__descriptor, &none, &got, fds, &nfds,
                                    SBX_IPC_MAX_FDS, 0),
                 -EINVAL);
    close_pair(sv);
}
