/*
 * bench_heap_truth.c - how close the sampled heap profile comes to a
 * known truth at the default sampling rate (512 KiB, Go's MemProfileRate).
 *
 * The workload: three call sites keep known live memory -
 *   site_big      10 x 20 MiB     (200 MiB, every block sampled)
 *   site_mid    3000 x 60 KiB     (176 MiB, ~11% of the blocks sampled)
 *   site_small 200000 x 64 B      (12.8 MiB, ~24 samples in all)
 * and site_garbage allocates and frees 500 MiB in blocks of 4 to 64 KiB.
 * The heap profile is then collected in-process (pprofd__heap_collect),
 * each site's samples are picked out by the leaf frame, and the reported
 * inuse_space (and the garbage site's alloc_space) are compared with the
 * truth. The targets, from the issue: the two larger sites within 10%, the
 * small-object site within 25%, the total in use (all four sites) within
 * 5% of the live truth, the garbage site's alloc_space within 10%.
 *
 * Sampling error is random, so the measurement is repeated for several
 * rounds, each in a fresh child process (forked before anything is
 * allocated, so each starts from an empty profile) with its own seed
 * (pprofd__heap_reseed), and the spread of the errors is printed.
 * Usage: bench_heap_truth [rounds] [seed] (default 5 rounds, seed
 * 0x5eed; the round seeds derive from it). The rate is the library's,
 * i.e. 524288 unless PPROFD_MEM_PROFILE_RATE says otherwise. Exits 0
 * whatever the errors (it reports), 1 when a round fails to run, 77 when
 * heap profiling is unavailable.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model/snapshot.h"
#include "sample/heap.h"
#include "symbol/symbolize.h"

#include "../tests/check_frames.h"

#define N_BIG 10
#define SZ_BIG ((size_t)20 << 20)
#define N_MID 3000
#define SZ_MID ((size_t)60 << 10)
#define N_SMALL 200000
#define SZ_SMALL ((size_t)64)
#define GARBAGE ((int64_t)500 << 20)
#define GARBAGE_MIN ((size_t)4 << 10)
#define GARBAGE_MAX ((size_t)64 << 10)
#define MAX_ROUNDS 100

/* Keeps a pointer visible to the compiler as used. */
static void *volatile sink;
/* Which site ran last; the distinct constants stop the compiler from
 * folding the identical site functions into one. */
static volatile int site_id;

/* A call site: malloc(n) with this function as the leaf frame (the store
 * after the call keeps it from being a tail call). */
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

static void *keep_big[N_BIG], *keep_mid[N_MID], *keep_small[N_SMALL];

/* The figures compared with the truth, in table order. */
enum { M_BIG, M_MID, M_SMALL, M_GARBAGE_ALLOC, M_TOTAL, M_COUNT };

/* One figure: what it is, its truth and its tolerance (fraction). */
struct metric {
  const char *site;
  const char *value;
  int64_t truth;
  double tol;
};

static const struct metric metrics[M_COUNT] = {
    [M_BIG] = {"site_big", "inuse_space", N_BIG *(int64_t)SZ_BIG, 0.10},
    [M_MID] = {"site_mid", "inuse_space", N_MID *(int64_t)SZ_MID, 0.10},
    [M_SMALL] = {"site_small", "inuse_space", N_SMALL *(int64_t)SZ_SMALL, 0.25},
    [M_GARBAGE_ALLOC] = {"site_garbage", "alloc_space", GARBAGE, 0.10},
    [M_TOTAL] = {"total", "inuse_space",
                 N_BIG *(int64_t)SZ_BIG + N_MID *(int64_t)SZ_MID +
                     N_SMALL *(int64_t)SZ_SMALL,
                 0.05},
};

