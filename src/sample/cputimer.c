/*
 * cputimer.c - the CPU sampler's timers (see cputimer.h).
 *
 * Per-thread mode: every known thread has a POSIX timer on its own
 * CPU-time clock (clock id ((~tid) << 3) | 6, i.e. CPUCLOCK_SCHED of that
 * thread) that sends SIGPROF to that very thread (SIGEV_THREAD_ID) with
 * PPROFD__CPUTIMER_TAG in si_value, first after a random fraction of a
 * period so that threads started together do not fire in step.
 *
 * Itimer mode: when timer_create fails for want of a resource (EAGAIN
 * when RLIMIT_SIGPENDING is exhausted, ENOMEM), one process-wide
 * setitimer(ITIMER_PROF) is armed first, then every per-thread timer is
 * deleted and no new one made until the sampler stops (which disarms the
 * itimer). The handler reads the mode to know which signal counts.
 *
 * The thread table is sorted by tid and lives under the CPU sampler's
 * lock (held by every caller); rescans read /proc/self/task, each
 * thread's start time (to notice a reused tid) and its name.
 */
#include "config.h"

#include "sample/cputimer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/ialloc.h"

#define NAME_LEN PPROFD__CPUTIMER_NAME_LEN

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* A known thread: its timer, its /proc identity and its name. */
typedef struct thr {
  pid_t tid;
  int armed;
  timer_t timer;
  int64_t start; /* /proc starttime, -1 until read */
  unsigned seen; /* the rescan generation that last saw it */
  char name[NAME_LEN];
} thr;

/* Everything under the CPU sampler's lock, but the mode flag. */
static struct {
  /* 1 in itimer mode; written under the lock, read by handlers. */
  _Atomic int itimer;
  int64_t period;
  thr *thr;
  size_t nthr, capthr;
  unsigned gen;
  unsigned timers, timer_failures;
  uint64_t rng;
} tm;

pprofd__timer_create_fn PPROFD__SEAM pprofd__cpu_timer_create = timer_create;

void pprofd__cputimer_seed(uint64_t seed) { tm.rng = seed; }

void pprofd__cputimer_set_period_locked(int64_t period) { tm.period = period; }

/* xorshift64*, under lock. */
static uint64_t rng_next_locked(void) {
  uint64_t x = tm.rng ? tm.rng : 0x9e3779b97f4a7c15ull;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  tm.rng = x;
  return x * 0x2545f4914f6cdd1dull;
}

/* The thread's start time from /proc (field 22 of stat), or -1. */
static int64_t task_starttime(pid_t tid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  if (pprofd__read_small(path, buf, sizeof buf) <= 0)
    return -1;
  char *p = strrchr(buf, ')');
  if (p == NULL)
    return -1;
  /* After ") " come fields 3 (state) onwards; starttime is the 20th. */
  for (int field = 3; field < 22; field++) {
    p = strchr(p + 1, ' ');
    if (p == NULL)
      return -1;
  }
  return strtoll(p + 1, NULL, 10);
}

