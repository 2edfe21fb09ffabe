/*
 * check_threads.c - thread dumps: named threads blocked at known points,
 * a thread with every signal blocked, threads coming and going during a
 * dump, and the goroutine profile's proto, text and debug=2 forms.
 */
#define _GNU_SOURCE
#include "capture/unwind.h"
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check_frames.h"
#include "../check_run.h"
#include "base/ialloc.h"
#include "capture/stackcopy.h"
#include "capture/threadreg.h"
#include "encode/text.h"
#include "encode/threaddump.h"
#include "model/snapshot.h"
#include "sample/threads.h"
#include "symbol/symbolize.h"

static atomic_int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile unsigned long spins;

__attribute__((noinline)) static void blocked_in_sleep(void) {
  while (!atomic_load(&stop)) {
    struct timespec ts = {1, 0}; /* rarely awake when a dump looks */
    nanosleep(&ts, NULL);
  }
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void blocked_on_cond(void) {
  pthread_mutex_lock(&mu);
  while (!atomic_load(&stop))
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void spinning(void) {
  while (!atomic_load(&stop))
    spins++;
  __asm__ volatile("" ::: "memory");
}

/* A futex wait with no timeout, made with syscall(2): the kernel
 * restarts it after a handler, so a dump signals it; outside every
 * wrapper, so a dump has no saved context for it. */
static int futex_word;

__attribute__((noinline)) static void blocked_in_futex(void) {
  while (!atomic_load(&stop))
    syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  __asm__ volatile("" ::: "memory");
}

static void wake_futex(void) {
  syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* Signals blocked, in a call a signal would not cut short: signalled, it
 * never answers. */
__attribute__((noinline)) static void masked_waiter(void) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  blocked_in_futex();
}

typedef struct worker {
  const char *name;
  void (*fn)(void);
  pthread_t th;
} worker;

/* Threads created here are warmed for the unwinder as the pthread_create
 * wrapper warms every thread it starts; builds without the wrapper
 * (sanitizer builds) need it done by hand, or their handlers record
 * only the leaf (see capture/unwind.h). */
static void *run(void *arg) {
  worker *w = arg;
  pprofd__unwind_warm(1);
  pthread_setname_np(pthread_self(), w->name);
  w->fn();
  return NULL;
}

static worker workers[] = {
    {"sleeper-1", blocked_in_sleep, 0}, {"sleeper-2", blocked_in_sleep, 0},
    {"waiter", blocked_on_cond, 0},     {"spinner", spinning, 0},
    {"masked", masked_waiter, 0},
};
enum { NW = sizeof workers / sizeof workers[0] };

static void start_workers(void) {
  atomic_store(&stop, 0);
  for (int i = 0; i < NW; i++)
    pthread_create(&workers[i].th, NULL, run, &workers[i]);
  usleep(200 * 1000); /* let them reach their blocking points */
}

static void stop_workers(void) {
  atomic_store(&stop, 1);
  pthread_mutex_lock(&mu);
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  wake_futex();
  for (int i = 0; i < NW; i++)
    pthread_join(workers[i].th, NULL);
}

/* The thread named name in a dump. */
static const pprofd__thread *find(const pprofd__thread *t, size_t n,
                                  const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].name, name) == 0)
      return &t[i];
  ck_abort_msg("no thread named %s", name);
  return NULL;
}

/* Whether fn is one of the functions at the n locations locs. */
static int on_locs(const uint64_t *locs, size_t n, const char *fn) {
  pprofd__symctx *sym;
  ck_assert_int_eq(pprofd__sym_begin(&sym), 0);
  int hit = locs_have_frame(sym, locs, n, fn);
  pprofd__sym_end(sym);
  return hit;
}

/* Whether fn is one of the functions on t's stack. */
static int on_stack(const pprofd__thread *t, const char *fn) {
  return on_locs(t->locs, (size_t)t->nlocs, fn);
}

/* Whether the dump may have given t a partial stack: a sleeper in a call
 * a signal would cut short is not signalled, and a build without
 * interposition (the sanitizer builds) has no wrapper context for it, so
 * it is walked from the kernel's SP and PC, as far as they allow. */
static int partial_ok(const pprofd__thread *t) {
#ifdef PPROFD_ENABLE_INTERPOSE
  (void)t;
  return 0;
#else
  return t->source == PPROFD__THREAD_FROM_KERNEL;
#endif
}

/* Whether fn is on a snapshot sample's stack. */
static int sample_has(const pprofd__sample *smp, const char *fn) {
  return on_locs(smp->locs, smp->nlocs, fn);
}

/* Renders s as goroutine text at debug level `debug` into a new b,
 * NUL-terminated. */
