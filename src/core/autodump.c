/*
 * autodump.c - automatic captures (see autodump.h).
 *
 * Captures are made as HTTP requests are, through pprofd__serve (handed
 * in at start) with a
 * request of the watcher's own: its query parameters come from a small
 * table, its wait sleeps on the watcher's condition variable so that
 * pprofd__autodump_stop ends a CPU profile or a delta at once. So a
 * capture is byte for byte what curl would have fetched at that moment.
 *
 * File names: <UTC time>-<pid>-<rule>-<kind>.pb.gz or .txt, with the time
 * as 20261202T030000Z, so that sorting by name sorts by time; written as
 * .tmp-<name> and renamed. Rotation only ever removes names of that
 * shape.
 */
#include "config.h"

#include "core/autodump.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fileio.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "core/runtime.h"
#include "pprofd.h"
#include "sample/contention.h"
#include "sample/heap.h"

const char *const pprofd__autorule_names[PPROFD__NRULES] = {
    "rss", "rss_growth", "cpu", "threads", "heap", "contention"};

#define HOUR_NS (3600 * 1000000000LL)
#define NAME_MAX_LEN 96
#define MAX_LISTED 1000

/* ---- the rules (pure) ---- */

/* The point `back` seconds before the newest (0: the newest), or NULL. */
static const pprofd__autodump_point *point_back(const pprofd__autorule_state *s,
                                                size_t back) {
  if (back >= s->n)
    return NULL;
  size_t i =
      (s->next + PPROFD__AUTODUMP_RING - 1 - back) % PPROFD__AUTODUMP_RING;
  return &s->ring[i];
}

/* Whether rule r holds for the newest point; *hit gets the figures. */
static int holds(const pprofd__autorule_state *s,
                 const pprofd__autodump_rules *r, int rule,
                 pprofd__autorule_hit *hit) {
  const pprofd__autodump_point *now = point_back(s, 0);
  const pprofd__autodump_point *then = point_back(s, r->window);
  switch (rule) {
  case PPROFD__RULE_RSS:
    hit->threshold = (int64_t)r->rss;
    hit->value = now->rss;
    return r->rss > 0 && now->rss >= (int64_t)r->rss;
  case PPROFD__RULE_RSS_GROWTH: {
    /* Growth over the window from its lowest point. */
    int64_t low = INT64_MAX;
    for (size_t b = 0; b <= r->window && b < s->n; b++) {
      const pprofd__autodump_point *p = point_back(s, b);
      if (p->rss >= 0 && p->rss < low)
        low = p->rss;
    }
    hit->threshold = r->rss_growth;
    hit->value = low > 0 && low != INT64_MAX && now->rss >= 0
                     ? (now->rss - low) * 100 / low
                     : 0;
    return r->rss_growth > 0 && hit->value >= (int64_t)r->rss_growth;
  }
  case PPROFD__RULE_CPU:
    /* Percent of one core over the whole window: sustained. */
    hit->threshold = r->cpu;
    if (then == NULL || now->cpu_ns < 0 || then->cpu_ns < 0 ||
        now->mono_ns <= then->mono_ns)
      return hit->value = 0, 0;
    hit->value =
        (now->cpu_ns - then->cpu_ns) * 100 / (now->mono_ns - then->mono_ns);
    return r->cpu > 0 && hit->value >= (int64_t)r->cpu;
  case PPROFD__RULE_THREADS:
    hit->threshold = r->threads;
    hit->value = now->threads;
    return r->threads > 0 && now->threads >= (int64_t)r->threads;
  case PPROFD__RULE_HEAP:
    hit->threshold = (int64_t)r->heap;
    hit->value = now->heap;
    return r->heap > 0 && now->heap >= (int64_t)r->heap;
  case PPROFD__RULE_CONTENTION: {
    /* ms of delay per second, over the window. */
    hit->threshold = r->contention;
    if (then == NULL || now->contention_ns < 0 || then->contention_ns < 0 ||
        now->mono_ns <= then->mono_ns)
      return hit->value = 0, 0;
    hit->value = (now->contention_ns - then->contention_ns) * 1000 /
                 (now->mono_ns - then->mono_ns);
    return r->contention > 0 && hit->value >= (int64_t)r->contention;
  }
  default:
    return 0;
  }
}

