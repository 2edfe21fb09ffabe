/*
 * bench_symbolize.c - the cost of turning addresses into frames.
 *
 * The addresses: 10,000 distinct code addresses, half spread evenly over
 * this program's executable mapping and half over the executable mappings
 * of the shared libraries it has loaded (libc, libdw, libelf, libz, ...),
 * in proportion to their size. This program is the DWARF-rich part: it is
 * compiled with -g and holds 1,000 generated functions, each with an
 * always-inline helper, so its addresses exercise line tables and inline
 * frames; libraries have DWARF only where debug files are installed.
 *
 * Two passes are timed with CLOCK_MONOTONIC, each one batch
 * (sym_begin ... sym_end):
 *   cold   - a fresh symbolizer, so the time includes reporting modules,
 *            opening ELF files and debug info and indexing compile units;
 *   cached - the same addresses again, all served from the cache.
 * Run it a few times; the first run after boot also pays for the page
 * cache. Usage: bench_symbolize [naddrs] (default 10000).
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "symbol/maps.h"
#include "symbol/symbolize.h"

volatile int bench_sink;

/* The helper every generated function inlines; k varies per caller. */
static inline __attribute__((always_inline)) int bench_mix(int x, int k) {
  int y = x * 31 + k;
  bench_sink += y;
  return y ^ (y >> 3);
}

#define BENCH_FN(id)                                                           \
  __attribute__((noinline)) int bench_fn_##id(int x);                          \
  __attribute__((noinline)) int bench_fn_##id(int x) {                         \
    int r = bench_mix(x, __COUNTER__);                                         \
    bench_sink += r;                                                           \
    return r + bench_mix(r, __COUNTER__);                                      \
  }
#define BENCH_ADDR(id) bench_fn_##id,

/* clang-format off: it does not settle on one layout for these. */
// clang-format off
#define D10(M, p) \
  M(p##0) M(p##1) M(p##2) M(p##3) M(p##4) \
  M(p##5) M(p##6) M(p##7) M(p##8) M(p##9)
#define D100(M, p) \
  D10(M, p##0) D10(M, p##1) D10(M, p##2) D10(M, p##3) D10(M, p##4) \
  D10(M, p##5) D10(M, p##6) D10(M, p##7) D10(M, p##8) D10(M, p##9)
#define D1000(M) \
  D100(M, 0) D100(M, 1) D100(M, 2) D100(M, 3) D100(M, 4) \
  D100(M, 5) D100(M, 6) D100(M, 7) D100(M, 8) D100(M, 9)
// clang-format on

D1000(BENCH_FN)

/* Keeps every generated function in the binary. */
int (*const bench_fns[])(int) = {D1000(BENCH_ADDR)};

/* Nanoseconds on the monotonic clock. */
static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spreads n addresses evenly over [start, limit) into out. */
static size_t spread(uint64_t start, uint64_t limit, size_t n, uint64_t *out) {
  uint64_t span = limit - start;
  if (n > span)
    n = (size_t)span;
  for (size_t i = 0; i < n; i++)
    out[i] = start + span * i / n + (span / n) / 2;
  return n;
}

/* Fills addrs with n distinct addresses as described above; returns how
 * many it produced. */
static size_t pick_addresses(uint64_t *addrs, size_t n) {
  pprofd__maps m;
  if (pprofd__maps_read(&m) != 0 || m.n == 0 || !m.v[0].is_main) {
    fprintf(stderr, "cannot read the executable mappings\n");
    return 0;
  }
  size_t got = spread(m.v[0].start, m.v[0].limit, n / 2, addrs);
  uint64_t libspan = 0;
  for (size_t i = 1; i < m.n; i++)
    if (m.v[i].path[0] == '/' && !m.v[i].is_main)
      libspan += m.v[i].limit - m.v[i].start;
  size_t want = n - got;
  for (size_t i = 1; i < m.n && libspan > 0 && got < n; i++) {
    const pprofd__mapping *e = &m.v[i];
    if (e->path[0] != '/' || e->is_main)
      continue;
    size_t k = (size_t)((e->limit - e->start) * want / libspan) + 1;
    if (k > n - got)
      k = n - got;
    got += spread(e->start, e->limit, k, addrs + got);
  }
  pprofd__maps_free(&m);
  return got;
}

/* One timed batch over all addresses; adds up what was resolved. */
static uint64_t run_pass(const uint64_t *addrs, size_t n, size_t *resolved,
                         size_t *with_line, size_t *inlined) {
  pprofd__symctx *ctx;
  uint64_t t0 = now_ns();
  if (pprofd__sym_begin(&ctx) != 0) {
    fprintf(stderr, "pprofd__sym_begin failed\n");
    exit(1);
  }
  *resolved = *with_line = *inlined = 0;
  for (size_t i = 0; i < n; i++) {
    pprofd__symres r;
    pprofd__sym_lookup(ctx, addrs[i], &r);
    if (r.nframes > 0)
      (*resolved)++;
    if (r.nframes > 0 && r.frames[0].line > 0)
      (*with_line)++;
    if (r.nframes > 1)
      (*inlined)++;
  }
  pprofd__sym_end(ctx);
  return now_ns() - t0;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000;
  if (n < 2 || n > 10000000) {
    fprintf(stderr, "usage: %s [naddrs]\n", argv[0]);
    return 2;
  }
  if (bench_fns[n % 1000](1) == 42)
    bench_sink++;
  uint64_t *addrs = calloc(n, sizeof *addrs);
  if (addrs == NULL)
    return 1;
  size_t got = pick_addresses(addrs, n);
  if (got == 0)
    return 1;

  size_t res, lines, inl;
  pprofd__sym_shutdown();
  uint64_t cold = run_pass(addrs, got, &res, &lines, &inl);
  printf("addresses: %zu (resolved %zu, with file:line %zu, "
         "with inline frames %zu)\n",
         got, res, lines, inl);
  uint64_t cached = run_pass(addrs, got, &res, &lines, &inl);
  size_t entries = 0, bytes = 0;
  pprofd__sym_stats(&entries, &bytes);
  printf("cold:   %10.1f ns/address (%.1f ms total)\n",
         (double)cold / (double)got, (double)cold / 1e6);
  printf("cached: %10.1f ns/address (%.3f ms total)\n",
         (double)cached / (double)got, (double)cached / 1e6);
  printf("cache:  %zu entries, %zu KiB\n", entries, bytes / 1024);
  pprofd__sym_shutdown();
  free(addrs);
  return 0;
}
