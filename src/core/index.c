/*
 * index.c - what the index page shows (see render.h): every profile row
 * with its count, then pprofd's section: the configuration in force, the
 * samplers' state and, for every profile that is off, why, and the
 * runtime metrics endpoints (core/metrics.h). The page itself is written
 * by encode/index.c.
 */
#include "config.h"

#include "core/render.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "core/auth.h"
#include "core/autodump.h"
#include "core/conf.h"
#include "core/metrics.h"
#include "core/profiles.h"
#include "encode/index.h"
#include "pprofd.h"
#include "sample/contention.h"
#include "sample/cpu.h"
#include "sample/heap.h"
#include "sample/vars.h"
#include "symbol/symbolize.h"

#define MAX_SETTINGS 64
#define VALUE_MAX 400

/* The settings being gathered: keys are static or row names, values are
 * formatted into fixed slots. */
typedef struct settings {
  pprofd__index_setting set[MAX_SETTINGS];
  char value[MAX_SETTINGS][VALUE_MAX];
  size_t n;
} settings;

static void add(settings *st, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(settings *st, const char *key, const char *fmt, ...) {
  if (st->n == MAX_SETTINGS)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->value[st->n], VALUE_MAX, fmt, ap);
  va_end(ap);
  st->set[st->n].key = key;
  st->set[st->n].value = st->value[st->n];
  st->n++;
}

/* The CPU profiler's rate and state. */
static void add_cpu(settings *st) {
  pprofd__cpu_stats cs;
  pprofd__cpu_get_stats(&cs);
  int hz = pprofd__cpu_hz();
  if (hz > 0 && cs.itimer_fallback)
    add(st, "cpu_profile_rate",
        "%d Hz now, process-wide setitimer fallback in use (per-thread "
        "timers failed for %u threads); %lld samples lost so far",
        hz, cs.timer_failures, (long long)cs.lost);
  else if (hz > 0)
    add(st, "cpu_profile_rate",
        "%d Hz now (per-thread CPU-time timers: %d armed; %lld samples "
        "lost so far)",
        hz, (int)cs.timers, (long long)cs.lost);
  else
    add(st, "cpu_profile_rate",
        "100 Hz by default (profile?hz=N for 1..1000), idle now");
}

/* One row of the configuration table (core/conf.h); the CPU rate, which
 * is per profile rather than a knob, goes before the heap's. */
static void conf_row(void *ctx, const char *key, const char *value) {
  settings *st = ctx;
  if (strcmp(key, "mem_profile_rate") == 0)
    add_cpu(st);
  add(st, key, "%s", value);
}

/* What the samplers hold. */
static void add_state(settings *st) {
  int64_t recorded, lost;
  size_t cont_bytes;
  pprofd__contention_stats(&recorded, &lost, &cont_bytes);
  add(st, "contention_events",
      "%lld recorded, %lld lost (stack table full or bookkeeping given up)",
      (long long)recorded, (long long)lost);
  size_t sym_entries = 0, sym_bytes = 0;
  pprofd__sym_stats(&sym_entries, &sym_bytes);
  add(st, "own_memory", "%zu bytes (symbol cache: %zu entries)",
      pprofd__metrics_own_bytes(), sym_entries);
}

