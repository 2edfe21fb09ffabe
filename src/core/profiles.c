/*
 * profiles.c - the table of profile kinds (see profiles.h).
 *
 * The built-in rows are Go's profiles with descriptions rewritten to be
 * true for a C program (threads, not goroutines). A row whose sampler is
 * not part of this version answers "unavailable" with its reason, which
 * the HTTP layer turns into a clear error and the index page shows; no
 * row ever serves a made-up profile.
 */
#include "config.h"

#include "core/profiles.h"

#include <stdlib.h>
#include <string.h>

#include "base/ialloc.h"
#include "capture/threadreg.h"
#include "capture/unwind.h"
#include "core/runtime.h"
#include "encode/pprof.h"
#include "encode/text.h"
#include "pprofd.h"
#include "sample/contention.h"
#include "sample/cpu.h"
#include "sample/custom.h"
#include "sample/heap.h"
#include "sample/threads.h"

/* Count of a row that has nothing to count. */
static int64_t zero_count(const pprofd__kind *k) { return 0; }

/* heap, allocs: the number of sampled allocation stacks. */
static int64_t heap_count(const pprofd__kind *k) {
  return pprofd__heap_count();
}

/* heap, allocs: why allocations cannot be sampled here, or NULL. */
static const char *heap_unavailable(const pprofd__kind *k) {
  const char *why = pprofd__heap_unavailable();
  return why != NULL ? why : pprofd__unwind_init();
}

/* heap: the sampled heap; allocs: the same with alloc_space default. */
static int heap_collect(const pprofd__kind *k, pprofd__snapshot *s) {
  return pprofd__heap_collect(s, strcmp(k->name, "allocs") == 0);
}

/* heap?debug=1 and allocs?debug=1 (the same text, as in Go). */
static int heap_text(const pprofd__kind *k, pprofd__snapshot *s, int debug,
                     pprofd__buf *out) {
  return pprofd__heap_write_text(out);
}

/* heap?gc=1: the application's hooks, then malloc_trim. */
static void heap_gc(const pprofd__kind *k) { pprofd__heap_gc(); }

/* threadcreate: threads created since load, plus those seen otherwise. */
static int64_t threadcreate_count(const pprofd__kind *k) {
  return pprofd__threadreg_count();
}

/* threadcreate: only the pthread_create wrapper sees creations. */
static const char *threadcreate_unavailable(const pprofd__kind *k) {
#ifdef PPROFD_ENABLE_INTERPOSE
  return pprofd__unwind_init();
#else
  return "this build does not interpose pthread_create "
         "(--disable-interpose), so thread creations are not seen";
#endif
}

/* threadcreate: the registry's cumulative creation stacks. */
static int threadcreate_collect(const pprofd__kind *k, pprofd__snapshot *s) {
  return pprofd__threadreg_collect(s);
}

/* threadcreate?debug=1: Go's count layout. */
static int threadcreate_text(const pprofd__kind *k, pprofd__snapshot *s,
                             int debug, pprofd__buf *out) {
  return pprofd__text_count_profile(s, "threadcreate", out);
}

/* goroutine: the number of threads. */
static int64_t threads_count(const pprofd__kind *k) {
  return pprofd__threads_count();
}

/* goroutine: why thread dumps cannot work here, or NULL. */
static const char *threads_unavailable(const pprofd__kind *k) {
  const char *why = pprofd__threads_unavailable();
  return why != NULL ? why : pprofd__unwind_init();
}

/* goroutine: a dump grouped into a count profile. */
static int threads_collect(const pprofd__kind *k, pprofd__snapshot *s) {
  return pprofd__threads_collect(s);
}

/* goroutine?debug=1 and debug=2. */
static int threads_text(const pprofd__kind *k, pprofd__snapshot *s, int debug,
                        pprofd__buf *out) {
  return pprofd__threads_write_text(s, debug, out);
}

/* block and mutex: which of the two a row is. */
static enum pprofd__contention_kind cont_kind(const pprofd__kind *k) {
  return strcmp(k->name, "mutex") == 0 ? PPROFD__MUTEX : PPROFD__BLOCK;
}

/* block, mutex: the number of distinct stacks recorded. */
static int64_t cont_count(const pprofd__kind *k) {
  return pprofd__contention_count(cont_kind(k));
}

/* block, mutex: why lock waits cannot be seen here, or NULL. */
static const char *cont_unavailable(const pprofd__kind *k) {
  return pprofd__contention_unavailable();
}

/* block, mutex: the cumulative contention profile. */
static int cont_collect(const pprofd__kind *k, pprofd__snapshot *s) {
  return pprofd__contention_collect(cont_kind(k), s);
}

/* block?debug=1 and mutex?debug=1. */
static int cont_text(const pprofd__kind *k, pprofd__snapshot *s, int debug,
                     pprofd__buf *out) {
  return pprofd__contention_write_text(cont_kind(k), s, out);
}

/* profile: why CPU profiling cannot work here, or NULL. */
static const char *cpu_unavailable(const pprofd__kind *k) {
  const char *why = pprofd__cpu_unavailable();
  return why != NULL ? why : pprofd__unwind_init();
}

#define NAMED (PPROFD__KIND_NAMED | PPROFD__KIND_DELTA)

