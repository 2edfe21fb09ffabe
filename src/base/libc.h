/*
 * libc.h - the C library's own versions of the functions pprofd wraps.
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
#ifndef PPROFD_BASE_LIBC_H
#define PPROFD_BASE_LIBC_H

#include <link.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "base/common.h"

/* Marks a definition that replaces a libc name for the whole process.
 * Only src/interpose/ uses it, and every such name is also listed in
 * libpprofd.sym. */
#define PPROFD_INTERPOSE __attribute__((visibility("default")))

typedef int (*pprofd__pthread_create_fn)(pthread_t *, const pthread_attr_t *,
                                         void *(*)(void *), void *);
struct dl_phdr_info; /* <link.h> declares it only under _GNU_SOURCE */
typedef int (*pprofd__dl_iterate_phdr_fn)(int (*)(struct dl_phdr_info *, size_t,
                                                  void *),
                                          void *);

/* The pthread and semaphore functions interpose/pthread.c wraps, as the
 * C library defines them. Each pointer is NULL until resolved; read them
 * through pprofd__real_pthread(), which resolves them on first use. */
typedef struct pprofd__real_pthread_fns {
  int (*mutex_lock)(pthread_mutex_t *);
  int (*mutex_trylock)(pthread_mutex_t *);
  int (*mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
  int (*mutex_clocklock)(pthread_mutex_t *, clockid_t, const struct timespec *);
  int (*mutex_unlock)(pthread_mutex_t *);
  int (*rwlock_rdlock)(pthread_rwlock_t *);
  int (*rwlock_tryrdlock)(pthread_rwlock_t *);
  int (*rwlock_timedrdlock)(pthread_rwlock_t *, const struct timespec *);
  int (*rwlock_clockrdlock)(pthread_rwlock_t *, clockid_t,
                            const struct timespec *);
  int (*rwlock_wrlock)(pthread_rwlock_t *);
  int (*rwlock_trywrlock)(pthread_rwlock_t *);
  int (*rwlock_timedwrlock)(pthread_rwlock_t *, const struct timespec *);
  int (*rwlock_clockwrlock)(pthread_rwlock_t *, clockid_t,
                            const struct timespec *);
  int (*rwlock_unlock)(pthread_rwlock_t *);
  int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
  int (*cond_timedwait)(pthread_cond_t *, pthread_mutex_t *,
                        const struct timespec *);
  int (*cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
                        const struct timespec *);
  int (*sem_wait)(sem_t *);
  int (*sem_trywait)(sem_t *);
  int (*sem_timedwait)(sem_t *, const struct timespec *);
  int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
  int (*join)(pthread_t, void **);
  int (*tryjoin)(pthread_t, void **);
  int (*barrier_wait)(pthread_barrier_t *);
  int (*spin_lock)(pthread_spinlock_t *);
  int (*spin_trylock)(pthread_spinlock_t *);
} pprofd__real_pthread_fns;

/* Resolves the pthread family (from any thread; racing resolvers store
 * the same values) and returns it. Call pprofd__real_pthread instead. */
const pprofd__real_pthread_fns *pprofd__real_pthread_resolve(void);

extern pprofd__real_pthread_fns pprofd__real_pthread_table
    __attribute__((visibility("hidden")));
extern atomic_int pprofd__real_pthread_ready
    __attribute__((visibility("hidden")));

/* The pthread wrappers' one word: what the contention profiles want
 * (PPROFD__MODE_BLOCK, PPROFD__MODE_MUTEX, set by sample/contention.c),
 * whether a trace records waits (PPROFD__MODE_TRACE, sample/trace.c)
 * and whether the real functions are still unresolved. A wrapper whose
 * load of it reads 0 calls the real function from the table at once. */
#define PPROFD__MODE_BLOCK 1
#define PPROFD__MODE_MUTEX 2
#define PPROFD__MODE_UNRESOLVED 4
#define PPROFD__MODE_TRACE 8 /* a trace records waits (sample/trace.c) */
extern atomic_int pprofd__interpose_mode __attribute__((visibility("hidden")));

/* Whether a wrapper may call pprofd__real_pthread_table directly.
 * Acquire pairs with the release that clears PPROFD__MODE_UNRESOLVED:
 * whoever reads 0 sees the table filled (a plain load on x86-64). */
static inline int pprofd__interpose_fast(void) {
  return atomic_load_explicit(&pprofd__interpose_mode, memory_order_acquire) ==
         0;
}

/* The real pthread functions, resolved on the first call. Never NULL
 * itself; a member is NULL only when the C library lacks that name (the
 * clock variants before glibc 2.30). Inlined into every wrapper: one
 * load and a branch once resolved. Signal-safe once resolved. */
static inline const pprofd__real_pthread_fns *pprofd__real_pthread(void) {
  /* Acquire pairs with the release in the resolver: whoever sees the
   * flag sees every pointer. */
  if (PPROFD__LIKELY(atomic_load_explicit(&pprofd__real_pthread_ready,
                                          memory_order_acquire)))
    return &pprofd__real_pthread_table;
  return pprofd__real_pthread_resolve();
}

/* Places a function among the interposed wrappers' code (the
 * "pprofd_hook" section): stack captures drop leading frames that lie
 * there, so a recorded stack starts at the caller of malloc or
 * pthread_mutex_lock whatever the compiler inlined. */
#ifdef PPROFD_ENABLE_INTERPOSE
#define PPROFD__HOOK __attribute__((section("pprofd_hook"), noinline))
#define PPROFD__HOOK_FAST __attribute__((section("pprofd_hook")))
#else
#define PPROFD__HOOK __attribute__((noinline))
#define PPROFD__HOOK_FAST
#endif

/* Whether pc lies in a PPROFD__HOOK function (always 0 without
 * interposition). Signal-safe. */
int pprofd__interpose_in_hook(uint64_t pc);

/*
 * pprofd's own locking. Every lock pprofd takes for itself goes through
 * these, which call the C library directly, so that pprofd's internal
 * locks never show up in the contention profiles it serves and never
 * re-enter the contention sampler. Same contracts as the pthread calls.
 */
int pprofd__mutex_lock(pthread_mutex_t *m);
int pprofd__mutex_unlock(pthread_mutex_t *m);
int pprofd__cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                           const struct timespec *abstime);
int pprofd__join(pthread_t t, void **ret);