unsigned pprofd__autorule_eval(pprofd__autorule_state *s,
                               const pprofd__autodump_rules *r,
                               const pprofd__autodump_point *p,
                               pprofd__autorule_hit hits[PPROFD__NRULES]) {
  s->ring[s->next] = *p;
  s->next = (s->next + 1) % PPROFD__AUTODUMP_RING;
  if (s->n < PPROFD__AUTODUMP_RING)
    s->n++;
  if (s->hour_start == 0 || p->mono_ns - s->hour_start >= HOUR_NS) {
    s->hour_start = p->mono_ns;
    s->fired_this_hour = 0;
  }
  unsigned fire = 0;
  for (int rule = 0; rule < PPROFD__NRULES; rule++) {
    pprofd__autorule_hit h = {0, 0};
    if (!holds(s, r, rule, &h))
      continue;
    hits[rule] = h;
    int64_t last = s->last_fired[rule];
    if ((last != 0 && p->mono_ns - last < (int64_t)r->cooldown * 1000000000) ||
        s->fired_this_hour >= r->max_per_hour) {
      s->suppressed++;
      continue;
    }
    s->last_fired[rule] = p->mono_ns;
    s->fired_this_hour++;
    fire |= 1u << rule;
  }
  return fire;
}

/* ---- files ---- */

/* Whether name has the shape of a capture: 20261202T030000Z-PID-... */
static int capture_name(const char *name) {
  size_t n = strlen(name);
  if (n < 20 || n >= NAME_MAX_LEN || name[8] != 'T' || name[15] != 'Z' ||
      name[16] != '-')
    return 0;
  for (int i = 0; i < 15; i++)
    if (i != 8 && (name[i] < '0' || name[i] > '9'))
      return 0;
  for (size_t i = 0; i < n; i++)
    if (name[i] == '/' || (unsigned char)name[i] < 0x21)
      return 0;
  return (n > 6 && strcmp(name + n - 6, ".pb.gz") == 0) ||
         (n > 4 && strcmp(name + n - 4, ".txt") == 0);
}

typedef struct capfile {
  char name[NAME_MAX_LEN];
  uint64_t size;
} capfile;

static int cmp_capfile(const void *a, const void *b) {
  return strcmp(((const capfile *)a)->name, ((const capfile *)b)->name);
}

/* The capture files of dir, oldest first, in a new array; -1 when dir
 * cannot be read. */
static int list_captures(const char *dir, capfile **out, size_t *n) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  size_t cap = 16, k = 0;
  capfile *v = pprofd__ialloc(cap * sizeof *v);
  struct dirent *e;
  while (v != NULL && (e = readdir(d)) != NULL) {
    struct stat st;
    if (!capture_name(e->d_name) ||
        fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    if (k == cap) {
      capfile *nv = pprofd__irealloc(v, (cap *= 2) * sizeof *v);
      if (nv == NULL)
        break;
      v = nv;
    }
    snprintf(v[k].name, sizeof v[k].name, "%.95s", e->d_name);
    v[k++].size = (uint64_t)st.st_size;
  }
  closedir(d);
  if (v == NULL)
    return -1;
  qsort(v, k, sizeof *v, cmp_capfile);
  *out = v;
  *n = k;
  return 0;
}

int pprofd__autodump_rotate(const char *dir, uint64_t max_bytes,
                            unsigned max_files) {
  capfile *v;
  size_t n;
  if (list_captures(dir, &v, &n) != 0)
    return -1;
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += v[i].size;
  int removed = 0;
  char path[4096];
  for (size_t i = 0; i < n && (total > max_bytes || n - i > max_files); i++) {
    snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
    if (unlink(path) == 0)
      removed++;
    total -= v[i].size;
  }
  pprofd__ifree(v);
  return removed;
}

