/*
 * render.h - the one render path: a request for a profile, in, and a
 * finished reply, out.
 *
 * Every endpoint under /debug/pprof/ is served here, for HTTP (http/) and
 * for pprofd_write_profile alike: the index page, `symbol`, and every row
 * of the profile table (core/profiles.h) through its `serve` entry, which
 * runs collect -> (wait, collect, delta) -> encode for named profiles,
 * opens and closes a CPU session around the window for `profile`, and
 * records and encodes a `trace`. The caller supplies the query parameters
 * and a way to wait (the HTTP server's wait ends early when the client
 * leaves or the server stops); this layer applies Go's parameter rules and
 * writes Go's exact error texts into the reply.
 *
 * Threads: any request thread, or the application's thread in
 * pprofd_write_profile.
 */
#ifndef PPROFD_CORE_RENDER_H
#define PPROFD_CORE_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "core/reply.h"

/* The index page (core/index.c). */
void pprofd__serve_index(const pprofd__request *rq, pprofd__reply *rp);

/* Whether /debug/pprof/<name> is switched off by PPROFD_DISABLE
 * (cmdline, symbol, trace). */
int pprofd__serve_disabled(const char *name, const struct pprofd_config *cfg);

/* Serves /debug/pprof/<name> ("" is the index page). An unknown name is
 * Go's 404 "Unknown profile". */
void pprofd__serve(const char *name, const pprofd__request *rq,
                   pprofd__reply *rp);

/* The tracer's record of pprofd's own requests: pprofd__serve_begin
 * stamps a request's start (0 when no trace records, then
 * pprofd__serve_end does nothing), pprofd__serve_end records it. */
int64_t pprofd__serve_begin(void);
void pprofd__serve_end(int64_t t0, const char *method, const char *path,
                       const char *query);

/* Records a trace for seconds (waiting with wait(arg, seconds), which
 * returns nonzero when the window ended early: then 1 is returned and
 * nothing written) and writes its JSON into out. PPROFD_EBUSY when a trace
 * is already recording, PPROFD_ENOMEM, PPROFD_ELIMIT. */
int pprofd__render_trace(double seconds, int (*wait)(void *arg, double seconds),
                         void *arg, int symbolize, int max_cpu_sessions,
                         pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
