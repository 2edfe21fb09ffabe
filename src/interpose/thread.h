/*
 * thread.h - the pthread_create and loader wrappers.
 *
 * When configure's PPROFD_ENABLE_INTERPOSE is defined, thread.c exports
 * pthread_create and dl_iterate_phdr (dlopen and dlclose are not wrapped:
 * see thread.c):
 *   - pthread_create runs the new thread through a trampoline that calls
 *     pprofd__cpu_thread_start() before the start routine and
 *     pprofd__cpu_thread_exit() when the thread ends (return, pthread_exit
 *     or cancellation), so new threads are sampled from their first
 *     instruction and their CPU timer dies with them;
 *   - the loader wrappers keep a per-thread counter (initial-exec TLS) of
 *     how deep the thread is inside the dynamic loader, which the SIGPROF
 *     handler reads to record a leaf-only sample there instead of
 *     unwinding (unwinding calls dl_iterate_phdr, which would take the
 *     loader lock the interrupted thread may hold or be updating).
 * The wrappers never allocate and never recurse: each calls the real
 * function resolved by base/libc.c.
 *
 * Without interposition (sanitizer builds) nothing is exported, the
 * counter stays 0 and the CPU sampler finds threads in /proc/self/task.
 */
#ifndef PPROFD_INTERPOSE_THREAD_H
#define PPROFD_INTERPOSE_THREAD_H

#include "base/common.h"

#endif