/* In a fork child, for a lock the fork hooks do not take (one that a
 * request may hold for long, so fork() must not wait for it): returns 1
 * when m was free at the fork (it stays free), else re-initializes it
 * and returns 0, and the caller resets the state m guarded, which may be
 * half-updated (leaking what it held: the child has one thread and
 * usually execs). */
int pprofd__mutex_reclaim_in_child(pthread_mutex_t *m);

/* Resolves every real function now. Idempotent and thread-safe; returns
 * NULL, or a static sentence naming a function that could not be found
 * (then the corresponding wrapper fails with ENOSYS-like results). */
const char *pprofd__real_init(void);

/* The pointer in *slot, resolving `name` after this library first
 * (dlsym(RTLD_NEXT)) when *slot is still NULL. NULL when the process
 * has no such function. Signal-safe once *slot is set. */
void *pprofd__real_lookup(_Atomic(void *) *slot, const char *name);

/* The real functions (never NULL once resolved; NULL only if the C
 * library lacks the name). Signal-safe after pprofd__real_init(). */
pprofd__pthread_create_fn pprofd__real_pthread_create(void);
pprofd__dl_iterate_phdr_fn pprofd__real_dl_iterate_phdr(void);

/*
 * What the interposition layer tells the rest of pprofd. The in-loader
 * counter is defined in libc.c; the "is interposed" queries and the
 * bootstrap arena's size are defined by the wrappers themselves
 * (interpose/malloc.c, interpose/pthread.c), which alone can answer them,
 * and declared here so that samplers need not include interpose/.
 */

/* Nonzero while the calling thread is inside
 * dl_iterate_phdr (including a dl_iterate_phdr callback). Async-signal-
 * safe: meant to be read by a signal handler about the thread it
 * interrupted. Always 0 in builds without interposition. */
int pprofd__thread_in_loader_sigsafe(void) PPROFD__SIGSAFE;

/* Marks the calling thread as inside (delta 1) or leaving (delta -1) the
 * loader, for pprofd's own loader calls. Async-signal-safe. */
void pprofd__thread_loader_mark_sigsafe(int delta) PPROFD__SIGSAFE;

/* 1 when this library's malloc is the one the process calls (it was
 * linked or preloaded, and the executable does not define its own), 0
 * when it is not, -1 when built without interposition. Thread-safe;
 * takes the loader lock on its first call. */
int pprofd__malloc_interposed(void);

/* Bytes handed out by the bootstrap arena (never freed). Thread-safe. */
size_t pprofd__malloc_boot_bytes(void);

/* 1 when this library's pthread_mutex_lock is the one the process calls
 * (it was linked or preloaded), 0 when not, -1 when built without
 * interposition. Thread-safe; takes the loader lock on its first call. */
int pprofd__pthread_interposed(void);

#endif
