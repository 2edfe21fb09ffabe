/*
 * cpu.c - the CPU profiler (see cpu.h): the SIGPROF handler, sessions and
 * their aggregation. Timers are sample/cputimer.c; the ring between the
 * handler and the collector is capture/ring.c.
 *
 * Write side (signal context). Every thread has a timer on its own
 * CPU-time clock that sends SIGPROF to that very thread with
 * PPROFD__CPUTIMER_TAG in si_value (or, in the fallback, the process-wide
 * ITIMER_PROF; see cputimer.c). The handler ignores every SIGPROF that is
 * not a timer signal carrying the tag, and every signal that arrives
 * while no session is open. A counted signal reserves a slot in the
 * bounded lock-free ring, unwinds the interrupted context straight into
 * the slot and publishes it. The weight of a sample is 1 + si_overrun:
 * the kernel checks CPU timers at its tick, so at rates above the tick one
 * signal stands for several periods (DESIGN pitfall 5).
 *
 * Fallback. When timer_create fails for want of a resource (EAGAIN when
 * RLIMIT_SIGPENDING is exhausted, ENOMEM), that thread would go unsampled
 * and the profile would silently miss its CPU time. Instead the whole
 * session set switches to itimer mode: one process-wide
 * setitimer(ITIMER_PROF) at the session rate, armed first, then every
 * per-thread timer deleted and no new one made until the last session
 * closes (which disarms the itimer). Keeping the per-thread timers that
 * did work and sampling only the other threads with the itimer is not
 * possible: ITIMER_PROF counts the CPU time of every thread, so those
 * threads would be counted twice. The handler counts exactly one kind of
 * signal at a time, chosen by the mode (pprofd__cputimer_itimer_sigsafe):
 * SI_TIMER with our tag in per-thread mode, SI_KERNEL (what the kernel's
 * ITIMER_PROF sends) in itimer mode, so a per-thread signal still queued
 * at the switch is dropped rather than counted twice. The itimer's signal
 * is process-directed and the kernel gives it to the running thread that
 * crossed the expiry, so attribution stays per thread; it carries no
 * overrun count, so its weight is 1, and at rates above the kernel's
 * tick (CONFIG_HZ) it under-reports CPU time, as gperftools' default mode
 * does. Its accuracy is the kernel's: on the 6.18 test machine a bare
 * ITIMER_PROF program (no pprofd) at 100 Hz got between 0.995 and 1.145
 * signals per 10 ms of getrusage CPU time. The index page says when this
 * mode is in force.
 *
 * When the ring is full the sample is dropped and counted (weight
 * included) so that the profile reports it as lost_profile_event, as Go
 * does. The ring is allocated on the first open and never freed, so a
 * late signal can never write freed memory.
 *
 * Read side (the collector thread, and open/close). Under cpu.lock the
 * collector drains the ring every DRAIN_NS into each open session whose
 * window contains the sample's CLOCK_MONOTONIC timestamp, and rescans
 * /proc/self/task every RESCAN_EVERY drains: new threads get a timer
 * (threads not created through the pthread_create wrapper, or created
 * before the first open), exited ones lose theirs, and a tid that was
 * reused (its /proc start time changed) gets a fresh one. Opening and
 * closing drain first, so every window is exact up to signal latency.
 * Each session aggregates (stack, label set, thread name) -> (signals,
 * periods) in its own stack table (capture/stacktab.c; the key is the
 * stack followed by the other three), so a session costs memory
 * proportional to the distinct stacks it saw, not to its duration.
 *
 * Stopping (the last close): every timer is deleted first, then the
 * handler is made inert (cpu.active = 0); the handler itself stays
 * installed for the life of the process. Restoring the previous
 * disposition would be unsafe: timer_delete does not withdraw a timer
 * signal that is already queued (the kernel keeps the queued entry and
 * delivers it), and SIGPROF's default action terminates the process. An
 * inert handler returns at once, so a late signal is harmless, and a
 * second start finds its own handler and reuses it.
 *
 * Locks: cpu.life (open/close/fork, held while joining the collector) ranks
 * above cpu.lock (the thread table, sessions, the ring's consumer side),
 * and both rank after rt.lock and rt.custom.lock. Neither is ever taken in
 * signal context. The file API's lock (core/cpufile.c) ranks above both.
 */
#include "config.h"

