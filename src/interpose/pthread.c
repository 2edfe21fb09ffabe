/*
 * pthread.c - the interposed pthread synchronization family (see
 * pthread.h).
 *
 * Every wrapper has the same shape. Fast path: read the mode word
 * (base/libc.h: profiles on, functions unresolved) and, when it is
 * 0, tail-call the C library. Slow
 * path (a profile is on): if the calling thread is already inside a
 * hook (the unwinder locking, or a host signal handler interrupting a
 * hook), call the C library directly; else try the non-blocking variant
 * and return when it succeeds or fails for a reason other than "busy";
 * else time the real blocking call with wait_begin/wait_end, which tell
 * sample/contention.c about the waiter (mutexes and rwlocks, for the
 * mutex profile) and the wait (for the block profile).
 *
 * Unlocks charge the waiters' delay to the releasing thread. For a
 * mutex, glibc's lock word (public in <bits/struct_mutex.h>) says for
 * free whether anyone may be waiting: a normal, recursive, error-checking
 * or adaptive mutex held with no waiters holds exactly 1 (it is 2 once a
 * waiter went to sleep on it); robust, priority-inheritance and
 * priority-protected mutexes keep other values there and always take
 * the look-up. A stale 1 only delays a charge to a later release.
 *
 * A condition wait releases its mutex inside the C library, where no
 * wrapper sees it, so the wrapper charges the mutex's waiters first.
 *
 * Every function here lives in the "pprofd_hook" section, so captured
 * stacks start at the application's call.
 */
#include "config.h"

#include "interpose/pthread.h"

#include "base/libc.h"

#ifdef PPROFD_ENABLE_INTERPOSE

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "base/clock.h"
#include "capture/blockctx.h"
#include "sample/contention.h"
#include "sample/trace.h"

/* glibc's mutex kind bits for robust, priority-inheritance and
 * priority-protect mutexes (PTHREAD_MUTEX_ROBUST_NORMAL_NP,
 * PTHREAD_MUTEX_PRIO_INHERIT_NP, PTHREAD_MUTEX_PRIO_PROTECT_NP). */
#define KIND_OTHER_LOCK_WORD 0x70

/* Whether a thread may be waiting on m, which the caller holds. */
static inline int maybe_waiters(pthread_mutex_t *m) {
#ifdef __GLIBC__
  int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
  int word = __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
  return (kind & KIND_OTHER_LOCK_WORD) != 0 || word != 1;
#else
  return 1;
#endif
}

/* One timed wait. */
typedef struct waitctx {
  int mode;
  int64_t t0;
  void *waiter;     /* handle from pprofd__contention_arrive, or NULL */
  const char *what; /* the call, for the trace */
} waitctx;

/* Before a blocking call on obj; track: obj has an owner whose release
 * the mutex profile charges (mutexes and rwlocks). */
static PPROFD__HOOK void wait_begin(waitctx *w, const void *obj, int track,
                                    const char *what) {
  pprofd__contention_guard_enter();
  w->what = what;
  w->mode = pprofd__contention_on();
  w->t0 = pprofd__mono_nanos();
  w->waiter = track && (w->mode & PPROFD__CONT_MUTEX)
                  ? pprofd__contention_arrive(obj, w->t0)
                  : NULL;
  pprofd__contention_guard_exit();
}

/* After the blocking call returned (whatever it returned). Keeps errno,
 * which sem_wait's callers read. */
static PPROFD__HOOK void wait_end(waitctx *w) {
  int saved = errno;
  pprofd__contention_guard_enter();
  int64_t t1 = pprofd__mono_nanos();
  if (w->waiter != NULL)
    pprofd__contention_leave(w->waiter, t1);
  if (w->mode & PPROFD__CONT_BLOCK)
    pprofd__contention_blocked(w->t0, t1);
  if ((w->mode & PPROFD__MODE_TRACE) && t1 - w->t0 >= PPROFD__TRACE_WAIT_MIN_NS)
    pprofd__contention_trace_wait(w->what, w->t0, t1);
  pprofd__contention_guard_exit();
  errno = saved;
}

