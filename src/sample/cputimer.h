/*
 * cputimer.h - the CPU sampler's timers: one POSIX timer per thread on
 * that thread's CPU-time clock, or the process-wide setitimer fallback.
 *
 * The module keeps the table of known threads (tid, timer, /proc start
 * time, name), brings it in line with /proc/self/task on each rescan, and
 * switches the whole process to ITIMER_PROF when a per-thread timer
 * cannot be made for want of a resource (see sample/cpu.c's design
 * comment for why it is all or nothing).
 *
 * Threads: every _locked function is called with the CPU sampler's lock
 * (cpu.lock in sample/cpu.c) held, outside signal context; it takes no
 * lock itself. pprofd__cputimer_itimer_sigsafe is read by the SIGPROF
 * handler.
 */
#ifndef PPROFD_SAMPLE_CPUTIMER_H
#define PPROFD_SAMPLE_CPUTIMER_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "base/common.h"

#define PPROFD__CPUTIMER_NAME_LEN 16 /* TASK_COMM_LEN */
/* The si_value our per-thread timers carry ("pprofdCp"). */
#define PPROFD__CPUTIMER_TAG ((void *)(uintptr_t)0x7070726f66644370ull)

/* Test seam: how per-thread timers are created (timer_create). A test
 * makes it fail to force the setitimer fallback. Called under the
 * sampler's lock, never in signal context. */
typedef int (*pprofd__timer_create_fn)(clockid_t clk, struct sigevent *sev,
                                       timer_t *out);
extern pprofd__timer_create_fn PPROFD__SEAM pprofd__cpu_timer_create;

/* Seeds the generator for random first expiries. Once, before use. */
void pprofd__cputimer_seed(uint64_t seed);

/* Sets the sampling period in nanoseconds, for timers armed from now. */
void pprofd__cputimer_set_period_locked(int64_t period);

/* Brings the thread table in line with /proc/self/task: arms new threads
 * (when arm is set), re-arms reused tids, forgets exited threads; rereads
 * every name when names is set. */
void pprofd__cputimer_rescan_locked(int names, int arm);

/* Deletes every timer, forgets every thread and leaves itimer mode. */
void pprofd__cputimer_stop_locked(void);

/* A thread is starting: (re)arms its timer, forgetting a stale one. */
void pprofd__cputimer_thread_start_locked(pid_t tid);

/* Whether tid is in the thread table. */
int pprofd__cputimer_known_locked(pid_t tid);

/* A thread is exiting: deletes its timer and forgets it. */
void pprofd__cputimer_forget_locked(pid_t tid);

/* The thread's name into name (read from /proc the first time; the tid
 * in decimal when unknown). Adds the thread to the table if new. */
void pprofd__cputimer_name_locked(pid_t tid,
                                  char name[PPROFD__CPUTIMER_NAME_LEN]);

/* Timers armed now, timer creation failures so far, and whether itimer
 * mode is in force. */
void pprofd__cputimer_stats_locked(unsigned *timers, unsigned *failures,
                                   int *itimer);

/* Whether itimer mode is in force: which kind of SIGPROF counts. */
int pprofd__cputimer_itimer_sigsafe(void) PPROFD__SIGSAFE;

/* In a fork child (one thread, no timers inherited): forgets every
 * thread and leaves itimer mode. */
void pprofd__cputimer_postfork_child(void);

#endif
