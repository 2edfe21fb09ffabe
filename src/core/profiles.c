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
#include "core/heapfile.h"
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

/* goroutine?debug=1 (debug=2 is the dump: core/render.c). */
static int threads_text(const pprofd__kind *k, pprofd__snapshot *s, int debug,
                        pprofd__buf *out) {
  return pprofd__text_count_profile(s, "goroutine", out);
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
  return pprofd__text_contention(s, cont_kind(k) == PPROFD__MUTEX, out);
}

/* profile: why CPU profiling cannot work here, or NULL. */
static const char *cpu_unavailable(const pprofd__kind *k) {
  const char *why = pprofd__cpu_unavailable();
  return why != NULL ? why : pprofd__unwind_init();
}

/* custom profiles: the number of keys. */
static int64_t custom_count(const pprofd__kind *k) {
  return (int64_t)pprofd_profile_count(k->data);
}

/* custom profiles need stack capture; without it, they are off. */
static const char *custom_unavailable(const pprofd__kind *k) {
  return pprofd__unwind_init();
}

/* custom profiles: one count sample per distinct stack. */
static int custom_collect(const pprofd__kind *k, pprofd__snapshot *s) {
  return pprofd__custom_collect(k->data, s);
}

/* custom profiles?debug=1: Go's count layout. */
static int custom_text(const pprofd__kind *k, pprofd__snapshot *s, int debug,
                       pprofd__buf *out) {
  return pprofd__text_count_profile(s, k->name, out);
}

#define D PPROFD__KIND_DELTA

static const pprofd__kind builtin[] = {
    {"allocs", "A sampling of all past memory allocations", D,
     PPROFD__TEXT_NONZERO, heap_count, heap_unavailable, heap_collect,
     heap_text, NULL, pprofd__serve_named, NULL},
    {"block", "Stack traces that led to blocking on synchronization primitives",
     D, PPROFD__TEXT_POSITIVE, cont_count, cont_unavailable, cont_collect,
     cont_text, NULL, pprofd__serve_named, NULL},
    {"cmdline", "The command line invocation of the current program", 0,
     PPROFD__TEXT_POSITIVE, zero_count, NULL, NULL, NULL, NULL,
     pprofd__serve_cmdline, NULL},
    {"goroutine",
     "Stack traces of all current threads. Use debug=2 as a query parameter "
     "to export every thread's stack, state and creator in a readable dump.",
     D, PPROFD__TEXT_ONE, threads_count, threads_unavailable, threads_collect,
     threads_text, NULL, pprofd__serve_goroutine, NULL},
    {"heap",
     "A sampling of memory allocations of live objects. You can specify the "
     "gc GET parameter to run the application's collection hooks and "
     "malloc_trim before taking the heap sample.",
     D, PPROFD__TEXT_NONZERO, heap_count, heap_unavailable, heap_collect,
     heap_text, heap_gc, pprofd__serve_named, NULL},
    {"mutex", "Stack traces of holders of contended mutexes", D,
     PPROFD__TEXT_POSITIVE, cont_count, cont_unavailable, cont_collect,
     cont_text, NULL, pprofd__serve_named, NULL},
    {"profile",
     "CPU profile. You can specify the duration in the seconds GET "
     "parameter (and the sampling rate in hz, default 100). After you get "
     "the profile file, use the go tool pprof command to investigate the "
     "profile.",
     0, PPROFD__TEXT_POSITIVE, zero_count, cpu_unavailable, NULL, NULL, NULL,
     pprofd__serve_cpu, NULL},
    {"threadcreate", "Stack traces that led to the creation of new OS threads",
     D, PPROFD__TEXT_POSITIVE, threadcreate_count, threadcreate_unavailable,
     threadcreate_collect, threadcreate_text, NULL, pprofd__serve_named, NULL},
    {"trace",
     "A trace of execution of the current program, as Chrome trace-event "
     "JSON. You can specify the duration in the seconds GET parameter. Open "
     "the trace file in Perfetto UI or chrome://tracing.",
     0, PPROFD__TEXT_POSITIVE, zero_count, NULL, NULL, NULL, NULL,
     pprofd__serve_trace, NULL},
    {"wall",
     "Wall-clock profile: every thread's stack, running or blocked, sampled "
     "at hz (default 50) for the duration in the seconds GET parameter, "
     "labelled with each thread's state and system call. Use go tool pprof "
     "-tagfocus=state=syscall to see the time spent in system calls.",
     0, PPROFD__TEXT_POSITIVE, zero_count, threads_unavailable, NULL, NULL,
     NULL, pprofd__serve_wall, NULL},
};

/* Fills row for custom profile p. */
static void custom_row(pprofd_profile *p, pprofd__kind *row) {
  memset(row, 0, sizeof *row);
  row->name = pprofd__custom_name(p);
  row->desc = "";
  row->text_rule = PPROFD__TEXT_POSITIVE;
  row->count = custom_count;
  row->unavailable = custom_unavailable;
  row->collect = custom_collect;
  row->write_text = custom_text;
  row->serve = pprofd__serve_named;
  row->data = p;
}

pprofd_profile *pprofd_profile_new(const char *name, int *err) {
  /* A custom profile may not shadow a built-in one, nor `symbol`. */
  if (name != NULL &&
      (pprofd__kind_builtin(name) != NULL || strcmp(name, "symbol") == 0)) {
    if (err != NULL)
      *err = PPROFD_EINVAL;
    return NULL;
  }
  return pprofd__custom_create(name, err);
}

const pprofd__kind *pprofd__kind_builtin(const char *name) {
  for (size_t i = 0; i < PPROFD__ARRAY_SIZE(builtin); i++)
    if (strcmp(builtin[i].name, name) == 0)
      return &builtin[i];
  return NULL;
}

int pprofd__kind_lookup(const char *name, pprofd__kind *tmp,
                        const pprofd__kind **k) {
  const pprofd__kind *b = pprofd__kind_builtin(name);
  if (b != NULL) {
    *k = b;
    return 0;
  }
  pprofd_profile *p = pprofd_profile_lookup(name);
  if (p == NULL)
    return PPROFD_ENOPROFILE;
  custom_row(p, tmp);
  *k = tmp;
  return 0;
}

/* Orders rows by name, byte-wise, as Go's index does. */
static int cmp_row(const void *a, const void *b) {
  return strcmp(((const pprofd__kind *)a)->name,
                ((const pprofd__kind *)b)->name);
}

pprofd__kind *pprofd__kind_list(size_t *n) {
  size_t nb = PPROFD__ARRAY_SIZE(builtin);
  for (;;) {
    size_t nc = pprofd__custom_list(NULL, 0);
    pprofd__kind *rows = pprofd__icalloc(nb + nc + 1, sizeof *rows);
    pprofd_profile **ps = pprofd__icalloc(nc + 1, sizeof *ps);
    if (rows == NULL || ps == NULL) {
      pprofd__ifree(rows);
      pprofd__ifree(ps);
      return NULL;
    }
    memcpy(rows, builtin, sizeof builtin);
    size_t got = pprofd__custom_list(ps, nc);
    for (size_t i = 0; i < got && i < nc; i++)
      custom_row(ps[i], &rows[nb + i]);
    pprofd__ifree(ps);
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
