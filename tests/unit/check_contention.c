/*
 * check_contention.c - the block and mutex profiles and the interposed
 * pthread family, in this very process (the test binary links the
 * library, so its pthread_mutex_lock is pprofd's): nothing recorded when
 * off, a known workload's delays attributed to the holder (mutex) and the
 * waiters (block) within bounds, rwlocks, condition variables,
 * semaphores, barriers, joins, spin locks and C++'s std:: types, Go's
 * text layout, the proto, and stress with many threads and mutexes
 * destroyed and reused at one address, and fork.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "encode/text.h"
#include "pprofd.h"
#include "sample/contention.h"
#include "symbol/symbolize.h"

#include "../check_frames.h"
#include "../check_proto.h"
#include "../check_run.h"

void cxx_contend(int ms);

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static void collect(enum pprofd__contention_kind k, pprofd__snapshot *s) {
  pprofd__snap_init(s);
  ck_assert_int_eq(pprofd__contention_collect(k, s), 0);
}

/* Sums [count, delay] of the samples whose leaf (depth 1) or any of the
 * first `depth` frames is fn; *total gets the whole profile's delay. */
static void site(enum pprofd__contention_kind k, const char *fn, uint32_t depth,
                 int64_t v[2], int64_t *total) {
  pprofd__snapshot s;
  collect(k, &s);
  pprofd__symctx *sym;
  ck_assert_int_eq(pprofd__sym_begin(&sym), 0);
  v[0] = v[1] = 0;
  int64_t t = 0;
  for (size_t i = 0; i < s.nsamples; i++) {
    t += s.samples[i].values[1];
    if (!has_frame(sym, &s.samples[i], fn, depth))
      continue;
    v[0] += s.samples[i].values[0];
    v[1] += s.samples[i].values[1];
  }
  pprofd__sym_end(sym);
  pprofd__snap_free(&s);
  if (total != NULL)
    *total = t;
}

static void assert_within(const char *what, int64_t got, int64_t want,
                          double tol) {
  double err = ((double)got - (double)want) / (double)want;
  printf("%-28s got %12lld want %12lld (%+.1f%%)\n", what, (long long)got,
         (long long)want, err * 100);
  ck_assert_msg(err <= tol && err >= -tol, "%s: %lld vs %lld", what,
                (long long)got, (long long)want);
}

static void profiles_on(void) {
  ck_assert_int_eq(pprofd__contention_set_block_rate(1), 0);
  ck_assert_int_eq(pprofd__contention_set_mutex_fraction(1), 0);
}

/* ---- the known workload: threads contending on one mutex ---- */

#define WORKERS 4
#define ROUNDS 12
#define HOLD_MS 3

static pthread_mutex_t hot = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int64_t waited_ns; /* the truth, measured by the workload */
static _Atomic int long_waits;    /* waits of at least half a hold */

/* Takes m; the block profile must put the wait here. */
__attribute__((noinline)) static void wait_for_mutex(pthread_mutex_t *m) {
  int64_t t0 = now_ns();
  pthread_mutex_lock(m);
  int64_t d = now_ns() - t0;
  waited_ns += d;
  if (d >= HOLD_MS * 1000000 / 2)
    long_waits++;
}

/* Keeps a call out of tail position, so that its caller's frame stays
 * on the stack (a tail-called unlock is charged to the caller's caller,
 * as any unwinder sees it). */
#define NO_TAIL_CALL() __asm__ volatile("")

/* Holds m for a known time, then releases it; the mutex profile must put
 * the delay here. */
__attribute__((noinline)) static void hold_then_unlock(pthread_mutex_t *m) {
  sleep_ms(HOLD_MS);
  pthread_mutex_unlock(m);
  NO_TAIL_CALL();
}

static void *worker(void *arg) {
  for (int i = 0; i < ROUNDS; i++) {
    wait_for_mutex(&hot);
    hold_then_unlock(&hot);
  }
  return NULL;
}

static void run_workload(void) {
  pthread_t t[WORKERS];
  waited_ns = 0;
  long_waits = 0;
  for (int i = 0; i < WORKERS; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, worker, NULL), 0);
  for (int i = 0; i < WORKERS; i++)
    pthread_join(t[i], NULL);
}

