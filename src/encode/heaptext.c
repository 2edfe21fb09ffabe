/*
 * heaptext.c - Go's debug=1 heap text (see heaptext.h).
 *
 * Records are sorted by in-use bytes as Go's writer sorts them; the
 * header's figures are the raw sampled totals (Go writes the same), and
 * the trailer adds what a C program has in place of runtime.MemStats.
 * Runs on request threads.
 */
#include "config.h"

#include "encode/heaptext.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "encode/tabwriter.h"
#include "encode/text.h"
#include "pprofd.h"
#include "symbol/symbolize.h"

/* Orders records by in-use bytes, descending, as Go's text writer. */
static int cmp_inuse(const void *a, const void *b) {
  const pprofd__heaprec *x = a, *y = b;
  int64_t ix = x->ab - x->fb, iy = y->ab - y->fb;
  if (ix != iy)
    return ix > iy ? -1 : 1;
  if (x->ab != y->ab)
    return x->ab > y->ab ? -1 : 1;
  return 0;
}

/* VmRSS and VmHWM from /proc/self/status, in bytes (0 if unknown). */
static void read_rss(int64_t *rss, int64_t *hwm) {
  char buf[4096];
  *rss = *hwm = 0;
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return;
  buf[n] = '\0';
  const char *p = strstr(buf, "VmRSS:");
  if (p != NULL)
    *rss = strtoll(p + 6, NULL, 10) * 1024;
  p = strstr(buf, "VmHWM:");
  if (p != NULL)
    *hwm = strtoll(p + 6, NULL, 10) * 1024;
}

/* The `#` trailer: the C program's runtime.MemStats. */
static void write_trailer(pprofd__tabw *w, const pprofd__heapdump *d) {
  const pprofd__heapstats *st = &d->st;
  int64_t est_m = 0, est_f = 0;
  for (size_t i = 0; i < d->n; i++) {
    const pprofd__heaprec *c = &d->recs[i];
    int64_t o, b, fo, fb;
    pprofd__heap_scale(c->ao, c->ab, st->rate, &o, &b);
    est_m += o;
    pprofd__heap_scale(c->fo, c->fb, st->rate, &fo, &fb);
    est_f += fo;
  }
  pprofd__tabw_printf(w, "\n# runtime.MemStats\n");
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  struct mallinfo2 mi = mallinfo2();
  pprofd__tabw_printf(w, "# Arena = %zu\n", mi.arena);
  pprofd__tabw_printf(w, "# Ordblks = %zu\n", mi.ordblks);
  pprofd__tabw_printf(w, "# Hblkhd = %zu\n", mi.hblkhd);
  pprofd__tabw_printf(w, "# Uordblks = %zu\n", mi.uordblks);
  pprofd__tabw_printf(w, "# Fordblks = %zu\n", mi.fordblks);
  pprofd__tabw_printf(w, "# Keepcost = %zu\n", mi.keepcost);
#endif
  int64_t rss, hwm;
  read_rss(&rss, &hwm);
  pprofd__tabw_printf(w, "# RSS = %lld\n", (long long)rss);
  pprofd__tabw_printf(w, "# MaxRSS = %lld\n", (long long)hwm);
  pprofd__tabw_printf(w, "# MemProfileRate = %lld\n", (long long)st->rate);
#define STAT(name, field)                                                      \
  pprofd__tabw_printf(w, "# " name " = %lld\n", (long long)st->field)
  STAT("TotalAlloc", total_alloc);
  pprofd__tabw_printf(w, "# EstMallocs = %lld\n", (long long)est_m);
  pprofd__tabw_printf(w, "# EstFrees = %lld\n", (long long)est_f);
  STAT("SampledAllocs", samples);
  STAT("SampledFrees", frees);
  STAT("SamplesDropped", dropped);
  STAT("SamplesUntracked", untracked);
  STAT("FreesLost", lost);
#undef STAT
  pprofd__tabw_printf(w, "# SampledLive = %zu\n", st->live);
  pprofd__tabw_printf(w, "# Stacks = %lld\n", (long long)st->stacks);
  pprofd__tabw_printf(w, "# PprofdHeapTables = %zu\n", st->own);
  pprofd__tabw_printf(w, "# PprofdSys = %zu\n",
                      st->own + pprofd__ialloc_in_use() +
                          pprofd__malloc_boot_bytes());
}

int pprofd__heaptext_write(pprofd__buf *out, pprofd__heapdump *d) {
  pprofd__heaprec *c = d->recs;
  size_t n = d->n;
  if (c != NULL)
    qsort(c, n, sizeof *c, cmp_inuse);
  int64_t t[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < n; i++) {
    t[0] += c[i].ao - c[i].fo;
    t[1] += c[i].ab - c[i].fb;
    t[2] += c[i].ao;
    t[3] += c[i].ab;
  }
  if (t[3] == t[1])
    t[3]++; /* Go >= 1.21: never equal, or pprof reads 2 columns */
  pprofd__tabw *w = pprofd__tabw_new(out);
  if (w == NULL)
    return PPROFD_ENOMEM;
  pprofd__tabw_printf(w, "heap profile: %lld: %lld [%lld: %lld] @ heap/%lld\n",
                      (long long)t[0], (long long)t[1], (long long)t[2],
                      (long long)t[3], (long long)(2 * d->st.rate));
  pprofd__symctx *sym = NULL;
  if (pprofd__sym_begin(&sym) != 0)
    sym = NULL;
  for (size_t i = 0; i < n; i++) {
    pprofd__tabw_printf(
        w, "%lld: %lld [%lld: %lld] @", (long long)(c[i].ao - c[i].fo),
        (long long)(c[i].ab - c[i].fb), (long long)c[i].ao, (long long)c[i].ab);
    pprofd__text_addrs(w, c[i].locs, c[i].nlocs);
    pprofd__tabw_write(w, "\n", 1);
    pprofd__text_frames(w, sym, c[i].locs, c[i].nlocs);
  }
  if (sym != NULL)
    pprofd__sym_end(sym);
  write_trailer(w, d);
  pprofd__tabw_flush(w);
  pprofd__tabw_free(w);
  return pprofd__buf_failed(out);
}
