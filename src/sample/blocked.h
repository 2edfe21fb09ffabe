/*
 * blocked.h - which system calls a signal would cut short.
 *
 * A thread dump must not signal a thread that waits in a call Linux
 * never restarts after a handler ran (signal(7)). A thread that waits in
 * one outside pprofd's wrappers (a raw syscall(2), a static binary's
 * inlined call, a library pprofd does not wrap) is recognized from
 * /proc/TID/syscall: the call's number and arguments.
 *
 * Threads: any; no state.
 */
#ifndef PPROFD_SAMPLE_BLOCKED_H
#define PPROFD_SAMPLE_BLOCKED_H

#include <stddef.h>
#include <stdint.h>

/* 1 when a thread blocked in system call nr with these arguments (as
 * /proc/TID/syscall gives them) would see it fail with EINTR, or return
 * early, if a handled signal reached it; 0 when the kernel restarts it
 * (SA_RESTART) or it does not wait. For the descriptor calls that only a
 * socket timeout makes non-restartable, looks at the descriptor (this
 * process's own). */
int pprofd__blocked_never_restarted(long nr, const uint64_t args[6]);

/* The name of system call nr into out, or "syscall NR". */
void pprofd__blocked_syscall_name(long nr, char *out, size_t len);

/* The wall-clock profile's state for a thread blocked in system call nr
 * with these arguments: "sleep" (the sleeps, pause, sigsuspend), "lock"
 * (futex waits, System V semaphores) or "syscall". */
const char *pprofd__blocked_state(long nr, const uint64_t args[6]);
/* The same for a thread inside the wrapped call named what. */
const char *pprofd__blocked_state_of_call(const char *what);

#endif