START_TEST(test_available) {
  ck_assert_ptr_null(pprofd__contention_unavailable());
}
END_TEST

START_TEST(test_off_records_nothing) {
  ck_assert_int_eq(pprofd__contention_block_rate(), 0);
  ck_assert_int_eq(pprofd__contention_mutex_fraction(), 0);
  ck_assert_int_eq(pprofd__contention_on(), 0);
  run_workload();
  ck_assert_int_gt(waited_ns, 0); /* there was contention */
  ck_assert_int_eq(pprofd__contention_count(PPROFD__BLOCK), 0);
  ck_assert_int_eq(pprofd__contention_count(PPROFD__MUTEX), 0);
  pprofd__snapshot s;
  collect(PPROFD__MUTEX, &s);
  ck_assert_uint_eq(s.nsamples, 0);
  pprofd__snap_free(&s);
  /* Turning a profile off again stops recording. */
  profiles_on();
  ck_assert_int_eq(pprofd__contention_set_block_rate(0), 0);
  ck_assert_int_eq(pprofd__contention_set_mutex_fraction(0), 0);
  run_workload();
  ck_assert_int_eq(pprofd__contention_count(PPROFD__BLOCK), 0);
  ck_assert_int_eq(pprofd__contention_count(PPROFD__MUTEX), 0);
  ck_assert_int_eq(pprofd__contention_set_block_rate(-1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd__contention_set_mutex_fraction(-1), PPROFD_EINVAL);
}
END_TEST

START_TEST(test_mutex_and_block_accuracy) {
  profiles_on();
  run_workload();
  int64_t truth = waited_ns;
  ck_assert_int_gt(truth, (int64_t)HOLD_MS * 1000000 * ROUNDS);
  int64_t v[2], total;
  site(PPROFD__MUTEX, "hold_then_unlock", 1, v, &total);
  assert_within("mutex: total delay", total, truth, 0.15);
  ck_assert_msg(v[1] >= total * 9 / 10, "holder has %lld of %lld ns",
                (long long)v[1], (long long)total);
  ck_assert_int_gt(v[0], 0);
  site(PPROFD__BLOCK, "wait_for_mutex", 1, v, &total);
  assert_within("block: waits in wait_for_mutex", v[1], truth, 0.15);
  /* Every contended wait is one contention (glibc's mutex is not fair,
   * so a releasing worker often relocks first: not every lock waits). */
  ck_assert_int_ge(v[0], long_waits);
  ck_assert_int_le(v[0], WORKERS * ROUNDS);
}
END_TEST

/* With a fraction of 4, about a quarter of the charges are recorded,
 * each four times: the estimate stays near the truth. */
START_TEST(test_mutex_fraction_scales) {
  ck_assert_int_eq(pprofd__contention_set_mutex_fraction(4), 0);
  run_workload();
  run_workload();
  int64_t v[2], total;
  site(PPROFD__MUTEX, "hold_then_unlock", 1, v, &total);
  ck_assert_int_eq(v[0] % 4, 0);
  ck_assert_int_gt(v[1], 0);
  printf("fraction 4: %lld ns in %lld contentions\n", (long long)v[1],
         (long long)v[0]);
}
END_TEST

/* ---- every other waiting primitive ---- */

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t cv_m = PTHREAD_MUTEX_INITIALIZER;
static int cv_ready;
static sem_t sem;
static pthread_barrier_t bar;
static pthread_spinlock_t spin;

__attribute__((noinline)) static void rw_reader_waits(void) {
  pthread_rwlock_rdlock(&rw);
  pthread_rwlock_unlock(&rw);
}

__attribute__((noinline)) static void rw_writer_releases(void) {
  pthread_rwlock_unlock(&rw);
  NO_TAIL_CALL();
}

__attribute__((noinline)) static void cond_waiter(void) {
  pthread_mutex_lock(&cv_m);
  while (!cv_ready)
    pthread_cond_wait(&cv, &cv_m);
  pthread_mutex_unlock(&cv_m);
}

__attribute__((noinline)) static void sem_waiter(void) {
  while (sem_wait(&sem) != 0 && errno == EINTR)
    ;
}

__attribute__((noinline)) static void barrier_waiter(void) {
  pthread_barrier_wait(&bar);
  NO_TAIL_CALL();
}

__attribute__((noinline)) static void spin_waiter(void) {
  pthread_spin_lock(&spin);
  pthread_spin_unlock(&spin);
}

static void *rw_reader(void *a) {
  rw_reader_waits();
  return NULL;
}
static void *cond_thread(void *a) {
  cond_waiter();
  return NULL;
}
static void *sem_thread(void *a) {
  sem_waiter();
  return NULL;
}
static void *barrier_thread(void *a) {
  barrier_waiter();
  return NULL;
}
static void *spin_thread(void *a) {
  spin_waiter();
  return NULL;
}
static void *sleeper(void *a) {
  sleep_ms(30);
  return NULL;
}

__attribute__((noinline)) static void join_waiter(pthread_t t) {
  pthread_join(t, NULL);
  NO_TAIL_CALL();
}

/* The block profile's delay at fn (leaf), checked against [lo, hi] ms. */
static void assert_block(const char *fn, int lo_ms, int hi_ms) {
  int64_t v[2];
  site(PPROFD__BLOCK, fn, 1, v, NULL);
  printf("block: %-20s %lld ns in %lld\n", fn, (long long)v[1],
         (long long)v[0]);
  ck_assert_msg(v[0] >= 1, "%s: no block event", fn);
  ck_assert_msg(v[1] >= (int64_t)lo_ms * 1000000 &&
                    v[1] <= (int64_t)hi_ms * 1000000,
                "%s: %lld ns", fn, (long long)v[1]);
}

START_TEST(test_other_primitives) {
  profiles_on();
  pthread_t t[3];
  /* rwlock: a writer holds it 30 ms while two readers wait. */
  pthread_rwlock_wrlock(&rw);
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, rw_reader, NULL), 0);
  sleep_ms(30);
  rw_writer_releases();
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  assert_block("rw_reader_waits", 2 * 15, 2 * 200);
  int64_t v[2];
  site(PPROFD__MUTEX, "rw_writer_releases", 1, v, NULL);
  ck_assert_msg(v[1] >= 2 * 15 * 1000000, "rwlock holder: %lld ns",
                (long long)v[1]);

  /* condition variable: signalled after 30 ms. */
  ck_assert_int_eq(pthread_create(&t[0], NULL, cond_thread, NULL), 0);
  sleep_ms(30);
  pthread_mutex_lock(&cv_m);
  cv_ready = 1;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&cv_m);
  pthread_join(t[0], NULL);
  assert_block("cond_waiter", 15, 200);

  /* semaphore: posted after 30 ms. */
  sem_init(&sem, 0, 0);
  ck_assert_int_eq(pthread_create(&t[0], NULL, sem_thread, NULL), 0);
  sleep_ms(30);
  sem_post(&sem);
  pthread_join(t[0], NULL);
  assert_block("sem_waiter", 15, 200);

  /* barrier: the second party arrives after 30 ms. */
  pthread_barrier_init(&bar, NULL, 2);
  ck_assert_int_eq(pthread_create(&t[0], NULL, barrier_thread, NULL), 0);
  sleep_ms(30);
  pthread_barrier_wait(&bar);
  pthread_join(t[0], NULL);
  assert_block("barrier_waiter", 15, 200);

  /* spin lock: held 30 ms. */
  pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
  pthread_spin_lock(&spin);
  ck_assert_int_eq(pthread_create(&t[0], NULL, spin_thread, NULL), 0);
  sleep_ms(30);
  pthread_spin_unlock(&spin);
  pthread_join(t[0], NULL);
  assert_block("spin_waiter", 10, 400);

  /* join: a thread that sleeps 30 ms. */
  ck_assert_int_eq(pthread_create(&t[0], NULL, sleeper, NULL), 0);
  join_waiter(t[0]);
  assert_block("join_waiter", 15, 200);
}
END_TEST

