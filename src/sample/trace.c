/*
 * trace.c - the execution tracer (see trace.h).
 *
 * Recording. Events go into one array of PPROFD__TRACE_MAX_EVENTS slots,
 * their stacks into a frame arena and their strings into a string arena,
 * all mmap'd when a trace starts and unmapped after it was encoded. A
 * recorder checks pprofd__trace_on without the lock, then takes the
 * buffer lock and checks it again: the tracing request clears the flag
 * under the lock before it reads the buffer, so no event is written into
 * a buffer being encoded or unmapped.
 *
 * Regions nest per thread: each thread keeps (initial-exec TLS) the
 * trace generation its regions belong to, their depth, and which levels
 * were recorded, so an end whose begin came before the trace, or was
 * dropped for lack of room, writes nothing and the B/E pairs in the
 * output always match. Task ids carry the generation in their upper 32
 * bits for the same reason; a task's end takes its begin's name when the
 * trace is finished.
 *
 * The CPU samples come from a CPU profiling session the trace opens for
 * its window (sample/cpu.c hands every drained sample to
 * pprofd__trace_cpu_sample while a trace records); when CPU profiling is
 * unavailable or its sessions are all taken, the trace still records
 * everything else and says why it has no samples.
 */
#include "config.h"

#include "sample/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fileio.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "model/snapshot.h"
#include "pprofd.h"
#include "sample/heap.h"

#define LOCS_BYTES ((size_t)8 << 20)
#define STR_BYTES ((size_t)4 << 20)

atomic_int pprofd__trace_on;

static struct {
  pthread_mutex_t lock; /* the buffers below */
  atomic_int busy;      /* a trace request owns the tracer */
  atomic_uint gen;      /* the current trace's generation, from 1 */
  _Atomic uint32_t task_seq;
  pprofd__tev *ev;
  size_t nev;
  uint64_t *locs;
  size_t nlocs;
  char *str;
  size_t nstr;
  int64_t dropped;
  int64_t start_mono;     /* the window's start */
  pprofd__tthread *names; /* the finished trace's thread names */
} tr = {.lock = PTHREAD_MUTEX_INITIALIZER};
PPROFD__LOCK_RANK(trace, &tr.lock, PPROFD__RANK_TRACE);

/* This thread's regions: their generation, depth, and for each of the
 * first REGION_LEVELS levels the trace's copy of its name when its begin
 * was recorded (NULL when not): an end repeats its begin's name, which
 * is how viewers such as speedscope match them. */
#define REGION_LEVELS 32
static __thread unsigned tls_region_gen
    __attribute__((tls_model("initial-exec")));
static __thread unsigned tls_region_depth
    __attribute__((tls_model("initial-exec")));
static __thread const char *tls_region_name[REGION_LEVELS]
    __attribute__((tls_model("initial-exec")));

/* The calling thread's kernel id, cached (a fork child forgets it). */
static __thread int32_t tls_tid __attribute__((tls_model("initial-exec")));

static int32_t own_tid(void) {
  if (PPROFD__UNLIKELY(tls_tid == 0))
    tls_tid = (int32_t)syscall(SYS_gettid);
  return tls_tid;
}

/* ---- the buffer (tr.lock held) ---- */

/* A new event, zeroed, or NULL (counted as dropped) when the budget is
 * spent or the trace has ended. */
static pprofd__tev *ev_new(int kind, int32_t tid, int64_t ts) {
  if (!atomic_load_explicit(&pprofd__trace_on, memory_order_relaxed))
    return NULL;
  if (tr.nev >= PPROFD__TRACE_MAX_EVENTS) {
    tr.dropped++;
    return NULL;
  }
  /* Something that began before the window (a wait, a request, a CPU
   * sample another session drained late) starts at the window's start;
   * callers shorten durations to match. */
  if (ts < tr.start_mono) {
    if (kind == PPROFD__TEV_CPU)
      return NULL;
    ts = tr.start_mono;
  }
  pprofd__tev *e = &tr.ev[tr.nev];
  memset(e, 0, sizeof *e);
  e->seq = (uint32_t)tr.nev++;
  e->kind = (uint8_t)kind;
  e->tid = tid;
  e->ts = ts;
  return e;
}

