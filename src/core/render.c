/*
 * render.c - the one render path (see render.h): named profiles and their
 * deltas, the goroutine dump, cmdline, symbol and the dispatch by name.
 * The windows of `profile` and `trace` are in window.c, the index page in
 * index.c.
 */
#include "config.h"

#include "core/render.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/ialloc.h"
#include "base/strconv.h"
#include "core/autodump.h"
#include "core/profiles.h"
#include "encode/pprof.h"
#include "encode/symbolz.h"
#include "encode/threaddump.h"
#include "pprofd.h"
#include "sample/cmdline.h"
#include "sample/threads.h"
#include "sample/trace.h"

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define OCTETS "application/octet-stream"

/* Go's strconv.Atoi of a parameter, errors ignored; 0 when absent. */
static int64_t param_atoi(const pprofd__request *rq, const char *key) {
  const char *v = rq->param(rq->arg, key);
  return v != NULL ? pprofd__atoi_go(v) : 0;
}

/* Why k cannot be served now, or NULL. */
static const char *unavailable(const pprofd__kind *k) {
  const char *why = k->unavailable != NULL ? k->unavailable(k) : NULL;
  if (why == NULL && k->collect == NULL)
    why = "it cannot be collected";
  return why;
}

/* Replies 500 "<name> profile unavailable: <why>". */
static void reply_unavailable(pprofd__reply *rp, const pprofd__kind *k,
                              const char *why) {
  pprofd__reply_error(rp, 500, PPROFD_EUNAVAILABLE,
                      "%s profile unavailable: %s", k->name, why);
}

/* Replies 500 "could not write <name> profile: <err>". */
static void reply_failed(pprofd__reply *rp, const pprofd__kind *k, int err) {
  pprofd__reply_error(rp, 500, err, "could not write %s profile: %s", k->name,
                      pprofd_strerror(err));
}

/* The seconds-delta path of a named profile (spec section 3). */
static void serve_delta(const pprofd__kind *k, const pprofd__request *rq,
                        pprofd__reply *rp, const char *seconds, int64_t debug) {
  int64_t sec;
  if (pprofd__parse_int64(seconds, &sec) != 0 || sec <= 0)
    return pprofd__reply_error(rp, 400, PPROFD_EINVAL,
                               "invalid value for \"seconds\" - must be a "
                               "positive integer");
  if (!(k->flags & PPROFD__KIND_DELTA))
    return pprofd__reply_error(rp, 400, PPROFD_EINVAL,
                               "\"seconds\" parameter is not supported for "
                               "this profile type");
  if (pprofd__reply_over_limit(rp, &rq->cfg, (double)sec, "profile"))
    return;
  if (debug != 0)
    return pprofd__reply_error(rp, 400, PPROFD_EINVAL,
                               "seconds and debug params are incompatible");
  const char *why = unavailable(k);
  if (why != NULL)
    return reply_unavailable(rp, k, why);
  if (rq->wait == NULL)
    return pprofd__reply_error(rp, 400, PPROFD_EINVAL,
                               "a delta needs a time window");
  pprofd__snapshot p0, p1, d;
  pprofd__snap_init(&p0);
  pprofd__snap_init(&p1);
  pprofd__snap_init(&d);
  /* The window is measured from the collections themselves (a collector
   * may or may not stamp the snapshot it fills). */
  int64_t t0 = pprofd__now_nanos();
  int err = k->collect(k, &p0);
  p0.time_nanos = t0;
  if (err == 0) {
    int w = rq->wait(rq->arg, (double)sec);
    if (w == 1) {
      rp->gone = 1; /* the client is gone: nobody reads a response */
      goto done;
    }
    if (w == 2) {
      pprofd__reply_error(rp, 500, PPROFD_ENOTRUNNING, "context canceled");
      goto done;
    }
    int64_t t1 = pprofd__now_nanos();
    err = k->collect(k, &p1);
    p1.time_nanos = t1;
  }
  if (err == 0)
    err = pprofd__snap_delta(&d, &p0, &p1);
  if (err == 0)
    err = pprofd__pprof_encode(&d, rq->cfg.symbolize, &rp->body);
  if (err != 0) {
    reply_failed(rp, k, err);
    goto done;
  }
  rp->ctype = OCTETS;
  snprintf(rp->filename, sizeof rp->filename, "%s-delta", k->name);
done:
  pprofd__snap_free(&p0);
  pprofd__snap_free(&p1);
  pprofd__snap_free(&d);
}

/* Go picks the headers from debug != 0 and the format from the profile's
 * own rule, so goroutine?debug=-1 is a proto labelled as text; clients
 * have seen that for years, so it is kept. */
static void set_format(const pprofd__kind *k, int64_t debug,
                       pprofd__reply *rp) {
  if (debug != 0) {
    rp->ctype = TEXT_PLAIN;
  } else {
    rp->ctype = OCTETS;
    snprintf(rp->filename, sizeof rp->filename, "%s", k->name);
  }
}