/* ---- the watcher ---- */

static struct {
  pthread_mutex_t lock; /* everything below but the ring */
  pthread_cond_t cond;
  int running, stop;
  pthread_t thread;
  pprofd__autodump_rules r;
  pprofd__autodump_serve_fn serve;
  char dir[4096];
  pprofd__autorule_state st; /* the watcher's own */
  /* For the index page. */
  int64_t firings, files, disk_errors;
  char last_event[256];
  char disk_error[256]; /* the last failure, "" after a success */
  int disk_reported;    /* said on stderr since the last success */
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
PPROFD__LOCK_RANK(autodump, &w.lock, PPROFD__RANK_AUTODUMP);

/* Waits up to seconds or until stopped: 2 when stopping, else 0. Called
 * with w.lock not held. */
static int watcher_wait(void *arg, double seconds) {
  (void)arg;
  struct timespec at;
  clock_gettime(CLOCK_REALTIME, &at);
  int64_t ns = (int64_t)at.tv_nsec + (int64_t)(seconds * 1e9);
  at.tv_sec += (time_t)(ns / 1000000000);
  at.tv_nsec = (long)(ns % 1000000000);
  pprofd__mutex_lock(&w.lock);
  while (!w.stop && pprofd__cond_timedwait(&w.cond, &w.lock, &at) != ETIMEDOUT)
    ;
  int stop = w.stop;
  pprofd__mutex_unlock(&w.lock);
  return stop ? 2 : 0;
}

/* A capture's query: at most two parameters. */
typedef struct capquery {
  const char *k[2], *v[2];
} capquery;

static const char *cap_param(void *arg, const char *key) {
  const capquery *q = arg;
  for (int i = 0; i < 2; i++)
    if (q->k[i] != NULL && strcmp(q->k[i], key) == 0)
      return q->v[i];
  return NULL;
}

/* Says a disk failure once on stderr (until a write succeeds again) and
 * keeps it for the index page. */
static void disk_failed(const char *what, const char *path, int err) {
  pprofd__mutex_lock(&w.lock);
  w.disk_errors++;
  snprintf(w.disk_error, sizeof w.disk_error, "%s %s: %s", what, path,
           strerror(err));
  int say = !w.disk_reported;
  w.disk_reported = 1;
  pprofd__mutex_unlock(&w.lock);
  if (say)
    fprintf(stderr,
            "pprofd: automatic captures: cannot %s %s: %s (the program runs "
            "on; captures resume when the directory works again)\n",
            what, path, strerror(err));
}

static void disk_worked(void) {
  pprofd__mutex_lock(&w.lock);
  w.disk_error[0] = '\0';
  w.disk_reported = 0;
  pprofd__mutex_unlock(&w.lock);
}

/* Writes n bytes to dir/name through a temporary name; 0 or -1. */
static int write_atomically(const char *name, const void *data, size_t n) {
  char tmp[4200], path[4200];
  snprintf(tmp, sizeof tmp, "%s/.tmp-%s", w.dir, name);
  snprintf(path, sizeof path, "%s/%s", w.dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    disk_failed("create", tmp, errno);
    return -1;
  }
  int err = pprofd__write_all(fd, data, n) != 0 ? errno : 0;
  if (close(fd) != 0 && err == 0)
    err = errno;
  if (err == 0 && rename(tmp, path) != 0)
    err = errno;
  if (err != 0) {
    (void)unlink(tmp);
    disk_failed("write", path, err != 0 ? err : EIO);
    return -1;
  }
  disk_worked();
  return 0;
}

/* Fetches /debug/pprof/<kind>?<query> as a request would and writes it as
 * <prefix>-<label>.<ext>; appends the file's name to files. 1 when the
 * watcher is stopping. */
static int capture(const char *prefix, const char *kind, const char *label,
                   const capquery *q, pprofd__buf *files) {
  pprofd__request rq = {.param = cap_param,
                        .wait = watcher_wait,
                        .arg = (void *)q,
                        .method = "GET",
                        .input = "",
                        .addr = "(automatic capture)"};
  pprofd__runtime_config(&rq.cfg);
  rq.arg = (void *)q;
  pprofd__reply rp;
  pprofd__reply_init(&rp);
  /* The wait's arg is the query too: cap_param and watcher_wait share
   * it, and watcher_wait ignores it. */
  w.serve(kind, &rq, &rp);
  int stopping = rp.status == 500 && rp.err == PPROFD_ENOTRUNNING;
  if (!stopping && rp.status == 200 && !pprofd__buf_failed(&rp.body)) {
    int text = rp.ctype != NULL && strncmp(rp.ctype, "text/", 5) == 0;
    char name[NAME_MAX_LEN];
    snprintf(name, sizeof name, "%s-%s.%s", prefix, label,
             text ? "txt" : "pb.gz");
    if (write_atomically(name, rp.body.data, rp.body.len) == 0) {
      pprofd__buf_printf(files, "%s\"%s\"", files->len > 0 ? "," : "", name);
      pprofd__mutex_lock(&w.lock);
      w.files++;
      pprofd__mutex_unlock(&w.lock);
      /* After every file, so the directory never holds more than its
       * budget, even in the middle of a firing. */
      if (pprofd__autodump_rotate(w.dir, w.r.max_bytes, w.r.max_files) < 0)
        disk_failed("read", w.dir, errno);
    }
  } else if (!stopping) {
    fprintf(stderr, "pprofd: automatic capture of %s failed: %.*s\n", kind,
            (int)(rp.body.len < 200 ? rp.body.len : 200),
            rp.body.data != NULL ? rp.body.data : "");
  }
  pprofd__reply_free(&rp);
  return stopping || watcher_wait(NULL, 0) == 2;
}

/* Writes the captures of rule `rule` and its events.log line. */
static void fire(int rule, const pprofd__autorule_hit *hit) {
  const pprofd__autodump_rules *r = &w.r;
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char stamp[32], prefix[64], secs[16];
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  snprintf(prefix, sizeof prefix, "%s-%d-%s", stamp, (int)getpid(),
           pprofd__autorule_names[rule]);
  snprintf(secs, sizeof secs, "%u", r->cpu_seconds);
  pprofd__buf files;
  pprofd__buf_init(&files, 1 << 16);
  const capquery none = {{NULL, NULL}, {NULL, NULL}};
  const capquery dump = {{"debug", NULL}, {"2", NULL}};
  const capquery window = {{"seconds", NULL}, {secs, NULL}};
  int stop = capture(prefix, "goroutine", "goroutine", &none, &files);
  switch (rule) {
  case PPROFD__RULE_RSS:
  case PPROFD__RULE_RSS_GROWTH:
  case PPROFD__RULE_HEAP:
    stop = stop || capture(prefix, "heap", "heap", &none, &files);
    break;
  case PPROFD__RULE_CPU:
    stop = stop || capture(prefix, "profile", "profile", &window, &files);
    break;
  case PPROFD__RULE_THREADS:
    stop = stop || capture(prefix, "goroutine", "goroutine", &dump, &files);
    stop =
        stop || capture(prefix, "threadcreate", "threadcreate", &none, &files);
    break;
  case PPROFD__RULE_CONTENTION:
    stop = stop || capture(prefix, "mutex", "mutex", &window, &files);
    stop = stop || capture(prefix, "block", "block", &window, &files);
    break;
  }
  char line[512];
  int n = snprintf(line, sizeof line,
                   "{\"time\":\"%s\",\"pid\":%d,\"rule\":\"%s\",\"value\":%lld,"
                   "\"threshold\":%lld,\"files\":[",
                   stamp, (int)getpid(), pprofd__autorule_names[rule],
                   (long long)hit->value, (long long)hit->threshold);
  char path[4200];
  snprintf(path, sizeof path, "%s/events.log", w.dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0 || pprofd__write_all(fd, line, (size_t)n) != 0 ||
      pprofd__write_all(fd, files.data != NULL ? files.data : "", files.len) !=
          0 ||
      pprofd__write_all(fd, "]}\n", 3) != 0)
    disk_failed("append to", path, errno != 0 ? errno : EIO);
  if (fd >= 0)
    close(fd);
  pprofd__mutex_lock(&w.lock);
  w.firings++;
  snprintf(w.last_event, sizeof w.last_event, "%s: %s %lld (threshold %lld)%s",
           stamp, pprofd__autorule_names[rule], (long long)hit->value,
           (long long)hit->threshold, stop ? ", cut short by a stop" : "");
  pprofd__mutex_unlock(&w.lock);
  pprofd__buf_free(&files);
}

/* One second's measurements. */
static void measure(pprofd__autodump_point *p) {
  p->mono_ns = pprofd__mono_nanos();
  p->rss = p->cpu_ns = p->threads = p->heap = p->contention_ns = -1;
  char buf[1024];
  long page = sysconf(_SC_PAGESIZE);
  if (pprofd__read_small("/proc/self/statm", buf, sizeof buf) > 0) {
    long long size, res;
    if (sscanf(buf, "%lld %lld", &size, &res) == 2)
      p->rss = res * page;
  }
  if (pprofd__read_small("/proc/self/stat", buf, sizeof buf) > 0) {
    const char *rp = strrchr(buf, ')');
    unsigned long long ut, stt;
    long long nth;
    /* After ")": state(3) ... utime(14) stime(15) ... num_threads(20). */
    if (rp != NULL &&
        sscanf(rp + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
               "%*d %*d %lld",
               &ut, &stt, &nth) == 3) {
      long hz = sysconf(_SC_CLK_TCK);
      p->cpu_ns = (int64_t)((ut + stt) * (1000000000ULL / (unsigned long)hz));
      p->threads = nth;
    }
  }
  if (w.r.heap > 0) {
    pprofd__heaptotals t;
    pprofd__heap_totals(&t); /* lock-free */
    p->heap = t.sampled ? t.inuse_bytes : -1;
  }
  /* The waiting side's delay (the block profile); the mutex profile
   * charges the same delay to the releasers, so it is used only when the
   * block profile is off. */
  if (w.r.contention > 0)
    p->contention_ns = pprofd__contention_block_rate() > 0
                           ? pprofd__contention_delay(PPROFD__BLOCK)
                       : pprofd__contention_mutex_fraction() > 0
                           ? pprofd__contention_delay(PPROFD__MUTEX)
                           : -1;
}

static void *watcher(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "pprofd-autodump");
  for (;;) {
    if (watcher_wait(NULL, 1.0) == 2)
      break;
    pprofd__autodump_point p;
    measure(&p);
    pprofd__autorule_hit hits[PPROFD__NRULES];
    unsigned firing = pprofd__autorule_eval(&w.st, &w.r, &p, hits);
    for (int rule = 0; rule < PPROFD__NRULES; rule++)
      if (firing & (1u << rule))
        fire(rule, &hits[rule]);
  }
  return NULL;
}

