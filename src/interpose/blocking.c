/*
 * blocking.c - the calls a signal would cut short (see blocking.h).
 *
 * Every wrapper has the same shape: save the context
 * (capture/blockctx.h), make the real call, and when it failed with
 * EINTR because one of pprofd's own signals interrupted it (a thread
 * that was running when a dump or the CPU profiler signalled it, then
 * blocked before the signal landed), make it again with what remains of
 * its timeout, so that the host never sees that EINTR. An EINTR from a
 * signal of the host's goes back to the host unchanged. Remaining time
 * comes from what the kernel hands back where it does (nanosleep's rem,
 * select's timeval), else from a monotonic deadline read before the
 * call, only for calls given a positive timeout.
 *
 * The wrappers are not in the "pprofd_hook" section: a dump's stack of
 * a blocked thread starts at the wrapper, whose name is the call's.
 */
#include "config.h"

#include "interpose/blocking.h"

#include "base/libc.h"

#ifdef PPROFD_ENABLE_INTERPOSE

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "capture/blockctx.h"

/* libaio's, which <libaio.h> declares; the C library has none. */
struct io_event;
typedef struct io_context *pprofd__io_context_t;
int io_getevents(pprofd__io_context_t ctx, long min, long nr,
                 struct io_event *ev, struct timespec *ts);

/* The real functions, resolved on first use (and all at load). */
/* clang-format off */
#define BLOCKING_FNS(X) \
  X(nanosleep) X(clock_nanosleep) X(poll) X(ppoll) X(epoll_wait) \
  X(epoll_pwait) X(epoll_pwait2) X(select) X(pselect) X(sigtimedwait) \
  X(sigwaitinfo) X(sigsuspend) X(pause) X(semop) X(semtimedop) X(msgrcv) \
  X(msgsnd) X(io_getevents) X(read) X(write) X(readv) X(writev) \
  X(recv) X(recvfrom) X(recvmsg) X(recvmmsg) X(send) X(sendto) X(sendmsg) \
  X(sendmmsg) X(accept) X(accept4) X(connect)
/* clang-format on */

#define SLOT(name) static _Atomic(void *) real_##name;
BLOCKING_FNS(SLOT)
#undef SLOT

/* The pointer in *slot, resolved first when needed: one load once the
 * constructor has run. */
static inline void *real_fn(_Atomic(void *) *slot, const char *name) {
  void *p = atomic_load_explicit(slot, memory_order_acquire);
  return PPROFD__LIKELY(p != NULL) ? p : pprofd__real_lookup(slot, name);
}

/* The real `name` as a typed pointer; NULL when the process has none. */
#define REAL(name, type) ((type)real_fn(&real_##name, #name))

__attribute__((constructor)) static void resolve_all(void) {
#define LOOK(name) (void)pprofd__real_lookup(&real_##name, #name);
  BLOCKING_FNS(LOOK)
#undef LOOK
}

/* The call failed with EINTR that only pprofd's signal caused: forget
 * that signal and report that the call should be made again. */
static inline int again(pprofd__blockctx *c, int failed_eintr) {
  if (!failed_eintr || !pprofd__blockctx_interrupted_by_us(c))
    return 0;
  pprofd__blockctx_rearm(c);
  return 1;
}

/* ---- deadlines ---- */

/* A monotonic deadline for a relative timeout; INT64_MAX for none. */
static int64_t deadline_ms(int timeout_ms) {
  return timeout_ms > 0 ? pprofd__mono_nanos() + (int64_t)timeout_ms * 1000000
                        : INT64_MAX;
}

