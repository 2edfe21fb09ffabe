/*
 * vars.h - application variables (pprofd_var_*), Go's expvar: integers,
 * counters, floats, strings and callback-computed values that the
 * application publishes under a name, for /debug/vars and /metrics.
 *
 * The registry is a fixed array of variables, appended under its lock
 * and published with a release store of the count, so readers walk it
 * without the lock; variables are never removed (as in Go), so a pointer
 * stays valid for the process's life. Numbers are atomics the
 * application updates without any lock; a string's text is swapped under
 * the registry's lock, which readers hold only to copy one string.
 *
 * Threads: any thread outside signal context. Locks: the registry's (a
 * leaf: nothing is called under it that takes another pprofd lock),
 * held across fork() by the fork hooks.
 */
#ifndef PPROFD_SAMPLE_VARS_H
#define PPROFD_SAMPLE_VARS_H

#include <stddef.h>

#include "base/common.h"
#include "model/metrics.h"
#include "pprofd.h"

/* The longest name, HELP text and string value, in bytes. */
#define PPROFD__VAR_NAME_MAX 128
#define PPROFD__VAR_HELP_MAX 1024
#define PPROFD__VAR_STRING_MAX 4096
/* The most variables a process may create. */
#define PPROFD__VARS_MAX 4096

/* Copies every variable's value at this instant into a new array *out
 * (free it with pprofd__varvals_free), sorted by name; *n is the count.
 * Func variables are called here, with no lock held. 0, or
 * PPROFD_ENOMEM (then *out is NULL and *n 0). */
int pprofd__vars_read(pprofd__varval **out, size_t *n) PPROFD__WARN_UNUSED;

/* The number of variables. Lock-free. */
size_t pprofd__vars_count(void);

/* Fork hooks (see core/runtime.h): the registry's lock is held across
 * fork(). */
void pprofd__vars_prefork(void);
void pprofd__vars_postfork(void);

#endif