static void render(pprofd__snapshot *s, int debug, pprofd__buf *b) {
  pprofd__buf_init(b, 1 << 20);
  if (debug < 2) {
    ck_assert_int_eq(pprofd__text_count_profile(s, "goroutine", b), 0);
  } else {
    pprofd__thread *t;
    size_t n;
    ck_assert_int_eq(pprofd__threads_dump(&t, &n, PPROFD__DUMP_TIMEOUT_MS,
                                          PPROFD__DUMP_WCHAN),
                     0);
    ck_assert_int_eq(pprofd__threaddump_write(t, n, b), 0);
    pprofd__ifree(t);
  }
  pprofd__buf_putc(b, '\0');
}

/* Waits until *ready, lets the thread reach its blocking point, dumps
 * into *t and *n, and returns the thread named name, which must have
 * been captured. */
static const pprofd__thread *dump_when(atomic_int *ready, pprofd__thread **t,
                                       size_t *n, const char *name) {
  while (!atomic_load(ready))
    usleep(1000);
  usleep(30 * 1000);
  ck_assert_int_eq(pprofd__threads_dump(t, n, 500, 0), 0);
  const pprofd__thread *x = find(*t, *n, name);
  ck_assert(x->captured);
  return x;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Dumps (a 500 ms timeout) into *t and *n; returns how long it took, in
 * milliseconds. */
static int64_t timed_dump(pprofd__thread **t, size_t *n) {
  int64_t t0 = mono_ms();
  ck_assert_int_eq(pprofd__threads_dump(t, n, 500, 0), 0);
  return mono_ms() - t0;
}

START_TEST(test_dump_known_threads) {
  start_workers();
  pprofd__thread *t;
  size_t n;
  int64_t t0 = mono_ms();
  ck_assert_int_eq(pprofd__threads_dump(&t, &n, 200, PPROFD__DUMP_WCHAN), 0);
  ck_assert_int_lt(mono_ms() - t0, 1000);
  ck_assert_uint_eq(n, NW + 1);
  ck_assert(t[0].self && t[0].captured);
  ck_assert(on_stack(&t[0], "test_dump_known_threads_fn"));
  const pprofd__thread *s1 = find(t, n, "sleeper-1");
  ck_assert(s1->captured);
  ck_assert_str_eq(s1->state, "sleeping");
  ck_assert_str_eq(s1->syscall, "clock_nanosleep");
  ck_assert(on_stack(s1, "blocked_in_sleep"));
  ck_assert(partial_ok(s1) || on_stack(s1, "run"));
  const pprofd__thread *w = find(t, n, "waiter");
  ck_assert(w->captured);
  ck_assert_str_eq(w->syscall, "futex");
  ck_assert(on_stack(w, "blocked_on_cond"));
  const pprofd__thread *sp = find(t, n, "spinner");
  ck_assert(sp->captured);
  ck_assert_str_eq(sp->state, "running");
  ck_assert(on_stack(sp, "spinning"));
  /* Signals blocked: listed from /proc, with its syscall's PC as the one
   * frame, marked as not captured. */
  const pprofd__thread *m = find(t, n, "masked");
  ck_assert(!m->captured);
  ck_assert_str_eq(m->syscall, "futex");
  ck_assert_int_eq(m->nlocs, 1);
  ck_assert(m->locs[0] != 0);
  pprofd__ifree(t);
  stop_workers();
}
END_TEST

START_TEST(test_profile_forms) {
  start_workers();
  pprofd__snapshot s;
  ck_assert_int_eq(pprofd__threads_collect(&s), 0);
  ck_assert_str_eq(s.types[0].type, "goroutine");
  int64_t total = 0;
  int grouped = 0;
  for (size_t i = 0; i < s.nsamples; i++) {
    total += s.samples[i].values[0];
    /* A thread neither captured nor in a system call has no frame. */
    for (uint32_t j = 0; j < s.samples[i].nlabels; j++)
      if (strcmp(s.samples[i].labels[j].key, "threads") == 0 &&
          strcmp(s.samples[i].labels[j].str, "sleeper-*") == 0)
        grouped += (int)s.samples[i].values[0];
  }
  ck_assert_int_eq(total, NW + 1);
  ck_assert_int_eq(grouped, 2); /* sleeper-1 and sleeper-2: one group */
  pprofd__buf b;
  render(&s, 1, &b);
  ck_assert(strncmp(b.data, "goroutine profile: total 6\n", 27) == 0);
  ck_assert_msg(strstr(b.data, "\n2 @ 0x") != NULL, "%s", b.data);
  ck_assert_ptr_nonnull(strstr(b.data, "\"threads\":\"sleeper-*\""));
  pprofd__buf_free(&b);
  pprofd__snap_free(&s);

  pprofd__snap_init(&s);
  render(&s, 2, &b);
  regex_t rx;
  ck_assert_int_eq(regcomp(&rx,
                           "^thread [0-9]+ \"waiter\" \\[sleeping, futex"
                           "[^]]*\\]:\n(.*\n\t.*\n)*blocked_on_cond\\+0x"
                           "[0-9a-f]+\n\t/.*check_threads.c:[0-9]+$",
                           REG_EXTENDED | REG_NEWLINE),
                   0);
  ck_assert_msg(regexec(&rx, b.data, 0, NULL, 0) == 0, "%s", b.data);
  regfree(&rx);
  ck_assert_ptr_nonnull(strstr(b.data, "\"masked\" [sleeping, futex"));
  ck_assert_ptr_nonnull(strstr(b.data, "stack not captured"));
#ifdef PPROFD_ENABLE_INTERPOSE
  /* Each worker says who created it, where and in which thread (known
   * from the pthread_create wrapper, so only when interposing). */
  char want[128];
  snprintf(want, sizeof want, "\ncreated by start_workers in thread %d\n\t",
           (int)getpid());
  ck_assert_msg(strstr(b.data, want) != NULL, "%s", b.data);
#endif
  /* The requester's block comes first; blocks are separated by one blank
   * line and the dump does not end with one. */
  ck_assert(strncmp(b.data, "thread ", 7) == 0);
  ck_assert_ptr_nonnull(strstr(b.data, "test_profile_forms_fn+0x"));
  ck_assert(strstr(b.data, "test_profile_forms_fn+0x") <
            strstr(b.data, "\n\nthread "));
  ck_assert(b.data[b.len - 2] != '\n' || b.data[b.len - 3] != '\n');
  pprofd__buf_free(&b);
  pprofd__snap_free(&s);
  stop_workers();
}
END_TEST

static void *short_lived(void *arg) { return arg; }

static void *churn(void *arg) {
  while (!atomic_load(&stop)) {
    pthread_t th;
    if (pthread_create(&th, NULL, short_lived, NULL) == 0)
      pthread_join(th, NULL);
  }
  return arg;
}

START_TEST(test_dump_during_churn) {
  atomic_store(&stop, 0);
  pthread_t c[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&c[i], NULL, churn, NULL);
  for (int i = 0; i < 30; i++) {
    pprofd__thread *t;
    size_t n;
    int64_t t0 = mono_ms();
    ck_assert_int_eq(pprofd__threads_dump(&t, &n, 100, 0), 0);
    ck_assert_int_lt(mono_ms() - t0, 1500);
    ck_assert_uint_ge(n, 3);
    pprofd__ifree(t);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++)
    pthread_join(c[i], NULL);
}
END_TEST

#ifdef PPROFD_ENABLE_INTERPOSE
static void *idle_thread(void *arg) { return arg; }

/* Creates n threads from one call site and waits for them. */
__attribute__((noinline)) static void spawn_here(int n) {
  for (volatile int i = 0; i < n; i++) {
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, idle_thread, NULL), 0);
    pthread_join(th, NULL);
  }
}