/* Copies a stack into the frame arena; n is cut when the arena is full
 * (the event keeps what fits, possibly nothing). */
static void set_locs(pprofd__tev *e, const uint64_t *locs, uint32_t n) {
  size_t room = LOCS_BYTES / sizeof *tr.locs - tr.nlocs;
  if (n > room)
    n = (uint32_t)room;
  memcpy(tr.locs + tr.nlocs, locs, n * sizeof *locs);
  e->locs = tr.locs + tr.nlocs;
  e->nlocs = n;
  tr.nlocs += n;
}

/* Copies a string into the string arena; "" when it is full. */
static const char *copy_str(const char *s, size_t max) {
  size_t n = strnlen(s != NULL ? s : "", max);
  if (tr.nstr + n + 1 > STR_BYTES)
    return "";
  char *d = tr.str + tr.nstr;
  memcpy(d, s, n);
  d[n] = '\0';
  tr.nstr += n + 1;
  return d;
}

/* Records one event without a stack; returns whether it was recorded.
 * name is copied into the trace (at most name_max bytes) unless it is
 * `stored`, a copy already there; *copy (if not NULL) gets the copy. */
static int record_ex(int kind, int64_t value, const char *name, size_t name_max,
                     const char *text, const char *stored, const char **copy) {
  if (!pprofd__trace_active())
    return 0;
  int64_t now = pprofd__mono_nanos();
  int32_t tid = own_tid();
  pprofd__mutex_lock(&tr.lock);
  /* `stored` points into the buffers of the trace of generation
   * tls_region_gen: only that trace may keep it (one may have ended and
   * another begun since the caller looked). */
  pprofd__tev *e =
      stored == NULL || atomic_load_explicit(&tr.gen, memory_order_relaxed) ==
                            tls_region_gen
          ? ev_new(kind, tid, now)
          : NULL;
  if (e != NULL) {
    e->value = value;
    e->name = stored != NULL ? stored
              : name != NULL ? copy_str(name, name_max)
                             : NULL;
    e->text = text != NULL ? copy_str(text, 4096) : NULL;
    if (copy != NULL)
      *copy = e->name;
  }
  pprofd__mutex_unlock(&tr.lock);
  return e != NULL;
}

static int record(int kind, int64_t value, const char *name, size_t name_max,
                  const char *text) {
  return record_ex(kind, value, name, name_max, text, NULL, NULL);
}

/* ---- the hooks ---- */

void pprofd__trace_wait(const char *what, int64_t t0, int64_t t1,
                        const uint64_t *locs, uint32_t n) {
  if (!pprofd__trace_active())
    return;
  int32_t tid = own_tid();
  pprofd__mutex_lock(&tr.lock);
  pprofd__tev *e = ev_new(PPROFD__TEV_WAIT, tid, t0);
  if (e != NULL) {
    e->dur = t1 - e->ts;
    e->name = what; /* static */
    set_locs(e, locs, n);
  }
  pprofd__mutex_unlock(&tr.lock);
}

void pprofd__trace_cpu_sample(int32_t tid, int64_t mono, uint32_t weight,
                              const uint64_t *locs, uint32_t n) {
  if (!pprofd__trace_active())
    return;
  pprofd__mutex_lock(&tr.lock);
  pprofd__tev *e = ev_new(PPROFD__TEV_CPU, tid, mono);
  if (e != NULL) {
    e->value = weight;
    set_locs(e, locs, n);
  }
  pprofd__mutex_unlock(&tr.lock);
}

void pprofd__trace_thread_start(void) {
  if (pprofd__trace_active())
    (void)record(PPROFD__TEV_THREAD_START, 0, NULL, 0, NULL);
}

void pprofd__trace_thread_exit(void) {
  if (!pprofd__trace_active())
    return;
  char name[17] = "";
  prctl(PR_GET_NAME, name, 0, 0, 0); /* the track keeps its name */
  (void)record(PPROFD__TEV_THREAD_EXIT, 0, name, 16, NULL);
}