/* Who may ask: the Host header check, the authentication and TLS. */
static void add_access(settings *st, const pprofd__request *rq) {
  const char *allowed = rq->cfg.allowed_hosts;
  if (rq->mounted && allowed[0] == '\0')
    add(st, "host_check",
        "off: mounted in the application's server, which owns the Host "
        "policy (PPROFD_ALLOWED_HOSTS turns it on)");
  else
    add(st, "host_check",
        "Host must be localhost, a loopback address%s%s%s (others get 421)",
        rq->mounted ? "" : " or the bound address",
        allowed[0] ? ", or one of: " : "", allowed);
  char auth[VALUE_MAX];
  pprofd__auth_describe(&rq->cfg, auth, sizeof auth);
  add(st, "authentication", "%s", auth);
  if (!rq->mounted && rq->cfg.tls_cert[0])
    add(st, "tls", "HTTPS with certificate %s%s%s", rq->cfg.tls_cert,
        rq->cfg.tls_client_ca[0]
            ? "; clients must present a certificate signed by "
            : "",
        rq->cfg.tls_client_ca);
  else if (!rq->mounted)
    add(st, "tls",
        "off: plain HTTP (PPROFD_TLS_CERT and PPROFD_TLS_KEY "
        "turn HTTPS on)");
  if (rq->insecure)
    add(st, "WARNING",
        "serving %s, which is not loopback, without authentication "
        "(PPROFD_ALLOW_INSECURE=1): anyone who reaches it can read argv, "
        "code addresses and every thread's stack; set PPROFD_AUTH_TOKEN or "
        "PPROFD_BASIC_AUTH",
        rq->addr != NULL ? rq->addr : "?");
}

void pprofd__serve_index(const pprofd__request *rq, pprofd__reply *rp) {
  size_t n;
  pprofd__kind *kinds = pprofd__kind_list(&n);
  pprofd__index_row *rows = pprofd__icalloc(n + 1, sizeof *rows);
  settings *st = pprofd__icalloc(1, sizeof *st);
  if (kinds == NULL || rows == NULL || st == NULL) {
    pprofd__reply_error(rp, 500, PPROFD_ENOMEM, "out of memory");
    goto done;
  }
  const char *addr = rq->addr != NULL ? rq->addr : "";
  add(st, "address", "%s", addr[0] ? addr : "(no HTTP server)");
  /* The server's copy of the configuration was taken at start; the rates
   * are process-wide and may have changed since. */
  struct pprofd_config cfg = rq->cfg;
  pprofd__conf_live(&cfg);
  pprofd__conf_rows(&cfg, conf_row, st);
  add_access(st, rq);
  add_state(st);
  char autodump[VALUE_MAX];
  pprofd__autodump_status(autodump, sizeof autodump);
  add(st, "autodump", "%s", autodump);
  size_t nrows = 0;
  for (size_t i = 0; i < n; i++) {
    const pprofd__kind *k = &kinds[i];
    if (pprofd__serve_disabled(k->name, &cfg)) {
      add(st, k->name, "off: PPROFD_DISABLE");
      continue; /* not linked either */
    }
    const char *why = k->unavailable != NULL ? k->unavailable(k) : NULL;
    rows[nrows++] =
        (pprofd__index_row){k->name, k->desc, why != NULL ? 0 : k->count(k)};
    add(st, k->name, "%s%s", why != NULL ? "off: " : "on",
        why != NULL ? why : "");
  }
  /* Relative links, so that they hold behind a proxy's path prefix. */
  char vars_desc[160];
  snprintf(vars_desc, sizeof vars_desc,
           "Go's expvar JSON: cmdline, memstats and the application's "
           "variables (%zu)",
           pprofd__vars_count());
  const pprofd__index_link links[] = {
      {"/debug/vars", "../vars", vars_desc,
       !(cfg.disable & PPROFD__DISABLE_VARS)},
      {"/metrics", "../../metrics",
       "Prometheus metrics: process, heap, threads, contention, requests "
       "and the application's variables (OpenMetrics when asked)",
       !(cfg.disable & PPROFD__DISABLE_METRICS)},
      {"/debug/pprof/dumps/", "dumps/",
       "automatic captures: the profiles written when a rule fired, newest "
       "first",
       cfg.autodump_dir[0] != '\0'},
  };
  int err = pprofd__index_html(rows, nrows, st->set, st->n, links,
                               PPROFD__ARRAY_SIZE(links), pprofd_version(),
                               &rp->body);
  if (err != 0) {
    pprofd__reply_error(rp, 500, err, "could not write the index: %s",
                        pprofd_strerror(err));
    goto done;
  }
  rp->ctype = "text/html; charset=utf-8";
done:
  pprofd__ifree(kinds);
  pprofd__ifree(rows);
  pprofd__ifree(st);
}
