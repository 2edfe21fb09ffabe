/*
 * pthread.h - the interposed pthread synchronization family.
 *
 * When configure's PPROFD_ENABLE_INTERPOSE is defined, pthread.c exports
 * the mutex, rwlock, condition variable, semaphore, join, barrier and
 * spin-lock calls that can wait, and forwards each to the C library.
 * With both contention profiles off (the default) a wrapper costs one
 * load and one predictable branch beyond the real call. With one on, a
 * waiting call first tries its non-blocking variant; only a call that
 * would wait is timed and handed to sample/contention.c, and an unlock
 * looks for waiters only when glibc's own lock word says there may be
 * some. C++ std::mutex, std::shared_mutex and std::condition_variable
 * reach these through libstdc++.
 *
 * Threads: any; the wrappers take no lock of pprofd's on their fast
 * paths and never allocate.
 */
#ifndef PPROFD_INTERPOSE_PTHREAD_H
#define PPROFD_INTERPOSE_PTHREAD_H

#endif
