/* The instance runtime's public API: compile a validated module, link its
 * imports, instantiate it into a memimg pool slot, call its exports, and
 * define host functions. Traps come back as struct sbx_trap, never as a
 * crash; library code never prints.
 *
 * Threading: an instance runs on one thread at a time. Different instances
 * may run on different threads concurrently. */
#ifndef SBX_JIT_RUNTIME_H
#define SBX_JIT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"
#include "jit/module.h"
#include "jit/vmctx.h"

struct sbx_pool;

/* -- Traps -- */

enum sbx_trap_code {
    SBX_TRAP_NONE = 0,
    SBX_TRAP_UNREACHABLE,
    SBX_TRAP_INT_DIV_ZERO,
    SBX_TRAP_INT_OVERFLOW,
    SBX_TRAP_INVALID_CONVERSION,
    SBX_TRAP_OOB_MEMORY,
    SBX_TRAP_OOB_TABLE,
    SBX_TRAP_INDIRECT_TYPE_MISMATCH,
    SBX_TRAP_UNINITIALIZED_ELEMENT, /* call_indirect through a null entry */
    SBX_TRAP_UNDEFINED_ELEMENT,     /* call_indirect index past the table */
    SBX_TRAP_STACK_EXHAUSTED,
    SBX_TRAP_OUT_OF_FUEL,
    SBX_TRAP_INTERRUPTED, /* epoch deadline reached */
    SBX_TRAP_HOST,        /* a host function trapped; see message */
    SBX_TRAP_EXIT,        /* a host function requested exit; see exit_code */
    SBX_TRAP_COUNT
};

#define SBX_TRAP_MAX_FRAMES 32

struct sbx_trap {
    int code;                             /* enum sbx_trap_code */
    int exit_code;                        /* SBX_TRAP_EXIT only */
    char message[160];                    /* the spec's wording, e.g. "integer divide by zero" */
    uint32_t nframes;                     /* wasm backtrace, innermost first */
    uint32_t frames[SBX_TRAP_MAX_FRAMES]; /* function indices */
};

/* The spec's wording for a trap code. */
const char *sbx_trap_message(int code);

/* -- Compilation -- */

struct sbx_compile_options {
    bool fuel;  /* charge fuel at function entries and loop back-edges */
    bool epoch; /* check the epoch deadline at the same points */
};

/* Compiled code of a module, shareable by all its instances. */
struct sbx_compiled;

/* Compiles every function of a validated module. The module must outlive the
 * result. Returns NULL with err set on failure (e.g. out of memory). */
struct sbx_compiled *sbx_compile(const struct sbx_module *m, const struct sbx_compile_options *opts,
                                 struct sbx_error *err);
void sbx_compiled_free(struct sbx_compiled *c);
/* Builds what all instances of `c` share and would otherwise build on the
 * first instantiation (the sealed memory image of its data segments). A
 * process that forks instances (the zygote) calls it once, so that every
 * child inherits the result instead of building its own. Optional. */
void sbx_compiled_prepare(const struct sbx_compiled *c);
const struct sbx_module *sbx_compiled_module(const struct sbx_compiled *c);

/* -- Host functions -- */

/* What a host function sees of its caller. */
struct sbx_caller {
    struct sbx_instance *instance; /* the calling instance */
    struct sbx_memory *memory;     /* its memory 0, or NULL */
};

/* A host function: reads args, writes results (both typed by its signature),
 * returns 0, or returns sbx_host_trap()/sbx_host_exit() to end the call. */
typedef int (*sbx_host_fn)(void *env, struct sbx_caller *caller, const union sbx_val *args,
                           union sbx_val *results);

/* Makes the current call end with SBX_TRAP_HOST and `message`; the host
 * function must return its result. */
int sbx_host_trap(struct sbx_caller *caller, const char *message);
/* Makes the current call end with SBX_TRAP_EXIT and `code`. */
int sbx_host_exit(struct sbx_caller *caller, int code);

struct sbx_host_func;

/* Defines a host function of the given type (params/results are value-type
 * bytes; they are copied). Returns NULL on out of memory. */
struct sbx_host_func *sbx_host_func_new(const uint8_t *params, uint32_t nparams,
                                        const uint8_t *results, uint32_t nresults, sbx_host_fn fn,
                                        void *env);
void sbx_host_func_free(struct sbx_host_func *f);

/* -- Linking -- */

/* Something an import can be bound to. */
struct sbx_extern {
    uint8_t kind; /* enum sbx_extern_kind */
    union {
        struct {
            struct sbx_funcref *ref;    /* an instance's function */
            struct sbx_host_func *host; /* or a host function */
        } func;
        struct {
            union sbx_global_cell *cell;
            uint8_t type;
            bool mutable_;
        } global;
        struct sbx_table *table;
        struct sbx_memory *memory;
    } u;
};

