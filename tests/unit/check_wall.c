/*
 * check_wall.c - the wall-clock profile: a thread that burns 30 % of its
 * time and sleeps 70 % shows that split; a thread blocked on a pipe read
 * shows state=syscall with read at its leaf; an idle thread's stack is
 * walked once and then reused; sleepers are never cut short.
 */
#define _GNU_SOURCE
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../check_frames.h"
#include "../check_run.h"
#include "model/snapshot.h"
#include "pprofd.h"
#include "sample/labels.h"
#include "sample/wall.h"
#include "symbol/symbolize.h"

static atomic_int stop;
static volatile unsigned long sink;

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The recorder's wait: a plain sleep. */
static int sleep_wait(void *arg, double seconds) {
  (void)arg;
  struct timespec ts = {(time_t)seconds,
                        (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
  return 0;
}

__attribute__((noinline)) static void burn_for(int64_t ns) {
  int64_t end = mono_ns() + ns;
  while (mono_ns() < end)
    sink++;
  __asm__ volatile("" ::: "memory");
}

static atomic_long early;

__attribute__((noinline)) static void nap_for(int64_t ns) {
  struct timespec ts = {0, (long)ns};
  int64_t t0 = mono_ns();
  if (nanosleep(&ts, NULL) != 0 || mono_ns() - t0 < ns)
    atomic_fetch_add(&early, 1);
  __asm__ volatile("" ::: "memory");
}

/* The split as the thread itself measures it while the recording runs
 * (on a loaded machine its sleeps last longer than asked, waiting for a
 * CPU: the truth to compare with is what happened). */
static atomic_int recording;
static atomic_llong burn_ns, nap_ns;

/* 30 ms of CPU, 70 ms asleep, over and over. */
static void *splitter(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "split");
  const char *kv[2] = {"role", "splitter"};
  ck_assert_int_eq(pprofd__labels_set(kv, 1), 0);
  while (!atomic_load(&stop)) {
    int64_t t0 = mono_ns();
    burn_for(30 * 1000000LL);
    int64_t t1 = mono_ns();
    nap_for(70 * 1000000LL);
    int64_t t2 = mono_ns();
    if (atomic_load(&recording)) {
      atomic_fetch_add(&burn_ns, t1 - t0);
      atomic_fetch_add(&nap_ns, t2 - t1);
    }
  }
  return NULL;
}

static int pipefd[2];

__attribute__((noinline)) static void read_pipe(void) {
  char c;
  while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
    ;
  __asm__ volatile("" ::: "memory");
}

static void *reader(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "reader");
  read_pipe();
  return NULL;
}

/* One long sleep: its stack never changes. */
__attribute__((noinline)) static void long_nap(void) {
  while (!atomic_load(&stop)) {
    struct timespec ts = {10, 0};
    nanosleep(&ts, NULL);
  }
  __asm__ volatile("" ::: "memory");
}

static void *napper(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "napper");
  long_nap();
  return NULL;
}

static void on_urg(int sig) { (void)sig; }

static const char *label(const pprofd__sample *s, const char *key) {
  for (uint32_t i = 0; i < s->nlabels; i++)
    if (strcmp(s->labels[i].key, key) == 0)
      return s->labels[i].str;
  return NULL;
}