/* What a child reports for its round. */
struct round {
  int64_t got[M_COUNT];
  int64_t garbage_inuse; /* should be 0: everything was freed */
  double seconds;        /* workload + collection */
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* splitmix64: spreads consecutive round numbers into unrelated seeds. */
static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* Sums alloc_space (v[0]) and inuse_space (v[1]) over the samples whose
 * leaf frame is fn (one per distinct stack); returns their number. */
static int site_in(pprofd__symctx *sym, const pprofd__snapshot *s,
                   const char *fn, int64_t v[2]) {
  int n = 0;
  v[0] = v[1] = 0;
  for (size_t i = 0; i < s->nsamples; i++) {
    if (!has_frame(sym, &s->samples[i], fn, 1))
      continue;
    n++;
    v[0] += s->samples[i].values[1];
    v[1] += s->samples[i].values[3];
  }
  return n;
}

/* Runs the workload with the given seed and collects the profile into r
 * (in the child). Returns 0, or -1 with a message on stderr. */
static int run_round(uint64_t seed, struct round *r) {
  double t0 = now();
  pprofd__heap_reseed(seed);
  for (int i = 0; i < N_BIG; i++)
    if ((keep_big[i] = site_big(SZ_BIG)) == NULL)
      goto oom;
  for (int i = 0; i < N_MID; i++)
    if ((keep_mid[i] = site_mid(SZ_MID)) == NULL)
      goto oom;
  for (int i = 0; i < N_SMALL; i++) {
    if ((keep_small[i] = site_small(SZ_SMALL)) == NULL)
      goto oom;
    *(char *)keep_small[i] = (char)i;
  }
  /* Mixed sizes from a xorshift sequence; the last block is cut so that
   * the total is exactly GARBAGE. */
  uint64_t x = seed | 1;
  for (int64_t done = 0; done < GARBAGE;) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    size_t n = GARBAGE_MIN + (size_t)(x % (GARBAGE_MAX - GARBAGE_MIN + 1));
    if ((int64_t)n > GARBAGE - done)
      n = (size_t)(GARBAGE - done);
    char *p = site_garbage(n);
    if (p == NULL)
      goto oom;
    p[0] = 1;
    free(p);
    done += (int64_t)n;
  }

  pprofd__snapshot s;
  pprofd__snap_init(&s);
  if (pprofd__heap_collect(&s, 0) != 0) {
    fprintf(stderr, "bench_heap_truth: pprofd__heap_collect failed\n");
    return -1;
  }
  if (s.ntypes != 4 || strcmp(s.types[1].type, "alloc_space") != 0 ||
      strcmp(s.types[3].type, "inuse_space") != 0) {
    fprintf(stderr, "bench_heap_truth: unexpected sample types\n");
    return -1;
  }
  pprofd__symctx *sym;
  if (pprofd__sym_begin(&sym) != 0) {
    fprintf(stderr, "bench_heap_truth: pprofd__sym_begin failed\n");
    return -1;
  }
  int64_t big[2], mid[2], small[2], garbage[2];
  site_in(sym, &s, "site_big", big);
  site_in(sym, &s, "site_mid", mid);
  site_in(sym, &s, "site_small", small);
  site_in(sym, &s, "site_garbage", garbage);
  pprofd__sym_end(sym);
  pprofd__snap_free(&s);
  r->got[M_BIG] = big[1];
  r->got[M_MID] = mid[1];
  r->got[M_SMALL] = small[1];
  r->got[M_GARBAGE_ALLOC] = garbage[0];
  r->got[M_TOTAL] = big[1] + mid[1] + small[1] + garbage[1];
  r->garbage_inuse = garbage[1];
  r->seconds = now() - t0;
  return 0;
oom:
  fprintf(stderr, "bench_heap_truth: out of memory\n");
  return -1;
}

/* Forks a child that runs one round and sends its figures back through a
 * pipe. Returns 0, or -1 when the round could not be run. */