/* Evaluates `call` (an int expression: the real blocking call) as a
 * timed wait on obj, named by the wrapper's own name for the trace. */
#define TIMED_WAIT_AS(obj, track, name, call)                                  \
  ({                                                                           \
    waitctx w_;                                                                \
    wait_begin(&w_, (obj), (track), (name));                                   \
    int e_ = (call);                                                           \
    wait_end(&w_);                                                             \
    e_;                                                                        \
  })
#define TIMED_WAIT(obj, track, call) TIMED_WAIT_AS(obj, track, __func__, call)

/* The release of obj by the calling thread, outside any hook. */
static PPROFD__HOOK void release(const void *obj) {
  if (pprofd__contention_guarded())
    return;
  pprofd__contention_guard_enter();
  pprofd__contention_release(obj);
  pprofd__contention_guard_exit();
}

/* A missing clock variant (C library older than 2.30). */
#define REAL_OR_ENOSYS(fn, ...) ((fn) != NULL ? (fn)(__VA_ARGS__) : ENOSYS)

/* ---- mutexes ---- */

/* A lock whose try failed with EBUSY: time the wait. */
static PPROFD__HOOK int mutex_lock_wait(pthread_mutex_t *m) {
  waitctx w;
  wait_begin(&w, m, 1, "pthread_mutex_lock");
  int e = pprofd__real_pthread_table.mutex_lock(m);
  wait_end(&w);
  return e;
}

/* Functions unresolved yet (a profile may be on too). */
static PPROFD__HOOK int mutex_lock_slow(pthread_mutex_t *m) {
  const pprofd__real_pthread_fns *r = pprofd__real_pthread();
  if (!pprofd__contention_on() || pprofd__contention_guarded())
    return r->mutex_lock(m);
  int e = r->mutex_trylock(m);
  return e != EBUSY ? e : mutex_lock_wait(m);
}

/* Profiles off: one load, one branch, the real call. On: the try, and
 * the timed wait only when the try found the mutex busy. */
PPROFD_INTERPOSE PPROFD__HOOK_FAST int pthread_mutex_lock(pthread_mutex_t *m) {
  int mode =
      atomic_load_explicit(&pprofd__interpose_mode, memory_order_acquire);
  if (PPROFD__LIKELY(mode == 0))
    return pprofd__real_pthread_table.mutex_lock(m);
  if (PPROFD__UNLIKELY(mode & PPROFD__MODE_UNRESOLVED) ||
      pprofd__contention_guarded())
    return mutex_lock_slow(m);
  int e = pprofd__real_pthread_table.mutex_trylock(m);
  return PPROFD__LIKELY(e != EBUSY) ? e : mutex_lock_wait(m);
}

/* Exported with the rest of the family; it never waits, so there is
 * nothing to record. */
PPROFD_INTERPOSE PPROFD__HOOK_FAST int
pthread_mutex_trylock(pthread_mutex_t *m) {
  return pprofd__real_pthread()->mutex_trylock(m);
}

PPROFD_INTERPOSE PPROFD__HOOK int
pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *at) {
  const pprofd__real_pthread_fns *r = pprofd__real_pthread();
  if (PPROFD__LIKELY(pprofd__contention_on() == 0) ||
      pprofd__contention_guarded())
    return r->mutex_timedlock(m, at);
  int e = r->mutex_trylock(m);
  if (e != EBUSY)
    return e;
  return TIMED_WAIT(m, 1, r->mutex_timedlock(m, at));
}

PPROFD_INTERPOSE PPROFD__HOOK int
pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c,
                        const struct timespec *at) {
  const pprofd__real_pthread_fns *r = pprofd__real_pthread();
  if (PPROFD__LIKELY(pprofd__contention_on() == 0) ||
      pprofd__contention_guarded())
    return REAL_OR_ENOSYS(r->mutex_clocklock, m, c, at);
  int e = r->mutex_trylock(m);
  if (e != EBUSY)
    return e;
  return TIMED_WAIT(m, 1, REAL_OR_ENOSYS(r->mutex_clocklock, m, c, at));
}