START_TEST(test_wall_split_and_states) {
  atomic_store(&stop, 0);
  atomic_store(&early, 0);
  ck_assert_int_eq(pipe(pipefd), 0);
  pthread_t ts, tr, tn;
  pthread_create(&ts, NULL, splitter, NULL);
  pthread_create(&tr, NULL, reader, NULL);
  pthread_create(&tn, NULL, napper, NULL);
  usleep(100 * 1000);
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  pprofd__wall_stats st;
  atomic_store(&recording, 1);
  ck_assert_int_eq(pprofd__wall_record(3.0, 100, sleep_wait, NULL, &s, &st), 0);
  atomic_store(&recording, 0);
  atomic_store(&stop, 1);
  ck_assert_int_eq(write(pipefd[1], "x", 1), 1);
  pthread_join(ts, NULL);
  pthread_join(tr, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_urg; /* no SA_RESTART: ends the long nap */
  sigaction(SIGURG, &sa, NULL);
  pthread_kill(tn, SIGURG);
  pthread_join(tn, NULL);
  close(pipefd[0]);
  close(pipefd[1]);

  ck_assert_int_eq(s.ntypes, 2);
  ck_assert_str_eq(s.types[0].type, "samples");
  ck_assert_str_eq(s.types[1].type, "wall");
  ck_assert_str_eq(s.types[1].unit, "nanoseconds");
  ck_assert_int_eq(s.period, 10000000);
  fprintf(stderr,
          "wall: %lld ticks (%lld missed), %lld observations, %lld walks, "
          "%lld signalled, %lld not reached, %lld no answer\n",
          (long long)st.ticks, (long long)st.missed, (long long)st.observations,
          (long long)st.walks, (long long)st.signalled,
          (long long)st.not_reached, (long long)st.no_answer);
  ck_assert_int_ge(st.ticks + st.missed, 290);

  /* Blocked threads keep full stacks through their wrappers; a build
   * without interposition (the sanitizer builds) walks them from the
   * kernel's SP and PC, as far as those allow. */
#ifdef PPROFD_ENABLE_INTERPOSE
  const int full_stacks = 1;
#else
  const int full_stacks = 0;
#endif
  pprofd__symctx *sym;
  ck_assert_int_eq(pprofd__sym_begin(&sym), 0);
  int64_t nap_full = 0, burn = 0, nap = 0, split_total = 0, reader_ticks = 0;
  int64_t napper_ticks = 0;
  for (size_t i = 0; i < s.nsamples; i++) {
    const pprofd__sample *x = &s.samples[i];
    const char *th = label(x, "thread"), *state = label(x, "state");
    ck_assert_ptr_nonnull(th);
    ck_assert_ptr_nonnull(state);
    ck_assert_int_eq(x->values[1], x->values[0] * s.period);
    if (strcmp(th, "split") == 0) {
      ck_assert_str_eq(label(x, "role"), "splitter");
      split_total += x->values[1];
      /* A tick may catch it running inside nap_for, before or after its
       * sleep: that counts as neither. */
      if (locs_have_frame(sym, x->locs, x->nlocs, "burn_for"))
        ck_assert_str_eq(state, "running");
      /* Running, whether its handler answered (in burn_for) or no CPU
       * ran it in time (runnable on a loaded machine: no stack). */
      if (strcmp(state, "running") == 0) {
        burn += x->values[1];
      } else if (strcmp(state, "sleep") == 0) {
        /* From the wrapper's context, unless a tick raced the call's
         * end and read it from the kernel instead. */
        nap_full += locs_have_frame(sym, x->locs, x->nlocs, "nap_for")
                        ? x->values[1]
                        : 0;
        nap += x->values[1];
      }
    } else if (strcmp(th, "reader") == 0) {
      ck_assert_str_eq(state, "syscall");
      ck_assert_str_eq(label(x, "syscall"), "read");
      ck_assert(full_stacks == 0 ||
                locs_have_frame(sym, x->locs, x->nlocs, "read_pipe"));
      pprofd__symres r;
      pprofd__sym_lookup(sym, x->locs[0], &r);
      const char *leaf = r.nframes > 0 ? r.frames[0].name : r.symbol;
      ck_assert_msg(strstr(leaf, "read") != NULL, "leaf %s", leaf);
      reader_ticks += x->values[0];
    } else if (strcmp(th, "napper") == 0) {
      ck_assert_str_eq(state, "sleep");
      ck_assert(full_stacks == 0 ||
                locs_have_frame(sym, x->locs, x->nlocs, "long_nap"));
      napper_ticks += x->values[0];
    }
  }
  pprofd__sym_end(sym);
  double pb = 100.0 * (double)burn / (double)split_total;
  double pn = 100.0 * (double)nap / (double)split_total;
  double tb = 100.0 * (double)atomic_load(&burn_ns) /
              (double)(atomic_load(&burn_ns) + atomic_load(&nap_ns));
  fprintf(stderr,
          "split: burn %.1f%%, sleep %.1f%% of %.2f s; the thread measured "
          "%.1f%% burning\n",
          pb, pn, (double)split_total / 1e9, tb);
  ck_assert_msg(pb > tb - 3 && pb < tb + 3, "burn %.1f%% vs %.1f%%", pb, tb);
  ck_assert_msg(pn > 100 - tb - 3 && pn < 100 - tb + 3, "sleep %.1f%%", pn);
  ck_assert(full_stacks == 0 || nap_full * 20 >= nap * 19);
  ck_assert_int_ge(reader_ticks, st.ticks - 10);
  ck_assert_int_ge(napper_ticks, st.ticks - 10);
  /* Idle stacks are reused: far fewer walks than observations. */
  ck_assert_int_lt(st.walks * 4, st.observations);
#ifdef PPROFD_ENABLE_INTERPOSE
  /* The wrapped sleep restarts if a tick's signal ever reached it. */
  ck_assert_int_eq(atomic_load(&early), 0);
#endif
  pprofd__snap_free(&s);
}
END_TEST

/* Bad arguments change nothing. */
START_TEST(test_wall_bad_args) {
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  ck_assert_int_eq(pprofd__wall_record(1, 0, sleep_wait, NULL, &s, NULL),
                   PPROFD_EINVAL);
  ck_assert_int_eq(pprofd__wall_record(1, PPROFD__WALL_HZ_MAX + 1, sleep_wait,
                                       NULL, &s, NULL),
                   PPROFD_EINVAL);
  ck_assert_int_eq(pprofd__wall_record(0, 50, sleep_wait, NULL, &s, NULL),
                   PPROFD_EINVAL);
  ck_assert_uint_eq(s.nsamples, 0);
  pprofd__snap_free(&s);
}
END_TEST

static int stop_at_once(void *arg, double seconds) {
  (void)arg, (void)seconds;
  return 1;
}

/* A client that leaves ends the recording early, which reports it. */
START_TEST(test_wall_stopped_early) {
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  ck_assert_int_eq(pprofd__wall_record(5, 50, stop_at_once, NULL, &s, NULL), 1);
  pprofd__snap_free(&s);
}
END_TEST

int main(void) {
  Suite *su = suite_create("wall");
  TCase *tc = tcase_create("wall");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_wall_split_and_states);
  tcase_add_test(tc, test_wall_bad_args);
  tcase_add_test(tc, test_wall_stopped_early);
  suite_add_tcase(su, tc);
  return pprofd_check_run(su);
}