static int fork_round(uint64_t seed, struct round *r) {
  int fds[2];
  if (pipe(fds) != 0) {
    perror("bench_heap_truth: pipe");
    return -1;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    perror("bench_heap_truth: fork");
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    close(fds[0]);
    struct round mine;
    memset(&mine, 0, sizeof mine);
    int ok = run_round(seed, &mine) == 0 &&
             write(fds[1], &mine, sizeof mine) == (ssize_t)sizeof mine;
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  size_t got = 0;
  while (got < sizeof *r) {
    ssize_t n = read(fds[0], (char *)r + got, sizeof *r - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  if (got != sizeof *r || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_heap_truth: round failed (status 0x%x)\n", status);
    return -1;
  }
  return 0;
}

/* The expected relative standard deviation of the estimate for `count`
 * objects of `size` bytes: each is sampled with probability
 * p = 1-exp(-size/rate) and then counted as size/p, so the estimate is
 * binomial and its relative sd is sqrt((1-p)/(count*p)). (Approximate:
 * the countdown carries over between allocations.) */
static double expected_sd(double count, double size, double rate) {
  double p = 1 - exp(-size / rate);
  return sqrt((1 - p) / (count * p));
}

/* The relative error of got against truth. */
static double rel_err(int64_t got, int64_t truth) {
  return ((double)got - (double)truth) / (double)truth;
}

/* Prints one round's table. */
static void print_round(const struct round *r) {
  printf("  %-13s %-12s %12s %12s %8s %7s  %s\n", "site", "value", "truth (B)",
         "reported (B)", "error", "target", "result");
  for (int m = 0; m < M_COUNT; m++) {
    const struct metric *mt = &metrics[m];
    double e = rel_err(r->got[m], mt->truth);
    int met = e <= mt->tol && e >= -mt->tol;
    printf("  %-13s %-12s %12lld %12lld %+7.1f%% %6.0f%%  %s\n", mt->site,
           mt->value, (long long)mt->truth, (long long)r->got[m], e * 100,
           mt->tol * 100, met ? "met" : "NOT MET");
    if (m == M_GARBAGE_ALLOC)
      printf("  %-13s %-12s %12d %12lld %8s %7s  %s\n", mt->site, "inuse_space",
             0, (long long)r->garbage_inuse, "-", "0",
             r->garbage_inuse == 0 ? "met" : "NOT MET");
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int rounds = argc > 1 ? atoi(argv[1]) : 5;
  uint64_t base = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x5eed;
  if (rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr, "usage: bench_heap_truth [rounds 1..%d] [seed]\n",
            MAX_ROUNDS);
    return 2;
  }
  const char *why = pprofd__heap_unavailable();
  if (why != NULL) {
    printf("SKIP: heap profiling unavailable: %s\n", why);
    return 77;
  }
  int64_t rate = pprofd__heap_rate();
  if (rate <= 0) {
    printf("SKIP: heap sampling is off (rate %lld)\n", (long long)rate);
    return 77;
  }
  printf("heap profile vs known truth: rate %lld, %d rounds, seed 0x%llx\n",
         (long long)rate, rounds, (unsigned long long)base);

  double lo[M_COUNT], hi[M_COUNT];
  int nmet[M_COUNT] = {0}, garbage_zero = 0;
  double t0 = now();
  for (int i = 0; i < rounds; i++) {
    uint64_t seed = mix(base + (uint64_t)i);
    struct round r;
    if (fork_round(seed, &r) != 0)
      return 1;
    printf("\nround %d/%d: seed 0x%016llx, %.2f s\n", i + 1, rounds,
           (unsigned long long)seed, r.seconds);
    print_round(&r);
    for (int m = 0; m < M_COUNT; m++) {
      double e = rel_err(r.got[m], metrics[m].truth);
      if (i == 0 || e < lo[m])
        lo[m] = e;
      if (i == 0 || e > hi[m])
        hi[m] = e;
      nmet[m] += e <= metrics[m].tol && e >= -metrics[m].tol;
    }
    garbage_zero += r.garbage_inuse == 0;
  }

  /* The sampling theory's spread, for reading the errors: the garbage
   * site at its mean block size, the total from the three live sites. */
  double sd[M_COUNT], rt = (double)rate;
  sd[M_BIG] = expected_sd(N_BIG, SZ_BIG, rt);
  sd[M_MID] = expected_sd(N_MID, SZ_MID, rt);
  sd[M_SMALL] = expected_sd(N_SMALL, SZ_SMALL, rt);
  double mean = (GARBAGE_MIN + GARBAGE_MAX) / 2.0;
  sd[M_GARBAGE_ALLOC] = expected_sd((double)GARBAGE / mean, mean, rt);
  double var = 0;
  for (int m = M_BIG; m <= M_SMALL; m++)
    var += pow(sd[m] * (double)metrics[m].truth, 2);
  sd[M_TOTAL] = sqrt(var) / (double)metrics[M_TOTAL].truth;

  printf("\nacross %d rounds (expected sd: the sampling theory's):\n", rounds);
  printf("  %-13s %-12s %8s %8s %8s %7s  %s\n", "site", "value", "min err",
         "max err", "exp. sd", "target", "rounds met");
  for (int m = 0; m < M_COUNT; m++)
    printf("  %-13s %-12s %+7.1f%% %+7.1f%% %7.1f%% %6.0f%%  %d/%d\n",
           metrics[m].site, metrics[m].value, lo[m] * 100, hi[m] * 100,
           sd[m] * 100, metrics[m].tol * 100, nmet[m], rounds);
  printf("  %-13s %-12s %8s %8s %8s %7s  %d/%d\n", "site_garbage",
         "inuse_space", "-", "-", "-", "0", garbage_zero, rounds);
  printf("total %.2f s\n", now() - t0);
  return 0;
}