/* Timed variants and semaphore errors behave as the C library's. */
START_TEST(test_timed_and_errors) {
  profiles_on();
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&m);
  struct timespec at;
  clock_gettime(CLOCK_REALTIME, &at);
  at.tv_nsec += 20 * 1000000;
  if (at.tv_nsec >= 1000000000) {
    at.tv_sec++;
    at.tv_nsec -= 1000000000;
  }
  /* A relocking error-free default mutex: timedlock times out. */
  ck_assert_int_eq(pthread_mutex_timedlock(&m, &at), ETIMEDOUT);
  ck_assert_int_eq(pthread_mutex_trylock(&m), EBUSY);
  pthread_mutex_unlock(&m);
  ck_assert_int_eq(pthread_mutex_trylock(&m), 0);
  pthread_mutex_unlock(&m);
  /* An error-checking mutex relocked by its owner. */
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_t e;
  pthread_mutex_init(&e, &a);
  pthread_mutex_lock(&e);
  ck_assert_int_eq(pthread_mutex_lock(&e), EDEADLK);
  pthread_mutex_unlock(&e);
  ck_assert_int_eq(pthread_mutex_unlock(&e), EPERM);
  pthread_mutex_destroy(&e);
  /* A semaphore that times out keeps errno. */
  sem_t s;
  sem_init(&s, 0, 0);
  clock_gettime(CLOCK_REALTIME, &at);
  at.tv_nsec += 10 * 1000000;
  if (at.tv_nsec >= 1000000000) {
    at.tv_sec++;
    at.tv_nsec -= 1000000000;
  }
  errno = 0;
  ck_assert_int_eq(sem_timedwait(&s, &at), -1);
  ck_assert_int_eq(errno, ETIMEDOUT);
  errno = 0;
  ck_assert_int_eq(sem_trywait(&s), -1);
  ck_assert_int_eq(errno, EAGAIN);
  sem_post(&s);
  ck_assert_int_eq(sem_wait(&s), 0);
  /* pthread_join on a finished thread returns its value. */
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, sleeper, NULL), 0);
  void *ret = (void *)1;
  ck_assert_int_eq(pthread_join(t, &ret), 0);
  ck_assert_ptr_null(ret);
}
END_TEST

