/*
 * check_threads.c - thread dumps: named threads blocked at known points,
 * a thread with every signal blocked, threads coming and going during a
 * dump, and the goroutine profile's proto, text and debug=2 forms.
 */
#define _GNU_SOURCE
#include "capture/unwind.h"
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../check_run.h"
#include "capture/threadreg.h"
#include "core/ialloc.h"
#include "encode/text.h"
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

__attribute__((noinline)) static void masked_sleeper(void) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  blocked_in_sleep();
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
    {"masked", masked_sleeper, 0},
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

/* Whether fn is one of the functions on t's stack. */
static int on_stack(const pprofd__thread *t, const char *fn) {
  pprofd__symctx *sym;
  ck_assert_int_eq(pprofd__sym_begin(&sym), 0);
  int hit = 0;
  for (int i = 0; i < t->nlocs && !hit; i++) {
    pprofd__symres r;
    pprofd__sym_lookup(sym, t->locs[i], &r);
    for (int j = 0; j < r.nframes; j++)
      hit |= strcmp(r.frames[j].name, fn) == 0;
  }
  pprofd__sym_end(sym);
  return hit;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
  ck_assert(on_stack(s1, "run"));
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
  ck_assert_str_eq(m->syscall, "clock_nanosleep");
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
  pprofd__buf_init(&b, 1 << 20);
  ck_assert_int_eq(pprofd__threads_write_text(&s, 1, &b), 0);
  pprofd__buf_putc(&b, '\0');
  ck_assert(strncmp(b.data, "goroutine profile: total 6\n", 27) == 0);
  ck_assert_msg(strstr(b.data, "\n2 @ 0x") != NULL, "%s", b.data);
  ck_assert_ptr_nonnull(strstr(b.data, "\"threads\":\"sleeper-*\""));
  pprofd__buf_free(&b);
  pprofd__snap_free(&s);

  pprofd__buf_init(&b, 1 << 20);
  pprofd__snap_init(&s);
  ck_assert_int_eq(pprofd__threads_write_text(&s, 2, &b), 0);
  pprofd__buf_putc(&b, '\0');
  regex_t rx;
  ck_assert_int_eq(regcomp(&rx,
                           "^thread [0-9]+ \"waiter\" \\[sleeping, futex"
                           "[^]]*\\]:\n(.*\n\t.*\n)*blocked_on_cond\\+0x"
                           "[0-9a-f]+\n\t/.*check_threads.c:[0-9]+$",
                           REG_EXTENDED | REG_NEWLINE),
                   0);
  ck_assert_msg(regexec(&rx, b.data, 0, NULL, 0) == 0, "%s", b.data);
  regfree(&rx);
  ck_assert_ptr_nonnull(strstr(b.data, "\"masked\" [sleeping, "
                                       "clock_nanosleep"));
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

/* Whether fn is on a snapshot sample's stack. */
static int sample_has(const pprofd__sample *smp, const char *fn) {
  pprofd__symctx *sym;
  ck_assert_int_eq(pprofd__sym_begin(&sym), 0);
  int hit = 0;
  for (uint32_t i = 0; i < smp->nlocs && !hit; i++) {
    pprofd__symres r;
    pprofd__sym_lookup(sym, smp->locs[i], &r);
    for (int j = 0; j < r.nframes; j++)
      hit |= strcmp(r.frames[j].name, fn) == 0;
  }
  pprofd__sym_end(sym);
  return hit;
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
  pthread_create(&h, NULL, holder, NULL);
  usleep(50 * 1000);
  pthread_create(&s, NULL, stuck_on_lock, NULL);
  usleep(100 * 1000);
  pprofd__thread *t;
  size_t n;
  int64_t t0 = mono_ms();
  ck_assert_int_eq(pprofd__threads_dump(&t, &n, 200, PPROFD__DUMP_WCHAN), 0);
  ck_assert_int_lt(mono_ms() - t0, 1000);
  ck_assert_uint_eq(n, 3);
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

int main(void) {
  Suite *s = suite_create("threads");
  TCase *tc = tcase_create("dump");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_dump_known_threads);
  tcase_add_test(tc, test_profile_forms);
  tcase_add_test(tc, test_dump_during_churn);
  tcase_add_test(tc, test_count);
  tcase_add_test(tc, test_dump_with_stuck_lock);
#ifdef PPROFD_ENABLE_INTERPOSE
  tcase_add_test(tc, test_threadcreate);
  tcase_add_test(tc, test_registry_bounded);
#endif
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