static const pprofd__kind builtin[] = {
    {"allocs", "A sampling of all past memory allocations", NAMED,
     PPROFD__TEXT_NONZERO, heap_count, heap_unavailable, heap_collect,
     heap_text, NULL, NULL},
    {"block", "Stack traces that led to blocking on synchronization primitives",
     NAMED, PPROFD__TEXT_POSITIVE, cont_count, cont_unavailable, cont_collect,
     cont_text, NULL, NULL},
    {"cmdline", "The command line invocation of the current program",
     PPROFD__KIND_SPECIAL, PPROFD__TEXT_POSITIVE, zero_count, NULL, NULL, NULL,
     NULL, NULL},
    {"goroutine",
     "Stack traces of all current threads. Use debug=2 as a query parameter "
     "to export every thread's stack, state and creator in a readable dump.",
     NAMED, PPROFD__TEXT_ONE, threads_count, threads_unavailable,
     threads_collect, threads_text, NULL, NULL},
    {"heap",
     "A sampling of memory allocations of live objects. You can specify the "
     "gc GET parameter to run the application's collection hooks and "
     "malloc_trim before taking the heap sample.",
     NAMED, PPROFD__TEXT_NONZERO, heap_count, heap_unavailable, heap_collect,
     heap_text, heap_gc, NULL},
    {"mutex", "Stack traces of holders of contended mutexes", NAMED,
     PPROFD__TEXT_POSITIVE, cont_count, cont_unavailable, cont_collect,
     cont_text, NULL, NULL},
    {"profile",
     "CPU profile. You can specify the duration in the seconds GET "
     "parameter (and the sampling rate in hz, default 100). After you get "
     "the profile file, use the go tool pprof command to investigate the "
     "profile.",
     PPROFD__KIND_SPECIAL, PPROFD__TEXT_POSITIVE, zero_count, cpu_unavailable,
     NULL, NULL, NULL, NULL},
    {"threadcreate", "Stack traces that led to the creation of new OS threads",
     NAMED, PPROFD__TEXT_POSITIVE, threadcreate_count, threadcreate_unavailable,
     threadcreate_collect, threadcreate_text, NULL, NULL},
    {"trace",
     "A trace of execution of the current program, as Chrome trace-event "
     "JSON. You can specify the duration in the seconds GET parameter. Open "
     "the trace file in Perfetto UI or chrome://tracing.",
     PPROFD__KIND_SPECIAL, PPROFD__TEXT_POSITIVE, zero_count, NULL, NULL, NULL,
     NULL, NULL},
};

const pprofd__kind *pprofd__kind_builtin(const char *name) {
  for (size_t i = 0; i < PPROFD__ARRAY_SIZE(builtin); i++)
    if (strcmp(builtin[i].name, name) == 0)
      return &builtin[i];
  return NULL;
}

int pprofd__kind_lookup(const char *name, pprofd__kind *tmp,
                        const pprofd__kind **k) {
  const pprofd__kind *b = pprofd__kind_builtin(name);
  if (b != NULL && (b->flags & PPROFD__KIND_NAMED)) {
    *k = b;
    return 0;
  }
  if (b == NULL && pprofd__custom_row(name, tmp) == 0) {
    *k = tmp;
    return 0;
  }
  return PPROFD_ENOPROFILE;
}

/* Orders rows by name, byte-wise, as Go's index does. */
static int cmp_row(const void *a, const void *b) {
  return strcmp(((const pprofd__kind *)a)->name,
                ((const pprofd__kind *)b)->name);
}

pprofd__kind *pprofd__kind_list(size_t *n) {
  size_t nb = PPROFD__ARRAY_SIZE(builtin);
  for (;;) {
    size_t nc = pprofd__custom_rows(NULL, 0);
    pprofd__kind *rows = pprofd__icalloc(nb + nc + 1, sizeof *rows);
    if (rows == NULL)
      return NULL;
    memcpy(rows, builtin, sizeof builtin);
    size_t got = pprofd__custom_rows(rows + nb, nc);
    if (got > nc) { /* a profile was added meanwhile: try again */
      pprofd__ifree(rows);
      continue;
    }
    qsort(rows, nb + got, sizeof *rows, cmp_row);
    *n = nb + got;
    return rows;
  }
}

int pprofd__kind_is_text(const pprofd__kind *k, int64_t debug) {
  switch (k->text_rule) {
  case PPROFD__TEXT_NONZERO:
    return debug != 0;
  case PPROFD__TEXT_ONE:
    return debug >= 1;
  case PPROFD__TEXT_POSITIVE:
  default:
    return debug > 0;
  }
}

int pprofd__kind_render(const pprofd__kind *k, int64_t debug, int64_t gc,
                        pprofd__buf *out, int *text, const char **why) {
  const char *w = k->unavailable != NULL ? k->unavailable(k) : NULL;
  if (w != NULL || k->collect == NULL) {
    *why = w != NULL ? w : "it cannot be collected";
    return PPROFD_EUNAVAILABLE;
  }
  if (gc > 0 && k->gc != NULL)
    k->gc(k);
  struct pprofd_config cfg;
  pprofd__runtime_config(&cfg);
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  *text = pprofd__kind_is_text(k, debug);
  /* goroutine?debug=2 is a dump of its own, not a rendering of the count
   * profile: collecting first would stop every thread twice. */
  int err = *text && debug >= 2 && k->text_rule == PPROFD__TEXT_ONE
                ? 0
                : k->collect(k, &s);
  if (err == 0) {
    int d = debug > 2 ? 2 : (int)debug;
    err = *text ? k->write_text(k, &s, d, out)
                : pprofd__pprof_encode(&s, cfg.symbolize, out);
  }
  pprofd__snap_free(&s);
  return err;
}
