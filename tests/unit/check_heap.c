/*
 * check_heap.c - the heap sampler and the interposed malloc family, in
 * this very process (the test binary links the library, so its malloc is
 * pprofd's): known-truth accuracy with a fixed seed, exact recording at
 * rate 1, nothing at rate 0, every entry point, frees from other
 * threads, fork while threads allocate, dlopen of a library whose
 * constructors allocate, allocation in a signal handler, C++ new/delete,
 * Go's text layout, the proto values, GC hooks and the memory bound.
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/libc.h"
#include "capture/unwind.h"
#include "core/heapfile.h"
#include "encode/pprof.h"
#include "encode/profile.pb-c.h"
#include "sample/heap.h"
#include "symbol/symbolize.h"

#include "../check_frames.h"
#include "../check_proto.h"
#include "../check_regex.h"
#include "../check_run.h"

void *heap_cxx_new(size_t n);
void heap_cxx_delete(void *p);
void *pvalloc(size_t n);
void *valloc(size_t n);
void *reallocarray(void *p, size_t n, size_t m);

/* Keeps a pointer visible to the compiler as used. */
static void *volatile sink;
/* Sizes no allocation can have, hidden from the compiler's checks. */
static volatile size_t huge = SIZE_MAX;

/* Which site ran last; the distinct constants stop the compiler from
 * folding identical site functions into one. */
static volatile int site_id;

#define SITE(name)                                                             \
  __attribute__((noinline)) static void *name(size_t n) {                      \
    void *p = malloc(n);                                                       \
    sink = p;                                                                  \
    site_id = __LINE__;                                                        \
    return p;                                                                  \
  }

SITE(site_big)
SITE(site_mid)
SITE(site_small)
SITE(site_garbage)
SITE(site_exact)
SITE(site_zero)
SITE(site_xt)
SITE(site_4096)
SITE(site_text_a)
SITE(site_text_b)
SITE(site_base)
SITE(site_sig)
SITE(site_churn)

/* Sets the rate and a fixed seed for the calling thread. */
static void set_rate(int64_t rate) {
  ck_assert_int_eq(pprofd__heap_set_rate(rate), 0);
  pprofd__heap_reseed(0x5eed);
}

static void collect(pprofd__snapshot *s, int allocs) {
  pprofd__snap_init(s);
  ck_assert_int_eq(pprofd__heap_collect(s, allocs), 0);
}

/* Sums the four values of the samples of site fn (within depth frames of
 * the leaf); returns the number of samples. */
static int site_in(const pprofd__snapshot *s, const char *fn, uint32_t depth,
                   int64_t v[4]) {
  pprofd__symctx *sym;
  ck_assert_int_eq(pprofd__sym_begin(&sym), 0);
  int n = 0;
  memset(v, 0, 4 * sizeof *v);
  for (size_t i = 0; i < s->nsamples; i++) {
    if (!has_frame(sym, &s->samples[i], fn, depth))
      continue;
    n++;
    for (int k = 0; k < 4; k++)
      v[k] += s->samples[i].values[k];
  }
  pprofd__sym_end(sym);
  return n;
}

/* The current values of site fn (leaf frame). */
static int site_now(const char *fn, int64_t v[4]) {
  pprofd__snapshot s;
  collect(&s, 0);
  int n = site_in(&s, fn, 1, v);
  pprofd__snap_free(&s);
  return n;
}

static void assert_within(const char *what, int64_t got, int64_t want,
                          double tol) {
  double err = ((double)got - (double)want) / (double)want;
  printf("%-22s got %12lld want %12lld (%+.1f%%)\n", what, (long long)got,
         (long long)want, err * 100);
  ck_assert_msg(err <= tol && err >= -tol, "%s: %lld vs %lld", what,
                (long long)got, (long long)want);
}

#define N_BIG 10
#define SZ_BIG ((size_t)2 << 20)
#define N_MID 300
#define SZ_MID ((size_t)60 << 10)
#define N_SMALL 100000
#define SZ_SMALL ((size_t)64)
#define GARBAGE ((size_t)100 << 20)
#define SZ_GARBAGE ((size_t)1024)

static void *keep_big[N_BIG], *keep_mid[N_MID], *keep_small[N_SMALL];