START_TEST(test_threadcreate) {
  spawn_here(25);
  pprofd__snapshot s;
  ck_assert_int_eq(pprofd__threadreg_collect(&s), 0);
  ck_assert_str_eq(s.types[0].type, "threadcreate");
  int64_t here = 0, before = 0, total = 0;
  for (size_t i = 0; i < s.nsamples; i++) {
    total += s.samples[i].values[0];
    ck_assert_uint_gt(s.samples[i].nlocs, 0);
    if (sample_has(&s.samples[i], "spawn_here"))
      here += s.samples[i].values[0];
    if (sample_has(&s.samples[i], "pprofd_thread_created_before_pprofd"))
      before += s.samples[i].values[0];
  }
  ck_assert_int_eq(here, 25);  /* cumulative: they all exited */
  ck_assert_int_eq(before, 1); /* the main thread */
  ck_assert_int_eq(pprofd__threadreg_count(), total);
  pprofd__buf b;
  pprofd__buf_init(&b, 1 << 20);
  ck_assert_int_eq(pprofd__text_count_profile(&s, "threadcreate", &b), 0);
  pprofd__buf_putc(&b, '\0');
  ck_assert(strncmp(b.data, "threadcreate profile: total ", 28) == 0);
  ck_assert_ptr_nonnull(strstr(b.data, "\n25 @ 0x"));
  ck_assert_ptr_nonnull(strstr(b.data, "\tspawn_here+0x"));
  pprofd__buf_free(&b);
  pprofd__snap_free(&s);
}
END_TEST

/* Thousands of short-lived threads: the live table never fills. */
START_TEST(test_registry_bounded) {
  spawn_here(10000);
  pprofd__thread_origin o;
  ck_assert_int_eq(pprofd__threadreg_lookup(9999999, &o), -1);
  pprofd__snapshot s;
  ck_assert_int_eq(pprofd__threadreg_collect(&s), 0);
  int64_t total = 0;
  for (size_t i = 0; i < s.nsamples; i++)
    total += s.samples[i].values[0];
  ck_assert_int_eq(total, 10000 + 1);
  pprofd__snap_free(&s);
}
END_TEST

#endif

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