int pprofd__autodump_start(const pprofd__autodump_rules *r,
                           pprofd__autodump_serve_fn serve) {
  if (r->dir == NULL || r->dir[0] == '\0')
    return 0;
  if (strlen(r->dir) >= sizeof w.dir || r->window < 1 ||
      r->window > PPROFD__AUTODUMP_WINDOW_MAX || r->cpu_seconds < 1 ||
      r->max_files < 1 || r->max_per_hour < 1)
    return PPROFD_EINVAL;
  pprofd__mutex_lock(&w.lock);
  if (w.running) {
    pprofd__mutex_unlock(&w.lock);
    return PPROFD_EALREADY;
  }
  w.r = *r;
  w.serve = serve;
  snprintf(w.dir, sizeof w.dir, "%s", r->dir);
  w.r.dir = w.dir;
  memset(&w.st, 0, sizeof w.st);
  w.stop = 0;
  w.firings = w.files = w.disk_errors = 0;
  w.last_event[0] = w.disk_error[0] = '\0';
  w.disk_reported = 0;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 << 10);
  int e = pprofd__real_pthread_create()(&w.thread, &attr, watcher, NULL);
  pthread_attr_destroy(&attr);
  w.running = e == 0;
  pprofd__mutex_unlock(&w.lock);
  if (e == 0 && mkdir(w.dir, 0755) != 0 && errno != EEXIST)
    disk_failed("create", w.dir, errno);
  return e == 0 ? 0 : PPROFD_EIO;
}

