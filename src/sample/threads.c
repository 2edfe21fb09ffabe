/*
 * threads.c - every thread's stack, now (see threads.h).
 *
 * Hand-off between the requester and the signal handlers:
 *   - `cur` points at the dump being answered (NULL between dumps). The
 *     requester fills every slot with a thread id before publishing it;
 *   - a handler first counts itself in `inflight`, then loads `cur`, finds
 *     its slot by thread id, claims it (0 -> 1), copies its registers and
 *     stack window into it (capture/stackcopy.h) and marks it done (2),
 *     then counts itself out. It never waits for anything: the walks
 *     happen afterwards, on the requesting thread;
 *   - after the wait, the requester unpublishes `cur` and waits for
 *     `inflight` to drain before it reads or frees the slots and the
 *     copies, so no handler can still be writing into memory that is
 *     gone. If it does not drain within a second (a handler cannot take
 *     that long unless the thread was stopped mid-handler), the slots and
 *     the copies are leaked instead of freed: a bounded leak is better
 *     than a write into freed memory. Until that handler leaves, later
 *     dumps list threads from /proc without signalling them, so at most
 *     one request is ever leaked.
 * A signal that arrives late finds `cur` NULL (or a later dump without
 * its thread id, or its slot already claimed) and does nothing.
 *
 * The signal is the highest real-time signal that has no handler when
 * the first dump installs ours; the handler stays installed for good, so
 * a late signal never meets the default action (which would kill the
 * process).
 */
#include "config.h"

#include "sample/threads.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fileio.h"
#include "base/guard.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "capture/blockctx.h"
#include "capture/stackcopy.h"
#include "capture/threadreg.h"
#include "capture/unwind.h"
#include "pprofd.h"
#include "sample/blocked.h"

#define MAX_THREADS 65536
#define DRAIN_NS 1000000000LL
/* How long a dump waits for every thread's answer. */

typedef struct slot {
  int tid;
  atomic_int state; /* 0 waiting, 1 writing, 2 done, 3 not signalled */
  pprofd__stackcopy copy;
  int64_t held_ns; /* how long the copy took */
  /* What /proc/TID/syscall said: the call (-1 none), its arguments, and
   * the stack pointer and PC it was made with (0 unknown). */
  long nr;
  uint64_t args[6];
  uint64_t sys_sp, sys_pc;
  int blockslot;  /* the thread's capture/blockctx slot, -1 none */
  uint64_t limit; /* where its stack ends, 0 unknown */
  int source;     /* PPROFD__THREAD_FROM_* */
} slot;

typedef struct dump_req {
  slot *slots;
  size_t n;
  pprofd__stackcopy_arena arena;
} dump_req;

static _Atomic(dump_req *) cur;
static atomic_int inflight;
/* The one request left behind because a handler never left (see above);
 * freed by the first dump that finds no handler in flight. Until then
 * dumps do not signal, so at most one request is ever leaked. */
static dump_req *leaked;
static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
PPROFD__LOCK_RANK(dump_lock, &dump_lock, PPROFD__RANK_DUMP);
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int dump_signo;          /* 0 until installed */
static const char *install_why; /* why dumps are unavailable */

/* Frees a request whose handlers have all left. */
static void req_free(dump_req *req) {
  pprofd__stackcopy_arena_free(&req->arena);
  pprofd__ifree(req->slots);
  pprofd__ifree(req);
}

/* The calling thread's kernel id (async-signal-safe). */
static int gettid_sigsafe(void) PPROFD__SIGSAFE;
static int gettid_sigsafe(void) { return (int)syscall(SYS_gettid); }

/* The dump signal's handler: copies this thread's context into its slot,
 * if a dump is waiting for it. */
static void on_dump_signal_sigsafe(int sig, siginfo_t *si,
                                   void *uc) PPROFD__SIGSAFE;