/* Holds `held` until the test ends, sleeping. */
static void *holder(void *arg) {
  pprofd__unwind_warm(1);
  pthread_mutex_lock(&held);
  while (!atomic_load(&stop)) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  pthread_mutex_unlock(&held);
  return arg;
}

/* Blocks on `held`, which the dump does not need. */
__attribute__((noinline)) static void *stuck_on_lock(void *arg) {
  pprofd__unwind_warm(1);
  pthread_mutex_lock(&held);
  pthread_mutex_unlock(&held);
  __asm__ volatile("" ::: "memory");
  return arg;
}

START_TEST(test_dump_with_stuck_lock) {
  atomic_store(&stop, 0);
  pthread_t h, s;
  ck_assert_int_eq(pthread_create(&h, NULL, holder, NULL), 0);
  usleep(50 * 1000);
  ck_assert_int_eq(pthread_create(&s, NULL, stuck_on_lock, NULL), 0);
  usleep(100 * 1000);
  pprofd__thread *t;
  size_t n;
  int64_t t0 = mono_ms();
  ck_assert_int_eq(pprofd__threads_dump(&t, &n, 200, PPROFD__DUMP_WCHAN), 0);
  ck_assert_int_lt(mono_ms() - t0, 1000);
  ck_assert_msg(n == 3, "%zu threads: %d %s [%s], %d %s [%s]", n, t[0].tid,
                t[0].name, t[0].state, n > 1 ? t[1].tid : 0,
                n > 1 ? t[1].name : "", n > 1 ? t[1].state : "");
  int found = 0;
  for (size_t i = 0; i < n; i++)
    if (on_stack(&t[i], "stuck_on_lock")) {
      ck_assert_str_eq(t[i].syscall, "futex");
      found = 1;
    }
  ck_assert(found);
  pprofd__ifree(t);
  atomic_store(&stop, 1);
  pthread_join(h, NULL);
  pthread_join(s, NULL);
}
END_TEST

START_TEST(test_count) {
  start_workers();
  ck_assert_int_eq(pprofd__threads_count(), NW + 1);
  ck_assert_ptr_null(pprofd__threads_unavailable());
  stop_workers();
}
END_TEST

/* ---- threads blocked in various system calls, never warmed ---- */

/* Every blocking call below is interrupted by the dump's signal: calls
 * the kernel does not restart (poll, epoll_wait, sigtimedwait) return
 * EINTR, as they do for any signal with a handler, and are retried. The
 * timeouts (a second) let the test stop them. */
static int pipefd[2] = {-1, -1};
static int listenfd = -1, epfd = -1;
static sigset_t waitset;

