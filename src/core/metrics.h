/*
 * metrics.h - the runtime metrics endpoints: /metrics (Prometheus) and
 * /debug/vars (Go's expvar), outside /debug/pprof/ as in Go programs.
 *
 * Each request gathers the figures pprofd already keeps - the process's
 * own (sample/procstat.h), the heap sampler's totals, the thread
 * registry's count, the contention profiles' delays, pprofd's own
 * memory, the request counts (core/reqstats.h) and the application's
 * variables (sample/vars.h) - into the plain model of model/metrics.h,
 * and hands it to an encoder. Every figure is read with atomics or from
 * the kernel: no host thread is stopped or made to wait, and nothing is
 * added to the host's hot paths.
 *
 * Counters that are estimates (the heap's allocation and free counts
 * are unsampled from the samples, whose scale depends on the rate in
 * force) could step back when the rate changes; each is served as the
 * highest value served so far, so a scraper always sees it grow.
 *
 * Threads: any request thread.
 */
#ifndef PPROFD_CORE_METRICS_H
#define PPROFD_CORE_METRICS_H

#include <stddef.h>

#include "core/reply.h"

/* The PPROFD__DISABLE_* bit of the endpoint at path ("/metrics" or
 * "/debug/vars"), or 0 for any other path. */
unsigned pprofd__metrics_endpoint(const char *path);

/* GET /metrics: the text format 0.0.4, or OpenMetrics when rq->accept
 * asks for it (encode/promtext.h). */
void pprofd__serve_metrics(const pprofd__request *rq, pprofd__reply *rp);

/* GET /debug/vars: Go's expvar JSON (encode/expvar.h). */
void pprofd__serve_vars(const pprofd__request *rq, pprofd__reply *rp);

/* Bytes pprofd holds for itself: its own allocations, the samplers'
 * tables and the bootstrap arena. Lock-free. */
size_t pprofd__metrics_own_bytes(void);

#endif