static void on_dump_signal_sigsafe(int sig, siginfo_t *si, void *uc) {
  int saved = errno;
  if (si->si_code == SI_TKILL) /* a blocking call it cut short restarts */
    pprofd__blockctx_signalled_sigsafe();
  /* seq_cst pairs with the requester's store of NULL to `cur` followed by
   * its load of `inflight`: either the requester sees us counted, or we
   * see `cur` already NULL. */
  atomic_fetch_add(&inflight, 1);
  dump_req *req = atomic_load(&cur);
  if (req != NULL && si->si_code == SI_TKILL) {
    int tid = gettid_sigsafe();
    for (size_t i = 0; i < req->n; i++) {
      slot *s = &req->slots[i];
      int expected = 0;
      if (s->tid != tid || !atomic_compare_exchange_strong_explicit(
                               &s->state, &expected, 1, memory_order_acquire,
                               memory_order_relaxed))
        continue;
      struct timespec t0, t1;
      clock_gettime(CLOCK_MONOTONIC, &t0);
      (void)pprofd__stackcopy_take_sigsafe(uc, &s->copy, &req->arena);
      clock_gettime(CLOCK_MONOTONIC, &t1);
      s->held_ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 +
                   (t1.tv_nsec - t0.tv_nsec);
      /* release: the requester reads the copy after seeing 2. */
      atomic_store_explicit(&s->state, 2, memory_order_release);
      break;
    }
  }
  atomic_fetch_sub(&inflight, 1);
  errno = saved;
  (void)sig;
}

/* Picks a free real-time signal and installs the handler (once). */
static void install(void) {
  for (int sig = SIGRTMAX - 1; sig >= SIGRTMIN + 2; sig--) {
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0)
      continue;
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
      continue; /* the application's */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_dump_signal_sigsafe;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) == 0) {
      dump_signo = sig;
      return;
    }
  }
  install_why = "every real-time signal already has a handler";
}

const char *pprofd__threads_unavailable(void) {
  pthread_once(&install_once, install);
  return install_why;
}

int pprofd__threads_signo(void) {
  pthread_once(&install_once, install);
  return dump_signo;
}

/* The state word for a /proc stat state letter. */
static const char *state_name(char c) {
  switch (c) {
  case 'R':
    return "running";
  case 'S':
    return "sleeping";
  case 'D':
    return "disk sleep";
  case 'T':
    return "stopped";
  case 't':
    return "tracing stop";
  case 'Z':
    return "zombie";
  case 'X':
    return "dead";
  case 'I':
    return "idle";
  default:
    return "unknown";
  }
}

/* Fills what the kernel tells about thread t->tid, reading its files
 * under the open /proc/self/task directory taskfd. The PC of the system
 * call it waits in becomes its only frame, until (and unless) its stack
 * is captured. */
static void describe(int taskfd, pprofd__thread *t, slot *sl, unsigned flags) {
  sl->nr = -1;
  sl->sys_sp = sl->sys_pc = 0;
  char path[64], buf[512];
  /* stat holds the name too (the kernel's comm, which pthread_setname_np,
   * prctl(PR_SET_NAME) and writes to .../comm all change): one file fewer
   * per thread. "TID (NAME) S ...", and NAME may hold spaces and ')'. */
  snprintf(path, sizeof path, "%d/stat", t->tid);
  char state = '?';
  if (pprofd__read_small_at(taskfd, path, buf, sizeof buf) > 0) {
    char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
    if (lp != NULL && rp != NULL && rp > lp) {
      snprintf(t->name, sizeof t->name, "%.*s", (int)(rp - lp - 1), lp + 1);
      state = rp[1] == ' ' ? rp[2] : '?';
    }
    snprintf(t->state, sizeof t->state, "%s", state_name(state));
  }
  /* A running thread is in no system call, and reading its syscall file
   * makes the kernel wait until it is scheduled out (up to a time slice
   * per thread): skip both files for it. */
  if (state == 'R')
    return;
  snprintf(path, sizeof path, "%d/wchan", t->tid);
  if ((flags & PPROFD__DUMP_WCHAN) &&
      pprofd__read_small_at(taskfd, path, buf, sizeof buf) > 0 &&
      strcmp(buf, "0") != 0)
    snprintf(t->wchan, sizeof t->wchan, "%.47s", buf);
  snprintf(path, sizeof path, "%d/syscall", t->tid);
  if (pprofd__read_small_at(taskfd, path, buf, sizeof buf) > 0 &&
      ((buf[0] >= '0' && buf[0] <= '9') || buf[0] == '-')) {
    /* "NR a1 a2 a3 a4 a5 a6 SP PC", or "-1 SP PC" outside a call */
    char *p = buf;
    long nr = strtol(p, &p, 10);
    uint64_t w[8] = {0};
    int k = 0;
    while (k < 8 && *p == ' ')
      w[k++] = strtoull(p + 1, &p, 16);
    if (nr >= 0 && k == 8) {
      pprofd__blocked_syscall_name(nr, t->syscall, sizeof t->syscall);
      sl->nr = nr;
      memcpy(sl->args, w, sizeof sl->args);
    }
    if (k == 8 || (nr < 0 && k == 2)) {
      sl->sys_sp = w[k - 2];
      sl->sys_pc = w[k - 1];
    }
    if (sl->sys_pc != 0) {
      t->locs[0] = sl->sys_pc;
      t->nlocs = 1;
    }
  }
}