void pprofd__serve_named(const pprofd__kind *k, const pprofd__request *rq,
                         pprofd__reply *rp) {
  int64_t debug = param_atoi(rq, "debug");
  const char *seconds = rq->param(rq->arg, "seconds");
  if (seconds != NULL && seconds[0] != '\0')
    return serve_delta(k, rq, rp, seconds, debug);
  const char *why = unavailable(k);
  if (why != NULL)
    return reply_unavailable(rp, k, why);
  if (k->gc != NULL && param_atoi(rq, "gc") > 0 &&
      !(rq->cfg.disable & PPROFD__DISABLE_GC))
    k->gc(k); /* Go honours gc on heap only: the only row with a hook */
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  int text = pprofd__kind_is_text(k, debug);
  int err = k->collect(k, &s);
  if (err == 0)
    err = text ? k->write_text(k, &s, debug > 2 ? 2 : (int)debug, &rp->body)
               : pprofd__pprof_encode(&s, rq->cfg.symbolize, &rp->body);
  pprofd__snap_free(&s);
  if (err != 0)
    return reply_failed(rp, k, err);
  set_format(k, debug, rp);
}

void pprofd__serve_goroutine(const pprofd__kind *k, const pprofd__request *rq,
                             pprofd__reply *rp) {
  int64_t debug = param_atoi(rq, "debug");
  const char *seconds = rq->param(rq->arg, "seconds");
  if (debug < 2 || (seconds != NULL && seconds[0] != '\0'))
    return pprofd__serve_named(k, rq, rp);
  /* debug=2 is a dump of its own, not a rendering of the count profile:
   * collecting that first would stop every thread twice. */
  const char *why = unavailable(k);
  if (why != NULL)
    return reply_unavailable(rp, k, why);
  pprofd__thread *t;
  size_t n;
  int err =
      pprofd__threads_dump(&t, &n, PPROFD__DUMP_TIMEOUT_MS, PPROFD__DUMP_WCHAN);
  if (err == 0) {
    err = pprofd__threaddump_write(t, n, &rp->body);
    pprofd__ifree(t);
  }
  if (err != 0)
    return reply_failed(rp, k, err);
  set_format(k, debug, rp);
}

void pprofd__serve_cmdline(const pprofd__kind *k, const pprofd__request *rq,
                           pprofd__reply *rp) {
  if (pprofd__cmdline(&rp->body) != 0)
    pprofd__reply_error(rp, 500, PPROFD_EIO, "could not read the command line");
}

/* /debug/pprof/symbol: Go's symbolz protocol over the raw query (GET) or
 * the body (POST). */
static void serve_symbol(const pprofd__request *rq, pprofd__reply *rp) {
  /* A failed body is answered by the caller, as for any reply. */
  (void)pprofd__symbolz_write(rq->input != NULL ? rq->input : "",
                              rq->input != NULL ? rq->input_len : 0, &rp->body);
}

int pprofd__serve_disabled(const char *name, const struct pprofd_config *cfg) {
  static const struct {
    const char *name;
    unsigned bit;
  } off[] = {{"cmdline", PPROFD__DISABLE_CMDLINE},
             {"symbol", PPROFD__DISABLE_SYMBOL},
             {"trace", PPROFD__DISABLE_TRACE}};
  for (size_t i = 0; i < PPROFD__ARRAY_SIZE(off); i++)
    if ((cfg->disable & off[i].bit) && strcmp(name, off[i].name) == 0)
      return 1;
  return 0;
}

void pprofd__serve(const char *name, const pprofd__request *rq,
                   pprofd__reply *rp) {
  if (name[0] == '\0')
    return pprofd__serve_index(rq, rp);
  if (pprofd__serve_disabled(name, &rq->cfg))
    return pprofd__reply_error(rp, 404, PPROFD_ENOPROFILE, "Unknown profile");
  if (strcmp(name, "symbol") == 0)
    return serve_symbol(rq, rp);
  if (strcmp(name, "dumps") == 0 || strncmp(name, "dumps/", 6) == 0)
    return pprofd__serve_dumps(name[5] == '/' ? name + 6 : "", rq, rp);
  pprofd__kind tmp;
  const pprofd__kind *k;
  if (pprofd__kind_lookup(name, &tmp, &k) != 0)
    return pprofd__reply_error(rp, 404, PPROFD_ENOPROFILE, "Unknown profile");
  k->serve(k, rq, rp);
}

int64_t pprofd__serve_begin(void) {
  return pprofd__trace_active() ? pprofd__mono_nanos() : 0;
}

void pprofd__serve_end(int64_t t0, const char *method, const char *path,
                       const char *query) {
  if (t0 != 0)
    pprofd__trace_http(method, path, query, t0, pprofd__mono_nanos());
}
