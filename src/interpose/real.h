/*
 * real.h - the C library's own versions of the functions pprofd wraps.
 *
 * Every interposed name (pthread_create, dl_iterate_phdr, and later the
 * malloc and pthread families) forwards to
 * the next definition in the lookup order, found once with
 * dlsym(RTLD_NEXT). pprofd's own code that must not go through its own
 * wrappers (the CPU collector thread, for instance) calls the pointers
 * here directly.
 *
 * Threads and contexts: pprofd__real_init() may be called from any thread
 * outside signal context, any number of times; a library constructor calls
 * it at load time. After it has run, the pointers are never written again
 * and may be read from any context, signal handlers included. Before it,
 * each pprofd__real_<name>() resolves its own pointer lazily (dlsym does
 * not call any function pprofd wraps, so this cannot recurse).
 */
#ifndef PPROFD_INTERPOSE_REAL_H
#define PPROFD_INTERPOSE_REAL_H

#include <link.h>
#include <pthread.h>

#include "core/common.h"

/* Marks a definition that replaces a libc name for the whole process.
 * Only src/interpose/ uses it, and every such name is also listed in
 * libpprofd.sym. */
#define PPROFD_INTERPOSE __attribute__((visibility("default")))

typedef int (*pprofd__pthread_create_fn)(pthread_t *, const pthread_attr_t *,
                                         void *(*)(void *), void *);
typedef int (*pprofd__dl_iterate_phdr_fn)(int (*)(struct dl_phdr_info *, size_t,
                                                  void *),
                                          void *);

/* Resolves every real function now. Idempotent and thread-safe; returns
 * NULL, or a static sentence naming a function that could not be found
 * (then the corresponding wrapper fails with ENOSYS-like results). */
const char *pprofd__real_init(void);

/* The real functions (never NULL once resolved; NULL only if the C
 * library lacks the name). Signal-safe after pprofd__real_init(). */
pprofd__pthread_create_fn pprofd__real_pthread_create(void);
pprofd__dl_iterate_phdr_fn pprofd__real_dl_iterate_phdr(void);

#endif
