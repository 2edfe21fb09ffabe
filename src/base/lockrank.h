/*
 * lockrank.h - the order pprofd's own locks are taken in, and a check of
 * it in debug builds.
 *
 * Every lock pprofd takes for itself has a rank below. A thread may take
 * a lock only while every lock it holds ranks no higher (equal ranks are
 * one family taken in a fixed order: the custom profiles' locks before
 * fork, the two contention stack tables). The fork hooks (core/api.c)
 * take, in this order, every lock that no request holds for long before
 * fork() and release them after, so a child never inherits a lock held
 * by a thread it does not have; the locks of request work (DUMP,
 * STACKCOPY, SYMBOLIZER, MAPS) are taken back in the child instead, so
 * the host's fork() never waits for a request.
 *
 * In a debug build (configure --enable-debug, as CI's sanitizer build)
 * each lock is registered with its rank where it is defined
 * (PPROFD__LOCK_RANK), pprofd__mutex_lock keeps a per-thread list of the
 * ranks held, and taking a lock out of order prints both locks and aborts,
 * so the test that took them fails. Release builds register and check
 * nothing. The check is async-signal-safe, lock-free and allocation-free,
 * as the heap sampler takes its lock inside malloc.
 */
#ifndef PPROFD_BASE_LOCKRANK_H
#define PPROFD_BASE_LOCKRANK_H

#include <pthread.h>

enum pprofd__lock_rank {
  PPROFD__RANK_RUNTIME = 1, /* rt.lock: start/stop, the config in force */
  PPROFD__RANK_CUSTOM_LIST, /* the list of custom profiles */
  PPROFD__RANK_CUSTOM,      /* one custom profile's keys */
  PPROFD__RANK_DUMP,        /* a thread dump in progress (sample/threads) */
  PPROFD__RANK_THREADREG,   /* the registry's creation stacks */
  PPROFD__RANK_CPU_FILE,    /* pprofd_cpu_start/stop (core/cpufile) */
  PPROFD__RANK_CPU_LIFE,    /* CPU sessions opening and closing */
  PPROFD__RANK_CPU,         /* the CPU profiler's sessions and collector */
  PPROFD__RANK_CPU_STACKS,  /* a CPU session's stack table */
  PPROFD__RANK_LABELS,      /* the label-set table */
  PPROFD__RANK_SYMBOLIZER,  /* the symbolizer and its cache */
  PPROFD__RANK_MAPS,        /* the build-id cache (symbol/buildid) */
  PPROFD__RANK_HTTP,        /* the HTTP server's set of live requests */
  PPROFD__RANK_REQSTATS,
  PPROFD__RANK_AUTH, /* the credential files' cache (core/auth) */
  PPROFD__RANK_AUTODUMP,
  /* automatic captures' state (core/autodump) */ /* the per-path request counts
                                                     (core) */
  PPROFD__RANK_VARS,        /* application variables: the registry and
                               the strings' texts (sample/vars) */
  PPROFD__RANK_STACKCOPY,   /* a walk of stack copies (capture/stackcopy);
                               a walk may take the heap's locks when the
                               heap sampler samples libunwind's own
                               allocations */
  PPROFD__RANK_CONTENTION,  /* the block and mutex stack tables, leaves
                               taken inside pthread wrappers */
  PPROFD__RANK_TRACE,       /* the tracer's buffers; recorders include the
                               CPU collector under the CPU lock */
  PPROFD__RANK_HEAP_STACKS, /* the heap's stack table (interning) */
  PPROFD__RANK_HEAP,        /* the heap sampler's block table, in malloc;
                               the heap registers its fork handlers first,
                               so its prepare handler runs last */
};

#ifdef PPROFD_DEBUG
/* Registers m's rank and a name for messages (a static string). At most
 * 128 locks are checked at once; more are not. A lock that is destroyed
 * is unregistered first (its memory may become another lock). */
void pprofd__lock_rank(pthread_mutex_t *m, enum pprofd__lock_rank r,
                       const char *name);
void pprofd__lock_unrank(pthread_mutex_t *m);
/* Called by pprofd__mutex_lock before locking and by pprofd__mutex_unlock
 * after unlocking. */
void pprofd__rank_acquire(pthread_mutex_t *m);
void pprofd__rank_release(pthread_mutex_t *m);
/* Registers a statically initialized lock at load time:
 * PPROFD__LOCK_RANK(name, &lock, rank); at file scope. */
#define PPROFD__LOCK_RANK(id, lock, rank)                                      \
  __attribute__((constructor)) static void pprofd__rank_##id(void) {           \
    pprofd__lock_rank(lock, rank, #id);                                        \
  }                                                                            \
  extern int pprofd__rank_unused_##id
#else
#define pprofd__lock_rank(m, r, name) ((void)(m), (void)(r), (void)(name))
#define pprofd__lock_unrank(m) ((void)(m))
#define pprofd__rank_acquire(m) ((void)(m))
#define pprofd__rank_release(m) ((void)(m))
#define PPROFD__LOCK_RANK(id, lock, rank) extern int pprofd__rank_unused_##id
#endif

#endif