#include "sample/cpu.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/fileio.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "capture/blockctx.h"
#include "capture/ring.h"
#include "capture/stacktab.h"
#include "capture/unwind.h"
#include "pprofd.h"
#include "sample/cputimer.h"
#include "sample/labels.h"
#include "sample/trace.h"

#define STACK_MAX PPROFD__RING_STACK_MAX
#define DRAIN_NS 50000000ll
#define RESCAN_EVERY 5     /* drains: /proc/self/task every 250 ms */
#define NAMES_EVERY 4      /* rescans: thread names every second */
#define AGG_MAX (1u << 20) /* distinct (stack, labels, thread) per session */
#define AGG_LOC_MAX ((size_t)64 << 20) /* their frames, per session */
#define NAME_LEN PPROFD__CPUTIMER_NAME_LEN
/* An aggregation key is the stack followed by KEY_EXTRA words: the label
 * set's address, the truncation kind and the thread name (16 bytes). */
#define KEY_EXTRA 4

typedef pprofd__ring_slot slot;

struct pprofd__cpu_session {
  struct pprofd__cpu_session *next;
  int64_t start_mono, end_mono, start_wall;
  uint64_t lost0; /* cpu.ring.lost_weight at open */
  int64_t lost;   /* periods lost to ring or table overflow */
  /* (key) -> (signals, periods); its lock is a leaf taken under cpu.lock */
  pprofd__stacktab tab;
  int detached; /* the process forked: no longer fed */
};

static struct {
  pthread_mutex_t life;
  pthread_mutex_t lock;
  pthread_cond_t wake; /* CLOCK_MONOTONIC */
  /* Slots allocated under life, before active is first set; producers
   * are handlers on any thread, the consumer holds lock. */
  pprofd__ring ring;
  int handler_installed;
  _Atomic int active;
  _Atomic uint64_t signals;
  /* Under lock (the thread table and timers too: sample/cputimer.c). */
  int hz;
  struct pprofd__cpu_session *sessions;
  int nsessions;
  /* Under life (collector_stop also under lock). */
  pthread_t collector;
  int collector_running, collector_stop;
} cpu = {
    .life = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
};
PPROFD__LOCK_RANK(cpu_life, &cpu.life, PPROFD__RANK_CPU_LIFE);
PPROFD__LOCK_RANK(cpu, &cpu.lock, PPROFD__RANK_CPU);

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Guards the handler against itself on one thread. */
static __thread _Atomic int tls_in_handler
    __attribute__((tls_model("initial-exec")));

/* The synthetic frames. Their addresses symbolize to their names, the way
 * Go's lost samples point at runtime/pprof.lostProfileEvent; the distinct
 * asm bodies keep identical-code folding from merging them. */
__attribute__((noinline, noclone, used)) static void lost_profile_event(void) {
  __asm__ volatile("nop" ::: "memory");
}
__attribute__((noinline, noclone, used)) static void stack_truncated(void) {
  __asm__ volatile("nop\n\tnop" ::: "memory");
}
/* Under the leaf of a sample whose stack could not be walked (unwinder
 * busy, thread inside the dynamic loader, or never warmed): the profile
 * says so instead of passing a lone leaf off as a whole stack. */
__attribute__((noinline, noclone, used)) static void stack_not_unwound(void) {
  __asm__ volatile("nop\n\tnop\n\tnop" ::: "memory");
}

static pid_t gettid_sigsafe(void) { return (pid_t)syscall(SYS_gettid); }

/* Records one sample into the ring, or counts it as lost. */
static void record_sigsafe(const siginfo_t *si, void *uc) {
  uint32_t weight = 1; /* the itimer's SI_KERNEL signals have no overrun */
  if (si->si_code == SI_TIMER && si->si_overrun > 0)
    weight += (uint32_t)si->si_overrun;
  /* Relaxed: the count is statistics only. */
  atomic_fetch_add_explicit(&cpu.signals, 1, memory_order_relaxed);
  /* The slots were allocated before active was set, see
   * on_sigprof_sigsafe. */
  slot *s = pprofd__ring_reserve_sigsafe(&cpu.ring, weight);
  if (s == NULL)
    return; /* full: counted as lost */
  int truncated = 0;
  s->mono = pprofd__mono_nanos();
  s->tid = gettid_sigsafe();
  s->weight = weight;
  s->labels = pprofd__labels_current_sigsafe();
  /* Inside the loader the leaf alone: unwinding calls dl_iterate_phdr,
   * whose lock this thread may hold mid-update (pitfall 1). */
  int max = pprofd__thread_in_loader_sigsafe() ? 1 : STACK_MAX;
  s->nlocs = (uint16_t)pprofd__unwind_sigsafe(uc, s->locs, max, &truncated);
  if (max == 1)
    truncated = PPROFD__UNWIND_INCOMPLETE;
  s->truncated = (uint16_t)truncated;
  pprofd__ring_publish_sigsafe(s);
}