static PPROFD__HOOK int mutex_unlock_slow(pthread_mutex_t *m) {
  const pprofd__real_pthread_fns *r = pprofd__real_pthread();
  if ((pprofd__contention_on() & PPROFD__CONT_MUTEX) && maybe_waiters(m))
    release(m);
  return r->mutex_unlock(m);
}

/* Profiles off, or the mutex profile on and glibc's lock word saying
 * nobody waits: the real call with no frame of ours. */
PPROFD_INTERPOSE PPROFD__HOOK_FAST int
pthread_mutex_unlock(pthread_mutex_t *m) {
  int mode =
      atomic_load_explicit(&pprofd__interpose_mode, memory_order_acquire);
  if (PPROFD__LIKELY((mode & (PPROFD__MODE_MUTEX | PPROFD__MODE_UNRESOLVED)) ==
                     0) ||
      ((mode & PPROFD__MODE_UNRESOLVED) == 0 && !maybe_waiters(m)))
    return pprofd__real_pthread_table.mutex_unlock(m);
  return mutex_unlock_slow(m);
}

/* ---- rwlocks ---- */

/* A read or write lock: try, then time the blocking call. */
#define RWLOCK_WRAP(tryfn, call)                                               \
  do {                                                                         \
    const pprofd__real_pthread_fns *r = pprofd__real_pthread();                \
    if (PPROFD__LIKELY(pprofd__contention_on() == 0) ||                        \
        pprofd__contention_guarded())                                          \
      return (call);                                                           \
    int e = r->tryfn(rw);                                                      \
    if (e != EBUSY)                                                            \
      return e;                                                                \
    return TIMED_WAIT(rw, 1, (call));                                          \
  } while (0)

PPROFD_INTERPOSE PPROFD__HOOK int pthread_rwlock_rdlock(pthread_rwlock_t *rw) {
  RWLOCK_WRAP(rwlock_tryrdlock, r->rwlock_rdlock(rw));
}

PPROFD_INTERPOSE PPROFD__HOOK int pthread_rwlock_wrlock(pthread_rwlock_t *rw) {
  RWLOCK_WRAP(rwlock_trywrlock, r->rwlock_wrlock(rw));
}

PPROFD_INTERPOSE PPROFD__HOOK int
pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *at) {
  RWLOCK_WRAP(rwlock_tryrdlock, r->rwlock_timedrdlock(rw, at));
}

PPROFD_INTERPOSE PPROFD__HOOK int
pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *at) {
  RWLOCK_WRAP(rwlock_trywrlock, r->rwlock_timedwrlock(rw, at));
}

PPROFD_INTERPOSE PPROFD__HOOK int
pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t c,
                           const struct timespec *at) {
  RWLOCK_WRAP(rwlock_tryrdlock,
              REAL_OR_ENOSYS(r->rwlock_clockrdlock, rw, c, at));
}

PPROFD_INTERPOSE PPROFD__HOOK int
pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t c,
                           const struct timespec *at) {
  RWLOCK_WRAP(rwlock_trywrlock,
              REAL_OR_ENOSYS(r->rwlock_clockwrlock, rw, c, at));
}

static PPROFD__HOOK int rwlock_unlock_slow(pthread_rwlock_t *rw) {
  const pprofd__real_pthread_fns *r = pprofd__real_pthread();
  if (pprofd__contention_on() & PPROFD__CONT_MUTEX)
    release(rw);
  return r->rwlock_unlock(rw);
}

/* glibc's rwlock has no cheap "waiters?" word, so with the mutex profile
 * on every rwlock unlock probes the waiter table (a few loads). */
PPROFD_INTERPOSE PPROFD__HOOK_FAST int
pthread_rwlock_unlock(pthread_rwlock_t *rw) {
  if (PPROFD__LIKELY(pprofd__interpose_fast()))
    return pprofd__real_pthread_table.rwlock_unlock(rw);
  return rwlock_unlock_slow(rw);
}

/* ---- condition variables ---- */

/* A condition wait (named `name` in the trace): charge m's waiters (the wait
 * releases m), then time the whole wait as one blocking event. */
