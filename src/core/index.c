/*
 * index.c - what the index page shows (see render.h): every profile row
 * with its count, then pprofd's section: the configuration in force, the
 * samplers' state and, for every profile that is off, why. The page
 * itself is written by encode/index.c.
 */
#include "config.h"

#include "core/render.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "core/profiles.h"
#include "encode/index.h"
#include "pprofd.h"
#include "sample/contention.h"
#include "sample/cpu.h"
#include "sample/heap.h"
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

/* The configuration rows. */
static void add_config(settings *st, const struct pprofd_config *cfg,
                       const char *addr) {
  add(st, "address", "%s", addr[0] ? addr : "(no HTTP server)");
  add(st, "symbolize", "%s",
      cfg->symbolize ? "on: profiles carry functions, files and lines"
                     : "off: profiles carry addresses only");
  add(st, "max_connections", "%u concurrent requests", cfg->max_connections);
  add(st, "request_timeout", "%u s", cfg->request_timeout);
  add(st, "max_seconds", "%u s (longest profile, delta or trace)",
      cfg->max_seconds);
  add(st, "max_body", "%zu bytes", cfg->max_body);
  add(st, "max_cpu_profiles", "%u concurrent CPU profiles",
      cfg->max_cpu_profiles);
}

/* The samplers' rates and state. */
static void add_samplers(settings *st) {
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
  int64_t mem_rate = pprofd__heap_rate();
  add(st, "mem_profile_rate", "%lld bytes (heap sampling%s)",
      (long long)mem_rate, mem_rate == 0 ? " off" : "");
  int64_t block_rate = pprofd__contention_block_rate();
  if (block_rate > 0)
    add(st, "block_profile_rate",
        "%lld ns (every wait that long is recorded, shorter ones in "
        "proportion)",
        (long long)block_rate);
  else
    add(st, "block_profile_rate",
        "0: off (pprofd_set_block_profile_rate or "
        "PPROFD_BLOCK_PROFILE_RATE=N ns turns it on)");
  int64_t fraction = pprofd__contention_mutex_fraction();
  if (fraction > 0)
    add(st, "mutex_profile_fraction",
        "%lld (1 in %lld contended releases recorded)", (long long)fraction,
        (long long)fraction);
  else
    add(st, "mutex_profile_fraction",
        "0: off (pprofd_set_mutex_profile_fraction or "
        "PPROFD_MUTEX_PROFILE_FRACTION=N turns it on)");
  int64_t recorded, lost;
  size_t cont_bytes;
  pprofd__contention_stats(&recorded, &lost, &cont_bytes);
  add(st, "contention_events",
      "%lld recorded, %lld lost (stack table full or bookkeeping given up)",
      (long long)recorded, (long long)lost);
  size_t sym_entries = 0, sym_bytes = 0;
  pprofd__sym_stats(&sym_entries, &sym_bytes);
  size_t own = pprofd__ialloc_in_use() + pprofd__heap_own_bytes() +
               pprofd__malloc_boot_bytes() + cont_bytes;
  add(st, "own_memory", "%zu bytes (symbol cache: %zu entries)", own,
      sym_entries);
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
  add_config(st, &rq->cfg, rq->addr != NULL ? rq->addr : "");
  add_samplers(st);
  for (size_t i = 0; i < n; i++) {
    const pprofd__kind *k = &kinds[i];
    const char *why = k->unavailable != NULL ? k->unavailable(k) : NULL;
    rows[i] =
        (pprofd__index_row){k->name, k->desc, why != NULL ? 0 : k->count(k)};
    add(st, k->name, "%s%s", why != NULL ? "off: " : "on",
        why != NULL ? why : "");
  }
  int err =
      pprofd__index_html(rows, n, st->set, st->n, pprofd_version(), &rp->body);
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