/* 1 when si is a signal of the timers the current mode counts. */
static int ours_sigsafe(const siginfo_t *si) {
  if (si == NULL)
    return 0;
  if (pprofd__cputimer_itimer_sigsafe())
    return si->si_code == SI_KERNEL;
  return si->si_code == SI_TIMER &&
         si->si_value.sival_ptr == PPROFD__CPUTIMER_TAG;
}

/* The SIGPROF handler: counts only our own timers' signals. */
static void on_sigprof_sigsafe(int sig, siginfo_t *si, void *uc) {
  int saved = errno;
  int ours = ours_sigsafe(si);
  if (ours) /* a blocking call it cut short is restarted */
    pprofd__blockctx_signalled_sigsafe();
  /* Acquire pairs with the release that sets active after the ring was
   * allocated. */
  if (ours && atomic_load_explicit(&cpu.active, memory_order_acquire)) {
    /* Relaxed: only this thread's handlers touch the flag; SIGPROF is
     * masked while it runs, so this only matters if someone raises it
     * with SA_NODEFER semantics. */
    if (!atomic_exchange_explicit(&tls_in_handler, 1, memory_order_relaxed)) {
      record_sigsafe(si, uc);
      atomic_store_explicit(&tls_in_handler, 0, memory_order_relaxed);
    }
  }
  errno = saved;
}

/* NULL when no foreign SIGPROF handler is installed, else the reason. */
static const char *foreign_handler(void) {
  struct sigaction old;
  if (sigaction(SIGPROF, NULL, &old) != 0)
    return "the SIGPROF disposition cannot be read";
  if (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)
    return NULL;
  if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_sigprof_sigsafe)
    return NULL;
  return "the application installed its own SIGPROF handler";
}

const char *pprofd__cpu_unavailable(void) { return foreign_handler(); }

/* One-time setup: the collector's condition variable and the real
 * functions (resolved before any handler could need them). */
static void init(void) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&cpu.wake, &ca);
  pthread_condattr_destroy(&ca);
  (void)pprofd__real_init();
  (void)pprofd__unwind_init();
  pprofd__cputimer_seed((uint64_t)pprofd__now_nanos() ^
                        ((uint64_t)getpid() << 32));
}

/* Hands one published slot to every session whose window holds it. */
static void deliver_locked(const slot *s) {
  uint64_t key[STACK_MAX + KEY_EXTRA];
  char name[NAME_LEN];
  pprofd__cputimer_name_locked(s->tid, name);
  size_t nl = strnlen(name, NAME_LEN);
  memset(name + nl, 0, NAME_LEN - nl); /* the key compares all 16 bytes */
  uint32_t n = s->nlocs;
  memcpy(key, s->locs, n * sizeof *key);
  key[n++] = (uint64_t)(uintptr_t)s->labels;
  key[n++] = s->truncated;
  memcpy(&key[n], name, NAME_LEN);
  n += NAME_LEN / sizeof *key;
  const int64_t v[PPROFD__STACKTAB_VALUES] = {1, s->weight};
  /* When a table cannot take a new key (its bounds, or memory), known
   * keys still count and the rest is counted as lost. */
  for (struct pprofd__cpu_session *ss = cpu.sessions; ss; ss = ss->next)
    if (s->mono >= ss->start_mono && s->mono <= ss->end_mono &&
        !pprofd__stacktab_add(&ss->tab, key, n, v))
      ss->lost += s->weight;
  /* A trace (sample/trace.c) keeps every sample with its time. */
  pprofd__trace_cpu_sample(s->tid, s->mono, s->weight, s->locs, s->nlocs);
}

/* Moves every published sample out of the ring. */
static void drain_locked(void) {
  const slot *s;
  while ((s = pprofd__ring_peek(&cpu.ring)) != NULL) {
    if (cpu.nsessions > 0)
      deliver_locked(s);
    pprofd__ring_pop(&cpu.ring);
  }
}