/*
 * The issue's workload scaled down by ~10 in size and the rate by 16
 * (32 KiB), which keeps each site's sampling error no larger than the
 * full-size workload's at 512 KiB: the error depends on the number of
 * samples, i.e. on object size / rate and on the object count.
 */
START_TEST(test_known_truth) {
  set_rate(32768);
  for (int i = 0; i < N_BIG; i++)
    keep_big[i] = site_big(SZ_BIG);
  for (int i = 0; i < N_MID; i++)
    keep_mid[i] = site_mid(SZ_MID);
  for (int i = 0; i < N_SMALL; i++)
    keep_small[i] = site_small(SZ_SMALL);
  for (size_t done = 0; done < GARBAGE; done += SZ_GARBAGE)
    free(site_garbage(SZ_GARBAGE));
  pprofd__snapshot s;
  collect(&s, 0);
  int64_t big[4], mid[4], small[4], garbage[4];
  ck_assert_int_gt(site_in(&s, "site_big", 1, big), 0);
  ck_assert_int_gt(site_in(&s, "site_mid", 1, mid), 0);
  ck_assert_int_gt(site_in(&s, "site_small", 1, small), 0);
  ck_assert_int_gt(site_in(&s, "site_garbage", 1, garbage), 0);
  int64_t t_big = N_BIG * SZ_BIG, t_mid = N_MID * SZ_MID,
          t_small = N_SMALL * SZ_SMALL;
  assert_within("inuse_space big", big[3], t_big, 0.10);
  assert_within("inuse_space mid", mid[3], t_mid, 0.10);
  assert_within("inuse_space small", small[3], t_small, 0.25);
  assert_within("inuse_space total", big[3] + mid[3] + small[3],
                t_big + t_mid + t_small, 0.05);
  assert_within("alloc_space garbage", garbage[1], GARBAGE, 0.10);
  ck_assert_int_eq(garbage[3], 0);
  ck_assert_int_eq(garbage[2], 0);
  /* The label is the average size. */
  for (size_t i = 0; i < s.nsamples; i++) {
    const pprofd__sample *smp = &s.samples[i];
    ck_assert_uint_le(smp->nlabels, 1);
    if (smp->nlabels == 1) {
      ck_assert_str_eq(smp->labels[0].key, "bytes");
      ck_assert_ptr_null(smp->labels[0].str);
      ck_assert_int_gt(smp->labels[0].num, 0);
    }
  }
  pprofd__snap_free(&s);
  for (int i = 0; i < N_BIG; i++)
    free(keep_big[i]);
  for (int i = 0; i < N_MID; i++)
    free(keep_mid[i]);
  for (int i = 0; i < N_SMALL; i++)
    free(keep_small[i]);
  int64_t v[4];
  ck_assert_int_gt(site_now("site_big", v), 0);
  ck_assert_int_eq(v[3], 0);
  ck_assert_int_eq(v[1] >= t_big * 9 / 10, 1); /* alloc_* never decrease */
}
END_TEST

START_TEST(test_rate_one_exact) {
  set_rate(1);
  ck_assert_int_eq(pprofd__heap_rate(), 1);
  ck_assert_int_eq(pprofd_mem_profile_rate(), 1);
  void *p[100];
  for (int i = 0; i < 100; i++)
    p[i] = site_exact(1000);
  for (int i = 0; i < 40; i++)
    free(p[i]);
  int64_t v[4];
  ck_assert_int_eq(site_now("site_exact", v), 1);
  ck_assert_int_eq(v[0], 100);
  ck_assert_int_eq(v[1], 100000);
  ck_assert_int_eq(v[2], 60);
  ck_assert_int_eq(v[3], 60000);
  for (int i = 40; i < 100; i++)
    free(p[i]);
  ck_assert_int_eq(site_now("site_exact", v), 1);
  ck_assert_int_eq(v[0], 100);
  ck_assert_int_eq(v[2], 0);
  ck_assert_int_eq(v[3], 0);
}
END_TEST

START_TEST(test_rate_zero) {
  set_rate(0);
  ck_assert_int_eq(pprofd_set_mem_profile_rate(-1), PPROFD_EINVAL);
  for (int i = 0; i < 1000; i++)
    free(site_zero(1 << 20));
  int64_t v[4];
  ck_assert_int_eq(site_now("site_zero", v), 0);
  /* Back on: the calling thread samples at once. */
  ck_assert_int_eq(pprofd_set_mem_profile_rate(1), 0);
  free(site_zero(10));
  ck_assert_int_eq(site_now("site_zero", v), 1);
  ck_assert_int_eq(v[0], 1);
}
END_TEST