void pprofd__autodump_stop(void) {
  pprofd__mutex_lock(&w.lock);
  int running = w.running;
  w.stop = 1;
  pthread_cond_broadcast(&w.cond);
  pprofd__mutex_unlock(&w.lock);
  if (running)
    pprofd__join(w.thread, NULL);
  pprofd__mutex_lock(&w.lock);
  w.running = 0;
  pprofd__mutex_unlock(&w.lock);
}

void pprofd__autodump_postfork_child(void) {
  (void)pprofd__mutex_reclaim_in_child(&w.lock);
  w.running = 0; /* the watcher thread is the parent's */
}

/* ---- the index line and the listing ---- */

void pprofd__autodump_status(char *out, size_t len) {
  pprofd__mutex_lock(&w.lock);
  if (!w.running) {
    pprofd__mutex_unlock(&w.lock);
    snprintf(out, len, "off (PPROFD_AUTODUMP_DIR=path and a rule turn it on)");
    return;
  }
  const pprofd__autodump_rules *r = &w.r;
  char rules[256] = "";
  size_t n = 0;
#define RULE(cond, ...)                                                        \
  if ((cond) && n < sizeof rules)                                              \
  n += (size_t)snprintf(rules + n, sizeof rules - n, __VA_ARGS__)
  RULE(r->rss, "rss >= %llu B, ", (unsigned long long)r->rss);
  RULE(r->rss_growth, "rss +%u%% in %u s, ", r->rss_growth, r->window);
  RULE(r->cpu, "cpu >= %u%% for %u s, ", r->cpu, r->window);
  RULE(r->threads, "threads >= %u, ", r->threads);
  RULE(r->heap, "heap >= %llu B, ", (unsigned long long)r->heap);
  RULE(r->contention, "contention >= %u ms/s, ", r->contention);
#undef RULE
  if (n >= 2 && n < sizeof rules)
    rules[n - 2] = '\0';
  snprintf(out, len,
           "on, into %s; rules: %s; cooldown %u s, at most %u an hour; %lld "
           "fired, %lld files written, %lld held back%s%s%s%s",
           w.dir, rules[0] ? rules : "none", r->cooldown, r->max_per_hour,
           (long long)w.firings, (long long)w.files, (long long)w.st.suppressed,
           w.last_event[0] ? "; last: " : "", w.last_event,
           w.disk_error[0] ? "; DISK FAILING: " : "", w.disk_error);
  pprofd__mutex_unlock(&w.lock);
}