/* The collector: drains every DRAIN_NS, rescans every RESCAN_EVERY. */
static void *collector_main(void *unused) {
#ifdef HAVE_PTHREAD_SETNAME_NP
  pthread_setname_np(pthread_self(), "pprofd-cpu");
#endif
  pprofd__unwind_warm(1); /* it mallocs; SIGPROF may land there */
  unsigned ticks = 0;
  pprofd__mutex_lock(&cpu.lock);
  while (!cpu.collector_stop) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += DRAIN_NS;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pprofd__cond_timedwait(&cpu.wake, &cpu.lock, &ts);
    if (cpu.collector_stop)
      break;
    drain_locked();
    if (++ticks % RESCAN_EVERY == 0)
      pprofd__cputimer_rescan_locked(
          ticks % (RESCAN_EVERY * NAMES_EVERY) == 0,
          atomic_load_explicit(&cpu.active, memory_order_relaxed));
  }
  pprofd__mutex_unlock(&cpu.lock);
  return NULL;
}

/* Starts the collector with every signal but SIGPROF blocked, so that it
 * never takes a process-directed signal the host meant for its own
 * threads. Caller holds life. */
static int collector_start(void) {
  sigset_t all, old;
  sigfillset(&all);
  sigdelset(&all, SIGPROF);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pprofd__pthread_create_fn create = pprofd__real_pthread_create();
  int r = create ? create(&cpu.collector, NULL, collector_main, NULL) : ENOSYS;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != 0)
    return PPROFD_ENOMEM;
  cpu.collector_running = 1;
  return 0;
}

/* Installs the handler once; it then stays (see the file comment). */
static int install_handler(void) {
  if (cpu.handler_installed)
    return 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigprof_sigsafe;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGPROF, &sa, NULL) != 0)
    return PPROFD_EUNAVAILABLE;
  cpu.handler_installed = 1;
  return 0;
}

int pprofd__cpu_open(int hz, int max_sessions,
                     struct pprofd__cpu_session **out) {
  *out = NULL;
  if (hz < 1 || hz > PPROFD__CPU_HZ_MAX || max_sessions < 1)
    return PPROFD_EINVAL;
  pthread_once(&init_once, init);
  struct pprofd__cpu_session *ss = pprofd__icalloc(1, sizeof *ss);
  if (ss == NULL)
    return PPROFD_ENOMEM;
  pthread_mutex_init(&ss->tab.lock, NULL);
  pprofd__lock_rank(&ss->tab.lock, PPROFD__RANK_CPU_STACKS, "cpu session");
  ss->tab.max_stacks = AGG_MAX;
  ss->tab.max_loc_bytes = AGG_LOC_MAX;
  int err = 0;
  pprofd__mutex_lock(&cpu.life);
  if (foreign_handler() != NULL) {
    err = PPROFD_EUNAVAILABLE;
    goto fail_life;
  }
  /* Published to handlers by the release on active. */
  if ((err = pprofd__ring_alloc(&cpu.ring)) != 0)
    goto fail_life;
  pprofd__mutex_lock(&cpu.lock);
  if (cpu.nsessions >= max_sessions || (cpu.nsessions > 0 && cpu.hz != hz)) {
    err = PPROFD_EBUSY;
    goto fail_lock;
  }
  if (cpu.nsessions == 0) {
    if ((err = install_handler()) != 0)
      goto fail_lock;
    cpu.hz = hz;
    pprofd__cputimer_set_period_locked(1000000000ll / hz);
    drain_locked(); /* leftovers of an earlier run: discarded */
    /* Release: the ring (and everything above) is visible to a handler
     * that sees active. */
    atomic_store_explicit(&cpu.active, 1, memory_order_release);
    cpu.collector_stop = 0;
    pprofd__cputimer_rescan_locked(1, 1);
    if (!cpu.collector_running && (err = collector_start()) != 0) {
      pprofd__cputimer_stop_locked();
      atomic_store_explicit(&cpu.active, 0, memory_order_release);
      goto fail_lock;
    }
  } else {
    drain_locked(); /* earlier samples belong to earlier sessions */
  }
  ss->start_mono = pprofd__mono_nanos();
  ss->end_mono = INT64_MAX;
  ss->start_wall = pprofd__now_nanos();
  /* Relaxed: an approximate window for lost samples is enough. */
  ss->lost0 = atomic_load_explicit(&cpu.ring.lost_weight, memory_order_relaxed);
  ss->next = cpu.sessions;
  cpu.sessions = ss;
  cpu.nsessions++;
  pprofd__mutex_unlock(&cpu.lock);
  pprofd__mutex_unlock(&cpu.life);
  *out = ss;
  return 0;
fail_lock:
  pprofd__mutex_unlock(&cpu.lock);
fail_life:
  pprofd__mutex_unlock(&cpu.life);
  pprofd__ifree(ss);
  return err;
}

