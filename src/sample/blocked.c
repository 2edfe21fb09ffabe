/*
 * blocked.c - which system calls a signal would cut short (see
 * blocked.h). The list is signal(7)'s "never restarted" one, plus the
 * futex waits with a timeout and restart_syscall (a sleep or poll that
 * a stop interrupted and the kernel resumed).
 */
#include "config.h"

#include "sample/blocked.h"

#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "base/common.h"
#include "sample/syscall_names.h"

/* Whether fd is a socket with a receive or send timeout. */
static int socket_with_timeout(int fd) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
    return 0;
  static const int opts[2] = {SO_RCVTIMEO, SO_SNDTIMEO};
  for (int i = 0; i < 2; i++) {
    struct timeval tv = {0, 0};
    socklen_t len = sizeof tv;
    if (getsockopt(fd, SOL_SOCKET, opts[i], &tv, &len) == 0 &&
        (tv.tv_sec != 0 || tv.tv_usec != 0))
      return 1;
  }
  return 0;
}

/* Whether a futex operation waits with a timeout. */
static int futex_timed_wait(uint64_t op, uint64_t timeout) {
  switch ((int)(op & FUTEX_CMD_MASK)) {
  case FUTEX_WAIT:
  case FUTEX_WAIT_BITSET:
  case FUTEX_WAIT_REQUEUE_PI:
  case FUTEX_LOCK_PI:
#ifdef FUTEX_LOCK_PI2
  case FUTEX_LOCK_PI2:
#endif
    return timeout != 0;
  default:
    return 0;
  }
}

int pprofd__blocked_never_restarted(long nr, const uint64_t args[6]) {
  switch (nr) {
#ifdef SYS_nanosleep
  case SYS_nanosleep:
#endif
  case SYS_clock_nanosleep:
#ifdef SYS_clock_nanosleep_time64
  case SYS_clock_nanosleep_time64:
#endif
#ifdef SYS_poll
  case SYS_poll:
#endif
  case SYS_ppoll:
#ifdef SYS_select
  case SYS_select:
#endif
  case SYS_pselect6:
#ifdef SYS_epoll_wait
  case SYS_epoll_wait:
#endif
  case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
  case SYS_epoll_pwait2:
#endif
  case SYS_rt_sigtimedwait:
  case SYS_rt_sigsuspend:
#ifdef SYS_pause
  case SYS_pause:
#endif
#ifdef SYS_semop
  case SYS_semop:
#endif
  case SYS_semtimedop:
  case SYS_msgrcv:
  case SYS_msgsnd:
  case SYS_io_getevents:
#ifdef SYS_io_pgetevents
  case SYS_io_pgetevents:
#endif
  case SYS_restart_syscall:
  case SYS_accept:
  case SYS_accept4:
  case SYS_connect:
  case SYS_recvfrom:
  case SYS_recvmsg:
  case SYS_recvmmsg:
  case SYS_sendto:
  case SYS_sendmsg:
  case SYS_sendmmsg:
    return 1;
  case SYS_futex:
    return futex_timed_wait(args[1], args[3]);
#ifdef SYS_futex_waitv
  case SYS_futex_waitv:
    return args[3] != 0;
#endif
  case SYS_read:
  case SYS_write:
  case SYS_readv:
  case SYS_writev:
    return socket_with_timeout((int)args[0]);
  default:
    return 0;
  }
}

void pprofd__blocked_syscall_name(long nr, char *out, size_t len) {
  size_t lo = 0, hi = PPROFD__ARRAY_SIZE(pprofd__syscall_names);
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (pprofd__syscall_names[mid].nr < nr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < PPROFD__ARRAY_SIZE(pprofd__syscall_names) &&
      pprofd__syscall_names[lo].nr == nr)
    snprintf(out, len, "%s", pprofd__syscall_names[lo].name);
  else
    snprintf(out, len, "syscall %ld", nr);
}

const char *pprofd__blocked_state(long nr, const uint64_t args[6]) {
  (void)args;
  switch (nr) {
#ifdef SYS_nanosleep
  case SYS_nanosleep:
#endif
  case SYS_clock_nanosleep:
#ifdef SYS_pause
  case SYS_pause:
#endif
  case SYS_rt_sigsuspend:
    return "sleep";
  case SYS_futex:
#ifdef SYS_futex_waitv
  case SYS_futex_waitv:
#endif
#ifdef SYS_semop
  case SYS_semop:
#endif
  case SYS_semtimedop:
    return "lock";
  default:
    return "syscall";
  }
}

const char *pprofd__blocked_state_of_call(const char *what) {
  static const char *const sleeps[] = {
      "sleep", "usleep", "nanosleep", "clock_nanosleep", "pause", "sigsuspend"};
  for (size_t i = 0; i < PPROFD__ARRAY_SIZE(sleeps); i++)
    if (strcmp(what, sleeps[i]) == 0)
      return "sleep";
  if (strncmp(what, "pthread_", 8) == 0 || strncmp(what, "sem", 3) == 0)
    return "lock";
  return "syscall";
}
