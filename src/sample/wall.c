/*
 * wall.c - the wall-clock profile (see wall.h).
 *
 * The recorder keeps one entry per thread, sorted by thread id: what it
 * was doing at the last tick (its stack, state and labels, and the key
 * that says whether that is still true: the wrapper slot's sequence
 * number, or the kernel's call, SP and PC) and how many ticks it has
 * been so. A tick that finds the key unchanged only adds one; a change
 * flushes the count into the snapshot as one sample and records the new
 * stack. So the snapshot grows with changes, not with ticks, and a long
 * recording of idle threads stays small.
 *
 * The thread list, names and wrapper slots are refreshed once a second
 * (and at the first tick): a thread born in between is missed until
 * then, one that ended is dropped at the next refresh.
 */
#include "config.h"

#include "sample/wall.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fileio.h"
#include "base/ialloc.h"
#include "capture/blockctx.h"
#include "capture/stackcopy.h"
#include "pprofd.h"
#include "sample/blocked.h"
#include "sample/labels.h"
#include "sample/threads.h"

#define DEPTH 64
#define MAX_THREADS 65536
/* A tick may use this share of its period before it leaves threads out. */
#define BUDGET_SHARE 0.5
/* How long a tick waits for running threads' handlers: a runnable
 * thread that no CPU runs meanwhile is counted as running, stackless. */
#define SIGNAL_WAIT_MS 10

enum { K_NONE, K_WRAPPER, K_KERNEL, K_RUNNING, K_UNREACHED };

typedef struct wthread {
  int tid;
  int slot; /* capture/blockctx slot, -1 none */
  int seen; /* in the last refresh */
  char name[17];
  /* What it did at the last tick, and the key that says it still does. */
  int kind;
  unsigned seq;
  long nr;
  uint64_t sp, pc;
  const char *state;
  char syscall[32];
  const void *labels;
  int nlocs;
  uint64_t locs[DEPTH];
  int64_t ticks; /* not yet flushed */
  /* This tick: a copy to walk. */
  int pending;
  pprofd__stackcopy copy;
} wthread;

typedef struct recorder {
  wthread *t;
  size_t n;
  int self;
  int64_t period_ns;
  pprofd__snapshot *out;
  pprofd__wall_stats st;
  pprofd__stackcopy_arena arena;
  size_t arena_threads;
} recorder;

/* Marks the samples of threads a tick could not reach. */
__attribute__((noipa, used)) void pprofd_wall_thread_not_reached(void);
__attribute__((noipa, used)) void pprofd_wall_thread_not_reached(void) {
  __asm__ volatile("");
}

/* Adds w's pending ticks to the snapshot as one sample. */
static void flush(recorder *r, wthread *w) {
  if (w->ticks == 0 || w->kind == K_NONE)
    return;
  pprofd__label lb[3 + PPROFD__LABELS_MAX_PAIRS];
  size_t nl = 0;
  lb[nl++] = (pprofd__label){"thread", w->name, 0};
  lb[nl++] = (pprofd__label){"state", w->state, 0};
  if (w->syscall[0])
    lb[nl++] = (pprofd__label){"syscall", w->syscall, 0};
  const pprofd__labelset *ls = w->labels;
  for (size_t i = 0; ls != NULL && i < ls->n; i++)
    lb[nl++] = (pprofd__label){ls->kv[2 * i], ls->kv[2 * i + 1], 0};
  int64_t v[2] = {w->ticks, w->ticks * r->period_ns};
  uint64_t marker = (uint64_t)(uintptr_t)pprofd_wall_thread_not_reached + 1;
  /* A thread not reached, or running but not answering its signal. */
  if (w->kind == K_UNREACHED || w->nlocs == 0)
    (void)pprofd__snap_add(r->out, &marker, 1, v, lb, nl);
  else
    (void)pprofd__snap_add(r->out, w->locs, (size_t)w->nlocs, v, lb, nl);
  w->ticks = 0;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Lists the threads again: keeps the entries of those still alive,
 * flushes and drops the others, adds the new ones, reads every name and
 * finds every wrapper slot. */
static int refresh(recorder *r, int taskfd) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return PPROFD_EIO;
  size_t cap = r->n + 64, k = 0;
  int *tids = pprofd__ialloc(cap * sizeof *tids);
  struct dirent *e;
  while (tids != NULL && (e = readdir(d)) != NULL && k < MAX_THREADS) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    if (k == cap) {
      int *nt = pprofd__irealloc(tids, (cap *= 2) * sizeof *tids);
      if (nt == NULL) {
        pprofd__ifree(tids);
        tids = NULL;
        break;
      }
      tids = nt;
    }
    tids[k++] = atoi(e->d_name);
  }
  closedir(d);
  if (tids == NULL)
    return PPROFD_ENOMEM;
  qsort(tids, k, sizeof *tids, cmp_int);
  wthread *nt = pprofd__icalloc(k + 1, sizeof *nt);
  int *slots = pprofd__icalloc(k + 1, sizeof *slots);
  if (nt == NULL || slots == NULL) {
    pprofd__ifree(tids);
    pprofd__ifree(nt);
    pprofd__ifree(slots);
    return PPROFD_ENOMEM;
  }
  pprofd__blockctx_find(tids, k, slots);
  size_t j = 0;
  for (size_t i = 0; i < k; i++) {
    while (j < r->n && r->t[j].tid < tids[i])
      flush(r, &r->t[j++]); /* ended */
    if (j < r->n && r->t[j].tid == tids[i])
      nt[i] = r->t[j++];
    else
      nt[i].tid = tids[i];
    nt[i].slot = slots[i];
    nt[i].pending = 0;
    char path[48], buf[64];
    snprintf(path, sizeof path, "%d/comm", tids[i]);
    ssize_t len = pprofd__read_small_at(taskfd, path, buf, sizeof buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
      buf[--len] = '\0';
    if (len > 0 && strcmp(nt[i].name, buf) != 0) {
      flush(r, &nt[i]); /* its samples so far carry the old name */
      snprintf(nt[i].name, sizeof nt[i].name, "%.16s", buf);
    }
  }
  while (j < r->n)
    flush(r, &r->t[j++]);
  pprofd__ifree(r->t);
  pprofd__ifree(tids);
  pprofd__ifree(slots);
  r->t = nt;
  r->n = k;
  if (k > r->arena_threads) { /* room for every thread's copy */
    pprofd__stackcopy_arena_free(&r->arena);
    if (pprofd__stackcopy_arena_init(&r->arena, k) != 0)
      return PPROFD_ENOMEM;
    r->arena_threads = k;
  }
  return 0;
}