/* Fills out with the session's profile. */
static int build_snapshot(struct pprofd__cpu_session *ss, int64_t hz,
                          pprofd__snapshot *out) {
  static const pprofd__vtype types[] = {{"samples", "count"},
                                        {"cpu", "nanoseconds"}};
  int64_t period = 1000000000ll / (hz > 0 ? hz : PPROFD__CPU_HZ_DEFAULT);
  pprofd__snap_set_types(out, types, 2);
  out->period_type = (pprofd__vtype){"cpu", "nanoseconds"};
  out->period = period;
  out->default_type = -1;
  out->time_nanos = ss->start_wall;
  int64_t end = ss->end_mono == INT64_MAX ? ss->start_mono : ss->end_mono;
  out->duration_nanos = end - ss->start_mono;
  uint64_t locs[STACK_MAX + 1];
  pprofd__label lb[PPROFD__LABELS_MAX_PAIRS + 1];
  int64_t lost = ss->lost;
  size_t nrec;
  pprofd__stackrec *c = pprofd__stacktab_copy(&ss->tab, &nrec);
  if (c == NULL && nrec != 0)
    return PPROFD_ENOMEM;
  for (size_t i = 0; i < nrec; i++) {
    const pprofd__stackrec *a = &c[i];
    if (a->nlocs < KEY_EXTRA) { /* the table's overflow record */
      lost += a->v[1];
      continue;
    }
    size_t n = a->nlocs - KEY_EXTRA;
    const uint64_t *extra = a->locs + n;
    const pprofd__labelset *labels =
        (const pprofd__labelset *)(uintptr_t)extra[0];
    char name[NAME_LEN + 1];
    memcpy(name, &extra[2], NAME_LEN);
    name[NAME_LEN] = '\0';
    memcpy(locs, a->locs, n * sizeof *locs);
    if (extra[1] == PPROFD__UNWIND_INCOMPLETE)
      locs[n++] = (uint64_t)(uintptr_t)stack_not_unwound;
    else if (extra[1])
      locs[n++] = (uint64_t)(uintptr_t)stack_truncated;
    size_t nl = 0;
    lb[nl++] = (pprofd__label){"thread", name, 0};
    if (labels != NULL)
      for (size_t k = 0; k < labels->n; k++)
        lb[nl++] = (pprofd__label){labels->kv[2 * k], labels->kv[2 * k + 1], 0};
    int64_t v[2] = {a->v[1], a->v[1] * period};
    if (pprofd__snap_add(out, locs, n, v, lb, nl) == NULL) {
      pprofd__ifree(c);
      return PPROFD_ENOMEM;
    }
  }
  pprofd__ifree(c);
  if (lost > 0) {
    locs[0] = (uint64_t)(uintptr_t)lost_profile_event;
    lb[0] = (pprofd__label){"pprofd", "lost samples", 0};
    int64_t v[2] = {lost, lost * period};
    if (pprofd__snap_add(out, locs, 1, v, lb, 1) == NULL)
      return PPROFD_ENOMEM;
  }
  return 0;
}

static void session_free(struct pprofd__cpu_session *ss) {
  pprofd__lock_unrank(&ss->tab.lock);
  pprofd__stacktab_destroy(&ss->tab);
  pprofd__ifree(ss);
}