/* qsort order: the requester first, then by thread id. */
static int cmp_thread(const void *a, const void *b) {
  const pprofd__thread *x = a, *y = b;
  if (x->self != y->self)
    return y->self - x->self;
  return x->tid - y->tid;
}

/* Lists the thread ids of /proc/self/task into a new array. */
static int list_tids(int **out, size_t *n) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return PPROFD_EIO;
  size_t cap = 64, k = 0;
  int *v = pprofd__ialloc(cap * sizeof *v);
  struct dirent *e;
  while (v != NULL && (e = readdir(d)) != NULL && k < MAX_THREADS) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    if (k == cap) {
      int *nv = pprofd__irealloc(v, (cap *= 2) * sizeof *v);
      if (nv == NULL) {
        pprofd__ifree(v);
        v = NULL;
        break;
      }
      v = nv;
    }
    v[k++] = atoi(e->d_name);
  }
  closedir(d);
  if (v == NULL)
    return PPROFD_ENOMEM;
  *out = v;
  *n = k;
  return 0;
}

/* Captures the calling thread's own stack. */
__attribute__((noinline)) static int capture_self(uint64_t *locs, int max) {
  int n = pprofd__unwind_here(locs, max, 0);
  __asm__ volatile("" ::: "memory");
  return n;
}

/* pprofd__threadreg_each callback: copies what the registry knows into
 * the dump's entry for that thread (entries sorted by thread id). */
typedef struct origin_fill {
  pprofd__thread *t;
  slot *slots;
  size_t n;
} origin_fill;

static void fill_origin(const pprofd__thread_origin *o, void *arg) {
  origin_fill *f = arg;
  size_t lo = 0, hi = f->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (f->t[mid].tid < o->tid)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == f->n || f->t[lo].tid != o->tid)
    return;
  pprofd__thread *t = &f->t[lo];
  t->creator_tid = o->creator_tid;
  t->created_at = o->nlocs > 0 ? o->locs[0] : 0;
  /* glibc's thread descriptor tops its stack block (stackcopy.c). */
  f->slots[lo].limit = o->pthread;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Takes thread i's copy without a signal when it must not get one:
 * from the context its wrapper saved, else, when it waits in a call a
 * handler would cut short, from the SP and PC the kernel reports.
 * Returns 1 when the thread is not to be signalled. */
static int take_unsignalled(dump_req *req, pprofd__thread *t, slot *sl) {
  if (strcmp(t->state, "running") == 0 || t->state[0] == '\0')
    return 0; /* not in a call: a signal cuts nothing short */
  int expected = 0;
  if (!atomic_compare_exchange_strong_explicit(
          &sl->state, &expected, 1, memory_order_acquire, memory_order_relaxed))
    return 1; /* a late handler has it (an earlier dump's signal) */
  char what[32];
  int r = pprofd__blockctx_take(sl->blockslot, sl->tid, sl->sys_sp, &sl->copy,
                                &req->arena, what, sizeof what);
  if (r == PPROFD__BLOCKCTX_TAKEN) {
    sl->source = PPROFD__THREAD_FROM_WRAPPER;
  } else if (sl->nr >= 0 && sl->sys_sp != 0 && sl->sys_pc != 0 &&
             pprofd__blocked_never_restarted(sl->nr, sl->args)) {
    pprofd__stackcopy_from_saved(&sl->copy, sl->sys_pc, sl->sys_sp, NULL, 0);
    pprofd__stackcopy_copy_window(&sl->copy, sl->limit, &req->arena);
    sl->source = PPROFD__THREAD_FROM_KERNEL;
  } else {
    atomic_store_explicit(&sl->state, 0, memory_order_relaxed);
    return 0;
  }
  sl->held_ns = 0;
  atomic_store_explicit(&sl->state, 2, memory_order_release);
  return 1;
}