/* Starts a new stack for w (flushing the old one). */
static void begin(recorder *r, wthread *w, int kind, const char *state) {
  flush(r, w);
  w->kind = kind;
  w->state = state;
  w->syscall[0] = '\0';
  w->nlocs = 0;
  w->ticks = 1;
  w->labels = pprofd__blockctx_labels(w->slot, w->tid);
}

/* One look at thread w; 1 when it is running and must be signalled. */
static int look(recorder *r, wthread *w, int taskfd) {
  unsigned seq;
  if (pprofd__blockctx_peek(w->slot, w->tid, &seq)) {
    if (w->kind == K_WRAPPER && w->seq == seq) {
      w->ticks++; /* still in the same call */
      return 0;
    }
    char what[32];
    if (pprofd__blockctx_take(w->slot, w->tid, 0, &w->copy, &r->arena, what,
                              sizeof what) == PPROFD__BLOCKCTX_TAKEN) {
      begin(r, w, K_WRAPPER, pprofd__blocked_state_of_call(what));
      snprintf(w->syscall, sizeof w->syscall, "%s", what);
      w->seq = seq;
      w->pending = 1;
      return 0;
    }
  }
  char path[48], buf[512];
  snprintf(path, sizeof path, "%d/stat", w->tid);
  if (pprofd__read_small_at(taskfd, path, buf, sizeof buf) <= 0)
    return 0; /* gone */
  const char *rp = strrchr(buf, ')');
  char st = rp != NULL && rp[1] == ' ' ? rp[2] : '?';
  if (st == 'R')
    return 1;
  if (st == 'Z' || st == 'X')
    return 0;
  snprintf(path, sizeof path, "%d/syscall", w->tid);
  long nr = -1;
  uint64_t a[8] = {0};
  int k = 0;
  if (pprofd__read_small_at(taskfd, path, buf, sizeof buf) > 0 &&
      ((buf[0] >= '0' && buf[0] <= '9') || buf[0] == '-')) {
    char *p = buf;
    nr = strtol(p, &p, 10);
    while (k < 8 && *p == ' ')
      a[k++] = strtoull(p + 1, &p, 16);
  }
  if (k < 2)
    return 1; /* running again already ("running") */
  uint64_t sp = a[k - 2], pc = a[k - 1];
  if (w->kind == K_KERNEL && w->nr == nr && w->sp == sp && w->pc == pc) {
    w->ticks++;
    return 0;
  }
  begin(r, w, K_KERNEL, nr >= 0 ? pprofd__blocked_state(nr, a) : "syscall");
  if (nr >= 0)
    pprofd__blocked_syscall_name(nr, w->syscall, sizeof w->syscall);
  w->nr = nr;
  w->sp = sp;
  w->pc = pc;
  pprofd__stackcopy_from_saved(&w->copy, pc, sp, NULL, 0);
  pprofd__stackcopy_copy_window(&w->copy, 0, &r->arena);
  w->pending = 1;
  return 0;
}

/* Walks w's pending copy into its stack. */
static void walk(recorder *r, wthread *w, const pprofd__stackcopy *c) {
  int truncated;
  int k = pprofd__stackcopy_walk(c, w->locs, DEPTH, &truncated);
  w->nlocs = k > 0 ? k : 0;
  w->pending = 0;
  r->st.walks++;
}