int pprofd__cpu_close(struct pprofd__cpu_session *ss, pprofd__snapshot *out) {
  pprofd__snap_init(out);
  if (ss == NULL)
    return PPROFD_EINVAL;
  int last = 0, hz = 0;
  pprofd__mutex_lock(&cpu.life);
  pprofd__mutex_lock(&cpu.lock);
  hz = cpu.hz;
  if (!ss->detached) {
    ss->end_mono = pprofd__mono_nanos();
    drain_locked();
    struct pprofd__cpu_session **pp = &cpu.sessions;
    while (*pp != ss)
      pp = &(*pp)->next;
    *pp = ss->next;
    cpu.nsessions--;
    /* Relaxed: see lost0. */
    uint64_t lw =
        atomic_load_explicit(&cpu.ring.lost_weight, memory_order_relaxed);
    ss->lost += (int64_t)(lw - ss->lost0);
    if (cpu.nsessions == 0) {
      last = 1;
      /* Timers first, so no new signal is generated; then the handler
       * goes inert; then whatever was in flight is discarded. */
      pprofd__cputimer_stop_locked();
      /* Release: pairs with the handler's acquire (nothing to publish,
       * but keeps the order with the timer deletions readable). */
      atomic_store_explicit(&cpu.active, 0, memory_order_release);
      drain_locked();
      cpu.hz = 0;
      cpu.collector_stop = 1;
      pthread_cond_signal(&cpu.wake);
    }
  }
  pprofd__mutex_unlock(&cpu.lock);
  if (last && cpu.collector_running) {
    pprofd__join(cpu.collector, NULL);
    cpu.collector_running = 0;
  }
  pprofd__mutex_unlock(&cpu.life);
  int err = build_snapshot(ss, hz, out);
  session_free(ss);
  return err;
}

int pprofd__cpu_hz(void) {
  pprofd__mutex_lock(&cpu.lock);
  int hz = cpu.nsessions > 0 ? cpu.hz : 0;
  pprofd__mutex_unlock(&cpu.lock);
  return hz;
}

void pprofd__cpu_thread_start(void) {
  /* Relaxed: a stale 0 only means the next rescan arms the thread. */
  if (!atomic_load_explicit(&cpu.active, memory_order_relaxed))
    return;
  pid_t tid = gettid_sigsafe();
  pprofd__mutex_lock(&cpu.lock);
  if (atomic_load_explicit(&cpu.active, memory_order_relaxed)) {
    pprofd__cputimer_thread_start_locked(tid);
  }
  pprofd__mutex_unlock(&cpu.lock);
}

void pprofd__cpu_thread_exit(void) {
  /* Relaxed: when off, no timer of ours can exist for long (the last
   * close deleted them; a rescan drops any that raced). */
  if (!atomic_load_explicit(&cpu.active, memory_order_relaxed))
    return;
  pid_t tid = gettid_sigsafe();
  pprofd__mutex_lock(&cpu.lock);
  if (pprofd__cputimer_known_locked(tid)) {
    /* Attribute this thread's queued samples while its name is known. */
    drain_locked();
    pprofd__cputimer_forget_locked(tid);
  }
  pprofd__mutex_unlock(&cpu.lock);
}

void pprofd__cpu_get_stats(pprofd__cpu_stats *out) {
  memset(out, 0, sizeof *out);
  /* Relaxed: statistics. */
  out->signals = atomic_load_explicit(&cpu.signals, memory_order_relaxed);
  out->lost = atomic_load_explicit(&cpu.ring.lost_count, memory_order_relaxed);
  pprofd__mutex_lock(&cpu.lock);
  pprofd__cputimer_stats_locked(&out->timers, &out->timer_failures,
                                &out->itimer_fallback);
  pprofd__mutex_unlock(&cpu.lock);
  struct sigaction old;
  out->handler_installed = sigaction(SIGPROF, NULL, &old) == 0 &&
                           (old.sa_flags & SA_SIGINFO) &&
                           old.sa_sigaction == on_sigprof_sigsafe;
}

void pprofd__cpu_prefork(void) {
  pprofd__mutex_lock(&cpu.life);
  pprofd__mutex_lock(&cpu.lock);
}

void pprofd__cpu_postfork_parent(void) {
  pprofd__mutex_unlock(&cpu.lock);
  pprofd__mutex_unlock(&cpu.life);
}

void pprofd__cpu_postfork_child(void) {
  /* Timers are not inherited and the collector thread is gone. */
  for (struct pprofd__cpu_session *ss = cpu.sessions; ss; ss = ss->next) {
    ss->detached = 1;
    ss->end_mono = pprofd__mono_nanos();
  }
  cpu.sessions = NULL;
  cpu.nsessions = 0;
  cpu.hz = 0;
  cpu.collector_running = 0;
  cpu.collector_stop = 0;
  /* Relaxed: the child has one thread. */
  atomic_store_explicit(&cpu.active, 0, memory_order_relaxed);
  pprofd__cputimer_postfork_child();
  /* The forking thread took both in the prepare hook. */
  pprofd__mutex_unlock(&cpu.lock);
  pprofd__mutex_unlock(&cpu.life);
}

int pprofd_set_labels(const char *const *kv, size_t npairs) {
  return pprofd__labels_set(kv, npairs);
}