/* The rule in a capture's name: <stamp>-<pid>-<rule>-<kind>.<ext>. */
static void name_rule(const char *name, char *rule, size_t len) {
  const char *p = strchr(name + 17, '-');
  const char *q = p != NULL ? strchr(p + 1, '-') : NULL;
  rule[0] = '\0';
  for (int i = 0; q != NULL && i < PPROFD__NRULES; i++) {
    size_t k = strlen(pprofd__autorule_names[i]);
    if (strncmp(p + 1, pprofd__autorule_names[i], k) == 0 && p[1 + k] == '-')
      snprintf(rule, len, "%s", pprofd__autorule_names[i]);
  }
}

/* The listing: every capture, newest first. */
static void list_page(pprofd__reply *rp, const char *dir) {
  capfile *v = NULL;
  size_t n = 0;
  pprofd__buf *b = &rp->body;
  pprofd__buf_puts(b, "<html>\n<head>\n<title>automatic captures</title>\n"
                      "</head>\n<body>\n<p>Automatic captures");
  if (dir[0] == '\0') {
    pprofd__buf_puts(b, " are off: set PPROFD_AUTODUMP_DIR and a rule "
                        "(see the index page).</p>\n</body>\n</html>\n");
    rp->ctype = "text/html; charset=utf-8";
    return;
  }
  pprofd__buf_puts(b, " in ");
  pprofd__buf_html(b, dir);
  if (list_captures(dir, &v, &n) != 0) {
    pprofd__buf_printf(b, ": the directory cannot be read (%s).</p>\n",
                       strerror(errno));
    n = 0;
  } else {
    pprofd__buf_printf(b,
                       ", newest first (%zu).</p>\n<table>\n"
                       "<tr><th>time</th><th>rule</th><th>file</th>"
                       "<th>bytes</th></tr>\n",
                       n);
  }
  for (size_t i = n; i-- > 0 && n - i <= MAX_LISTED;) {
    char rule[32];
    name_rule(v[i].name, rule, sizeof rule);
    pprofd__buf_printf(b,
                       "<tr><td>%.4s-%.2s-%.2s %.2s:%.2s:%.2s UTC</td>"
                       "<td>%s</td><td><a href='",
                       v[i].name, v[i].name + 4, v[i].name + 6, v[i].name + 9,
                       v[i].name + 11, v[i].name + 13, rule);
    pprofd__buf_html(b, v[i].name);
    pprofd__buf_puts(b, "'>");
    pprofd__buf_html(b, v[i].name);
    pprofd__buf_printf(b, "</a></td><td>%llu</td></tr>\n",
                       (unsigned long long)v[i].size);
  }
  if (v != NULL)
    pprofd__buf_puts(b, "</table>\n");
  pprofd__buf_puts(b, "<p><a href='events.log'>events.log</a> (one JSON line "
                      "per firing)</p>\n</body>\n</html>\n");
  pprofd__ifree(v);
  rp->ctype = "text/html; charset=utf-8";
}