#define COND_WRAP(name, call)                                                  \
  do {                                                                         \
    const pprofd__real_pthread_fns *r = pprofd__real_pthread();                \
    int mode_ = pprofd__contention_on();                                       \
    if (PPROFD__LIKELY(mode_ == 0) || pprofd__contention_guarded())            \
      return (call);                                                           \
    if ((mode_ & PPROFD__CONT_MUTEX) && maybe_waiters(m))                      \
      release(m);                                                              \
    return TIMED_WAIT_AS(c, 0, name, (call));                                  \
  } while (0)

/* The exported `name` of the waits that block for as long as they like:
 * saves the blocked context (capture/blockctx.h) around `inner args`, so
 * that a dump or the wall-clock profile reads the thread without a
 * signal (and, while it waits on, without walking it again). Timed
 * waits sleep in a futex wait with a timeout, which a signal would cut
 * short; glibc restarts condition waits itself after EINTR. */
#define SAVED_WAIT(name, params, inner, args)                                  \
  PPROFD_INTERPOSE PPROFD__HOOK int name params {                              \
    pprofd__blockctx b;                                                        \
    PPROFD__BLOCKCTX_ENTER(&b, #name);                                         \
    int e = inner args;                                                        \
    pprofd__blockctx_leave(&b);                                                \
    return e;                                                                  \
  }

static PPROFD__HOOK int cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  COND_WRAP("pthread_cond_wait", r->cond_wait(c, m));
}
SAVED_WAIT(pthread_cond_wait, (pthread_cond_t * c, pthread_mutex_t *m),
           cond_wait, (c, m))

static PPROFD__HOOK int cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                       const struct timespec *at) {
  COND_WRAP("pthread_cond_timedwait", r->cond_timedwait(c, m, at));
}
SAVED_WAIT(pthread_cond_timedwait,
           (pthread_cond_t * c, pthread_mutex_t *m, const struct timespec *at),
           cond_timedwait, (c, m, at))

static PPROFD__HOOK int cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
                                       clockid_t clk,
                                       const struct timespec *at) {
  COND_WRAP("pthread_cond_clockwait",
            REAL_OR_ENOSYS(r->cond_clockwait, c, m, clk, at));
}
SAVED_WAIT(pthread_cond_clockwait,
           (pthread_cond_t * c, pthread_mutex_t *m, clockid_t clk,
            const struct timespec *at),
           cond_clockwait, (c, m, clk, at))

/* ---- semaphores ---- */

/* A semaphore wait: try (keeping errno when it would block), then time
 * the blocking call. */
#define SEM_WRAP(name, call)                                                   \
  do {                                                                         \
    const pprofd__real_pthread_fns *r = pprofd__real_pthread();                \
    if (PPROFD__LIKELY(pprofd__contention_on() == 0) ||                        \
        pprofd__contention_guarded())                                          \
      return (call);                                                           \
    int saved = errno;                                                         \
    if (r->sem_trywait(s) == 0)                                                \
      return 0;                                                                \
    if (errno != EAGAIN)                                                       \
      return -1;                                                               \
    errno = saved;                                                             \
    return TIMED_WAIT_AS(s, 0, name, (call));                                  \
  } while (0)

static PPROFD__HOOK int sem_wait_inner(sem_t *s) {
  SEM_WRAP("sem_wait", r->sem_wait(s));
}
SAVED_WAIT(sem_wait, (sem_t * s), sem_wait_inner, (s))

static PPROFD__HOOK int sem_timedwait_once(sem_t *s,
                                           const struct timespec *at) {
  SEM_WRAP("sem_timedwait", r->sem_timedwait(s, at));
}

/* A timed semaphore wait fails with EINTR when a handler ran: saved for
 * dumps like the condition waits, and made again (the deadline is
 * absolute) when only pprofd's signal interrupted it. */
PPROFD_INTERPOSE PPROFD__HOOK int sem_timedwait(sem_t *s,
                                                const struct timespec *at) {
  pprofd__blockctx b;
  PPROFD__BLOCKCTX_ENTER(&b, "sem_timedwait");
  int e;
  while ((e = sem_timedwait_once(s, at)) != 0 && errno == EINTR &&
         pprofd__blockctx_interrupted_by_us(&b))
    pprofd__blockctx_rearm(&b);
  pprofd__blockctx_leave(&b);
  return e;
}

