/*
 * cpu.h - the CPU profiler: per-thread CPU-time timers, SIGPROF, sessions.
 *
 * While at least one session is open, every thread of the process has a
 * timer on its own CPU-time clock (timer_create, SIGEV_THREAD_ID) that
 * fires SIGPROF every 1/hz seconds of that thread's CPU time, with a
 * random first expiry. Threads that existed before are found in
 * /proc/self/task; threads created later get theirs from the
 * pthread_create wrapper (interpose/thread.c). The SIGPROF handler
 * (async-signal-safe: no locks, no allocation, errno preserved) unwinds
 * the interrupted context and pushes (stack, weight = 1 + si_overrun,
 * thread id, label set) into a bounded lock-free ring that drops and
 * counts on overflow. A collector drains the ring into every open
 * session, so overlapping requests (a scraper and a person) each get the
 * samples of their own window.
 *
 * Fallback: when a thread's timer cannot be created for lack of a
 * resource (EAGAIN from RLIMIT_SIGPENDING, ENOMEM, ...), the whole
 * session set switches to one process-wide setitimer(ITIMER_PROF) at the
 * same rate and every per-thread timer is deleted, so no CPU time is
 * counted twice. The itimer's signals (si_code SI_KERNEL, no overrun
 * count: weight 1) go to whichever thread is running when it expires.
 * The mode lasts until the last session closes (which disarms the
 * itimer); the next first open tries per-thread timers again.
 *
 * Threads: sessions are opened and closed from any thread outside signal
 * context; the handler runs on any thread.
 */
#ifndef PPROFD_SAMPLE_CPU_H
#define PPROFD_SAMPLE_CPU_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "base/common.h"
#include "model/snapshot.h"
#include "sample/cputimer.h"

#define PPROFD__CPU_HZ_DEFAULT 100
#define PPROFD__CPU_HZ_MAX 1000

typedef struct pprofd__cpu_session pprofd__cpu_session;

/* NULL when CPU profiling can work in this process, else why not (e.g.
 * the application installed its own SIGPROF handler), one sentence. */
const char *pprofd__cpu_unavailable(void);

/* Opens a session sampling at hz (1..PPROFD__CPU_HZ_MAX; all open
 * sessions share the rate of the first: a later session asking another
 * rate gets PPROFD_EBUSY). Starts the timers if this is the first.
 * PPROFD_EBUSY when max_sessions are open, PPROFD_EUNAVAILABLE,
 * PPROFD_ENOMEM. */
int pprofd__cpu_open(int hz, int max_sessions,
                     pprofd__cpu_session **out) PPROFD__WARN_UNUSED;
/* Closes the session and fills out (freshly initialized) with its
 * profile: sample types [samples/count, cpu/nanoseconds], period type
 * cpu/nanoseconds, period 1e9/hz, time_nanos = start, duration_nanos =
 * window, one sample per (stack, labels) with a `thread` string label
 * (thread name, or tid), and lost samples as one synthetic frame. Stops
 * the timers when it was the last. */
int pprofd__cpu_close(pprofd__cpu_session *s,
                      pprofd__snapshot *out) PPROFD__WARN_UNUSED;
/* The rate in force, 0 when no session is open. */
int pprofd__cpu_hz(void);

/* Called by the pthread_create wrapper on the new thread before its start
 * routine runs: arms the thread's timer if sampling is on. */
void pprofd__cpu_thread_start(void);
/* Called on thread exit (the wrapper's cleanup): deletes its timer. */
void pprofd__cpu_thread_exit(void);

/* Counters for the index page, tests and benchmarks. Thread-safe. */
typedef struct pprofd__cpu_stats {
  uint64_t signals;        /* SIGPROFs recorded since the library loaded */
  uint64_t lost;           /* samples dropped because the ring was full */
  unsigned timers;         /* per-thread timers armed right now */
  unsigned timer_failures; /* threads whose timer could not be created,
                              since the library loaded */
  int handler_installed;   /* our SIGPROF handler is (still) installed */
  int itimer_fallback;     /* the process-wide setitimer(ITIMER_PROF) is
                              sampling now, instead of per-thread timers */
} pprofd__cpu_stats;
void pprofd__cpu_get_stats(pprofd__cpu_stats *out);

/* The timer_create test seam, pprofd__cpu_timer_create, is declared in
 * sample/cputimer.h, which owns the timers. */

/* Fork hooks, to be called by core's pthread_atfork handlers in lock
 * order (the CPU sampler's two locks rank after rt.lock and
 * rt.custom.lock, before the symbolizer's). In the child no timer
 * survives: open sessions are detached (closing one returns what it had
 * collected before the fork) and sampling is off until the next open. */
void pprofd__cpu_prefork(void);
void pprofd__cpu_postfork_parent(void);
void pprofd__cpu_postfork_child(void);

#endif