void pprofd__trace_http(const char *method, const char *path, const char *query,
                        int64_t t0, int64_t t1) {
  if (!pprofd__trace_active())
    return;
  char name[256];
  snprintf(name, sizeof name, "%s %s", method, path);
  int32_t tid = own_tid();
  pprofd__mutex_lock(&tr.lock);
  pprofd__tev *e = ev_new(PPROFD__TEV_HTTP, tid, t0);
  if (e != NULL) {
    e->dur = t1 - e->ts;
    e->name = copy_str(name, sizeof name);
    e->text = query != NULL && *query ? copy_str(query, 1024) : NULL;
  }
  pprofd__mutex_unlock(&tr.lock);
}

/* ---- the public annotations ---- */

int pprofd_trace_enabled(void) { return pprofd__trace_active(); }

uint64_t pprofd_trace_task_begin(const char *name) {
  if (!pprofd__trace_active() || name == NULL)
    return 0;
  uint64_t gen = atomic_load_explicit(&tr.gen, memory_order_relaxed);
  /* Relaxed: only uniqueness matters. */
  uint64_t id =
      gen << 32 |
      (atomic_fetch_add_explicit(&tr.task_seq, 1, memory_order_relaxed) + 1);
  return record(PPROFD__TEV_TASK_BEGIN, (int64_t)id, name, 256, NULL) ? id : 0;
}

void pprofd_trace_task_end(uint64_t id) {
  if (!pprofd__trace_active() || id == 0 ||
      id >> 32 != atomic_load_explicit(&tr.gen, memory_order_relaxed))
    return;
  (void)record(PPROFD__TEV_TASK_END, (int64_t)id, NULL, 0, NULL);
}

void pprofd_trace_region_begin(const char *name) {
  if (!pprofd__trace_active())
    return;
  unsigned gen = atomic_load_explicit(&tr.gen, memory_order_relaxed);
  if (tls_region_gen != gen) {
    tls_region_gen = gen;
    tls_region_depth = 0;
  }
  unsigned d = tls_region_depth++;
  if (d >= REGION_LEVELS)
    return;
  tls_region_name[d] = NULL;
  (void)record_ex(PPROFD__TEV_REGION_BEGIN, 0, name != NULL ? name : "", 256,
                  NULL, NULL, &tls_region_name[d]);
}

void pprofd_trace_region_end(void) {
  if (!pprofd__trace_active() ||
      tls_region_gen != atomic_load_explicit(&tr.gen, memory_order_relaxed) ||
      tls_region_depth == 0)
    return;
  unsigned d = --tls_region_depth;
  if (d < REGION_LEVELS && tls_region_name[d] != NULL) {
    const char *name = tls_region_name[d];
    tls_region_name[d] = NULL;
    (void)record_ex(PPROFD__TEV_REGION_END, 0, NULL, 0, NULL, name, NULL);
  }
}

void pprofd_trace_log(const char *category, const char *message) {
  if (pprofd__trace_active())
    (void)record(PPROFD__TEV_LOG, 0, category != NULL ? category : "", 256,
                 message != NULL ? message : "");
}

/* ---- counters ---- */

/* Resident set size in bytes, and the number of threads; 0 if unknown. */
static void proc_counters(int64_t *rss, int64_t *threads) {
  char b[1024];
  long long pages = 0;
  *rss = *threads = 0;
  if (pprofd__read_small("/proc/self/statm", b, sizeof b) > 0 &&
      sscanf(b, "%*s %lld", &pages) == 1)
    *rss = pages * (int64_t)sysconf(_SC_PAGESIZE);
  if (pprofd__read_small("/proc/self/stat", b, sizeof b) <= 0)
    return;
  const char *p = strrchr(b, ')'); /* the name may hold spaces */
  long long n = 0;
  /* After ")": state is field 3; num_threads is field 20. */
  if (p != NULL && sscanf(p + 2,
                          "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                          "%*u %*u %*d %*d %*d %*d %lld",
                          &n) == 1)
    *threads = n;
}