/* sem_clockwait reports failure through errno, like sem_wait. */
static int sem_clockwait_real(const pprofd__real_pthread_fns *r, sem_t *s,
                              clockid_t c, const struct timespec *at) {
  if (r->sem_clockwait == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return r->sem_clockwait(s, c, at);
}

static PPROFD__HOOK int sem_clockwait_once(sem_t *s, clockid_t c,
                                           const struct timespec *at) {
  SEM_WRAP("sem_clockwait", sem_clockwait_real(r, s, c, at));
}

PPROFD_INTERPOSE PPROFD__HOOK int sem_clockwait(sem_t *s, clockid_t c,
                                                const struct timespec *at) {
  pprofd__blockctx b;
  PPROFD__BLOCKCTX_ENTER(&b, "sem_clockwait");
  int e;
  while ((e = sem_clockwait_once(s, c, at)) != 0 && errno == EINTR &&
         pprofd__blockctx_interrupted_by_us(&b))
    pprofd__blockctx_rearm(&b);
  pprofd__blockctx_leave(&b);
  return e;
}

/* ---- joins, barriers, spin locks ---- */

static PPROFD__HOOK int join_inner(pthread_t t, void **ret) {
  const pprofd__real_pthread_fns *r = pprofd__real_pthread();
  if (PPROFD__LIKELY(pprofd__contention_on() == 0) ||
      pprofd__contention_guarded() || r->tryjoin == NULL)
    return r->join(t, ret);
  int e = r->tryjoin(t, ret);
  if (e != EBUSY)
    return e;
  return TIMED_WAIT_AS((const void *)t, 0, "pthread_join", r->join(t, ret));
}
SAVED_WAIT(pthread_join, (pthread_t t, void **ret), join_inner, (t, ret))

static PPROFD__HOOK int barrier_wait(pthread_barrier_t *b) {
  const pprofd__real_pthread_fns *r = pprofd__real_pthread();
  if (PPROFD__LIKELY(pprofd__contention_on() == 0) ||
      pprofd__contention_guarded())
    return r->barrier_wait(b);
  return TIMED_WAIT_AS(b, 0, "pthread_barrier_wait", r->barrier_wait(b));
}
SAVED_WAIT(pthread_barrier_wait, (pthread_barrier_t * bar), barrier_wait, (bar))

static PPROFD__HOOK int spin_lock_slow(pthread_spinlock_t *s) {
  const pprofd__real_pthread_fns *r = pprofd__real_pthread();
  if (!pprofd__contention_on() || pprofd__contention_guarded())
    return r->spin_lock(s);
  int e = r->spin_trylock(s);
  if (e != EBUSY)
    return e;
  waitctx w;
  wait_begin(&w, (const void *)s, 0, "pthread_spin_lock");
  e = r->spin_lock(s);
  wait_end(&w);
  return e;
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST int
pthread_spin_lock(pthread_spinlock_t *s) {
  if (PPROFD__LIKELY(pprofd__interpose_fast()))
    return pprofd__real_pthread_table.spin_lock(s);
  return spin_lock_slow(s);
}

/* Whether the pthread_mutex_lock the loader finds for the process lies
 * in the same object as this function (libpprofd, or the executable it
 * was linked into statically). */
int pprofd__pthread_interposed(void) {
  static atomic_int cached; /* 0 unknown, 1 yes, 2 no */
  /* Relaxed: the answer is the same whichever thread computes it. */
  int c = atomic_load_explicit(&cached, memory_order_relaxed);
  if (c == 0) {
    Dl_info found, self;
    void *f = dlsym(RTLD_DEFAULT, "pthread_mutex_lock");
    c = f != NULL && dladdr(f, &found) != 0 &&
                dladdr((void *)pprofd__pthread_interposed, &self) != 0 &&
                found.dli_fbase == self.dli_fbase
            ? 1
            : 2;
    atomic_store_explicit(&cached, c, memory_order_relaxed);
  }
  return c == 1;
}

#else /* !PPROFD_ENABLE_INTERPOSE */

int pprofd__pthread_interposed(void) { return -1; }

#endif
