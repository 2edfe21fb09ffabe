/*
 * window.c - the profiles of a request's own window (see render.h):
 * `profile`, a CPU session open for the window, `trace`, the tracer
 * recording for it with a CPU session feeding it samples, and `wall`,
 * every thread sampled at a fixed rate whatever it is doing.
 */
#include "config.h"

#include "core/render.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/strconv.h"
#include "core/profiles.h"
#include "encode/pprof.h"
#include "encode/tracejson.h"
#include "pprofd.h"
#include "sample/cpu.h"
#include "sample/trace.h"
#include "sample/wall.h"

/* The seconds and hz of a sampled window (profile, wall): Go's rules for
 * seconds (missing, malformed, zero or negative silently mean 30; over
 * the limit, 400), hz from 1 to hz_max (hz_default when absent, 400 when
 * bad). 0, or -1 when rp holds the error. */
static int window_params(const pprofd__request *rq, pprofd__reply *rp,
                         const char *what, int64_t hz_default, int64_t hz_max,
                         int64_t *sec, int64_t *hz) {
  const char *v = rq->param(rq->arg, "seconds");
  if (v == NULL || pprofd__parse_int64(v, sec) != 0 || *sec <= 0)
    *sec = 30;
  if (pprofd__reply_over_limit(rp, &rq->cfg, (double)*sec, what))
    return -1;
  *hz = hz_default;
  v = rq->param(rq->arg, "hz");
  if (v != NULL && v[0] != '\0' &&
      (pprofd__parse_int64(v, hz) != 0 || *hz < 1 || *hz > hz_max)) {
    pprofd__reply_error(rp, 400, PPROFD_EINVAL,
                        "invalid value for \"hz\" - must be an integer from "
                        "1 to %lld",
                        (long long)hz_max);
    return -1;
  }
  return 0;
}

void pprofd__serve_cpu(const pprofd__kind *k, const pprofd__request *rq,
                       pprofd__reply *rp) {
  if (rq->wait == NULL)
    return pprofd__reply_error(rp, 400, PPROFD_ENOPROFILE,
                               "a CPU profile needs a time window "
                               "(pprofd_cpu_start writes one to a file)");
  int64_t sec, hz;
  if (window_params(rq, rp, "profile", PPROFD__CPU_HZ_DEFAULT,
                    PPROFD__CPU_HZ_MAX, &sec, &hz) != 0)
    return;
  const char *why = k->unavailable(k);
  if (why != NULL)
    return pprofd__reply_error(rp, 500, PPROFD_EUNAVAILABLE,
                               "Could not enable CPU profiling: %s", why);
  pprofd__cpu_session *s;
  int err = pprofd__cpu_open((int)hz, (int)rq->cfg.max_cpu_profiles, &s);
  int running = pprofd__cpu_hz();
  if (err == PPROFD_EBUSY && running != 0 && running != (int)hz)
    return pprofd__reply_error(rp, 500, err,
                               "Could not enable CPU profiling: cpu profiling "
                               "already in use at %d Hz (profiles that "
                               "overlap share one rate; ask for hz=%d)",
                               running, running);
  if (err == PPROFD_EBUSY)
    return pprofd__reply_error(rp, 500, err,
                               "Could not enable CPU profiling: cpu profiling "
                               "already in use");
  if (err != 0)
    return pprofd__reply_error(rp, 500, err,
                               "Could not enable CPU profiling: %s",
                               pprofd_strerror(err));
  int w = rq->wait(rq->arg, (double)sec);
  pprofd__snapshot snap;
  pprofd__snap_init(&snap);
  err = pprofd__cpu_close(s, &snap);
  if (w == 1) { /* the client is gone: its window ends, nobody reads */
    pprofd__snap_free(&snap);
    rp->gone = 1;
    return;
  }
  if (err == 0)
    err = pprofd__pprof_encode(&snap, rq->cfg.symbolize, &rp->body);
  pprofd__snap_free(&snap);
  if (err != 0)
    return pprofd__reply_error(rp, 500, err, "could not write CPU profile: %s",
                               pprofd_strerror(err));
  rp->ctype = "application/octet-stream";
  snprintf(rp->filename, sizeof rp->filename, "profile");
}