/* One function per entry point, so each is its own site. */
__attribute__((noinline)) static void *ep_calloc(size_t n, size_t m) {
  void *p = calloc(n, m);
  sink = p;
  return p;
}
__attribute__((noinline)) static void *ep_realloc(void *p, size_t n) {
  void *q = realloc(p, n);
  sink = q;
  return q;
}
__attribute__((noinline)) static void *ep_reallocarray(void *p, size_t n,
                                                       size_t m) {
  void *q = reallocarray(p, n, m);
  sink = q;
  return q;
}
__attribute__((noinline)) static void *ep_posix_memalign(size_t a, size_t n) {
  void *p = NULL;
  int e = posix_memalign(&p, a, n);
  sink = p;
  return e == 0 ? p : NULL;
}
__attribute__((noinline)) static void *ep_aligned_alloc(size_t a, size_t n) {
  void *p = aligned_alloc(a, n);
  sink = p;
  return p;
}
__attribute__((noinline)) static void *ep_memalign(size_t a, size_t n) {
  void *p = memalign(a, n);
  sink = p;
  return p;
}
__attribute__((noinline)) static void *ep_valloc(size_t n) {
  void *p = valloc(n);
  sink = p;
  return p;
}
__attribute__((noinline)) static void *ep_pvalloc(size_t n) {
  void *p = pvalloc(n);
  sink = p;
  return p;
}

/* Asserts site fn's raw figures (rate 1: values are exact). */
static void expect_site(const char *fn, int64_t ao, int64_t ab, int64_t io,
                        int64_t ib) {
  int64_t v[4];
  ck_assert_msg(site_now(fn, v) > 0, "no sample for %s", fn);
  ck_assert_msg(v[0] == ao && v[1] == ab && v[2] == io && v[3] == ib,
                "%s: [%lld %lld %lld %lld] want [%lld %lld %lld %lld]", fn,
                (long long)v[0], (long long)v[1], (long long)v[2],
                (long long)v[3], (long long)ao, (long long)ab, (long long)io,
                (long long)ib);
}

static void fill(unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (unsigned char)(i * 7 + 3);
}

static int filled(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != (unsigned char)(i * 7 + 3))
      return 0;
  return 1;
}