/* Reads what the kernel says about every thread and signals every thread
 * but the requester that may take a signal, each right after its /proc
 * files were read (the signal wakes a sleeping thread for a moment,
 * which /proc would then show; the handlers run on other CPUs
 * meanwhile). A thread blocked in a wrapped call, or in a call a
 * handler would cut short, is copied here instead (take_unsignalled).
 * Then waits, at most timeout_ms, for the handlers' copies. Returns the
 * request, or NULL when it had to be leaked because a handler may still
 * be writing into it. With can_signal 0, only reads and copies. */
static dump_req *await_copies(dump_req *req, int self, int timeout_ms);

static dump_req *describe_and_signal(dump_req *req, pprofd__thread *t,
                                     size_t nt, int timeout_ms, unsigned flags,
                                     int can_signal) {
  int self_tid = 0;
  int taskfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (can_signal)
    atomic_store(&cur, req);
  for (size_t i = 0; i < nt; i++) {
    slot *sl = &req->slots[i];
    describe(taskfd, &t[i], sl, flags);
    if (t[i].self) {
      t[i].syscall[0] = '\0'; /* it is running this code */
      sl->nr = -1;
      self_tid = t[i].tid;
    }
    /* The requester too is signalled: its handler runs as this tgkill
     * returns, and its copy is walked like the others, without the
     * loader lock the in-process unwinder may need. */
    if (!t[i].self && req->arena.base != NULL &&
        take_unsignalled(req, &t[i], sl))
      continue;
    if (!can_signal || syscall(SYS_tgkill, getpid(), t[i].tid, dump_signo) != 0)
      atomic_store_explicit(&sl->state, 3, memory_order_relaxed);
  }
  if (taskfd >= 0)
    close(taskfd);
  if (!can_signal)
    return req;
  return await_copies(req, self_tid, timeout_ms);
}

/* Waits at most timeout_ms until every slot but self's (a thread id, or
 * 0) is answered, unpublishes req and waits for the handlers in flight.
 * Returns req, or NULL when a handler may still write into it (it must
 * then be leaked). */
static dump_req *await_copies(dump_req *req, int self, int timeout_ms) {
  int64_t deadline = pprofd__mono_nanos() + (int64_t)timeout_ms * 1000000;
  for (;;) {
    size_t pending = 0;
    for (size_t i = 0; i < req->n; i++)
      pending +=
          req->slots[i].tid != self &&
          atomic_load_explicit(&req->slots[i].state, memory_order_acquire) < 2;
    if (pending == 0 || pprofd__mono_nanos() >= deadline)
      break;
    struct timespec ts = {0, 100 * 1000};
    nanosleep(&ts, NULL);
  }
  atomic_store(&cur, NULL);
  int64_t drain = pprofd__mono_nanos() + DRAIN_NS;
  while (atomic_load(&inflight) != 0 && pprofd__mono_nanos() < drain)
    sched_yield();
  return atomic_load(&inflight) != 0 ? NULL : req;
}