/* Samples the process counters into the trace. */
static void sample_counters(void) {
  int64_t rss, threads;
  proc_counters(&rss, &threads);
  int64_t heap = pprofd__heap_inuse_estimate();
  int64_t now = pprofd__mono_nanos();
  int32_t tid = own_tid();
  pprofd__mutex_lock(&tr.lock);
  static const char *const names[] = {"heap in use (sampled, bytes)",
                                      "RSS (bytes)", "threads"};
  int64_t vals[] = {heap, rss, threads};
  for (int i = 0; i < 3; i++) {
    if (i == 0 && heap < 0)
      continue; /* heap profiling is off or unavailable */
    pprofd__tev *e = ev_new(PPROFD__TEV_COUNTER, tid, now);
    if (e != NULL) {
      e->name = names[i];
      e->value = vals[i];
    }
  }
  pprofd__mutex_unlock(&tr.lock);
}

/* ---- a trace's life ---- */

static void *map(size_t n) {
  void *p =
      mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void unmap_buffers(void) {
  if (tr.ev != NULL)
    munmap(tr.ev, PPROFD__TRACE_MAX_EVENTS * sizeof *tr.ev);
  if (tr.locs != NULL)
    munmap(tr.locs, LOCS_BYTES);
  if (tr.str != NULL)
    munmap(tr.str, STR_BYTES);
  tr.ev = NULL;
  tr.locs = NULL;
  tr.str = NULL;
  tr.names = NULL;
}

/* Orders events by time, then by recording order (a region's begin and
 * end in one nanosecond keep their order). */
static int cmp_ts(const void *a, const void *b) {
  const pprofd__tev *x = a, *y = b;
  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_tid(const void *a, const void *b) {
  const pprofd__tthread *x = a, *y = b;
  return (x->tid > y->tid) - (x->tid < y->tid);
}

/* The names of every thread with events: the name a thread had when it
 * exited, else its current one. NULL (and *n 0) when out of memory. */
static pprofd__tthread *thread_names(const pprofd__tev *ev, size_t nev,
                                     size_t *n) {
  pprofd__tthread *t = pprofd__icalloc(nev + 1, sizeof *t);
  *n = 0;
  if (t == NULL)
    return NULL;
  size_t m = 0;
  for (size_t i = 0; i < nev; i++) {
    t[m].tid = ev[i].tid;
    if (ev[i].kind == PPROFD__TEV_THREAD_EXIT && ev[i].name != NULL)
      snprintf(t[m].name, sizeof t[m].name, "%.15s", ev[i].name);
    m++;
  }
  qsort(t, m, sizeof *t, cmp_tid);
  size_t u = 0;
  for (size_t i = 0; i < m; i++) {
    if (u > 0 && t[u - 1].tid == t[i].tid) {
      if (t[u - 1].name[0] == '\0')
        memcpy(t[u - 1].name, t[i].name, sizeof t[i].name);
      continue;
    }
    t[u++] = t[i];
  }
  for (size_t i = 0; i < u; i++) {
    if (t[i].name[0] != '\0')
      continue;
    char path[64], b[32];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)t[i].tid);
    ssize_t k = pprofd__read_small(path, b, sizeof b);
    if (k > 0) {
      b[strcspn(b, "\n")] = '\0';
      snprintf(t[i].name, sizeof t[i].name, "%.15s", b);
    }
  }
  *n = u;
  return t;
}

/* Gives every task end its begin's name. */
static void name_task_ends(pprofd__tev *ev, size_t nev) {
  for (size_t i = 0; i < nev; i++) {
    if (ev[i].kind != PPROFD__TEV_TASK_END)
      continue;
    for (size_t j = i; j-- > 0;) /* the begin precedes its end */
      if (ev[j].kind == PPROFD__TEV_TASK_BEGIN && ev[j].value == ev[i].value) {
        ev[i].name = ev[j].name;
        break;
      }
    if (ev[i].name == NULL)
      ev[i].name = "";
  }
}

