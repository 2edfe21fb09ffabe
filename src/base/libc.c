/*
 * libc.c - resolving the real C library functions (see libc.h).
 *
 * Each pointer starts NULL and is filled by dlsym(RTLD_NEXT, name), either
 * by pprofd__real_init() (called from a constructor when the library
 * loads, and again by every module before it installs a signal handler)
 * or lazily by the first wrapper call that needs it, for wrappers that run
 * before the constructor (another library's constructor may create a
 * thread). Two threads racing to resolve the same name both store the
 * same value, so no lock or once-flag is needed, and none may be used:
 * dlsym takes the loader lock, and a once-flag held across it would
 * deadlock a wrapper re-entered from inside the loader.
 *
 * These pointers are write-once process state that every wrapper reads on
 * its fast path; they live here rather than in pprofd__rt so that the
 * interposition layer has no dependency on core/.
 */
#include "config.h"

#include "base/libc.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "base/lockrank.h"

static _Atomic(void *) real_pthread_create;
static _Atomic(void *) real_dl_iterate_phdr;

void *pprofd__real_lookup(_Atomic(void *) *slot, const char *name) {
  /* Acquire pairs with the release below: whoever sees the pointer also
   * sees everything the resolving thread did before publishing it (there
   * is nothing else to see today; the order documents the intent). */
  void *p = atomic_load_explicit(slot, memory_order_acquire);
  if (PPROFD__LIKELY(p != NULL))
    return p;
  p = dlsym(RTLD_NEXT, name);
  if (p != NULL)
    atomic_store_explicit(slot, p, memory_order_release);
  return p;
}

/* The pthread family, resolved together: a NULL mutex_lock means "not
 * yet". Written before `pthread_ready` is released. */
pprofd__real_pthread_fns pprofd__real_pthread_table;
atomic_int pprofd__real_pthread_ready;
atomic_int pprofd__interpose_mode = PPROFD__MODE_UNRESOLVED;

/* Looks name up after this library, preferring `ver` when given (glibc
 * keeps an old pthread_cond_* ABI under the same names). */
static void *find_fn(const char *name, const char *ver) {
  void *p = ver != NULL ? dlvsym(RTLD_NEXT, name, ver) : NULL;
  return p != NULL ? p : dlsym(RTLD_NEXT, name);
}

const pprofd__real_pthread_fns *pprofd__real_pthread_resolve(void) {
  pprofd__real_pthread_fns f;
#define FIND(field, name, ver) f.field = (__typeof__(f.field))find_fn(name, ver)
  FIND(mutex_lock, "pthread_mutex_lock", NULL);
  FIND(mutex_trylock, "pthread_mutex_trylock", NULL);
  FIND(mutex_timedlock, "pthread_mutex_timedlock", NULL);
  FIND(mutex_clocklock, "pthread_mutex_clocklock", NULL);
  FIND(mutex_unlock, "pthread_mutex_unlock", NULL);
  FIND(rwlock_rdlock, "pthread_rwlock_rdlock", NULL);
  FIND(rwlock_tryrdlock, "pthread_rwlock_tryrdlock", NULL);
  FIND(rwlock_timedrdlock, "pthread_rwlock_timedrdlock", NULL);
  FIND(rwlock_clockrdlock, "pthread_rwlock_clockrdlock", NULL);
  FIND(rwlock_wrlock, "pthread_rwlock_wrlock", NULL);
  FIND(rwlock_trywrlock, "pthread_rwlock_trywrlock", NULL);
  FIND(rwlock_timedwrlock, "pthread_rwlock_timedwrlock", NULL);
  FIND(rwlock_clockwrlock, "pthread_rwlock_clockwrlock", NULL);
  FIND(rwlock_unlock, "pthread_rwlock_unlock", NULL);
  FIND(cond_wait, "pthread_cond_wait", "GLIBC_2.3.2");
  FIND(cond_timedwait, "pthread_cond_timedwait", "GLIBC_2.3.2");
  FIND(cond_clockwait, "pthread_cond_clockwait", NULL);
  FIND(sem_wait, "sem_wait", NULL);
  FIND(sem_trywait, "sem_trywait", NULL);
  FIND(sem_timedwait, "sem_timedwait", NULL);
  FIND(sem_clockwait, "sem_clockwait", NULL);
  FIND(join, "pthread_join", NULL);
  FIND(tryjoin, "pthread_tryjoin_np", NULL);
  FIND(barrier_wait, "pthread_barrier_wait", NULL);
  FIND(spin_lock, "pthread_spin_lock", NULL);
  FIND(spin_trylock, "pthread_spin_trylock", NULL);
#undef FIND
  if (f.mutex_lock == NULL)
    return &pprofd__real_pthread_table; /* no C library to forward to */
  /* Two resolvers write the same values; the flag is set after both. */
  pprofd__real_pthread_table = f;
  /* Release pairs with the acquire in pprofd__real_pthread. */
  atomic_store_explicit(&pprofd__real_pthread_ready, 1, memory_order_release);
  /* Release pairs with the acquire in pprofd__interpose_fast. */
  atomic_fetch_and_explicit(&pprofd__interpose_mode, ~PPROFD__MODE_UNRESOLVED,
                            memory_order_release);
  return &pprofd__real_pthread_table;
}