/* pprofd__threads_dump, outside the guard's bookkeeping. */
static int dump(pprofd__thread **out, size_t *n, int timeout_ms,
                unsigned flags) {
  int *tids = NULL;
  size_t nt = 0;
  int err = list_tids(&tids, &nt);
  if (err != 0)
    return err;
  pprofd__thread *t = pprofd__icalloc(nt + 1, sizeof *t);
  dump_req *req = pprofd__icalloc(1, sizeof *req);
  slot *slots = pprofd__icalloc(nt + 1, sizeof *slots);
  if (t == NULL || req == NULL || slots == NULL) {
    pprofd__ifree(tids);
    pprofd__ifree(t);
    pprofd__ifree(req);
    pprofd__ifree(slots);
    return PPROFD_ENOMEM;
  }
  int self = gettid_sigsafe();
  qsort(tids, nt, sizeof *tids, cmp_int);
  int *blockslot = pprofd__icalloc(nt + 1, sizeof *blockslot);
  if (blockslot != NULL)
    pprofd__blockctx_find(tids, nt, blockslot);
  for (size_t i = 0; i < nt; i++) {
    t[i].tid = slots[i].tid = tids[i];
    t[i].self = t[i].tid == self;
    slots[i].blockslot = blockslot != NULL ? blockslot[i] : -1;
  }
  pprofd__ifree(blockslot);
  pprofd__ifree(tids);
  origin_fill of = {t, slots, nt};
  pprofd__threadreg_each(fill_origin, &of);
  req->slots = slots;
  req->n = nt;
  req->arena.memfd = -1;

  pprofd__mutex_lock(&dump_lock);
  if (leaked != NULL && atomic_load(&inflight) == 0) {
    req_free(leaked);
    leaked = NULL;
  }
  int have_arena = pprofd__stackcopy_arena_init(&req->arena, nt) == 0;
  int can_signal =
      have_arena && leaked == NULL && pprofd__threads_unavailable() == NULL;
  if (describe_and_signal(req, t, nt, timeout_ms, flags, can_signal) == NULL) {
    leaked = req; /* a handler may still write into it */
    req = NULL, slots = NULL;
  }
  pprofd__mutex_unlock(&dump_lock);

  if (slots != NULL && have_arena) {
    /* Walking needs no thread's cooperation any more. */
    const char *why = pprofd__stackcopy_walk_begin();
    for (size_t i = 0; i < nt; i++) {
      if (t[i].state[0] == '\0' ||
          atomic_load_explicit(&slots[i].state, memory_order_acquire) != 2)
        continue;
      int truncated;
      int k = pprofd__stackcopy_walk(&slots[i].copy, t[i].locs,
                                     PPROFD__THREAD_DEPTH, &truncated);
      t[i].held_ns = slots[i].held_ns;
      t[i].source = slots[i].source;
      if (k > 0) {
        t[i].nlocs = k;
        t[i].captured = 1;
        t[i].truncated = truncated;
      }
    }
    (void)why; /* the walks then give each thread's PC alone */
    pprofd__stackcopy_walk_end();
  }
  for (size_t i = 0; i < nt; i++)
    if (t[i].self && !t[i].captured) { /* its signal blocked, say */
      t[i].nlocs = capture_self(t[i].locs, PPROFD__THREAD_DEPTH);
      t[i].captured = t[i].nlocs > 0;
    }
  if (req != NULL)
    pprofd__stackcopy_arena_free(&req->arena);
  pprofd__ifree(slots);
  pprofd__ifree(req);
  /* Threads that exited meanwhile have no state left to show. */
  size_t k = 0;
  for (size_t i = 0; i < nt; i++)
    if (t[i].state[0] != '\0')
      t[k++] = t[i];
  qsort(t, k, sizeof *t, cmp_thread);
  *out = t;
  *n = k;
  return 0;
}

int pprofd__threads_dump(pprofd__thread **out, size_t *n, int timeout_ms,
                         unsigned flags) {
  /* What the dump allocates (opendir's buffer, the C library's) is
   * pprofd's, so it is never sampled: a sample would need the unwinder,
   * which can wait on the loader lock that a thread being dumped holds. */
  pprofd__guard_enter();
  int err = dump(out, n, timeout_ms, flags);
  pprofd__guard_exit();
  return err;
}