/* A name -> extern registry that resolves a module's imports. */
struct sbx_linker;

struct sbx_linker *sbx_linker_new(void);
void sbx_linker_free(struct sbx_linker *l);
/* Defines module.name (both copied). Returns 0 or -ENOMEM. A later definition
 * of the same name replaces the earlier one. */
int sbx_linker_define(struct sbx_linker *l, const char *module, const char *name,
                      const struct sbx_extern *ext);
/* Defines every export of `inst` under module name `module` (the spec's
 * `register`). */
int sbx_linker_define_instance(struct sbx_linker *l, const char *module, struct sbx_instance *inst);

/* -- Instances -- */

struct sbx_instance;

/* Resolves imports through `linker`, allocates memory from `pool`, applies
 * segments and runs the start function. On failure returns NULL and either
 * err is set (link errors: "unknown import", "incompatible import type"; or
 * resource errors) or, if the failure is a trap during instantiation (an
 * out-of-bounds segment, a trapping start function), *trap is set and
 * err->msg repeats the trap message. */
struct sbx_instance *sbx_instantiate(const struct sbx_compiled *c, struct sbx_linker *linker,
                                     struct sbx_pool *pool, struct sbx_error *err,
                                     struct sbx_trap *trap);
void sbx_instance_free(struct sbx_instance *inst);

/* What an embedder may set per instance. Zero values are the defaults. */
struct sbx_instance_options {
    uint64_t max_memory_bytes; /* cap on memory 0 (64 KiB multiple); 0: the pool's */
    size_t stack_size;         /* wasm stack for calls into it; 0: 1 MiB */
    /* Leave the start function to sbx_instance_start, so that the embedder
     * can finish its set-up (e.g. confinement) between the two. */
    bool defer_start;
};

/* sbx_instantiate with options (NULL: the defaults). A memory whose initial
 * size is above max_memory_bytes fails instantiation ("memory limit"). */
struct sbx_instance *sbx_instantiate_with(const struct sbx_compiled *c, struct sbx_linker *linker,
                                          struct sbx_pool *pool,
                                          const struct sbx_instance_options *opts,
                                          struct sbx_error *err, struct sbx_trap *trap);

/* Runs the start function of an instance made with defer_start (once);
 * 0, or -1 with *trap filled. Without a start function: 0. */
int sbx_instance_start(struct sbx_instance *inst, struct sbx_trap *trap);

/* True once memory.grow was refused because of max_memory_bytes (not the
 * module's own maximum): how an embedder tells a memory limit from a trap. */
bool sbx_instance_memory_limited(const struct sbx_instance *inst);

/* Looks up an export by name; returns 0 and fills *ext, or -ENOENT. */
int sbx_instance_export(struct sbx_instance *inst, const char *name, struct sbx_extern *ext);

/* Calls function `func_index` (imports included) with args typed by its
 * signature. Returns 0 with results written, or -1 with *trap filled. */
int sbx_instance_call(struct sbx_instance *inst, uint32_t func_index, const union sbx_val *args,
                      union sbx_val *results, struct sbx_trap *trap);

/* Calls any function reference (an export of any instance, or a host
 * function) of type `type`. */
int sbx_call_funcref(struct sbx_funcref *ref, const struct sbx_functype *type,
                     const union sbx_val *args, union sbx_val *results, struct sbx_trap *trap);

/* Limits for calls into an instance: fuel (when compiled with fuel), the
 * epoch deadline, and the wasm stack size used by the next call. */
void sbx_instance_set_fuel(struct sbx_instance *inst, int64_t fuel);
int64_t sbx_instance_fuel(const struct sbx_instance *inst);
void sbx_instance_set_epoch(struct sbx_instance *inst, const volatile uint64_t *epoch,
                            uint64_t deadline);

/* Sets up the calling thread for wasm calls ahead of time: the trap
 * handlers, its alternate signal stack and a wasm stack for calls with
 * `stack_size` (0: the default). Optional; a process that forks workers
 * calls it once so that every worker inherits all three instead of making
 * them. Returns 0 or -errno. */
int sbx_runtime_prepare_thread(size_t stack_size);

/* Touches the top page of the calling thread's wasm stack (if prepared),
 * which the first call would otherwise fault in: a warm worker does it
 * while it waits, off its spawn's path. */
void sbx_runtime_touch_thread_stack(void);

struct sbx_memory *sbx_instance_memory(struct sbx_instance *inst);
const struct sbx_module *sbx_instance_module(const struct sbx_instance *inst);

#endif