#ifdef PPROFD_ENABLE_INTERPOSE
extern const char __start_pprofd_hook[] __attribute__((visibility("hidden")));
extern const char __stop_pprofd_hook[] __attribute__((visibility("hidden")));

int pprofd__interpose_in_hook(uint64_t pc) {
  return pc >= (uintptr_t)__start_pprofd_hook &&
         pc < (uintptr_t)__stop_pprofd_hook;
}
#else
int pprofd__interpose_in_hook(uint64_t pc) { return 0; }
#endif

#ifdef PPROFD_ENABLE_INTERPOSE
int pprofd__mutex_lock(pthread_mutex_t *m) {
  pprofd__rank_acquire(m);
  return pprofd__real_pthread()->mutex_lock(m);
}

int pprofd__mutex_unlock(pthread_mutex_t *m) {
  int r = pprofd__real_pthread()->mutex_unlock(m);
  pprofd__rank_release(m);
  return r;
}

int pprofd__cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                           const struct timespec *abstime) {
  return pprofd__real_pthread()->cond_timedwait(c, m, abstime);
}

int pprofd__join(pthread_t t, void **ret) {
  return pprofd__real_pthread()->join(t, ret);
}
#else
/* Nothing is wrapped: the C library's functions are the real ones. */
int pprofd__mutex_lock(pthread_mutex_t *m) {
  pprofd__rank_acquire(m);
  return pthread_mutex_lock(m);
}

int pprofd__mutex_unlock(pthread_mutex_t *m) {
  int r = pthread_mutex_unlock(m);
  pprofd__rank_release(m);
  return r;
}

int pprofd__cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                           const struct timespec *abstime) {
  return pthread_cond_timedwait(c, m, abstime);
}

int pprofd__join(pthread_t t, void **ret) { return pthread_join(t, ret); }
#endif

const char *pprofd__real_init(void) {
  if (pprofd__real_lookup(&real_pthread_create, "pthread_create") == NULL)
    return "pthread_create cannot be resolved";
  if (pprofd__real_lookup(&real_dl_iterate_phdr, "dl_iterate_phdr") == NULL)
    return "dl_iterate_phdr cannot be resolved";
  if (pprofd__real_pthread()->mutex_lock == NULL)
    return "pthread_mutex_lock cannot be resolved";
  return NULL;
}

/* Resolves everything at load time, before the host's main() runs. */
__attribute__((constructor)) static void real_ctor(void) {
  (void)pprofd__real_init();
}

pprofd__pthread_create_fn pprofd__real_pthread_create(void) {
  return (pprofd__pthread_create_fn)pprofd__real_lookup(&real_pthread_create,
                                                        "pthread_create");
}

pprofd__dl_iterate_phdr_fn pprofd__real_dl_iterate_phdr(void) {
  return (pprofd__dl_iterate_phdr_fn)pprofd__real_lookup(&real_dl_iterate_phdr,
                                                         "dl_iterate_phdr");
}

/* How deep this thread is inside the loader. Only this thread writes it,
 * and only this thread's signal handlers read it, so relaxed accesses
 * plus signal fences (compiler ordering against the handler) suffice. */
static __thread _Atomic int tls_in_loader
    __attribute__((tls_model("initial-exec")));

int pprofd__thread_in_loader_sigsafe(void) {
  return atomic_load_explicit(&tls_in_loader, memory_order_relaxed) > 0;
}

void pprofd__thread_loader_mark_sigsafe(int delta) {
  if (delta < 0)
    atomic_signal_fence(memory_order_seq_cst); /* leave after the call */
  atomic_fetch_add_explicit(&tls_in_loader, delta, memory_order_relaxed);
  if (delta > 0)
    atomic_signal_fence(memory_order_seq_cst); /* enter before the call */
}

#ifdef PPROFD_ENABLE_INTERPOSE
#define REAL(fn) pprofd__real_pthread()->fn
#else
#define REAL(fn) pthread_##fn
#endif

int pprofd__mutex_reclaim_in_child(pthread_mutex_t *m) {
  /* Only the forking thread exists: a trylock tells whether another
   * thread held m when the process forked. */
  if (REAL(mutex_trylock)(m) == 0) {
    REAL(mutex_unlock)(m);
    return 1;
  }
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(m, &fresh, sizeof fresh);
  return 0;
}