START_TEST(test_cxx_std_types) {
  profiles_on();
  cxx_contend(20);
  int64_t v[2];
  site(PPROFD__BLOCK, "cxx_mutex_waiter", 4, v, NULL);
  ck_assert_msg(v[1] >= 10 * 1000000, "std::mutex wait: %lld", (long long)v[1]);
  site(PPROFD__MUTEX, "cxx_mutex_holder", 4, v, NULL);
  ck_assert_msg(v[1] >= 10 * 1000000, "std::mutex holder: %lld",
                (long long)v[1]);
  site(PPROFD__BLOCK, "cxx_shared_waiter", 4, v, NULL);
  ck_assert_msg(v[1] >= 10 * 1000000, "std::shared_mutex: %lld",
                (long long)v[1]);
  site(PPROFD__BLOCK, "cxx_cv_waiter", 4, v, NULL);
  ck_assert_msg(v[1] >= 10 * 1000000, "std::condition_variable: %lld",
                (long long)v[1]);
}
END_TEST

/* ---- formats ---- */

START_TEST(test_text_format) {
  profiles_on();
  run_workload();
  for (int k = 0; k < 2; k++) {
    pprofd__snapshot s;
    collect((enum pprofd__contention_kind)k, &s);
    pprofd__buf out;
    pprofd__buf_init(&out, 16 << 20);
    ck_assert_int_eq(pprofd__text_contention(&s, k == PPROFD__MUTEX, &out), 0);
    pprofd__snap_free(&s);
    ck_assert_int_eq(pprofd__buf_failed(&out), 0);
    const char *body = out.data;
    const char *head = k == PPROFD__MUTEX ? "--- mutex:\ncycles/second="
                                            "1000000000\nsampling period=1\n"
                                          : "--- contention:\ncycles/second="
                                            "1000000000\n";
    ck_assert_msg(strncmp(body, head, strlen(head)) == 0, "%.80s", body);
    regex_t rec;
    ck_assert_int_eq(regcomp(&rec, "^[0-9]+ [0-9]+ @( 0x[0-9a-f]+)+$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    int records = 0;
    int64_t prev = INT64_MAX;
    for (const char *p = body + strlen(head); *p;) {
      const char *nl = strchr(p, '\n');
      ck_assert_ptr_nonnull(nl);
      char line[4096];
      size_t n = (size_t)(nl - p) < sizeof line - 1 ? (size_t)(nl - p)
                                                    : sizeof line - 1;
      memcpy(line, p, n);
      line[n] = '\0';
      if (line[0] != '#' && line[0] != '\0') {
        ck_assert_msg(regexec(&rec, line, 0, NULL, 0) == 0, "bad: %s", line);
        long long cyc = atoll(line);
        ck_assert_int_le(cyc, prev); /* sorted by delay, descending */
        prev = cyc;
        records++;
      }
      p = nl + 1;
    }
    regfree(&rec);
    ck_assert_int_ge(records, 1);
    const char *fn =
        k == PPROFD__MUTEX ? "\thold_then_unlock+0x" : "\twait_for_mutex+0x";
    ck_assert_msg(strstr(body, fn) != NULL, "no %s in:\n%s", fn, body);
    pprofd__buf_free(&out);
  }
}
END_TEST

START_TEST(test_proto) {
  profiles_on();
  run_workload();
  for (int k = 0; k < 2; k++) {
    pprofd__snapshot s;
    collect((enum pprofd__contention_kind)k, &s);
    PP *p = proto_roundtrip(&s, 1);
    pprofd__snap_free(&s);
    ck_assert_uint_eq(p->n_sample_type, 2);
    ck_assert_str_eq(proto_str(p, p->sample_type[0]->type), "contentions");
    ck_assert_str_eq(proto_str(p, p->sample_type[0]->unit), "count");
    ck_assert_str_eq(proto_str(p, p->sample_type[1]->type), "delay");
    ck_assert_str_eq(proto_str(p, p->sample_type[1]->unit), "nanoseconds");
    ck_assert_str_eq(proto_str(p, p->period_type->type), "contentions");
    ck_assert_str_eq(proto_str(p, p->period_type->unit), "count");
    ck_assert_int_eq(p->period, 1);
    ck_assert_int_gt(p->time_nanos, 0);
    ck_assert_int_eq(p->duration_nanos, 0);
    ck_assert_uint_ge(p->n_sample, 1);
    for (size_t i = 0; i < p->n_sample; i++) {
      ck_assert_uint_eq(p->sample[i]->n_value, 2);
      ck_assert_uint_eq(p->sample[i]->n_label, 0);
      ck_assert_int_ge(p->sample[i]->value[0], 0);
      ck_assert_int_gt(p->sample[i]->value[1], 0);
      if (i > 0)
        ck_assert_int_le(p->sample[i]->value[1], p->sample[i - 1]->value[1]);
    }
    perftools__profiles__profile__free_unpacked(p, NULL);
  }
  /* Cumulative: a second workload only adds. */
  int64_t before[2], after[2];
  site(PPROFD__MUTEX, "hold_then_unlock", 1, before, NULL);
  run_workload();
  site(PPROFD__MUTEX, "hold_then_unlock", 1, after, NULL);
  ck_assert_int_gt(after[0], before[0]);
  ck_assert_int_gt(after[1], before[1]);
}
END_TEST

/* ---- stress ---- */

#define STRESS_THREADS 16
#define STRESS_MUTEXES 64

static pthread_mutex_t pool[STRESS_MUTEXES];
static pthread_mutex_t many[6000];
static _Atomic int stress_stop;

static void *stress_thread(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  int64_t n = 0;
  while (!stress_stop) {
    int i = rand_r(&seed) % STRESS_MUTEXES;
    pthread_mutex_lock(&pool[i]);
    pthread_mutex_unlock(&pool[i]);
    if (++n % 64 == 0) {
      /* Touch more distinct mutexes than the waiter table has slots. */
      pthread_mutex_t *m = &many[rand_r(&seed) % 6000];
      pthread_mutex_lock(m);
      pthread_mutex_unlock(m);
    }
  }
  return NULL;
}

/* A mutex destroyed and re-initialized at one address, contended each
 * time by two threads. */
static pthread_mutex_t reused;
static void *reuse_thread(void *arg) {
  for (int i = 0; i < 200; i++) {
    pthread_mutex_lock(&reused);
    pthread_mutex_unlock(&reused);
  }
  return NULL;
}

START_TEST(test_stress) {
  profiles_on();
  for (int i = 0; i < STRESS_MUTEXES; i++)
    pthread_mutex_init(&pool[i], NULL);
  for (int i = 0; i < 6000; i++)
    pthread_mutex_init(&many[i], NULL);
  pthread_t t[STRESS_THREADS];
  for (int i = 0; i < STRESS_THREADS; i++)
    ck_assert_int_eq(
        pthread_create(&t[i], NULL, stress_thread, (void *)(uintptr_t)(i + 1)),
        0);
  for (int round = 0; round < 20; round++) {
    pthread_mutex_init(&reused, NULL);
    pthread_t a, b;
    ck_assert_int_eq(pthread_create(&a, NULL, reuse_thread, NULL), 0);
    ck_assert_int_eq(pthread_create(&b, NULL, reuse_thread, NULL), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ck_assert_int_eq(pthread_mutex_destroy(&reused), 0);
  }
  sleep_ms(300);
  stress_stop = 1;
  for (int i = 0; i < STRESS_THREADS; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < STRESS_MUTEXES; i++)
    ck_assert_int_eq(pthread_mutex_destroy(&pool[i]), 0);
  int64_t rec, lost;
  size_t own;
  pprofd__contention_stats(&rec, &lost, &own);
  printf("stress: %lld events recorded, %lld lost, %zu bytes\n", (long long)rec,
         (long long)lost, own);
  ck_assert_int_gt(rec, 0);
  ck_assert_int_gt(pprofd__contention_count(PPROFD__BLOCK), 0);
  /* The profile is still consistent after all this. */
  pprofd__snapshot s;
  collect(PPROFD__MUTEX, &s);
  PP *p = proto_roundtrip(&s, 1);
  pprofd__snap_free(&s);
  perftools__profiles__profile__free_unpacked(p, NULL);
}
END_TEST

static void *fork_contender(void *arg) {
  while (!stress_stop) {
    pthread_mutex_lock(&hot);
    pthread_mutex_unlock(&hot);
  }
  return NULL;
}

START_TEST(test_fork_while_contending) {
  profiles_on();
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, fork_contender, NULL), 0);
  for (int i = 0; i < 20; i++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      /* The child locks, contends with a thread of its own, collects. */
      pthread_t c;
      if (pthread_create(&c, NULL, reuse_thread, NULL) != 0)
        _exit(2);
      for (int j = 0; j < 100; j++) {
        pthread_mutex_lock(&reused);
        pthread_mutex_unlock(&reused);
      }
      pthread_join(c, NULL);
      pprofd__snapshot s;
      pprofd__snap_init(&s);
      int e = pprofd__contention_collect(PPROFD__BLOCK, &s);
      pprofd__snap_free(&s);
      _exit(e == 0 ? 0 : 3);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
  }
  stress_stop = 1;
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
}
END_TEST

static Suite *contention_suite(void) {
  Suite *s = suite_create("contention");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_available);
  tcase_add_test(tc, test_off_records_nothing);
  tcase_add_test(tc, test_mutex_and_block_accuracy);
  tcase_add_test(tc, test_mutex_fraction_scales);
  tcase_add_test(tc, test_other_primitives);
  tcase_add_test(tc, test_timed_and_errors);
  tcase_add_test(tc, test_cxx_std_types);
  tcase_add_test(tc, test_text_format);
  tcase_add_test(tc, test_proto);
  tcase_add_test(tc, test_stress);
  tcase_add_test(tc, test_fork_while_contending);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return pprofd_check_run_unless(pprofd__contention_unavailable,
                                 "contention profiling unavailable",
                                 contention_suite);
}