START_TEST(test_entry_points) {
  set_rate(1);
  /* calloc: zeroed, recorded with its full size; overflow fails. */
  unsigned char *c = ep_calloc(10, 100);
  ck_assert_ptr_nonnull(c);
  for (int i = 0; i < 1000; i++)
    ck_assert_int_eq(c[i], 0);
  ck_assert_uint_ge(malloc_usable_size(c), 1000);
  expect_site("ep_calloc", 1, 1000, 1, 1000);
  ck_assert_ptr_null(calloc(huge / 2, 4));
  free(c);
  expect_site("ep_calloc", 1, 1000, 0, 0);

  /* realloc(NULL, n) is malloc; grow, shrink and move keep the bytes and
   * count as a free plus an allocation; realloc(p, 0) frees. */
  unsigned char *p = ep_realloc(NULL, 300);
  ck_assert_ptr_nonnull(p);
  expect_site("ep_realloc", 1, 300, 1, 300);
  free(p);
  p = site_base(100);
  fill(p, 100);
  p = ep_realloc(p, 5000);
  ck_assert(filled(p, 100));
  expect_site("site_base", 1, 100, 0, 0);
  expect_site("ep_realloc", 2, 5300, 1, 5000);
  fill(p, 5000);
  p = ep_realloc(p, 50);
  ck_assert(filled(p, 50));
  expect_site("ep_realloc", 3, 5350, 1, 50);
  p = ep_realloc(p, 4 << 20);
  ck_assert(filled(p, 50));
  ck_assert_uint_ge(malloc_usable_size(p), 4 << 20);
  expect_site("ep_realloc", 4, 5350 + (4 << 20), 1, 4 << 20);
  ck_assert_ptr_null(ep_realloc(p, 0));
  expect_site("ep_realloc", 4, 5350 + (4 << 20), 0, 0);
  /* A failing realloc leaves the block and its record alone. */
  p = site_base(64);
  ck_assert_ptr_null(realloc(p, huge - 4096));
  expect_site("site_base", 2, 164, 1, 64);
  free(p);

  /* reallocarray: realloc with an overflow check. */
  p = ep_reallocarray(NULL, 10, 10);
  ck_assert_ptr_nonnull(p);
  errno = 0;
  ck_assert_ptr_null(reallocarray(p, huge, 2));
  ck_assert_int_eq(errno, ENOMEM);
  expect_site("ep_reallocarray", 1, 100, 1, 100);
  free(p);

  /* The aligned family: alignment honoured, recorded, freed. */
  void *a = ep_posix_memalign(64, 100);
  void *b = ep_posix_memalign(8192, 100);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_uint_eq((uintptr_t)a % 64, 0);
  ck_assert_uint_eq((uintptr_t)b % 8192, 0);
  void *bad = NULL;
  ck_assert_int_eq(posix_memalign(&bad, 3, 10), EINVAL);
  ck_assert_int_eq(posix_memalign(&bad, 0, 10), EINVAL);
  expect_site("ep_posix_memalign", 2, 200, 2, 200);
  void *d = ep_aligned_alloc(256, 512);
  void *e = ep_memalign(128, 100);
  void *f = ep_valloc(100);
  void *g = ep_pvalloc(100);
  size_t pg = (size_t)getpagesize();
  ck_assert_uint_eq((uintptr_t)d % 256, 0);
  ck_assert_uint_eq((uintptr_t)e % 128, 0);
  ck_assert_uint_eq((uintptr_t)f % pg, 0);
  ck_assert_uint_eq((uintptr_t)g % pg, 0);
  ck_assert_uint_ge(malloc_usable_size(a), 100);
  ck_assert_uint_ge(malloc_usable_size(b), 100);
  ck_assert_uint_ge(malloc_usable_size(d), 512);
  ck_assert_uint_ge(malloc_usable_size(e), 100);
  ck_assert_uint_ge(malloc_usable_size(f), 100);
  ck_assert_uint_ge(malloc_usable_size(g), pg);
  expect_site("ep_aligned_alloc", 1, 512, 1, 512);
  expect_site("ep_memalign", 1, 100, 1, 100);
  expect_site("ep_valloc", 1, 100, 1, 100);
  expect_site("ep_pvalloc", 1, (int64_t)pg, 1, (int64_t)pg);
  /* realloc of an aligned sampled block. */
  e = ep_realloc(e, 1000);
  ck_assert_ptr_nonnull(e);
  expect_site("ep_memalign", 1, 100, 0, 0);
  free(a);
  free(b);
  free(d);
  free(e);
  free(f);
  free(g);
  expect_site("ep_posix_memalign", 2, 200, 0, 0);
  expect_site("ep_pvalloc", 1, (int64_t)pg, 0, 0);

  /* Edge cases of the wrappers themselves. */
  free(NULL);
  ck_assert_uint_eq(malloc_usable_size(NULL), 0);
  void *z = malloc(0);
  ck_assert_ptr_nonnull(z);
  free(z);
  ck_assert_int_eq(pprofd__malloc_interposed(), 1);
}
END_TEST

START_TEST(test_cxx_new_delete) {
  set_rate(1);
  void *p = heap_cxx_new(1000);
  pprofd__snapshot s;
  collect(&s, 0);
  int64_t v[4];
  /* operator new may be the leaf frame; the call site is within 2. */
  ck_assert_int_eq(site_in(&s, "heap_cxx_new", 2, v), 1);
  ck_assert_int_eq(v[1], 1000);
  ck_assert_int_eq(v[3], 1000);
  pprofd__snap_free(&s);
  heap_cxx_delete(p);
  collect(&s, 0);
  ck_assert_int_eq(site_in(&s, "heap_cxx_new", 2, v), 1);
  ck_assert_int_eq(v[3], 0);
  pprofd__snap_free(&s);
}
END_TEST

#define XT_N 1000
static void *xt_ptrs[XT_N];

static void *xt_free_all(void *arg) {
  for (int i = 0; i < XT_N; i++)
    free(xt_ptrs[i]);
  return NULL;
}

/* Threads exchange pointers: each frees what another allocated. */
#define CH_THREADS 4
#define CH_ROUNDS 200
#define CH_N 256
static void *ch_slots[CH_THREADS][CH_N];
static pthread_barrier_t ch_bar;