__attribute__((noinline)) static void blocked_in_read(void) {
  char c;
  while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
    ;
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void blocked_in_poll(void) {
  struct pollfd p = {pipefd[0], POLLIN, 0};
  while (!atomic_load(&stop))
    (void)poll(&p, 1, 1000);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void blocked_in_epoll(void) {
  struct epoll_event ev;
  while (!atomic_load(&stop))
    (void)epoll_wait(epfd, &ev, 1, 1000);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void blocked_in_accept(void) {
  int fd;
  while ((fd = accept(listenfd, NULL, NULL)) < 0 && errno == EINTR)
    ;
  if (fd >= 0)
    close(fd);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void blocked_in_sigwait(void) {
  pthread_sigmask(SIG_BLOCK, &waitset, NULL);
  struct timespec ts = {1, 0};
  while (!atomic_load(&stop))
    (void)sigtimedwait(&waitset, NULL, &ts);
  __asm__ volatile("" ::: "memory");
}

/* A thread in a system call, by name: what the dump must say of it. */
typedef struct sys_worker {
  const char *name;
  void (*fn)(void);
  const char *func;    /* on its stack */
  const char *syscall; /* the system call it waits in */
  pthread_t th;
} sys_worker;

static sys_worker sys_workers[] = {
    {"reader", blocked_in_read, "blocked_in_read", "read", 0},
    {"poller", blocked_in_poll, "blocked_in_poll", "poll", 0},
    {"epoller", blocked_in_epoll, "blocked_in_epoll", "epoll_wait", 0},
    {"acceptor", blocked_in_accept, "blocked_in_accept", "accept", 0},
    {"sigwaiter", blocked_in_sigwait, "blocked_in_sigwait", "rt_sigtimedwait",
     0},
    {"napper", blocked_in_sleep, "blocked_in_sleep", "clock_nanosleep", 0},
    {"condwaiter", blocked_on_cond, "blocked_on_cond", "futex", 0},
};
enum { NSYS = sizeof sys_workers / sizeof sys_workers[0] };

/* Names itself and blocks; not warmed for the unwinder, unlike run():
 * dumps walk copies of stacks on the requesting thread and need no
 * help from the thread itself. */
static void *run_cold(void *arg) {
  sys_worker *w = arg;
  pthread_setname_np(pthread_self(), w->name);
  w->fn();
  return NULL;
}

static void start_sys_workers(void) {
  atomic_store(&stop, 0);
  ck_assert_int_eq(pipe(pipefd), 0);
  listenfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ck_assert_int_eq(bind(listenfd, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(listenfd, 1), 0);
  epfd = epoll_create1(0);
  ck_assert_int_ge(epfd, 0);
  sigemptyset(&waitset);
  sigaddset(&waitset, SIGUSR2);
  for (int i = 0; i < NSYS; i++)
    pthread_create(&sys_workers[i].th, NULL, run_cold, &sys_workers[i]);
  usleep(300 * 1000);
}

static void stop_sys_workers(void) {
  atomic_store(&stop, 1);
  pthread_mutex_lock(&mu);
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  ck_assert_int_eq(write(pipefd[1], "x", 1), 1); /* the reader */
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  ck_assert_int_eq(getsockname(listenfd, (struct sockaddr *)&a, &alen), 0);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, alen), 0); /* acceptor */
  /* The others time out within a second and see `stop`. */
  for (int i = 0; i < NSYS; i++)
    pthread_join(sys_workers[i].th, NULL);
  close(fd);
  close(pipefd[0]);
  close(pipefd[1]);
  close(listenfd);
  close(epfd);
}

/* The label key's value on a snapshot sample, or NULL. */
static const char *label(const pprofd__sample *smp, const char *key) {
  for (uint32_t j = 0; j < smp->nlabels; j++)
    if (strcmp(smp->labels[j].key, key) == 0)
      return smp->labels[j].str;
  return NULL;
}

START_TEST(test_syscalls_every_form) {
  start_sys_workers();
  /* The struct: state, system call and blocking function of each. */
  pprofd__thread *t;
  size_t n;
  ck_assert_int_eq(pprofd__threads_dump(&t, &n, 500, PPROFD__DUMP_WCHAN), 0);
  ck_assert_uint_eq(n, NSYS + 1);
  for (int i = 0; i < NSYS; i++) {
    const pprofd__thread *x = find(t, n, sys_workers[i].name);
    ck_assert_msg(x->captured, "%s not captured", x->name);
    ck_assert_str_eq(x->state, "sleeping");
    ck_assert_msg(strcmp(x->syscall, sys_workers[i].syscall) == 0,
                  "%s: in %s, not %s", x->name, x->syscall,
                  sys_workers[i].syscall);
    ck_assert_msg(on_stack(x, sys_workers[i].func), "%s: no %s", x->name,
                  sys_workers[i].func);
    if (partial_ok(x))
      continue;
    ck_assert_msg(on_stack(x, "run_cold"), "%s: stack cut short", x->name);
    ck_assert_int_eq(x->truncated, 0);
  }
  pprofd__ifree(t);

  /* The proto's samples: each thread alone in its group, labelled with
   * its name, state and system call. */
  pprofd__snapshot s;
  ck_assert_int_eq(pprofd__threads_collect(&s), 0);
  int seen = 0;
  for (size_t i = 0; i < s.nsamples; i++) {
    const char *name = label(&s.samples[i], "threads");
    for (int k = 0; name != NULL && k < NSYS; k++) {
      if (strcmp(name, sys_workers[k].name) != 0)
        continue;
      seen++;
      ck_assert_int_eq(s.samples[i].values[0], 1);
      ck_assert_str_eq(label(&s.samples[i], "state"), "sleeping");
      ck_assert_str_eq(label(&s.samples[i], "syscall"), sys_workers[k].syscall);
      ck_assert(sample_has(&s.samples[i], sys_workers[k].func));
    }
  }
  ck_assert_int_eq(seen, NSYS);

  /* debug=1: Go's count text, one group per thread here. */
  pprofd__buf b;
  render(&s, 1, &b);
  ck_assert_msg(strncmp(b.data, "goroutine profile: total 8\n", 27) == 0, "%s",
                b.data);
  ck_assert_ptr_nonnull(strstr(b.data, "\"threads\":\"acceptor\""));
  ck_assert_ptr_nonnull(strstr(b.data, "blocked_in_accept+0x"));
  pprofd__buf_free(&b);
  pprofd__snap_free(&s);

  /* debug=2: each block's header and its blocking function. */
  pprofd__snap_init(&s);
  render(&s, 2, &b);
  for (int i = 0; i < NSYS; i++) {
    char pat[256];
    snprintf(pat, sizeof pat,
             "^thread [0-9]+ \"%s\" \\[sleeping, %s[],][^\n]*:\n"
             "(.*\n\t.*\n)*%s\\+0x[0-9a-f]+\n\t/.*check_threads.c:[0-9]+$",
             sys_workers[i].name, sys_workers[i].syscall, sys_workers[i].func);
    regex_t rx;
    ck_assert_int_eq(regcomp(&rx, pat, REG_EXTENDED | REG_NEWLINE), 0);
    ck_assert_msg(regexec(&rx, b.data, 0, NULL, 0) == 0, "%s:\n%s",
                  sys_workers[i].name, b.data);
    regfree(&rx);
  }
  pprofd__buf_free(&b);
  pprofd__snap_free(&s);
  stop_sys_workers();
}
END_TEST

/* The handlers never wait for the unwinder: with it held elsewhere for
 * the whole dump (as a long walk on another thread would), every thread
 * still answers at once with its whole stack. */
START_TEST(test_dump_while_unwinder_busy) {
  start_sys_workers();
  pprofd__unwind_prefork(); /* takes the unwinder's flag */
  pprofd__thread *t;
  size_t n;
  int64_t took = timed_dump(&t, &n);
  pprofd__unwind_postfork_parent();
  ck_assert_int_lt(took, 500); /* nobody timed out */
  for (int i = 0; i < NSYS; i++) {
    const pprofd__thread *x = find(t, n, sys_workers[i].name);
    ck_assert(x->captured);
    ck_assert(on_stack(x, sys_workers[i].func));
    ck_assert(partial_ok(x) || on_stack(x, "run_cold"));
  }
  pprofd__ifree(t);
  stop_sys_workers();
}
END_TEST

/* A process that cannot open /proc/self/mem. */
static int no_mem(void) {
  errno = EACCES;
  return -1;
}

/* Without /proc/self/mem, handlers copy their registers alone: every
 * thread is still listed and answers, with its PC as its one frame,
 * marked as not walked. */
START_TEST(test_dump_without_proc_mem) {
  pprofd__stackcopy_open_mem = no_mem;
  start_sys_workers();
  pprofd__thread *t;
  size_t n;
  ck_assert_int_eq(pprofd__threads_dump(&t, &n, 500, 0), 0);
  ck_assert_uint_eq(n, NSYS + 1);
  for (int i = 0; i < NSYS; i++) {
    const pprofd__thread *x = find(t, n, sys_workers[i].name);
    ck_assert(x->captured);
    ck_assert_int_eq(x->nlocs, 1);
    ck_assert_int_eq(x->truncated, PPROFD__UNWIND_INCOMPLETE);
    ck_assert_str_eq(x->syscall, sys_workers[i].syscall);
  }
  pprofd__ifree(t);
  pprofd__buf b;
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  render(&s, 2, &b);
  ck_assert_ptr_nonnull(strstr(b.data, "...stack not walked past its PC..."));
  pprofd__buf_free(&b);
  pprofd__snap_free(&s);
  stop_sys_workers();
}
END_TEST

/* A thread interrupted inside a signal handler of its own: the walk
 * crosses the signal frame, the interrupted function's PC exact and its
 * callers' return addresses - 1, so each symbolizes to its own
 * function. */
static atomic_int in_handler;

static void parked_handler(int sig) {
  (void)sig;
  atomic_store(&in_handler, 1);
  blocked_in_futex();                /* restartable: the dump signals it */
  __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
}

__attribute__((noinline)) static void interrupted_here(void) {
  while (!atomic_load(&in_handler))
    spins++;
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void calls_interrupted(void) {
  interrupted_here();
  __asm__ volatile("" ::: "memory");
}

static void *interrupted_thread(void *arg) {
  pthread_setname_np(pthread_self(), "in-handler");
  calls_interrupted();
  return arg;
}

START_TEST(test_walk_through_signal_frame) {
  atomic_store(&stop, 0);
  struct sigaction sa = {0};
  sa.sa_handler = parked_handler;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t th;
  pthread_create(&th, NULL, interrupted_thread, NULL);
  usleep(50 * 1000);
  pthread_kill(th, SIGUSR1);
  pprofd__thread *t;
  size_t n;
  const pprofd__thread *x = dump_when(&in_handler, &t, &n, "in-handler");
  pprofd__symctx *sym;
  ck_assert_int_eq(pprofd__sym_begin(&sym), 0);
  /* The order on the stack: the handler, the trampoline (its location
   * exact: one byte less is in the function before it), then
   * interrupted_here, calls_interrupted and interrupted_thread, each
   * location inside its own function. */
  const char *want[] = {"parked_handler", "__restore_rt", "interrupted_here",
                        "calls_interrupted", "interrupted_thread"};
  size_t k = 0;
  for (int i = 0; i < x->nlocs && k < 5; i++) {
    pprofd__symres r;
    pprofd__sym_lookup(sym, x->locs[i], &r);
    const char *name = r.nframes > 0 ? r.frames[r.nframes - 1].name : r.symbol;
    if (same_func(name, want[k]))
      k++;
  }
  pprofd__sym_end(sym);
  ck_assert_msg(k == 5, "only %zu of the frames in order", k);
  pprofd__ifree(t);
  atomic_store(&stop, 1);
  wake_futex();
  pthread_join(th, NULL);
}
END_TEST

/* ---- a thread wedged inside the loader ---- */

static atomic_int wedged;

/* A dl_iterate_phdr callback that waits until the test ends: its thread
 * holds the loader's lock all that time, as one deadlocked in a library
 * constructor would. */
__attribute__((noinline)) static int wedge_in_loader(struct dl_phdr_info *info,
                                                     size_t size, void *arg) {
  (void)info, (void)size, (void)arg;
  atomic_store(&wedged, 1);
  blocked_in_futex();
  return 1;
}

static void *loader_wedger(void *arg) {
  pthread_setname_np(pthread_self(), "in-loader");
  dl_iterate_phdr(wedge_in_loader, NULL);
  return arg;
}

/* Dumps need no loader lock: with it held by a wedged thread the dump
 * still returns at once, every stack walked, the wedged one included. */
START_TEST(test_dump_with_loader_wedged) {
  ck_assert_ptr_null(pprofd__stackcopy_init()); /* as pprofd_start does */
  start_workers();
  pthread_t th;
  pthread_create(&th, NULL, loader_wedger, NULL);
  while (!atomic_load(&wedged))
    usleep(1000);
  usleep(20 * 1000);
  pprofd__thread *t;
  size_t n;
  int64_t took = timed_dump(&t, &n);
  /* Unwedged before anything else, since the test's own symbolizing
   * allocates, and the heap sampler's unwinder needs the loader lock. */
  stop_workers();
  pthread_join(th, NULL);
  ck_assert_int_lt(took, 1500);
  ck_assert(t[0].self && t[0].captured);
  ck_assert(on_stack(&t[0], "test_dump_with_loader_wedged_fn"));
  const pprofd__thread *x = find(t, n, "in-loader");
  ck_assert(x->captured);
  ck_assert(on_stack(x, "wedge_in_loader"));
  ck_assert(on_stack(x, "loader_wedger"));
  ck_assert(on_stack(find(t, n, "waiter"), "blocked_on_cond"));
  pprofd__ifree(t);
}
END_TEST

/* ---- renamed threads ---- */

static atomic_int renamed_ready;

static void *renames_itself(void *arg) {
  prctl(PR_SET_NAME, "via-prctl", 0, 0, 0);
  atomic_fetch_add(&renamed_ready, 1);
  blocked_in_futex();
  return arg;
}

static void *named_later(void *arg) {
  atomic_fetch_add(&renamed_ready, 1);
  blocked_in_futex();
  return arg;
}

START_TEST(test_renamed_threads) {
  atomic_store(&stop, 0);
  pthread_t a, b, c;
  pthread_create(&a, NULL, renames_itself, NULL);
  pthread_create(&b, NULL, named_later, NULL);
  pthread_create(&c, NULL, named_later, NULL);
  while (atomic_load(&renamed_ready) < 3)
    usleep(1000);
  ck_assert_int_eq(pthread_setname_np(b, "first-name"), 0);
  ck_assert_int_eq(pthread_setname_np(b, "via-setname"), 0);
  /* A name with a space and a parenthesis, written through /proc. */
  char path[64];
  pid_t ctid = 0;
  pprofd__thread *t;
  size_t n;
  ck_assert_int_eq(pprofd__threads_dump(&t, &n, 500, 0), 0);
  for (size_t i = 0; i < n; i++)
    if (!t[i].self && strcmp(t[i].name, "via-prctl") != 0 &&
        strcmp(t[i].name, "via-setname") != 0)
      ctid = t[i].tid;
  pprofd__ifree(t);
  ck_assert_int_ne(ctid, 0);
  snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)ctid);
  int fd = open(path, O_WRONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "odd) name", 9), 9);
  close(fd);

  ck_assert_int_eq(pprofd__threads_dump(&t, &n, 500, 0), 0);
  ck_assert_uint_eq(n, 4);
  const pprofd__thread *x = find(t, n, "via-prctl");
  ck_assert(x->captured && on_stack(x, "renames_itself"));
  x = find(t, n, "via-setname");
  ck_assert(x->captured && on_stack(x, "named_later"));
  x = find(t, n, "odd) name");
  ck_assert_int_eq(x->tid, ctid);
  ck_assert_str_eq(x->state, "sleeping"); /* parsed past the ')' */
  ck_assert_str_eq(x->syscall, "futex");
  pprofd__ifree(t);
  atomic_store(&stop, 1);
  wake_futex();
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  pthread_join(c, NULL);
}
END_TEST

/* ---- a stack deeper than the copied window ---- */

static atomic_int deep_ready;

/* Recurses with 8 KiB frames: 48 of them are 384 KiB, more than a copy
 * takes (256 KiB). */
__attribute__((noinline)) static int deep_frames(int depth) {
  volatile char pad[8192];
  pad[0] = (char)depth;
  if (depth > 0)
    return deep_frames(depth - 1) + pad[0];
  atomic_store(&deep_ready, 1);
  blocked_in_futex();
  return pad[0];
}

static void *deep_thread(void *arg) {
  pthread_setname_np(pthread_self(), "deep");
  (void)deep_frames(48);
  return arg;
}

START_TEST(test_stack_deeper_than_window) {
  atomic_store(&stop, 0);
  pthread_t th;
  pthread_create(&th, NULL, deep_thread, NULL);
  pprofd__thread *t;
  size_t n;
  const pprofd__thread *x = dump_when(&deep_ready, &t, &n, "deep");
  ck_assert(on_stack(x, "deep_frames"));
  /* Walked as far as the copy goes, then marked as cut. */
  ck_assert_int_ge(x->nlocs, 20);
  ck_assert_int_lt(x->nlocs, 48);
  ck_assert_int_eq(x->truncated, 1);
  ck_assert(!on_stack(x, "deep_thread"));
  pprofd__ifree(t);
  pprofd__buf b;
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  render(&s, 2, &b);
  ck_assert_ptr_nonnull(strstr(b.data, "...additional frames elided...\n"));
  pprofd__buf_free(&b);
  pprofd__snap_free(&s);
  atomic_store(&stop, 1);
  wake_futex();
  pthread_join(th, NULL);
}
END_TEST

/* ---- a stopped thread ---- */

/* A tracer process stops one of our threads (ptrace's group-stop-free
 * PTRACE_INTERRUPT), which then cannot run the dump's handler: the dump
 * still returns within its timeout and lists it from /proc. Where ptrace
 * is not permitted (a sandbox), the test says so and passes. */
START_TEST(test_stopped_thread) {
  atomic_store(&stop, 0);
  pthread_t th;
  worker w = {"stopped", blocked_in_futex, 0};
  pthread_create(&th, NULL, run, &w);
  usleep(100 * 1000);
  pprofd__thread *t;
  size_t n;
  ck_assert_int_eq(pprofd__threads_dump(&t, &n, 500, 0), 0);
  pid_t tid = find(t, n, "stopped")->tid;
  pprofd__ifree(t);
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  int up[2], down[2];
  ck_assert_int_eq(pipe(up), 0);
  ck_assert_int_eq(pipe(down), 0);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    char ok = 'n', c;
    int st;
    if (ptrace(PTRACE_SEIZE, tid, 0, 0) == 0 &&
        ptrace(PTRACE_INTERRUPT, tid, 0, 0) == 0 &&
        waitpid(tid, &st, __WALL) == tid)
      ok = 'y';
    (void)!write(up[1], &ok, 1);
    (void)!read(down[0], &c, 1); /* until the dump is done */
    _exit(0);                    /* detaches: the thread runs on */
  }
  char ok = 'n';
  ck_assert_int_eq(read(up[0], &ok, 1), 1);
  if (ok != 'y') {
    fprintf(stderr, "test_stopped_thread: ptrace not permitted here, "
                    "stopped threads not checked\n");
  } else {
    int64_t t0 = mono_ms();
    ck_assert_int_eq(pprofd__threads_dump(&t, &n, 300, 0), 0);
    ck_assert_int_lt(mono_ms() - t0, 1500);
    const pprofd__thread *x = find(t, n, "stopped");
    ck_assert_str_eq(x->state, "tracing stop");
    ck_assert(!x->captured);
    ck_assert(t[0].self && t[0].captured);
    pprofd__ifree(t);
  }
  ck_assert_int_eq(write(down[1], "x", 1), 1);
  waitpid(child, NULL, 0);
  /* Running again: its late signal finds no dump and does nothing. */
  usleep(50 * 1000);
  ck_assert_int_eq(pprofd__threads_dump(&t, &n, 500, 0), 0);
  ck_assert(find(t, n, "stopped")->captured);
  pprofd__ifree(t);
  atomic_store(&stop, 1);
  wake_futex();
  pthread_join(th, NULL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("threads");
  TCase *tc = tcase_create("dump");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_dump_known_threads);
  tcase_add_test(tc, test_profile_forms);
  tcase_add_test(tc, test_dump_during_churn);
  tcase_add_test(tc, test_count);
  tcase_add_test(tc, test_dump_with_stuck_lock);
  tcase_add_test(tc, test_syscalls_every_form);
  tcase_add_test(tc, test_dump_while_unwinder_busy);
  tcase_add_test(tc, test_renamed_threads);
  tcase_add_test(tc, test_stack_deeper_than_window);
  tcase_add_test(tc, test_stopped_thread);
  tcase_add_test(tc, test_dump_without_proc_mem);
  tcase_add_test(tc, test_walk_through_signal_frame);
  tcase_add_test(tc, test_dump_with_loader_wedged);
#ifdef PPROFD_ENABLE_INTERPOSE
  tcase_add_test(tc, test_threadcreate);
  tcase_add_test(tc, test_registry_bounded);
#endif
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