int pprofd__render_trace(double seconds, int (*wait)(void *arg, double seconds),
                         void *arg, int symbolize, int max_cpu_sessions,
                         pprofd__buf *out) {
  pprofd__trace t;
  int err = pprofd__trace_start(&t);
  if (err != 0)
    return err;
  /* The CPU samples come from a session of the trace's own (sample/cpu.c
   * hands each drained sample to the tracer while it records). */
  pprofd__cpu_session *cpu = NULL;
  const char *cpu_why = pprofd__cpu_unavailable();
  if (cpu_why == NULL) {
    int e = pprofd__cpu_open(PPROFD__CPU_HZ_DEFAULT, max_cpu_sessions, &cpu);
    if (e != 0) {
      cpu = NULL;
      cpu_why = e == PPROFD_EBUSY ? "CPU profiling is busy (the limit of "
                                    "concurrent CPU profiles, or another "
                                    "rate)"
                                  : pprofd_strerror(e);
    }
  }
  int early = 0;
  for (int64_t end = t.start_mono + (int64_t)(seconds * 1e9);;) {
    int64_t left = end - pprofd__mono_nanos();
    if (left <= 0)
      break;
    int64_t slice = left < PPROFD__TRACE_TICK_NS ? left : PPROFD__TRACE_TICK_NS;
    if ((early = wait(arg, (double)slice / 1e9)) != 0)
      break;
    pprofd__trace_tick();
  }
  pprofd__trace_quiesce();
  if (cpu != NULL) {
    /* Closing drains the ring: the last samples arrive while on. */
    pprofd__snapshot snap;
    pprofd__snap_init(&snap);
    int e = pprofd__cpu_close(cpu, &snap);
    pprofd__snap_free(&snap);
    (void)e;
  }
  pprofd__trace_stop(&t);
  if (early) {
    pprofd__trace_release(&t);
    return 1;
  }
  err = pprofd__trace_finish(&t);
  t.cpu_why = cpu_why;
  t.cpu_hz = cpu != NULL ? PPROFD__CPU_HZ_DEFAULT : 0;
  if (err == 0)
    err = pprofd__tracejson_write(&t, symbolize, out);
  pprofd__trace_release(&t);
  return err;
}

/* The tracer's wait: a slice of this request's window; nonzero when the
 * client left or the server is stopping. */
static int trace_wait(void *arg, double seconds) {
  const pprofd__request *rq = arg;
  return rq->wait(rq->arg, seconds) != 0;
}

void pprofd__serve_trace(const pprofd__kind *k, const pprofd__request *rq,
                         pprofd__reply *rp) {
  if (rq->wait == NULL)
    return pprofd__reply_error(rp, 400, PPROFD_ENOPROFILE,
                               "a trace needs a time window");
  /* Go: seconds is a float; missing, malformed (a range error included)
   * or not positive means 1 s. NaN, which Go lets through to an
   * undefined duration, means 1 s too. */
  const char *v = rq->param(rq->arg, "seconds");
  double sec = 1;
  if (v == NULL || pprofd__parse_float64(v, &sec) != 0 || !(sec > 0))
    sec = 1;
  if (pprofd__reply_over_limit(rp, &rq->cfg, sec, "trace"))
    return;
  int err = pprofd__render_trace(sec, trace_wait, (void *)rq, rq->cfg.symbolize,
                                 (int)rq->cfg.max_cpu_profiles, &rp->body);
  if (err == PPROFD_EBUSY)
    return pprofd__reply_error(rp, 500, err,
                               "Could not enable tracing: tracing is already "
                               "enabled");
  if (err == 1) { /* the client is gone, or the server stops */
    rp->gone = 1;
    return;
  }
  if (err != 0)
    return pprofd__reply_error(rp, 500, err, "could not write trace: %s",
                               pprofd_strerror(err));
  rp->ctype = "application/json";
  snprintf(rp->filename, sizeof rp->filename, "trace.json");
}

void pprofd__serve_wall(const pprofd__kind *k, const pprofd__request *rq,
                        pprofd__reply *rp) {
  if (rq->wait == NULL)
    return pprofd__reply_error(rp, 400, PPROFD_ENOPROFILE,
                               "a wall-clock profile needs a time window");
  int64_t sec, hz;
  if (window_params(rq, rp, "wall", PPROFD__WALL_HZ_DEFAULT,
                    PPROFD__WALL_HZ_MAX, &sec, &hz) != 0)
    return;
  const char *why = k->unavailable(k);
  if (why != NULL)
    return pprofd__reply_error(rp, 500, PPROFD_EUNAVAILABLE,
                               "Could not enable wall-clock profiling: %s",
                               why);
  pprofd__snapshot snap;
  pprofd__snap_init(&snap);
  int err = pprofd__wall_record((double)sec, (int)hz, trace_wait, (void *)rq,
                                &snap, NULL);
  if (err == 1) { /* the client is gone, or the server stops */
    pprofd__snap_free(&snap);
    rp->gone = 1;
    return;
  }
  if (err == 0)
    err = pprofd__pprof_encode(&snap, rq->cfg.symbolize, &rp->body);
  pprofd__snap_free(&snap);
  if (err != 0)
    return pprofd__reply_error(rp, 500, err,
                               "could not write wall-clock profile: %s",
                               pprofd_strerror(err));
  rp->ctype = "application/octet-stream";
  snprintf(rp->filename, sizeof rp->filename, "wall");
}
