/*
 * metrics.c - /metrics and /debug/vars (see metrics.h): gathering the
 * figures and building the model the encoders write.
 *
 * The metric names follow the ecosystem: client_golang's process
 * collector for `process_*` (same names, same HELP texts), `pprofd_*`
 * for what pprofd itself measures, and the application's variables
 * under their own names. Each family is present only where its figure
 * exists in this process (the heap's need pprofd's malloc, the sampled
 * ones a heap rate above 0, the contention and thread-creation ones
 * pprofd's pthread functions): Prometheus treats a missing series as
 * unknown, never as zero.
 */
#include "config.h"

#include "core/metrics.h"

#include <stdatomic.h>
#include <string.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "capture/threadreg.h"
#include "core/conf.h"
#include "core/reqstats.h"
#include "encode/expvar.h"
#include "encode/promtext.h"
#include "model/metrics.h"
#include "pprofd.h"
#include "sample/cmdline.h"
#include "sample/contention.h"
#include "sample/heap.h"
#include "sample/procstat.h"
#include "sample/vars.h"

/* The estimated counters, by index into `served`. */
enum { EST_ALLOCS, EST_FREES, EST_N };

/* The highest value served of each estimated counter. Relaxed: each is
 * one number with no other memory hanging on it. */
static _Atomic int64_t served[EST_N];

/* The highest of v and every value served before for counter i. */
static int64_t monotone(int i, int64_t v) {
  int64_t cur = atomic_load_explicit(&served[i], memory_order_relaxed);
  while (v > cur &&
         !atomic_compare_exchange_weak_explicit(
             &served[i], &cur, v, memory_order_relaxed, memory_order_relaxed))
    ;
  return v > cur ? v : cur;
}

/* Everything one request reports. */
typedef struct gathered {
  pprofd__procstat ps;
  int heap_ok; /* pprofd sees the allocations */
  pprofd__heaptotals ht;
  int cont_ok; /* pprofd sees the lock waits */
  int64_t mutex_ns, block_ns;
  int threads_ok; /* pprofd sees thread creation */
  int64_t created;
  size_t own;
  pprofd__reqstat *req;
  size_t nreq;
  pprofd__varval *vars;
  size_t nvars;
} gathered;

size_t pprofd__metrics_own_bytes(void) {
  int64_t recorded, lost;
  size_t cont_bytes;
  pprofd__contention_stats(&recorded, &lost, &cont_bytes);
  return pprofd__ialloc_in_use() + pprofd__heap_own_bytes() +
         pprofd__malloc_boot_bytes() + cont_bytes;
}

/*
 * Gathers the figures; PPROFD_ENOMEM when a copy could not be made.
 *
 * Whether pprofd sees allocations and lock waits is asked of the
 * interposers directly, not of pprofd__heap_unavailable() and
 * pprofd__contention_unavailable(): those also warm the unwinder on the
 * calling thread, a first walk that would cost every scrape (a new
 * thread per connection) more than the rest of it.
 */
static int gather(gathered *g) {
  memset(g, 0, sizeof *g);
  (void)pprofd__procstat_read(&g->ps); /* what failed is -1, and left out */
  g->heap_ok = pprofd__malloc_interposed() == 1;
  pprofd__heap_totals(&g->ht); /* the gc=1 counts exist either way */
  if (g->heap_ok) {
    g->ht.alloc_objects = monotone(EST_ALLOCS, g->ht.alloc_objects);
    g->ht.free_objects = monotone(EST_FREES, g->ht.free_objects);
  }
  g->cont_ok = g->threads_ok = pprofd__pthread_interposed() == 1;
  if (g->cont_ok) {
    g->mutex_ns = pprofd__contention_delay(PPROFD__MUTEX);
    g->block_ns = pprofd__contention_delay(PPROFD__BLOCK);
  }
  if (g->threads_ok)
    g->created = pprofd__threadreg_created();
  g->own = pprofd__metrics_own_bytes();
  int err = pprofd__reqstats_copy(&g->req, &g->nreq);
  if (err == 0)
    err = pprofd__vars_read(&g->vars, &g->nvars);
  return err;
}

