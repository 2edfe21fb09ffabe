/*
 * unwind.c - stack capture with libunwind (see unwind.h).
 *
 * libunwind is dlopen'ed with RTLD_LOCAL rather than linked. Debian's
 * libunwind.so.8 exports _Unwind_RaiseException and friends, and a weak
 * backtrace(); linked into a host, whichever of libgcc_s and libunwind
 * the loader finds first in the global scope becomes the C++ exception
 * unwinder of the whole process (a C program that later dlopens a C++
 * plugin would get libunwind's). RTLD_LOCAL keeps every libunwind symbol
 * out of the global scope, so only pprofd calls into it.
 *
 * unw_backtrace returns instruction pointers: the first is inside
 * pprofd__unwind_here itself, the rest are return addresses, which become
 * location addresses by subtracting one.
 *
 * In a signal handler, unw_backtrace walks from the handler through the
 * kernel's signal frame (libunwind recognizes the sigreturn trampoline)
 * into the interrupted code: the entry equal to the interrupted PC read
 * from the ucontext marks where the interrupted stack begins, and the
 * handler's own frames before it are dropped. libunwind is not reentrant
 * on one thread, so pprofd__unwind_here raises a thread-local flag while
 * it runs and the signal variant records the leaf alone when it sees it.
 */
#include "config.h"

#include "capture/unwind.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>
#include <ucontext.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define STR2(x) #x
#define STR(x) STR2(x) /* the arch-specific name behind a libunwind macro */

#define MAX_RAW 256

int (*PPROFD__SEAM pprofd__backtrace_fn)(void **, int) = NULL;

typedef int (*backtrace_fn)(void **, int);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static backtrace_fn unw_bt;    /* written once under load_once */
static const char *load_error; /* why unw_bt is NULL */
/* unw_bt again, for signal handlers on threads that never went through
 * load_once: published with release after load() found it. */
static _Atomic(backtrace_fn) unw_bt_sig;

/* Nonzero while this thread is inside pprofd__unwind_here. Only this
 * thread and its signal handlers touch it: relaxed accesses with signal
 * fences order it against the handler. */
static __thread _Atomic int tls_in_unwind
    __attribute__((tls_model("initial-exec")));

/* Nonzero once this thread ran libunwind outside a signal handler.
 * libunwind is dlopen'ed, so its thread-local trace cache is dynamic
 * TLS: the first access on a thread goes through __tls_get_addr, which
 * calls malloc. A handler doing that first access, having interrupted
 * malloc itself (holding an arena lock), deadlocks the thread and every
 * lock it holds (observed: the CPU collector, under cpu.lock). So a
 * handler unwinds only on a thread marked warm here, and records the
 * leaf alone elsewhere; threads are warmed outside signal context
 * (pprofd__unwind_warm: every thread the pthread_create wrapper starts,
 * pprofd's own threads, and any thread that captured a stack). */
static __thread int tls_unw_warm __attribute__((tls_model("initial-exec")));

/* One libunwind walk at a time, process-wide. libunwind holds internal
 * mutexes across dl_iterate_phdr; a handler that waits for one of them
 * on a thread that holds the loader lock (inside a dl_iterate_phdr
 * callback, or glibc-internal loader work no wrapper sees), while the
 * mutex's holder waits for that loader lock, is a deadlock. Handlers only
 * try this flag and record the leaf alone when it is taken, so a handler
 * never waits. pprofd__unwind_here waits for it a bounded while and then
 * gives up and captures nothing, rather than unwind without it: its
 * holder may itself be waiting for a loader lock this thread holds (an
 * allocation sampled inside dlopen), and unwinding without the flag would
 * let a handler enter libunwind beside it, which is the deadlock above.
 *
 * fork() takes the flag too (pprofd__unwind_prefork), so no thread is
 * inside libunwind, holding one of its mutexes, when the child is made:
 * the child would inherit that mutex locked and never unwind again. */
static atomic_flag unwinder_busy = ATOMIC_FLAG_INIT;
/* How long pprofd__unwind_here waits for the flag, in yields. */
#define WAIT_SPINS 200
/* How long fork() waits for it, in yields (about a second when busy). */
#define FORK_SPINS 100000
/* Whether pprofd__unwind_prefork got the flag. */
static int fork_owned;