/* One tick: looks at every thread, signals the running ones, walks
 * what changed. */
static void tick(recorder *r, int taskfd, int64_t budget_end) {
  atomic_store_explicit(&r->arena.used, 0, memory_order_relaxed);
  int *running = pprofd__ialloc((r->n + 1) * sizeof *running);
  size_t *which = pprofd__ialloc((r->n + 1) * sizeof *which);
  size_t nrun = 0;
  for (size_t i = 0; i < r->n; i++) {
    wthread *w = &r->t[i];
    if (w->tid == r->self)
      continue; /* the recorder itself */
    if (pprofd__mono_nanos() > budget_end) {
      if (w->kind != K_UNREACHED)
        begin(r, w, K_UNREACHED, "not reached");
      else
        w->ticks++;
      r->st.not_reached++;
      continue;
    }
    r->st.observations++;
    if (look(r, w, taskfd) && running != NULL && which != NULL) {
      running[nrun] = w->tid;
      which[nrun++] = i;
    }
  }
  pprofd__signal_copies *h = NULL;
  if (nrun > 0 &&
      pprofd__threads_signal_copies(running, nrun, SIGNAL_WAIT_MS, &h) != 0)
    h = NULL;
  r->st.signalled += (int64_t)nrun;
  size_t npending = 0;
  for (size_t i = 0; i < r->n; i++)
    npending += r->t[i].pending;
  if (npending == 0 && nrun == 0) { /* nothing moved: nothing to walk */
    pprofd__ifree(running);
    pprofd__ifree(which);
    r->st.ticks++;
    return;
  }
  /* A walk session reads the process's mappings: only when needed. */
  (void)pprofd__stackcopy_walk_begin();
  for (size_t i = 0; i < r->n; i++)
    if (r->t[i].pending)
      walk(r, &r->t[i], &r->t[i].copy);
  for (size_t k = 0; k < nrun; k++) {
    wthread *w = &r->t[which[k]];
    begin(r, w, K_RUNNING, "running");
    const pprofd__stackcopy *c = pprofd__signal_copies_get(h, k);
    if (c != NULL)
      walk(r, w, c);
    else
      r->st.no_answer++;
  }
  pprofd__stackcopy_walk_end();
  pprofd__signal_copies_free(h);
  pprofd__ifree(running);
  pprofd__ifree(which);
  r->st.ticks++;
}

int pprofd__wall_record(double seconds, int hz,
                        int (*wait)(void *arg, double seconds), void *arg,
                        pprofd__snapshot *out, pprofd__wall_stats *st) {
  if (!(seconds > 0) || hz < 1 || hz > PPROFD__WALL_HZ_MAX)
    return PPROFD_EINVAL;
  static const pprofd__vtype types[2] = {{"samples", "count"},
                                         {"wall", "nanoseconds"}};
  pprofd__snap_set_types(out, types, 2);
  out->period_type = types[1];
  out->period = 1000000000 / hz;
  out->default_type = 1;
  recorder r;
  memset(&r, 0, sizeof r);
  r.self = (int)syscall(SYS_gettid);
  r.period_ns = out->period;
  r.out = out;
  r.arena.memfd = -1;
  int taskfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (taskfd < 0)
    return PPROFD_EIO;
  int64_t start = pprofd__mono_nanos();
  int64_t end = start + (int64_t)(seconds * 1e9);
  int64_t refresh_every = hz, err = 0, early = 0;
  for (int64_t n = 0;;) {
    int64_t due = start + n * r.period_ns;
    if (due >= end)
      break;
    int64_t now = pprofd__mono_nanos();
    if (due > now && (early = wait(arg, (double)(due - now) / 1e9)) != 0)
      break;
    if (n % refresh_every == 0 && (err = refresh(&r, taskfd)) != 0)
      break;
    tick(&r, taskfd,
         pprofd__mono_nanos() + (int64_t)(BUDGET_SHARE * (double)r.period_ns));
    /* A tick that ran late does not make the next ones run back to back
     * (which would sample one instant many times): the ticks it overran
     * are skipped and counted. */
    int64_t next = (pprofd__mono_nanos() - start) / r.period_ns + 1;
    r.st.missed += next > n + 1 ? next - (n + 1) : 0;
    n = next > n + 1 ? next : n + 1;
  }
  for (size_t i = 0; i < r.n; i++)
    flush(&r, &r.t[i]);
  close(taskfd);
  pprofd__ifree(r.t);
  pprofd__stackcopy_arena_free(&r.arena);
  if (st != NULL)
    *st = r.st;
  out->duration_nanos = pprofd__mono_nanos() - start;
  out->time_nanos = pprofd__now_nanos();
  if (early)
    return 1;
  if (err != 0)
    return (int)err;
  if (out->failed)
    return out->failed;
  return pprofd__snap_merge(out, 1);
}
