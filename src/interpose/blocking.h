/*
 * blocking.h - the interposed calls that a signal would cut short.
 *
 * When configure's PPROFD_ENABLE_INTERPOSE is defined, blocking.c exports
 * the calls Linux never restarts after a signal handler ran (signal(7)):
 * nanosleep, clock_nanosleep, sleep, usleep, poll, ppoll, epoll_wait,
 * epoll_pwait, epoll_pwait2, select, pselect, sigtimedwait, sigwaitinfo,
 * sigsuspend, pause, semop, semtimedop, msgrcv, msgsnd, io_getevents,
 * and the descriptor and socket calls that a socket timeout makes
 * non-restartable (read, write, readv, writev, recv, recvfrom, recvmsg,
 * recvmmsg, send, sendto, sendmsg, sendmmsg, accept, accept4, connect).
 * Each saves where its thread blocks (capture/blockctx.h), so that a
 * thread dump walks the thread without signalling it, and restarts the
 * call when one of pprofd's own signals interrupted it anyway.
 *
 * Threads: any, any context (the C library's versions of most of these
 * are async-signal-safe, and so are the wrappers); no lock, no
 * allocation.
 */
#ifndef PPROFD_INTERPOSE_BLOCKING_H
#define PPROFD_INTERPOSE_BLOCKING_H

#endif