int pprofd__trace_start(pprofd__trace *t) {
  int expect = 0;
  /* Acquire: the previous trace's unmapping happened before. */
  if (!atomic_compare_exchange_strong_explicit(
          &tr.busy, &expect, 1, memory_order_acquire, memory_order_relaxed))
    return PPROFD_EBUSY;
  memset(t, 0, sizeof *t);
  tr.ev = map(PPROFD__TRACE_MAX_EVENTS * sizeof *tr.ev);
  tr.locs = map(LOCS_BYTES);
  tr.str = map(STR_BYTES);
  if (tr.ev == NULL || tr.locs == NULL || tr.str == NULL) {
    pprofd__trace_release(t);
    return PPROFD_ENOMEM;
  }
  tr.nev = tr.nlocs = tr.nstr = 0;
  tr.dropped = 0;
  atomic_fetch_add_explicit(&tr.gen, 1, memory_order_relaxed);
  t->start_mono = tr.start_mono = pprofd__mono_nanos();
  t->start_wall = pprofd__now_nanos();
  /* Relaxed: recorders re-check under tr.lock, which orders the rest. */
  atomic_store_explicit(&pprofd__trace_on, 1, memory_order_relaxed);
  atomic_fetch_or_explicit(&pprofd__interpose_mode, PPROFD__MODE_TRACE,
                           memory_order_relaxed);
  sample_counters();
  return 0;
}

void pprofd__trace_tick(void) { sample_counters(); }

void pprofd__trace_quiesce(void) {
  atomic_fetch_and_explicit(&pprofd__interpose_mode, ~PPROFD__MODE_TRACE,
                            memory_order_relaxed);
}

void pprofd__trace_stop(pprofd__trace *t) {
  pprofd__trace_quiesce();
  t->end_mono = pprofd__mono_nanos();
  pprofd__mutex_lock(&tr.lock);
  atomic_store_explicit(&pprofd__trace_on, 0, memory_order_relaxed);
  pprofd__mutex_unlock(&tr.lock);
}

int pprofd__trace_finish(pprofd__trace *t) {
  qsort(tr.ev, tr.nev, sizeof *tr.ev, cmp_ts);
  name_task_ends(tr.ev, tr.nev);
  pprofd__ifree(tr.names);
  tr.names = thread_names(tr.ev, tr.nev, &t->nthreads);
  if (pprofd__read_small("/proc/self/comm", t->comm, sizeof t->comm) > 0)
    t->comm[strcspn(t->comm, "\n")] = '\0';
  t->ev = tr.ev;
  t->nev = tr.nev;
  t->threads = tr.names;
  t->pid = (int)getpid();
  t->process = t->comm;
  t->dropped = tr.dropped;
  return tr.names == NULL && tr.nev > 0 ? PPROFD_ENOMEM : 0;
}

void pprofd__trace_release(pprofd__trace *t) {
  pprofd__ifree(tr.names);
  tr.names = NULL;
  memset(t, 0, sizeof *t);
  unmap_buffers();
  /* Release: the next trace maps its buffers after our unmapping. */
  atomic_store_explicit(&tr.busy, 0, memory_order_release);
}

/* ---- fork ---- */

void pprofd__trace_prefork(void) { pprofd__mutex_lock(&tr.lock); }

void pprofd__trace_postfork_parent(void) { pprofd__mutex_unlock(&tr.lock); }

void pprofd__trace_postfork_child(void) {
  tls_tid = 0; /* this thread has a new id in the child */
  atomic_store_explicit(&pprofd__trace_on, 0, memory_order_relaxed);
  /* The parent's trace request has no thread here; the child may trace
   * anew (its copy of the buffers is left mapped). */
  atomic_store_explicit(&tr.busy, 0, memory_order_relaxed);
  tr.ev = NULL;
  tr.locs = NULL;
  tr.str = NULL;
  tr.names = NULL;
  atomic_fetch_and_explicit(&pprofd__interpose_mode, ~PPROFD__MODE_TRACE,
                            memory_order_relaxed);
  pprofd__mutex_unlock(&tr.lock);
}