static void *churn(void *arg) {
  int me = (int)(intptr_t)arg;
  pprofd__heap_reseed(100 + (uint64_t)me);
  for (int r = 0; r < CH_ROUNDS; r++) {
    for (int i = 0; i < CH_N; i++)
      ch_slots[me][i] = site_churn(16 + (size_t)((i * 37 + r) % 2000));
    pthread_barrier_wait(&ch_bar);
    int other = (me + 1) % CH_THREADS;
    for (int i = 0; i < CH_N; i++)
      free(ch_slots[other][i]);
    pthread_barrier_wait(&ch_bar);
  }
  return NULL;
}

START_TEST(test_cross_thread_free) {
  set_rate(1);
  for (int i = 0; i < XT_N; i++)
    xt_ptrs[i] = site_xt(200);
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, xt_free_all, NULL), 0);
  pthread_join(t, NULL);
  expect_site("site_xt", XT_N, XT_N * 200, 0, 0);
  /* Many threads at a low rate: no free is lost. */
  ck_assert_int_eq(pprofd__heap_set_rate(512), 0);
  pthread_barrier_init(&ch_bar, NULL, CH_THREADS);
  pthread_t th[CH_THREADS];
  for (int i = 0; i < CH_THREADS; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, churn, (void *)(intptr_t)i),
                     0);
  for (int i = 0; i < CH_THREADS; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&ch_bar);
  int64_t v[4];
  ck_assert_int_gt(site_now("site_churn", v), 0);
  ck_assert_int_gt(v[0], 0);
  ck_assert_int_eq(v[2], 0);
  ck_assert_int_eq(v[3], 0);
}
END_TEST

static volatile int stop_allocating;

static void *allocate_until_stopped(void *arg) {
  void *keep[64] = {0};
  for (unsigned i = 0; !stop_allocating; i++) {
    free(keep[i % 64]);
    keep[i % 64] = site_churn(32 + i % 3000);
  }
  for (int i = 0; i < 64; i++)
    free(keep[i]);
  return NULL;
}

START_TEST(test_fork_while_allocating) {
  ck_assert_int_eq(pprofd__heap_set_rate(256), 0);
  stop_allocating = 0;
  pthread_t th[3];
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, allocate_until_stopped, NULL),
                     0);
  for (int k = 0; k < 20; k++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      alarm(10); /* a deadlock ends as a signal, not a hang */
      void *p[1000];
      for (int i = 0; i < 1000; i++)
        p[i] = site_churn(100 + (size_t)i);
      for (int i = 0; i < 1000; i++)
        free(p[i]);
      pprofd__snapshot s;
      pprofd__snap_init(&s);
      int err = pprofd__heap_collect(&s, 0);
      pprofd__snap_free(&s);
      _exit(err == 0 ? 0 : 3);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x",
                  st);
  }
  stop_allocating = 1;
  for (int i = 0; i < 3; i++)
    pthread_join(th[i], NULL);
}
END_TEST

/* Libraries whose constructors allocate, tried in order. */
static const char *const ctor_libs[] = {"libgomp.so.1", "libgfortran.so.5",
                                        "libquadmath.so.0", "libzstd.so.1"};

static int64_t total_allocs(void) {
  pprofd__snapshot s;
  collect(&s, 0);
  int64_t n = 0;
  for (size_t i = 0; i < s.nsamples; i++)
    n += s.samples[i].values[0];
  pprofd__snap_free(&s);
  return n;
}

START_TEST(test_dlopen_dlclose) {
  set_rate(1);
  stop_allocating = 0;
  pthread_t th[2];
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, allocate_until_stopped, NULL),
                     0);
  int opened = 0;
  for (int round = 0; round < 5; round++) {
    for (size_t i = 0; i < sizeof ctor_libs / sizeof ctor_libs[0]; i++) {
      int64_t before = total_allocs();
      void *h = dlopen(ctor_libs[i], RTLD_NOW | RTLD_LOCAL);
      if (h == NULL)
        continue;
      opened++;
      /* dlopen itself allocates (link map, scope): sampled at rate 1. */
      ck_assert_int_gt(total_allocs(), before);
      ck_assert_int_eq(dlclose(h), 0);
    }
  }
  stop_allocating = 1;
  for (int i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  ck_assert_int_gt(opened, 0);
}
END_TEST