static void gathered_free(gathered *g) {
  pprofd__ifree(g->req);
  pprofd__varvals_free(g->vars, g->nvars);
}

/* Adds an integer family of one sample when v >= 0. */
static void add_int(pprofd__mset *s, const char *name, const char *help,
                    enum pprofd__mtype t, int64_t v) {
  if (v < 0)
    return;
  pprofd__mset_family(s, name, help, t);
  pprofd__mset_int(s, v);
}

/* Adds a float family of one sample when v >= 0. */
static void add_float(pprofd__mset *s, const char *name, const char *help,
                      enum pprofd__mtype t, double v) {
  if (v < 0)
    return;
  pprofd__mset_family(s, name, help, t);
  pprofd__mset_float(s, v);
}

/* The standard process collector's set (client_golang's names and
 * HELP texts). */
static void add_process(pprofd__mset *s, const pprofd__procstat *ps) {
  add_float(s, "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            PPROFD__MCOUNTER, ps->cpu_seconds);
  add_int(s, "process_open_fds", "Number of open file descriptors.",
          PPROFD__MGAUGE, ps->open_fds);
  add_int(s, "process_max_fds", "Maximum number of open file descriptors.",
          PPROFD__MGAUGE, ps->max_fds);
  add_int(s, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
          PPROFD__MGAUGE, ps->vsize_bytes);
  add_int(s, "process_resident_memory_bytes", "Resident memory size in bytes.",
          PPROFD__MGAUGE, ps->rss_bytes);
  add_float(s, "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            PPROFD__MGAUGE, ps->start_seconds);
}

/* What pprofd measures itself. */
static void add_pprofd(pprofd__mset *s, const gathered *g) {
  if (g->heap_ok && g->ht.sampled) {
    add_int(s, "pprofd_heap_inuse_bytes",
            "Heap in use in bytes, estimated from the heap profile's "
            "samples (its inuse_space).",
            PPROFD__MGAUGE, g->ht.inuse_bytes);
  }
  if (g->heap_ok) {
    add_int(s, "pprofd_heap_alloc_bytes_total",
            "Bytes allocated through the malloc family since pprofd loaded, "
            "counted as each thread's sampling countdown runs out.",
            PPROFD__MCOUNTER, g->ht.total_alloc);
  }
  if (g->heap_ok && g->ht.sampled) {
    add_int(s, "pprofd_heap_allocs_total",
            "Allocations since pprofd loaded, estimated from the heap "
            "profile's samples (its alloc_objects).",
            PPROFD__MCOUNTER, g->ht.alloc_objects);
    add_int(s, "pprofd_heap_frees_total",
            "Frees of allocations since pprofd loaded, estimated from the "
            "heap profile's samples.",
            PPROFD__MCOUNTER, g->ht.free_objects);
  }
  add_int(s, "pprofd_threads", "Threads of the process.", PPROFD__MGAUGE,
          g->ps.threads);
  if (g->threads_ok)
    add_int(s, "pprofd_threads_created_total",
            "Threads created through pthread_create since pprofd loaded.",
            PPROFD__MCOUNTER, g->created);
  if (g->cont_ok) {
    add_float(s, "pprofd_mutex_wait_seconds_total",
              "Time threads waited on contended mutexes and rwlocks, as the "
              "mutex profile records it (while its fraction is above 0).",
              PPROFD__MCOUNTER, (double)g->mutex_ns / 1e9);
    add_float(s, "pprofd_block_wait_seconds_total",
              "Time threads waited in lock, condition, semaphore, barrier "
              "and join calls, as the block profile records it (while its "
              "rate is above 0).",
              PPROFD__MCOUNTER, (double)g->block_ns / 1e9);
  }
  add_int(s, "pprofd_own_memory_bytes",
          "Memory pprofd holds for itself in bytes.", PPROFD__MGAUGE,
          (int64_t)g->own);
  pprofd__mset_family(s, "pprofd_requests_total",
                      "Requests pprofd answered, by path and status code.",
                      PPROFD__MCOUNTER);
  for (size_t i = 0; i < g->nreq; i++) {
    pprofd__msample m = {.lname = {"path", "code"},
                         .lvalue = {g->req[i].path, g->req[i].code},
                         .nlabels = 2,
                         .i = g->req[i].n};
    pprofd__mset_add(s, &m);
  }
}

/* The application's variables: numbers only (Prometheus has no
 * strings). */
static void add_vars(pprofd__mset *s, const gathered *g) {
  for (size_t i = 0; i < g->nvars; i++) {
    const pprofd__varval *v = &g->vars[i];
    const char *help = v->help != NULL ? v->help : "Application variable.";
    switch (v->kind) {
    case PPROFD__VAR_INT:
    case PPROFD__VAR_COUNTER:
      pprofd__mset_family(s, v->name, help,
                          v->kind == PPROFD__VAR_COUNTER ? PPROFD__MCOUNTER
                                                         : PPROFD__MGAUGE);
      pprofd__mset_int(s, v->i);
      break;
    case PPROFD__VAR_FLOAT:
    case PPROFD__VAR_FUNC:
      pprofd__mset_family(s, v->name, help, PPROFD__MGAUGE);
      pprofd__mset_float(s, v->d);
      break;
    case PPROFD__VAR_STRING:
      break;
    }
  }
}

unsigned pprofd__metrics_endpoint(const char *path) {
  if (strcmp(path, "/metrics") == 0)
    return PPROFD__DISABLE_METRICS;
  if (strcmp(path, "/debug/vars") == 0)
    return PPROFD__DISABLE_VARS;
  return 0;
}

void pprofd__serve_metrics(const pprofd__request *rq, pprofd__reply *rp) {
  gathered g;
  pprofd__mset s;
  pprofd__mset_init(&s);
  int err = gather(&g);
  if (err == 0) {
    add_process(&s, &g.ps);
    add_pprofd(&s, &g);
    add_vars(&s, &g);
    enum pprofd__promfmt f = pprofd__promtext_negotiate(rq->accept);
    err = pprofd__promtext_write(&s, f, &rp->body);
    rp->ctype = pprofd__promtext_ctype(f);
  }
  if (err != 0)
    pprofd__reply_error(rp, 500, err, "could not write the metrics: %s",
                        pprofd_strerror(err));
  pprofd__mset_free(&s);
  gathered_free(&g);
}

void pprofd__serve_vars(const pprofd__request *rq, pprofd__reply *rp) {
  gathered g;
  pprofd__buf cmd;
  pprofd__buf_init(&cmd, PPROFD__BUF_MAX_DEFAULT);
  int err = gather(&g);
  if (err == 0 && pprofd__cmdline(&cmd) != 0)
    err = PPROFD_EIO;
  if (err == 0) {
    pprofd__memstats m = {
        .have_heap = g.heap_ok,
        .have_sampled = g.heap_ok && g.ht.sampled,
        .alloc = (uint64_t)g.ht.inuse_bytes,
        .total_alloc = (uint64_t)g.ht.total_alloc,
        .sys = g.ps.data_bytes > 0 ? (uint64_t)g.ps.data_bytes : 0,
        .mallocs = (uint64_t)g.ht.alloc_objects,
        .frees = (uint64_t)g.ht.free_objects,
        .heap_objects = (uint64_t)g.ht.inuse_objects,
        .last_gc = (uint64_t)g.ht.last_gc_nanos,
        .num_gc = (uint32_t)g.ht.gc_runs,
    };
    err = pprofd__expvar_write(cmd.data != NULL ? cmd.data : "", cmd.len, &m,
                               g.vars, g.nvars, &rp->body);
    rp->ctype = "application/json; charset=utf-8";
  }
  if (err != 0)
    pprofd__reply_error(rp, 500, err, "could not write the variables: %s",
                        pprofd_strerror(err));
  pprofd__buf_free(&cmd);
  gathered_free(&g);
}