/* The thread's name from /proc into name; empty when unknown. */
static void task_name(pid_t tid, char name[NAME_LEN]) {
  char path[64], buf[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
  name[0] = '\0';
  ssize_t n = pprofd__read_small(path, buf, sizeof buf);
  if (n <= 0)
    return;
  if (buf[n - 1] == '\n')
    buf[--n] = '\0';
  if (n >= NAME_LEN)
    n = NAME_LEN - 1;
  memcpy(name, buf, (size_t)n);
  name[n] = '\0';
}

/* Index of tid in the sorted thread table, or where it would go. */
static size_t thr_index_locked(pid_t tid) {
  size_t lo = 0, hi = tm.nthr;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (tm.thr[mid].tid < tid)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static thr *thr_find_locked(pid_t tid) {
  size_t i = thr_index_locked(tid);
  return i < tm.nthr && tm.thr[i].tid == tid ? &tm.thr[i] : NULL;
}

/* The entry of tid, added (unarmed, unnamed) if new; NULL on ENOMEM. */
static thr *thr_get_locked(pid_t tid) {
  size_t i = thr_index_locked(tid);
  if (i < tm.nthr && tm.thr[i].tid == tid)
    return &tm.thr[i];
  if (tm.nthr == tm.capthr) {
    size_t ncap = tm.capthr ? 2 * tm.capthr : 64;
    thr *nt = pprofd__irealloc(tm.thr, ncap * sizeof *nt);
    if (nt == NULL)
      return NULL;
    tm.thr = nt;
    tm.capthr = ncap;
  }
  memmove(&tm.thr[i + 1], &tm.thr[i], (tm.nthr - i) * sizeof *tm.thr);
  tm.nthr++;
  thr *t = &tm.thr[i];
  memset(t, 0, sizeof *t);
  t->tid = tid;
  t->start = -1;
  t->seen = tm.gen;
  return t;
}

/* The first expiry of a timer: a random fraction of a period, so that
 * threads started together do not fire in step. */
static void first_expiry_locked(struct itimerspec *its) {
  int64_t first = 1 + (int64_t)(rng_next_locked() % (uint64_t)tm.period);
  its->it_interval.tv_sec = tm.period / 1000000000;
  its->it_interval.tv_nsec = tm.period % 1000000000;
  its->it_value.tv_sec = first / 1000000000;
  its->it_value.tv_nsec = first % 1000000000;
}

static void thr_disarm_locked(thr *t) {
  if (t->armed) {
    timer_delete(t->timer);
    t->armed = 0;
    tm.timers--;
  }
}

/* Switches to itimer mode (see the file comment): arms the process-wide
 * ITIMER_PROF at the session rate, then deletes every per-thread timer.
 * When setitimer itself fails, per-thread mode stays, with the threads
 * that have a timer. */
static void itimer_start_locked(void) {
  if (atomic_load_explicit(&tm.itimer, memory_order_relaxed))
    return;
  /* Microseconds, rounded up so that neither value is 0 (disarm). */
  int64_t period_us = (tm.period + 999) / 1000;
  int64_t first_us = 1 + (int64_t)(rng_next_locked() % (uint64_t)period_us);
  struct itimerval itv;
  itv.it_interval.tv_sec = (time_t)(period_us / 1000000);
  itv.it_interval.tv_usec = (suseconds_t)(period_us % 1000000);
  itv.it_value.tv_sec = (time_t)(first_us / 1000000);
  itv.it_value.tv_usec = (suseconds_t)(first_us % 1000000);
  /* Relaxed: see ours_sigsafe. The flag goes first so that the first
   * itimer signal already counts. */
  atomic_store_explicit(&tm.itimer, 1, memory_order_relaxed);
  if (setitimer(ITIMER_PROF, &itv, NULL) != 0) {
    atomic_store_explicit(&tm.itimer, 0, memory_order_relaxed);
    return;
  }
  for (size_t i = 0; i < tm.nthr; i++)
    thr_disarm_locked(&tm.thr[i]);
}

/* Leaves itimer mode: disarms ITIMER_PROF. */
static void itimer_stop_locked(void) {
  if (!atomic_load_explicit(&tm.itimer, memory_order_relaxed))
    return;
  struct itimerval zero;
  memset(&zero, 0, sizeof zero);
  (void)setitimer(ITIMER_PROF, &zero, NULL);
  /* Relaxed: the caller makes the handler inert (active = 0) next. */
  atomic_store_explicit(&tm.itimer, 0, memory_order_relaxed);
}

/* Creates and starts t's timer: SIGPROF to t every period of its CPU
 * time, the first after a random fraction of a period. A failure for
 * want of a resource switches to itimer mode; in that mode it does
 * nothing. */
static void thr_arm_locked(thr *t) {
  if (atomic_load_explicit(&tm.itimer, memory_order_relaxed))
    return;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGPROF;
  sev.sigev_value.sival_ptr = PPROFD__CPUTIMER_TAG;
  sev.sigev_notify_thread_id = t->tid;
  /* The kernel's per-thread CPUCLOCK_SCHED id: what
   * pthread_getcpuclockid returns, computable for any of our tids. */
  clockid_t clk = (clockid_t)((~(uint32_t)t->tid << 3) | 6u);
  if (pprofd__cpu_timer_create(clk, &sev, &t->timer) != 0) {
    if (errno != EINVAL && errno != ESRCH) { /* not: the thread is gone */
      tm.timer_failures++;
      itimer_start_locked();
    }
    return;
  }
  struct itimerspec its;
  first_expiry_locked(&its);
  if (timer_settime(t->timer, 0, &its, NULL) != 0) {
    timer_delete(t->timer);
    tm.timer_failures++;
    itimer_start_locked();
    return;
  }
  t->armed = 1;
  tm.timers++;
}

void pprofd__cputimer_rescan_locked(int names, int arm) {
  char buf[4096];
  int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  unsigned gen = ++tm.gen;
  int complete = 1;
  for (;;) {
    ssize_t n = getdents64(fd, buf, sizeof buf);
    if (n < 0) {
      complete = 0;
      break;
    }
    if (n == 0)
      break;
    for (ssize_t off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
      off += d->d_reclen;
      char *end;
      long tid = strtol(d->d_name, &end, 10);
      if (*end != '\0' || tid <= 0)
        continue;
      thr *t = thr_get_locked((pid_t)tid);
      if (t == NULL) {
        complete = 0;
        continue;
      }
      t->seen = gen;
      int64_t st = task_starttime(t->tid);
      if (st < 0)
        continue; /* exited meanwhile; dropped at the next rescan */
      if (t->start >= 0 && t->start != st) {
        thr_disarm_locked(t); /* a new thread with an old tid */
        t->name[0] = '\0';
      }
      t->start = st;
      if (names || t->name[0] == '\0')
        task_name(t->tid, t->name);
      if (!t->armed && arm)
        thr_arm_locked(t);
    }
  }
  close(fd);
  if (!complete)
    return; /* keep entries we could not confirm */
  size_t w = 0;
  for (size_t i = 0; i < tm.nthr; i++) {
    if (tm.thr[i].seen != gen) {
      thr_disarm_locked(&tm.thr[i]);
      continue;
    }
    tm.thr[w++] = tm.thr[i];
  }
  tm.nthr = w;
}

/* Deletes every timer and forgets every thread. */
static void disarm_all_locked(void) {
  for (size_t i = 0; i < tm.nthr; i++)
    thr_disarm_locked(&tm.thr[i]);
  tm.nthr = 0;
}

void pprofd__cputimer_stop_locked(void) {
  disarm_all_locked();
  itimer_stop_locked();
}

void pprofd__cputimer_thread_start_locked(pid_t tid) {
  thr *t = thr_get_locked(tid);
  if (t != NULL) {
    thr_disarm_locked(t); /* a stale timer of an exited namesake */
    t->start = -1;
    t->name[0] = '\0';
    thr_arm_locked(t);
  }
}

int pprofd__cputimer_known_locked(pid_t tid) {
  return thr_find_locked(tid) != NULL;
}

void pprofd__cputimer_forget_locked(pid_t tid) {
  thr *t = thr_find_locked(tid);
  if (t != NULL) {
    thr_disarm_locked(t);
    size_t i = (size_t)(t - tm.thr);
    memmove(t, t + 1, (tm.nthr - i - 1) * sizeof *t);
    tm.nthr--;
  }
}

void pprofd__cputimer_name_locked(pid_t tid, char name[NAME_LEN]) {
  thr *t = thr_get_locked(tid);
  if (t != NULL && t->name[0] == '\0')
    task_name(tid, t->name);
  if (t != NULL && t->name[0] != '\0')
    memcpy(name, t->name, NAME_LEN);
  else
    snprintf(name, NAME_LEN, "%d", (int)tid);
}

void pprofd__cputimer_stats_locked(unsigned *timers, unsigned *failures,
                                   int *itimer) {
  *timers = tm.timers;
  *failures = tm.timer_failures;
  /* Relaxed: written under the lock the caller holds. */
  *itimer = atomic_load_explicit(&tm.itimer, memory_order_relaxed);
}

int pprofd__cputimer_itimer_sigsafe(void) {
  /* Relaxed: a stale mode at the instant of a switch decides the fate of
   * at most one signal per thread; it can never make both kinds count
   * for long, because the switch deletes the per-thread timers. */
  return atomic_load_explicit(&tm.itimer, memory_order_relaxed);
}

void pprofd__cputimer_postfork_child(void) {
  tm.nthr = 0;
  tm.timers = 0;
  /* Relaxed: the child has one thread. Its ITIMER_PROF is disarmed by
   * fork (timers are not inherited). */
  atomic_store_explicit(&tm.itimer, 0, memory_order_relaxed);
}