/* Largest capture served (a CPU profile or a dump of many threads). */
#define SERVE_MAX ((size_t)64 << 20)

void pprofd__serve_dumps(const char *rest, const pprofd__request *rq,
                         pprofd__reply *rp) {
  const char *dir = rq->cfg.autodump_dir;
  if (rest[0] == '\0')
    return list_page(rp, dir);
  int events = strcmp(rest, "events.log") == 0;
  if (dir[0] == '\0' || (!events && !capture_name(rest)))
    return pprofd__reply_error(rp, 404, PPROFD_ENOPROFILE, "Unknown capture");
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, rest);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0)
      close(fd);
    return pprofd__reply_error(rp, 404, PPROFD_ENOPROFILE, "Unknown capture");
  }
  size_t want = (size_t)st.st_size < SERVE_MAX ? (size_t)st.st_size : SERVE_MAX;
  char buf[65536];
  ssize_t got;
  while (rp->body.len < want && (got = read(fd, buf, sizeof buf)) > 0)
    pprofd__buf_append(&rp->body, buf, (size_t)got);
  close(fd);
  size_t n = strlen(rest);
  int text = events || (n > 4 && strcmp(rest + n - 4, ".txt") == 0);
  rp->ctype = text ? "text/plain; charset=utf-8" : "application/octet-stream";
  if (!text)
    snprintf(rp->filename, sizeof rp->filename, "%s", rest);
}