void pprofd__unwind_prefork(void) {
  fork_owned = 0;
  for (int spins = 0; spins < FORK_SPINS && !fork_owned; spins++) {
    fork_owned = !atomic_flag_test_and_set_explicit(&unwinder_busy,
                                                    memory_order_acquire);
    if (!fork_owned)
      sched_yield();
  }
}

void pprofd__unwind_postfork_parent(void) {
  if (fork_owned)
    atomic_flag_clear_explicit(&unwinder_busy, memory_order_release);
}

void pprofd__unwind_postfork_child(void) {
  /* Only this thread exists here: whoever held the flag is gone. */
  atomic_flag_clear_explicit(&unwinder_busy, memory_order_release);
}

/* Loads libunwind privately and finds unw_backtrace. */
static void load(void) {
  void *h = dlopen(PPROFD_UNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    load_error = "libunwind (" PPROFD_UNWIND_SONAME ") cannot be loaded";
    return;
  }
  unw_bt = (backtrace_fn)dlsym(h, "unw_backtrace");
  if (unw_bt == NULL)
    load_error = "libunwind has no unw_backtrace";
  /* libunwind's default global cache sits behind a mutex that is held
   * across dl_iterate_phdr: a thread unwinding in a handler while holding
   * it, and another whose handler fires inside a dl_iterate_phdr callback
   * (loader lock held), deadlock. Per-thread caches take no lock. */
  int (*set_policy)(unw_addr_space_t, unw_caching_policy_t) =
      (int (*)(unw_addr_space_t, unw_caching_policy_t))dlsym(
          h, STR(unw_set_caching_policy));
  unw_addr_space_t *local =
      (unw_addr_space_t *)dlsym(h, STR(unw_local_addr_space));
  if (set_policy != NULL && local != NULL)
    (void)set_policy(*local, UNW_CACHE_PER_THREAD);
  /* Release: a handler that sees the pointer sees libunwind loaded. */
  atomic_store_explicit(&unw_bt_sig, unw_bt, memory_order_release);
}

const char *pprofd__unwind_init(void) {
  pthread_once(&load_once, load);
  pprofd__unwind_warm(0);
  return load_error;
}

void pprofd__unwind_warm(int load_it) {
  if (tls_unw_warm)
    return;
  if (load_it)
    pthread_once(&load_once, load);
  /* Acquire pairs with the release in load(). */
  if (atomic_load_explicit(&unw_bt_sig, memory_order_acquire) == NULL)
    return;
  /* unwind_here gives up when other threads keep the unwinder busy (a
   * first walk takes milliseconds, and threads often start together);
   * this thread holds nothing yet, so it tries again for up to a
   * second. */
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do {
    uint64_t locs[4];
    (void)pprofd__unwind_here(locs, 4, 0);
    clock_gettime(CLOCK_MONOTONIC, &t);
  } while (!tls_unw_warm &&
           (t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) <
               1000000000L);
}

__attribute__((noinline)) int pprofd__unwind_here(uint64_t *locs, int max,
                                                  int skip) {
  void *raw[MAX_RAW];
  if (max <= 0 || skip < 0)
    return 0;
  backtrace_fn bt = pprofd__backtrace_fn;
  if (bt == NULL) {
    pthread_once(&load_once, load);
    if ((bt = unw_bt) == NULL)
      return 0;
  }
  /* Called directly (not through a wrapper of ours) so that raw[0] is
   * always in this function; a wrapper frame would shift every index. */
  /* tls_in_unwind is up only while this thread may be inside libunwind
   * (holding the flag): a handler that interrupts it then records its
   * leaf alone. While it merely waits for the flag it is down, so a
   * handler (a CPU sample, say) can still walk this thread's stack. */
  int owned = 0;
  for (int spins = 0; spins < WAIT_SPINS && !owned; spins++) {
    atomic_store_explicit(&tls_in_unwind, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst); /* up before the try */
    /* Acquire/release: libunwind's state written by the previous holder
     * is visible to the next. */
    owned = !atomic_flag_test_and_set_explicit(&unwinder_busy,
                                               memory_order_acquire);
    if (!owned) {
      atomic_signal_fence(memory_order_seq_cst);
      atomic_store_explicit(&tls_in_unwind, 0, memory_order_relaxed);
      sched_yield();
    }
  }
  int n = 0;
  if (owned) {
    n = bt(raw, MAX_RAW);
    atomic_flag_clear_explicit(&unwinder_busy, memory_order_release);
    tls_unw_warm = 1; /* libunwind's TLS exists on this thread now */
  }
  atomic_signal_fence(memory_order_seq_cst); /* and down after it */
  atomic_store_explicit(&tls_in_unwind, 0, memory_order_relaxed);
  __asm__ volatile("" ::: "memory"); /* not a tail call */
  /* raw[0] is inside this function, raw[1] inside the function that called
   * it, raw[2] inside that function's caller, where the stack starts. */
  int first = 2 + skip;
  int out = 0;
  for (int i = first; i < n && out < max; i++) {
    uint64_t pc = (uint64_t)(uintptr_t)raw[i];
    if (pc == 0)
      break;
    locs[out++] = pc - 1;
  }
  return out;
}

