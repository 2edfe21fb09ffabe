/*
 * profiles.h - the one table of profile kinds.
 *
 * Every endpoint under /debug/pprof/ except the index and `symbol` is a
 * row here: its name, the description shown on the index page (true for a
 * C program), how to count it, whether it is available and why not, how
 * to collect and write it, and how to serve it (core/render.h: a named
 * profile's collect -> delta -> encode, or its own window for `profile`
 * and `trace`). Routing, the index page and the file API iterate this
 * table and never test a name; adding a profile kind is one sampler
 * module plus one row (Go's runtime/pprof `profiles` map plays this role).
 * Custom profiles (pprofd_profile_new) are rows added at run time.
 *
 * Threads: read from request threads; rows are immutable, custom rows
 * are guarded by the custom-profile lock.
 */
#ifndef PPROFD_CORE_PROFILES_H
#define PPROFD_CORE_PROFILES_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "core/reply.h"
#include "model/snapshot.h"

/* What a kind supports. */
enum pprofd__kind_flags {
  PPROFD__KIND_DELTA = 1, /* ?seconds=N deltas */
};

/* When a named profile writes text instead of protobuf (spec 2.6). */
enum pprofd__text_rule {
  PPROFD__TEXT_NONZERO,  /* heap, allocs: debug != 0 */
  PPROFD__TEXT_POSITIVE, /* block, mutex, threadcreate, custom: debug > 0 */
  PPROFD__TEXT_ONE,      /* goroutine: debug == 1; >= 2 is the full dump */
};

typedef struct pprofd__kind pprofd__kind;

struct pprofd__kind {
  const char *name;
  const char *desc;
  int flags;
  enum pprofd__text_rule text_rule;
  /* The count shown on the index page; 0 when unavailable. */
  int64_t (*count)(const pprofd__kind *k);
  /* NULL when available, else why not (one sentence, no newline). */
  const char *(*unavailable)(const pprofd__kind *k);
  /* Fills a snapshot of the profile's current state. */
  int (*collect)(const pprofd__kind *k, pprofd__snapshot *s);
  /* Writes the debug >= 1 text form (debug tells which, for goroutine). */
  int (*write_text)(const pprofd__kind *k, pprofd__snapshot *s, int debug,
                    pprofd__buf *out);
  /* Runs before collecting when ?gc=N > 0 (heap only); may be NULL. */
  void (*gc)(const pprofd__kind *k);
  /* Serves a request for the kind (core/render.c). */
  void (*serve)(const pprofd__kind *k, const pprofd__request *rq,
                pprofd__reply *rp);
  void *data; /* the custom profile behind a run-time row */
};

/* The rows' serve entries, defined by the render path (core/render.c
 * and core/window.c). */
/* A named profile: ?debug selects protobuf or text, ?gc runs the kind's
 * gc hook, ?seconds=N serves the delta over an N-second window. */
void pprofd__serve_named(const pprofd__kind *k, const pprofd__request *rq,
                         pprofd__reply *rp);
/* goroutine: a named profile, and ?debug=2 (or more) the full dump. */
void pprofd__serve_goroutine(const pprofd__kind *k, const pprofd__request *rq,
                             pprofd__reply *rp);
/* profile: a CPU profile of the request's own window. */
void pprofd__serve_cpu(const pprofd__kind *k, const pprofd__request *rq,
                       pprofd__reply *rp);
/* trace: a trace of the request's own window. */
void pprofd__serve_trace(const pprofd__kind *k, const pprofd__request *rq,
                         pprofd__reply *rp);
/* wall: a wall-clock profile of the request's own window. */
void pprofd__serve_wall(const pprofd__kind *k, const pprofd__request *rq,
                        pprofd__reply *rp);
/* cmdline: argv joined by NUL. */
void pprofd__serve_cmdline(const pprofd__kind *k, const pprofd__request *rq,
                           pprofd__reply *rp);

/* The built-in row for name, or NULL. */
const pprofd__kind *pprofd__kind_builtin(const char *name);
/* Looks a name up among built-in and custom profiles.
 * On success *k is the row; for a custom profile *k points at storage in
 * *tmp that stays valid while the caller holds it. Returns 0 or
 * PPROFD_ENOPROFILE. */
int pprofd__kind_lookup(const char *name, pprofd__kind *tmp,
                        const pprofd__kind **k);
/* Every row to list on the index page (built-in and custom), sorted by
 * name, copied into a new array the caller frees with pprofd__ifree.
 * NULL when out of memory. */
pprofd__kind *pprofd__kind_list(size_t *n);

/* Whether debug selects the text writer for this kind. */
int pprofd__kind_is_text(const pprofd__kind *k, int64_t debug);

#endif
