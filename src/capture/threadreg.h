/*
 * threadreg.h - the thread registry: who created each thread, and the
 * stacks that led to thread creation.
 *
 * The pthread_create wrapper (interpose/thread.c) records, for every
 * thread it creates: the creating thread's id, the start routine, the
 * creation time and the stack of the pthread_create call. Live threads
 * have a slot in a fixed table (bounded: threads beyond it are created
 * and run normally, only unrecorded); the new thread fills in its own id
 * when it starts and frees its slot when it ends, so thousands of
 * short-lived threads never grow anything. Separately, every creation
 * stack is counted, cumulatively, in a bounded table of distinct stacks:
 * that is the threadcreate profile.
 *
 * Threads: the wrapper's calls run on the creating and the created
 * thread, outside signal context; readers run on request threads. The
 * stack-count table has a mutex (a leaf); live slots are claimed and
 * published with atomics.
 */
#ifndef PPROFD_CAPTURE_THREADREG_H
#define PPROFD_CAPTURE_THREADREG_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "model/snapshot.h"

#define PPROFD__THREADREG_DEPTH 32

/* What the registry knows about one live thread. */
typedef struct pprofd__thread_origin {
  int tid;
  int creator_tid;
  uint64_t pthread; /* its pthread_t */
  uint64_t start_routine;
  int64_t created_nanos; /* wall clock */
  int nlocs;             /* creation stack: the pthread_create call first */
  uint64_t locs[PPROFD__THREADREG_DEPTH];
} pprofd__thread_origin;

/* In the creating thread, before the real pthread_create: records the
 * creation (stack, creator, routine, time). Returns a ticket for the new
 * thread, or -1 when the live table is full. skip: frames between the
 * wrapper and this call. */
int pprofd__threadreg_create(void *(*start)(void *), int skip);
/* The real pthread_create failed: forget the ticket. */
void pprofd__threadreg_cancel(int ticket);
/* In the new thread, first thing: binds the ticket to this thread. */
void pprofd__threadreg_started(int ticket);
/* In the new thread, last thing: frees its live slot. */
void pprofd__threadreg_exited(int ticket);

/* Fills *out for live thread tid; 0, or -1 when the registry has no
 * record of it (created before pprofd, or without pthread_create). */
int pprofd__threadreg_lookup(int tid, pprofd__thread_origin *out);

/* Calls fn with each live thread the registry knows, in no order. A
 * thread that starts or ends meanwhile may be missed. */
void pprofd__threadreg_each(void (*fn)(const pprofd__thread_origin *o,
                                       void *arg),
                            void *arg);

/* The threadcreate count profile: one sample per distinct creation stack
 * with the number of threads created there since the library loaded,
 * plus one sample for the live threads the registry never saw (created
 * before pprofd or not through pthread_create), whose single frame is a
 * marker function named pprofd_thread_created_before_pprofd. */
int pprofd__threadreg_collect(pprofd__snapshot *s) PPROFD__WARN_UNUSED;
/* The number of threads created through pthread_create since load.
 * Lock-free. */
int64_t pprofd__threadreg_created(void);
/* The number of threads created since load plus those seen otherwise. */
int64_t pprofd__threadreg_count(void);

/* Fork hooks (see core/runtime.h). */
void pprofd__threadreg_prefork(void);
void pprofd__threadreg_postfork(void);

#endif
