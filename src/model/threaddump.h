/*
 * threaddump.h - one thread of a dump: what the kernel says about it, its
 * stack, and where it was created.
 *
 * sample/threads fills an array of these (`goroutine`'s dump); encoders
 * read them (encode/threaddump: the debug=2 text).
 */
#ifndef PPROFD_MODEL_THREADDUMP_H
#define PPROFD_MODEL_THREADDUMP_H

#include <stdint.h>

#include "model/stack.h"

#define PPROFD__THREAD_DEPTH 64

/* How a thread's stack was captured. */
#define PPROFD__THREAD_FROM_SIGNAL 0 /* its own signal handler copied it */
#define PPROFD__THREAD_FROM_WRAPPER                                            \
  1 /* blocked in a wrapped call: from                                         \
       the context the wrapper saved */
#define PPROFD__THREAD_FROM_KERNEL                                             \
  2 /* blocked in a call a signal would                                        \
       cut short, outside any wrapper:                                         \
       from the SP and PC the kernel                                           \
       gives, partial */

typedef struct pprofd__thread {
  int tid;
  char name[17];    /* the kernel's name for it (comm, from .../stat) */
  char state[16];   /* "running", "sleeping", "disk sleep", ... */
  char syscall[32]; /* the system call it waits in, "" if none */
  char wchan[48];   /* kernel wait channel, "" if none or hidden */
  int captured;     /* 1 when the stack was unwound in-process */
  int truncated;    /* the stack goes on past locs (see capture/unwind.h) */
  int64_t held_ns;  /* how long the dump held the thread in its handler */
  int self;         /* the requesting thread */
  int source;       /* PPROFD__THREAD_FROM_*, when captured */
  int nlocs;        /* leaf first: the PC, then return address - 1 */
  uint64_t locs[PPROFD__THREAD_DEPTH];
  /* From the thread registry, when the thread was created through the
   * pthread_create wrapper (creator_tid 0 otherwise). */
  int creator_tid;
  uint64_t created_at; /* the pthread_create call's location */
} pprofd__thread;

#endif