static int64_t deadline_ts(const struct timespec *ts) {
  if (ts == NULL || ts->tv_sec < 0 || ts->tv_nsec < 0 ||
      ts->tv_nsec >= 1000000000 || ts->tv_sec > 1000000000)
    return INT64_MAX;
  return pprofd__mono_nanos() + (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* What remains of a millisecond timeout (rounded up; 0 when past). */
static int left_ms(int timeout_ms, int64_t deadline) {
  if (timeout_ms <= 0)
    return timeout_ms;
  int64_t left = deadline - pprofd__mono_nanos();
  return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

/* What remains of a timespec timeout, into *out; returns ts or out. */
static const struct timespec *left_ts(const struct timespec *ts,
                                      int64_t deadline, struct timespec *out) {
  if (ts == NULL || deadline == INT64_MAX)
    return ts;
  int64_t left = deadline - pprofd__mono_nanos();
  if (left < 0)
    left = 0;
  out->tv_sec = (time_t)(left / 1000000000);
  out->tv_nsec = (long)(left % 1000000000);
  return out;
}

#define NO_REAL_INT(ret)                                                       \
  do {                                                                         \
    errno = ENOSYS;                                                            \
    return (ret);                                                              \
  } while (0)

/* ---- sleeps ---- */

typedef int (*nanosleep_fn)(const struct timespec *, struct timespec *);

/* nanosleep through the real function, restarted after pprofd's
 * signals; rem as nanosleep's (NULL allowed). */
static int sleep_for(pprofd__blockctx *c, const struct timespec *req,
                     struct timespec *rem) {
  nanosleep_fn real = REAL(nanosleep, nanosleep_fn);
  if (real == NULL)
    NO_REAL_INT(-1);
  struct timespec tmp, next;
  for (;;) {
    struct timespec *r = rem != NULL ? rem : &tmp;
    int e = real(req, r);
    if (!again(c, e != 0 && errno == EINTR))
      return e;
    next = *r;
    req = &next;
  }
}

PPROFD_INTERPOSE int nanosleep(const struct timespec *req,
                               struct timespec *rem) {
  pprofd__blockctx c;
  PPROFD__BLOCKCTX_ENTER(&c, "nanosleep");
  int e = sleep_for(&c, req, rem);
  pprofd__blockctx_leave(&c);
  return e;
}

/* As glibc's: whole seconds not slept when a signal cut it short. */
PPROFD_INTERPOSE unsigned int sleep(unsigned int seconds) {
  pprofd__blockctx c;
  PPROFD__BLOCKCTX_ENTER(&c, "sleep");
  int saved = errno;
  struct timespec ts = {(time_t)seconds, 0};
  unsigned int r = 0;
  if (sleep_for(&c, &ts, &ts) != 0)
    r = errno == EINTR ? (unsigned int)ts.tv_sec : 0;
  else
    errno = saved;
  pprofd__blockctx_leave(&c);
  return r;
}

PPROFD_INTERPOSE int usleep(useconds_t usec) {
  pprofd__blockctx c;
  PPROFD__BLOCKCTX_ENTER(&c, "usleep");
  struct timespec ts = {(time_t)(usec / 1000000),
                        (long)(usec % 1000000) * 1000};
  int e = sleep_for(&c, &ts, &ts);
  pprofd__blockctx_leave(&c);
  return e;
}

typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *,
                                  struct timespec *);

/* Returns an error number, as clock_nanosleep does. */
PPROFD_INTERPOSE int clock_nanosleep(clockid_t clk, int flags,
                                     const struct timespec *req,
                                     struct timespec *rem) {
  clock_nanosleep_fn real = REAL(clock_nanosleep, clock_nanosleep_fn);
  if (real == NULL)
    return ENOSYS;
  pprofd__blockctx c;
  PPROFD__BLOCKCTX_ENTER(&c, "clock_nanosleep");
  struct timespec tmp, next;
  int e;
  for (;;) {
    struct timespec *r = rem != NULL ? rem : &tmp;
    e = real(clk, flags, req, r);
    if (!again(&c, e == EINTR))
      break;
    if (!(flags & TIMER_ABSTIME)) {
      next = *r;
      req = &next;
    }
  }
  pprofd__blockctx_leave(&c);
  return e;
}

/* ---- the wrapper shapes ---- */

/* Defines `ret name params`, which makes the real call `real args` and
 * makes it again after pprofd's signals: `setup` runs once before, and
 * `update` before each new attempt. */
#define BLOCKING_CALL(ret, name, params, args, setup, update)                  \
  typedef ret(*name##_fn) params;                                              \
  PPROFD_INTERPOSE ret name params {                                           \
    name##_fn real = REAL(name, name##_fn);                                    \
    if (real == NULL)                                                          \
      NO_REAL_INT(-1);                                                         \
    pprofd__blockctx c;                                                        \
    PPROFD__BLOCKCTX_ENTER(&c, #name);                                         \
    setup;                                                                     \
    ret e;                                                                     \
    while (again(&c, (e = real args) < 0 && errno == EINTR))                   \
      update;                                                                  \
    pprofd__blockctx_leave(&c);                                                \
    return e;                                                                  \
  }

/* A call made again as it is. */
#define RESTARTING_CALL(ret, name, params, args)                               \
  BLOCKING_CALL(ret, name, params, args, (void)0, (void)0)

/* A call with a relative timeout in milliseconds, the parameter `tmo`:
 * `args` pass `t_`, what remains of it. */
#define MS_TIMEOUT_CALL(ret, name, params, tmo, args)                          \
  BLOCKING_CALL(ret, name, params, args, int64_t dl_ = deadline_ms(tmo);       \
                int t_ = (tmo), t_ = left_ms((tmo), dl_))

/* The same for a relative timespec timeout (NULL: none). */
#define TS_TIMEOUT_CALL(ret, name, params, tmo, args)                          \
  BLOCKING_CALL(ret, name, params, args, int64_t dl_ = deadline_ts(tmo);       \
                struct timespec left_; const struct timespec *t_ = (tmo),      \
                                       t_ = left_ts((tmo), dl_, &left_))

/* ---- multiplexing ---- */

MS_TIMEOUT_CALL(int, poll, (struct pollfd * fds, nfds_t n, int timeout),
                timeout, (fds, n, t_))
TS_TIMEOUT_CALL(int, ppoll,
                (struct pollfd * fds, nfds_t n, const struct timespec *ts,
                 const sigset_t *mask),
                ts, (fds, n, t_, mask))
MS_TIMEOUT_CALL(int, epoll_wait,
                (int epfd, struct epoll_event *ev, int max, int timeout),
                timeout, (epfd, ev, max, t_))
MS_TIMEOUT_CALL(int, epoll_pwait,
                (int epfd, struct epoll_event *ev, int max, int timeout,
                 const sigset_t *mask),
                timeout, (epfd, ev, max, t_, mask))
TS_TIMEOUT_CALL(int, epoll_pwait2,
                (int epfd, struct epoll_event *ev, int max,
                 const struct timespec *ts, const sigset_t *mask),
                ts, (epfd, ev, max, t_, mask))
/* Linux's select leaves the sets alone when it fails and updates the
 * timeout to what remains, so a restart passes both again. */
RESTARTING_CALL(int, select,
                (int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv),
                (n, r, w, x, tv))
TS_TIMEOUT_CALL(int, pselect,
                (int n, fd_set *r, fd_set *w, fd_set *x,
                 const struct timespec *ts, const sigset_t *mask),
                ts, (n, r, w, x, t_, mask))

/* ---- signals: sigsuspend and pause return only after a handler ran;
 * when every handler that ran was pprofd's, the host is still waiting
 * for its own signal. ---- */

TS_TIMEOUT_CALL(int, sigtimedwait,
                (const sigset_t *set, siginfo_t *info,
                 const struct timespec *ts),
                ts, (set, info, t_))
RESTARTING_CALL(int, sigwaitinfo, (const sigset_t *set, siginfo_t *info),
                (set, info))
RESTARTING_CALL(int, sigsuspend, (const sigset_t *mask), (mask))
RESTARTING_CALL(int, pause, (void), ())

/* ---- System V IPC and asynchronous I/O ---- */

RESTARTING_CALL(int, semop, (int id, struct sembuf *ops, size_t n),
                (id, ops, n))
TS_TIMEOUT_CALL(int, semtimedop,
                (int id, struct sembuf *ops, size_t n,
                 const struct timespec *ts),
                ts, (id, ops, n, t_))
RESTARTING_CALL(ssize_t, msgrcv,
                (int id, void *p, size_t sz, long type, int flags),
                (id, p, sz, type, flags))
RESTARTING_CALL(int, msgsnd, (int id, const void *p, size_t sz, int flags),
                (id, p, sz, flags))

typedef int (*io_getevents_fn)(pprofd__io_context_t, long, long,
                               struct io_event *, struct timespec *);

/* libaio's convention: a negative error number, errno untouched. Without
 * libaio in the process, the system call itself. */
PPROFD_INTERPOSE int io_getevents(pprofd__io_context_t ctx, long min, long nr,
                                  struct io_event *ev, struct timespec *ts) {
  io_getevents_fn real = REAL(io_getevents, io_getevents_fn);
  pprofd__blockctx c;
  PPROFD__BLOCKCTX_ENTER(&c, "io_getevents");
  int64_t dl = deadline_ts(ts);
  struct timespec left;
  struct timespec *t = ts;
  int e;
  for (;;) {
    if (real != NULL) {
      e = real(ctx, min, nr, ev, t);
    } else {
      int saved = errno;
      long r = syscall(SYS_io_getevents, ctx, min, nr, ev, t);
      e = r < 0 ? -errno : (int)r;
      errno = saved;
    }
    if (!again(&c, e == -EINTR))
      break;
    t = (struct timespec *)left_ts(ts, dl, &left);
  }
  pprofd__blockctx_leave(&c);
  return e;
}

/* ---- descriptors and sockets: never restarted when the socket has a
 * timeout (SO_RCVTIMEO, SO_SNDTIMEO), and otherwise only with
 * SA_RESTART. A restart after pprofd's signal begins the socket's
 * timeout again. ---- */

RESTARTING_CALL(ssize_t, read, (int fd, void *p, size_t n), (fd, p, n))
RESTARTING_CALL(ssize_t, write, (int fd, const void *p, size_t n), (fd, p, n))
RESTARTING_CALL(ssize_t, readv, (int fd, const struct iovec *v, int n),
                (fd, v, n))
RESTARTING_CALL(ssize_t, writev, (int fd, const struct iovec *v, int n),
                (fd, v, n))
RESTARTING_CALL(ssize_t, recv, (int fd, void *p, size_t n, int f),
                (fd, p, n, f))
RESTARTING_CALL(ssize_t, recvfrom,
                (int fd, void *p, size_t n, int f, struct sockaddr *a,
                 socklen_t *al),
                (fd, p, n, f, a, al))
RESTARTING_CALL(ssize_t, recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f))
RESTARTING_CALL(int, recvmmsg,
                (int fd, struct mmsghdr *v, unsigned int n, int f,
                 struct timespec *t),
                (fd, v, n, f, t))
RESTARTING_CALL(ssize_t, send, (int fd, const void *p, size_t n, int f),
                (fd, p, n, f))
RESTARTING_CALL(ssize_t, sendto,
                (int fd, const void *p, size_t n, int f,
                 const struct sockaddr *a, socklen_t al),
                (fd, p, n, f, a, al))
RESTARTING_CALL(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f),
                (fd, m, f))
RESTARTING_CALL(int, sendmmsg,
                (int fd, struct mmsghdr *v, unsigned int n, int f),
                (fd, v, n, f))
RESTARTING_CALL(int, accept, (int fd, struct sockaddr *a, socklen_t *al),
                (fd, a, al))
RESTARTING_CALL(int, accept4,
                (int fd, struct sockaddr *a, socklen_t *al, int f),
                (fd, a, al, f))

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

/* Not restarted: an interrupted connect goes on in the background, and
 * calling it again would answer EALREADY. The context is saved, so a
 * dump does not signal a thread blocked in it. */
PPROFD_INTERPOSE int connect(int fd, const struct sockaddr *a, socklen_t al) {
  connect_fn real = REAL(connect, connect_fn);
  if (real == NULL)
    NO_REAL_INT(-1);
  pprofd__blockctx c;
  PPROFD__BLOCKCTX_ENTER(&c, "connect");
  int e = real(fd, a, al);
  pprofd__blockctx_leave(&c);
  return e;
}

#endif