static void *sig_block;

__attribute__((noinline)) static void on_usr1(int sig) {
  sig_block = site_sig(777);
  __asm__ volatile("" ::: "memory");
}

START_TEST(test_signal_handler_allocates) {
  set_rate(1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
  for (int i = 0; i < 10; i++) {
    ck_assert_int_eq(raise(SIGUSR1), 0);
    free(sig_block);
  }
  pprofd__snapshot s;
  collect(&s, 0);
  int64_t v[4];
  ck_assert_int_eq(site_in(&s, "site_sig", 1, v), 1);
  ck_assert_int_eq(v[0], 10);
  ck_assert_int_eq(v[1], 7770);
  ck_assert_int_eq(v[3], 0);
  /* The unwinder crossed the signal frame into the handler. */
  ck_assert_int_eq(site_in(&s, "on_usr1", 2, v), 1);
  pprofd__snap_free(&s);
}
END_TEST

START_TEST(test_text_format) {
  set_rate(1);
  void *a[5];
  for (int i = 0; i < 5; i++)
    a[i] = site_text_a(3000);
  free(site_text_b(100));
  ck_assert_int_eq(pprofd__heap_set_rate(524288), 0);
  pprofd__buf out;
  pprofd__buf_init(&out, 64 << 20);
  ck_assert_int_eq(pprofd__heap_write_text(&out), 0);
  const char *body = out.data;
  ck_assert_ptr_nonnull(body);
  ck_assert(out.len > 0 && body[out.len - 1] == '\n');
  ck_assert(matches(body, "^heap profile: [0-9]+: [0-9]+ \\[[0-9]+: [0-9]+\\] "
                          "@ heap/1048576\n"));
  long long hio, hib, hao, hab;
  ck_assert_int_eq(sscanf(body, "heap profile: %lld: %lld [%lld: %lld]", &hio,
                          &hib, &hao, &hab),
                   4);
  const char *p = strchr(body, '\n') + 1;
  long long sio = 0, sib = 0, sao = 0, sab = 0, prev = -1;
  int records = 0, found_a = 0;
  while (*p != '\n') { /* records until the blank line */
    const char *nl = strchr(p, '\n');
    char rec[4096];
    size_t len = (size_t)(nl - p);
    ck_assert_uint_lt(len, sizeof rec);
    memcpy(rec, p, len);
    rec[len] = '\0';
    ck_assert_msg(matches(rec, "^[0-9]+: [0-9]+ \\[[0-9]+: [0-9]+\\] @"
                               "( 0x[0-9a-f]+)+$"),
                  "bad record line: %s", rec);
    long long io, ib, ao, ab;
    ck_assert_int_eq(sscanf(rec, "%lld: %lld [%lld: %lld]", &io, &ib, &ao, &ab),
                     4);
    ck_assert(prev < 0 || ib <= prev); /* in-use bytes descending */
    prev = ib;
    sio += io;
    sib += ib;
    sao += ao;
    sab += ab;
    if (io == 5 && ib == 15000 && ao == 5 && ab == 15000)
      found_a++;
    records++;
    p = nl + 1;
    int frames = 0;
    while (strncmp(p, "#\t0x", 4) == 0) {
      frames++;
      p = strchr(p, '\n') + 1;
    }
    ck_assert_int_gt(frames, 0);
    ck_assert_int_eq(*p, '\n'); /* a blank line ends each record */
    p++;
  }
  ck_assert_int_gt(records, 0);
  ck_assert_int_eq(found_a, 1);
  ck_assert_int_eq(hio, sio);
  ck_assert_int_eq(hib, sib);
  ck_assert_int_eq(hao, sao);
  ck_assert_int_eq(hab, sab + (sab == sib)); /* Go >= 1.21 */
  /* The trailer: a blank line, then only `# Key = value` lines. */
  p++;
  ck_assert(strncmp(p, "# runtime.MemStats\n", 19) == 0);
  p += 19;
  int keys = 0;
  while (*p) {
    const char *nl = strchr(p, '\n');
    ck_assert_ptr_nonnull(nl);
    char kv[256];
    size_t len = (size_t)(nl - p);
    ck_assert_uint_lt(len, sizeof kv);
    memcpy(kv, p, len);
    kv[len] = '\0';
    ck_assert_msg(matches(kv, "^# [A-Za-z]+ = [0-9]+$"), "trailer: %s", kv);
    keys++;
    p = nl + 1;
  }
  ck_assert_int_ge(keys, 10);
  ck_assert_ptr_nonnull(strstr(body, "\n# MaxRSS = "));
  ck_assert_ptr_nonnull(strstr(body, "\n# PprofdSys = "));
  /* Frame lines name this file's function. */
  ck_assert_ptr_nonnull(strstr(body, "\tsite_text_a+0x"));
  pprofd__buf_free(&out);
  for (int i = 0; i < 5; i++)
    free(a[i]);
}
END_TEST

/* Encodes s and decodes it back. */
static PP *roundtrip(const pprofd__snapshot *s, int symbolize) {
  return proto_roundtrip(s, symbolize);
}

static const char *str(const PP *p, int64_t i) { return proto_str(p, i); }

/* The function name of a location's outermost line. */
static const char *loc_func(const PP *p, uint64_t id) {
  const Perftools__Profiles__Location *l = p->location[id - 1];
  if (l->n_line == 0)
    return "";
  return str(p, p->function[l->line[l->n_line - 1]->function_id - 1]->name);
}

START_TEST(test_proto_values) {
  set_rate(1);
  void *p4096 = site_4096(4096);
  ck_assert_int_eq(pprofd__heap_set_rate(524288), 0);
  for (int allocs = 0; allocs < 2; allocs++) {
    pprofd__snapshot s;
    collect(&s, allocs);
    PP *p = roundtrip(&s, 1);
    pprofd__snap_free(&s);
    static const char *const want[4][2] = {{"alloc_objects", "count"},
                                           {"alloc_space", "bytes"},
                                           {"inuse_objects", "count"},
                                           {"inuse_space", "bytes"}};
    ck_assert_uint_eq(p->n_sample_type, 4);
    for (int i = 0; i < 4; i++) {
      ck_assert_str_eq(str(p, p->sample_type[i]->type), want[i][0]);
      ck_assert_str_eq(str(p, p->sample_type[i]->unit), want[i][1]);
    }
    ck_assert_str_eq(str(p, p->period_type->type), "space");
    ck_assert_str_eq(str(p, p->period_type->unit), "bytes");
    ck_assert_int_eq(p->period, 524288);
    if (allocs)
      ck_assert_str_eq(str(p, p->default_sample_type), "alloc_space");
    else
      ck_assert_int_eq(p->default_sample_type, 0);
    ck_assert_int_gt(p->time_nanos, 0);
    int found = 0;
    for (size_t i = 0; i < p->n_sample; i++) {
      const Perftools__Profiles__Sample *smp = p->sample[i];
      ck_assert_uint_eq(smp->n_value, 4);
      ck_assert_uint_gt(smp->n_location_id, 0);
      for (size_t j = 0; j < smp->n_location_id; j++)
        ck_assert_uint_le(smp->location_id[j], p->n_location);
      if (strcmp(loc_func(p, smp->location_id[0]), "site_4096") != 0)
        continue;
      found++;
      ck_assert_int_eq(smp->value[0], 128);
      ck_assert_int_eq(smp->value[1], 526338);
      ck_assert_int_eq(smp->value[2], 128);
      ck_assert_int_eq(smp->value[3], 526338);
      ck_assert_uint_eq(smp->n_label, 1);
      ck_assert_str_eq(str(p, smp->label[0]->key), "bytes");
      ck_assert_int_eq(smp->label[0]->num, 4096);
      ck_assert_int_eq(smp->label[0]->str, 0);
      ck_assert_int_eq(smp->label[0]->num_unit, 0);
    }
    ck_assert_int_eq(found, 1);
    perftools__profiles__profile__free_unpacked(p, NULL);
  }
  free(p4096);
  /* Freed records stay, with in-use zero. */
  pprofd__snapshot s;
  collect(&s, 0);
  int64_t v[4];
  ck_assert_int_eq(site_in(&s, "site_4096", 1, v), 1);
  ck_assert_int_eq(v[0], 128);
  ck_assert_int_eq(v[1], 526338);
  ck_assert_int_eq(v[2], 0);
  ck_assert_int_eq(v[3], 0);
  pprofd__snap_free(&s);
}
END_TEST

static int hook_calls[17];

static void count_hook(void *arg) { hook_calls[(intptr_t)arg]++; }

START_TEST(test_gc_hooks) {
  ck_assert_int_eq(pprofd_register_gc_hook(NULL, NULL), PPROFD_EINVAL);
  for (intptr_t i = 0; i < 16; i++)
    ck_assert_int_eq(pprofd_register_gc_hook(count_hook, (void *)i), 0);
  ck_assert_int_eq(pprofd_register_gc_hook(count_hook, (void *)16),
                   PPROFD_ELIMIT);
  pprofd__heap_gc();
  pprofd__heap_gc();
  for (int i = 0; i < 16; i++)
    ck_assert_int_eq(hook_calls[i], 2);
  ck_assert_int_eq(hook_calls[16], 0);
}
END_TEST

/* A fake unwinder producing a distinct 20-frame stack per call. */
static uint64_t fake_seq;

static int fake_backtrace(void **buf, int size) {
  uint64_t k = ++fake_seq;
  int n = 22 < size ? 22 : size;
  for (int i = 0; i < n; i++)
    buf[i] = (void *)(uintptr_t)(0x100000000ull + (k << 12) + (uint64_t)i * 8);
  return n;
}

START_TEST(test_memory_bound_100k_stacks) {
  set_rate(1);
  size_t before = pprofd__heap_own_bytes();
  int64_t stacks = pprofd__heap_count();
  /* The barriers keep the seam's stores: the compiler assumes malloc
   * reads no global of ours. */
  pprofd__backtrace_fn = fake_backtrace;
  __asm__ volatile("" ::: "memory");
  for (int i = 0; i < 100000; i++)
    free(site_churn(16));
  __asm__ volatile("" ::: "memory");
  pprofd__backtrace_fn = NULL;
  ck_assert_int_ge(pprofd__heap_count() - stacks, 100000);
  size_t used = pprofd__heap_own_bytes() - before;
  printf("heap tables for 100,000 stacks of 20 frames: %zu bytes "
         "(%.1f MiB)\n",
         used, (double)used / (1 << 20));
  ck_assert_uint_lt(used, (size_t)32 << 20);
}
END_TEST

/* A program that exits (destructors and atexit run) while its threads
 * still allocate, sampled at every allocation: it must end, cleanly,
 * every time. */
static void *exit_churn(void *arg) {
  unsigned x = (unsigned)(uintptr_t)arg;
  void *keep[16] = {0};
  for (unsigned i = 0;; i++) {
    x = x * 1103515245 + 12345;
    free(keep[i % 16]);
    keep[i % 16] = malloc(16 + x % 8192);
  }
  return NULL;
}

START_TEST(test_exit_while_allocating) {
  for (int round = 0; round < 10; round++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      alarm(10); /* a hang kills the child, and the test sees it */
      if (pprofd__heap_set_rate(1) != 0)
        _exit(3);
      pthread_t t;
      for (int i = 0; i < 4; i++)
        if (pthread_create(&t, NULL, exit_churn, (void *)(uintptr_t)(i + 1)))
          _exit(2);
      usleep(30 * 1000);
      exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "round %d: child status %#x", round, st);
  }
}
END_TEST

START_TEST(test_available) { ck_assert_ptr_null(pprofd__heap_unavailable()); }
END_TEST

static Suite *heap_suite(void) {
  Suite *s = suite_create("heap");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_available);
  tcase_add_test(tc, test_known_truth);
  tcase_add_test(tc, test_rate_one_exact);
  tcase_add_test(tc, test_rate_zero);
  tcase_add_test(tc, test_entry_points);
  tcase_add_test(tc, test_cxx_new_delete);
  tcase_add_test(tc, test_cross_thread_free);
  tcase_add_test(tc, test_fork_while_allocating);
  tcase_add_test(tc, test_dlopen_dlclose);
  tcase_add_test(tc, test_signal_handler_allocates);
  tcase_add_test(tc, test_text_format);
  tcase_add_test(tc, test_proto_values);
  tcase_add_test(tc, test_gc_hooks);
  tcase_add_test(tc, test_memory_bound_100k_stacks);
  tcase_add_test(tc, test_exit_while_allocating);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return pprofd_check_run_unless(pprofd__heap_unavailable,
                                 "heap profiling unavailable", heap_suite);
}
