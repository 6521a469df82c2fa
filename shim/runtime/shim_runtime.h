/* shim_runtime.h - what every adapter shares at run time: the
 * configuration (read lazily, on the first interposed call), whether the
 * shim is active, and the thread-local depth that makes nested calls pass
 * straight through.
 */
#ifndef GONESHIM_SHIM_RUNTIME_H
#define GONESHIM_SHIM_RUNTIME_H

#include <stdbool.h>

#include "config.h"

extern struct goneshim_config shim_config;

bool shim_initialize_slow(void);
bool shim_is_initialized(void);

extern bool shim_initialized_flag, shim_active_flag;

/* True when goneshim manages calls in this process: the variables parsed
 * and GONESHIM_DISABLE is not set. The first call reads the variables. */
static inline bool shim_active(void)
{
    if (__builtin_expect(!__atomic_load_n(&shim_initialized_flag, __ATOMIC_ACQUIRE), 0))
        return shim_initialize_slow();
    return shim_active_flag;
}

/* The libfaketime pattern: while the shim is inside a real library call
 * (its own, or one the application made), every interposed function that
 * the library calls back through the PLT passes straight through, so no
 * statement is handled twice and the shim never recurses into itself. */
extern __thread unsigned shim_depth __attribute__((tls_model("initial-exec")));

static inline bool shim_in_real_call(void)
{
    return shim_depth != 0;
}

#define SHIM_REAL_CALL(expr)  \
    ({                        \
        shim_depth++;         \
        __auto_type r_ = (expr); \
        shim_depth--;         \
        r_;                   \
    })

#define SHIM_REAL_CALL_VOID(expr) \
    do {                          \
        shim_depth++;             \
        expr;                     \
        shim_depth--;             \
    } while (0)

#endif