int pprofd__threads_signal_copies(const int *tids, size_t n, int timeout_ms,
                                  pprofd__signal_copies **out) {
  *out = NULL;
  if (pprofd__threads_unavailable() != NULL)
    return PPROFD_EUNAVAILABLE;
  dump_req *req = pprofd__icalloc(1, sizeof *req);
  slot *slots = pprofd__icalloc(n + 1, sizeof *slots);
  if (req == NULL || slots == NULL) {
    pprofd__ifree(req);
    pprofd__ifree(slots);
    return PPROFD_ENOMEM;
  }
  req->slots = slots;
  req->n = n;
  req->arena.memfd = -1;
  for (size_t i = 0; i < n; i++)
    slots[i].tid = tids[i];
  pprofd__mutex_lock(&dump_lock);
  if (leaked != NULL && atomic_load(&inflight) == 0) {
    req_free(leaked);
    leaked = NULL;
  }
  if (leaked != NULL || pprofd__stackcopy_arena_init(&req->arena, n) != 0) {
    pprofd__mutex_unlock(&dump_lock);
    req_free(req);
    return PPROFD_EBUSY;
  }
  atomic_store(&cur, req);
  pid_t pid = getpid();
  for (size_t i = 0; i < n; i++)
    if (syscall(SYS_tgkill, pid, tids[i], dump_signo) != 0)
      atomic_store_explicit(&slots[i].state, 3, memory_order_relaxed);
  if (await_copies(req, 0, timeout_ms) == NULL) {
    leaked = req; /* a handler may still write into it */
    pprofd__mutex_unlock(&dump_lock);
    return PPROFD_EBUSY;
  }
  pprofd__mutex_unlock(&dump_lock);
  *out = (pprofd__signal_copies *)req;
  return 0;
}

const pprofd__stackcopy *
pprofd__signal_copies_get(const pprofd__signal_copies *h, size_t i) {
  const dump_req *req = (const dump_req *)h;
  if (req == NULL || i >= req->n ||
      atomic_load_explicit(&req->slots[i].state, memory_order_acquire) != 2)
    return NULL;
  return &req->slots[i].copy;
}

void pprofd__signal_copies_free(pprofd__signal_copies *h) {
  if (h != NULL)
    req_free((dump_req *)h);
}

/* fork() does not wait for a dump in progress (request work, up to its
 * timeout): the child, where only the forking thread exists and no dump
 * runs, takes the lock back and forgets the parent's dump request. */
void pprofd__threads_postfork_child(void) {
  (void)pprofd__mutex_reclaim_in_child(&dump_lock);
  atomic_store(&cur, NULL);
  atomic_store(&inflight, 0);
  leaked = NULL; /* the parent's; nothing here writes into it */
}

int64_t pprofd__threads_count(void) {
  char buf[4096];
  if (pprofd__read_small("/proc/self/status", buf, sizeof buf) <= 0)
    return 0;
  const char *p = strstr(buf, "\nThreads:");
  return p != NULL ? strtoll(p + 9, NULL, 10) : 0;
}

/* The thread's name with every run of digits as `*`. */
static void name_pattern(const char *name, char *out, size_t len) {
  size_t k = 0;
  for (const char *p = name; *p && k + 1 < len; p++) {
    if (*p >= '0' && *p <= '9') {
      if (k == 0 || out[k - 1] != '*')
        out[k++] = '*';
    } else {
      out[k++] = *p;
    }
  }
  out[k] = '\0';
}

int pprofd__threads_collect(pprofd__snapshot *s) {
  pprofd__snap_init_count(s, "goroutine");
  pprofd__thread *t;
  size_t n;
  int err = pprofd__threads_dump(&t, &n, PPROFD__DUMP_TIMEOUT_MS, 0);
  if (err != 0)
    return err;
  int64_t one = 1;
  for (size_t i = 0; i < n && !s->failed; i++) {
    char pat[sizeof t[i].name];
    name_pattern(t[i].name, pat, sizeof pat);
    pprofd__label lb[3] = {{"state", t[i].state, 0},
                           {"threads", pat, 0},
                           {"syscall", t[i].syscall, 0}};
    (void)pprofd__snap_add(s, t[i].locs, (size_t)t[i].nlocs, &one, lb,
                           t[i].syscall[0] ? 3 : 2);
  }
  pprofd__ifree(t);
  if (s->failed)
    return s->failed;
  return pprofd__snap_merge(s, 1);
}
