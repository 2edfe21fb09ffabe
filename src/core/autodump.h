/*
 * autodump.h - automatic captures: profiles written to disk when a rule
 * about the process fires (RSS, its growth, CPU, threads, sampled heap,
 * contention), so that the spike at 3 a.m. leaves its profiles behind.
 *
 * A watcher thread samples /proc/self/statm, /proc/self/stat and
 * pprofd's counters once a second and evaluates the rules
 * (pprofd__autorule_*, pure functions, below). When one fires, outside its
 * cooldown and under the hourly cap, the watcher writes that rule's
 * captures through the same paths the HTTP endpoints use
 * (core/render.h), each to a temporary name and then renamed, appends a
 * JSON line to events.log, and rotates the directory by total bytes and
 * count (oldest first; only files named like its own captures). A disk
 * that fails is reported once on stderr and on the index page; the host
 * never notices.
 *
 * Threads: start/stop under the runtime lock (core/api.c); the status
 * and listing functions from request threads.
 */
#ifndef PPROFD_CORE_AUTODUMP_H
#define PPROFD_CORE_AUTODUMP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "core/reply.h"

#define PPROFD__AUTODUMP_WINDOW_MAX 3600

/* The rules (0 turns a rule off). */
typedef struct pprofd__autodump_rules {
  const char *dir;       /* NULL or "": the feature is off */
  uint64_t rss;          /* bytes */
  unsigned rss_growth;   /* percent within `window` */
  unsigned window;       /* seconds (1..PPROFD__AUTODUMP_WINDOW_MAX) */
  unsigned cpu;          /* percent of one core, sustained for window */
  unsigned threads;      /* thread count */
  uint64_t heap;         /* sampled heap in use, bytes */
  unsigned contention;   /* ms of contention delay per second */
  unsigned cooldown;     /* seconds between two firings of one rule */
  unsigned max_per_hour; /* firings of all rules per hour */
  unsigned cpu_seconds;  /* length of a CPU rule's profile */
  uint64_t max_bytes;    /* disk budget of the directory's captures */
  unsigned max_files;    /* and their number */
} pprofd__autodump_rules;

/* The rules' names, in pprofd__autorule_eval's bit order. */
enum pprofd__autorule {
  PPROFD__RULE_RSS,
  PPROFD__RULE_RSS_GROWTH,
  PPROFD__RULE_CPU,
  PPROFD__RULE_THREADS,
  PPROFD__RULE_HEAP,
  PPROFD__RULE_CONTENTION,
  PPROFD__NRULES
};
extern const char *const pprofd__autorule_names[PPROFD__NRULES];

/* One second's measurements (-1: unknown). */
typedef struct pprofd__autodump_point {
  int64_t mono_ns;
  int64_t rss;           /* bytes */
  int64_t cpu_ns;        /* process CPU time so far */
  int64_t threads;       /* current count */
  int64_t heap;          /* sampled heap in use, bytes */
  int64_t contention_ns; /* contention delay recorded so far */
} pprofd__autodump_point;

/* The rules' state: the last `window` seconds of points and when each
 * rule last fired. */
#define PPROFD__AUTODUMP_RING (PPROFD__AUTODUMP_WINDOW_MAX + 1)
typedef struct pprofd__autorule_state {
  pprofd__autodump_point ring[PPROFD__AUTODUMP_RING];
  size_t n, next;
  int64_t last_fired[PPROFD__NRULES]; /* mono ns, 0 never */
  int64_t hour_start;                 /* mono ns */
  unsigned fired_this_hour;
  int64_t suppressed; /* firings a cooldown or the hourly cap held back */
} pprofd__autorule_state;

/* What a rule measured when it fired. */
typedef struct pprofd__autorule_hit {
  int64_t value, threshold;
} pprofd__autorule_hit;

/* Adds point p and returns the rules that fire now (bit r for rule r),
 * with their measurements in hits[r]; rules in their cooldown, or past
 * the hourly cap, do not fire (and count in s->suppressed). Pure: no I/O,
 * no clock but p's. */
unsigned pprofd__autorule_eval(pprofd__autorule_state *s,
                               const pprofd__autodump_rules *r,
                               const pprofd__autodump_point *p,
                               pprofd__autorule_hit hits[PPROFD__NRULES]);

/* Removes the oldest of dir's capture files (named by this module) until
 * they hold at most max_bytes and max_files. Returns files removed, or
 * -1 when dir cannot be read. */
int pprofd__autodump_rotate(const char *dir, uint64_t max_bytes,
                            unsigned max_files);

/* How captures are fetched: pprofd__serve (core/render.h), handed in by
 * the caller so that the render path, which serves the listing, and this
 * module do not include each other. */
typedef void (*pprofd__autodump_serve_fn)(const char *name,
                                          const pprofd__request *rq,
                                          pprofd__reply *rp);

/* Starts the watcher for rules (copied), fetching captures with serve; a
 * no-op when r->dir is empty. PPROFD_EINVAL for a rule out of range,
 * PPROFD_EALREADY, PPROFD_EIO when the thread cannot start. */
int pprofd__autodump_start(const pprofd__autodump_rules *r,
                           pprofd__autodump_serve_fn serve) PPROFD__WARN_UNUSED;
/* Stops it and waits for a capture in progress to give up. */
void pprofd__autodump_stop(void);
/* In a fork child: the watcher is the parent's. */
void pprofd__autodump_postfork_child(void);

/* The index page's line about automatic captures (plain text): off, or
 * where they go, the rules, what fired and the disk's state. */
void pprofd__autodump_status(char *out, size_t len);
/* Serves /debug/pprof/dumps/ (rest "") and /debug/pprof/dumps/<file>. */
void pprofd__serve_dumps(const char *rest, const pprofd__request *rq,
                         pprofd__reply *rp);

#endif