/* The interrupted program counter in a ucontext, 0 if unknown here. */
static uint64_t context_pc_sigsafe(const void *ucontext) {
  const ucontext_t *uc = ucontext;
#if defined(__x86_64__)
  return (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__)
  return (uint64_t)uc->uc_mcontext.gregs[REG_EIP];
#elif defined(__aarch64__)
  return (uint64_t)uc->uc_mcontext.pc;
#else
  (void)uc;
  return 0;
#endif
}

#define SIG_SLACK 16 /* handler frames before the interrupted one */

/* noinline: the handler frames counted by SIG_SLACK include this one. */
__attribute__((noinline)) int pprofd__unwind_sigsafe(const void *ucontext,
                                                     uint64_t *locs, int max,
                                                     int *truncated);
int pprofd__unwind_sigsafe(const void *ucontext, uint64_t *locs, int max,
                           int *truncated) {
  void *raw[MAX_RAW];
  *truncated = 0;
  if (ucontext == NULL || max <= 0)
    return 0;
  uint64_t pc = context_pc_sigsafe(ucontext);
  if (pc == 0)
    return 0;
  locs[0] = pc;
  backtrace_fn bt = pprofd__backtrace_fn;
  if (bt == NULL)
    /* Acquire pairs with the release in load(). */
    bt = atomic_load_explicit(&unw_bt_sig, memory_order_acquire);
  /* A test's backtrace seam uses no libunwind TLS; libunwind needs a
   * warm thread (see tls_unw_warm). */
  if (max == 1)
    return 1; /* the caller asked for the leaf alone */
  if (bt == NULL ||
      atomic_load_explicit(&tls_in_unwind, memory_order_relaxed) ||
      (!tls_unw_warm && pprofd__backtrace_fn == NULL)) {
    *truncated = PPROFD__UNWIND_INCOMPLETE;
    return 1;
  }
  int want = max + SIG_SLACK + 1;
  if (want > MAX_RAW)
    want = MAX_RAW;
  /* Acquire/release: see unwinder_busy. One try, never a wait. */
  if (atomic_flag_test_and_set_explicit(&unwinder_busy, memory_order_acquire)) {
    *truncated = PPROFD__UNWIND_INCOMPLETE;
    return 1;
  }
  int n = bt(raw, want);
  atomic_flag_clear_explicit(&unwinder_busy, memory_order_release);
  __asm__ volatile("" ::: "memory"); /* not a tail call */
  int i = 0;
  while (i < n && i <= SIG_SLACK && (uint64_t)(uintptr_t)raw[i] != pc)
    i++;
  if (i >= n || i > SIG_SLACK)
    return 1; /* the signal frame was not crossed: the leaf alone */
  int out = 1, more = 0;
  for (i++; i < n; i++) {
    uint64_t ra = (uint64_t)(uintptr_t)raw[i];
    if (ra == 0)
      break;
    if (out == max) {
      more = 1;
      break;
    }
    locs[out++] = ra - 1;
  }
  /* A full raw buffer may have cut the walk short, too. */
  if (more || (n == want && i >= n))
    *truncated = 1;
  return out;
}
