/*
 * index.c - the index page (see index.h).
 *
 * The Go part is written from the template captured in the spec: Go's
 * html/template escapes names and descriptions, and the href is the name
 * path-escaped (our names never need escaping: built-in names are plain
 * and custom names are limited to [A-Za-z0-9._-]).
 */
#include "config.h"

#include "encode/index.h"

#include "base/ialloc.h"
#include "pprofd.h"
#include "symbol/symbolize.h"

static const char head[] =
    "<html>\n"
    "<head>\n"
    "<title>/debug/pprof/</title>\n"
    "<style>\n"
    ".profile-name{\n"
    "\tdisplay:inline-block;\n"
    "\twidth:6rem;\n"
    "}\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "/debug/pprof/\n"
    "<br>\n"
    "<p>Set debug=1 as a query parameter to export in legacy text format</p>\n"
    "<br>\n"
    "Types of profiles available:\n"
    "<table>\n"
    "<thead><td>Count</td><td>Profile</td></thead>\n";

/* One row of the pprofd configuration table. */
static void conf_row(pprofd__buf *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void conf_row(pprofd__buf *b, const char *key, const char *fmt, ...) {
  pprofd__buf v;
  pprofd__buf_init(&v, 4096);
  va_list ap;
  va_start(ap, fmt);
  pprofd__buf_vprintf(&v, fmt, ap);
  va_end(ap);
  pprofd__buf_puts(b, "<tr><td>");
  pprofd__buf_html(b, key);
  pprofd__buf_puts(b, "</td><td>");
  pprofd__buf_html(b, v.data != NULL ? v.data : "");
  pprofd__buf_puts(b, "</td></tr>\n");
  pprofd__buf_free(&v);
}

int pprofd__index_html(const pprofd__kind *rows, size_t n,
                       const struct pprofd_config *cfg,
                       const pprofd__index_info *info, pprofd__buf *b) {
  pprofd__buf_puts(b, head);
  for (size_t i = 0; i < n; i++) {
    const pprofd__kind *k = &rows[i];
    int off = k->unavailable != NULL && k->unavailable(k) != NULL;
    long long count = off ? 0 : (long long)k->count(k);
    pprofd__buf_printf(b, "<tr><td>%lld</td><td><a href='%s?debug=1'>", count,
                       k->name);
    pprofd__buf_html(b, k->name);
    pprofd__buf_puts(b, "</a></td></tr>\n");
  }
  pprofd__buf_puts(b, "</table>\n"
                      "<a href=\"goroutine?debug=2\">full goroutine stack "
                      "dump</a>\n"
                      "<br>\n"
                      "<p>\n"
                      "Profile Descriptions:\n"
                      "<ul>\n");
  for (size_t i = 0; i < n; i++) {
    pprofd__buf_puts(b, "<li><div class=profile-name>");
    pprofd__buf_html(b, rows[i].name);
    pprofd__buf_puts(b, ": </div> ");
    pprofd__buf_html(b, rows[i].desc);
    pprofd__buf_puts(b, "</li>\n");
  }
  pprofd__buf_puts(b, "</ul>\n</p>\n");

  size_t sym_entries = 0, sym_bytes = 0;
  pprofd__sym_stats(&sym_entries, &sym_bytes);
  pprofd__buf_printf(b, "<p>\npprofd %s configuration:\n<table>\n",
                     pprofd_version());
  conf_row(b, "address", "%s", info->addr[0] ? info->addr : "(no HTTP server)");
  conf_row(b, "symbolize", "%s",
           cfg->symbolize ? "on: profiles carry functions, files and lines"
                          : "off: profiles carry addresses only");
  conf_row(b, "max_connections", "%u concurrent requests",
           cfg->max_connections);
  conf_row(b, "request_timeout", "%u s", cfg->request_timeout);
  conf_row(b, "max_seconds", "%u s (longest profile, delta or trace)",
           cfg->max_seconds);
  conf_row(b, "max_body", "%zu bytes", cfg->max_body);
  conf_row(b, "max_cpu_profiles", "%u concurrent CPU profiles",
           cfg->max_cpu_profiles);
  if (info->cpu_hz > 0 && info->cpu_itimer)
    conf_row(b, "cpu_profile_rate",
             "%d Hz now, process-wide setitimer fallback in use (per-thread "
             "timers failed for %u threads); %lld samples lost so far",
             info->cpu_hz, info->cpu_timer_failures, (long long)info->cpu_lost);
  else if (info->cpu_hz > 0)
    conf_row(b, "cpu_profile_rate",
             "%d Hz now (per-thread CPU-time timers: %d armed; %lld samples "
             "lost so far)",
             info->cpu_hz, info->cpu_timers, (long long)info->cpu_lost);
  else
    conf_row(b, "cpu_profile_rate",
             "100 Hz by default (profile?hz=N for 1..1000), idle now");
  conf_row(b, "mem_profile_rate", "%lld bytes (heap sampling%s)",
           (long long)info->mem_rate, info->mem_rate == 0 ? " off" : "");
  if (info->block_rate > 0)
    conf_row(b, "block_profile_rate",
             "%lld ns (every wait that long is recorded, shorter ones in "
             "proportion)",
             (long long)info->block_rate);
  else
    conf_row(b, "block_profile_rate",
             "0: off (pprofd_set_block_profile_rate or "
             "PPROFD_BLOCK_PROFILE_RATE=N ns turns it on)");
  if (info->mutex_fraction > 0)
    conf_row(b, "mutex_profile_fraction",
             "%lld (1 in %lld contended releases recorded)",
             (long long)info->mutex_fraction, (long long)info->mutex_fraction);
  else
    conf_row(b, "mutex_profile_fraction",
             "0: off (pprofd_set_mutex_profile_fraction or "
             "PPROFD_MUTEX_PROFILE_FRACTION=N turns it on)");
  conf_row(b, "contention_events",
           "%lld recorded, %lld lost (stack table full or bookkeeping "
           "given up)",
           (long long)info->cont_recorded, (long long)info->cont_lost);
  conf_row(b, "own_memory", "%zu bytes (symbol cache: %zu entries)",
           info->own_bytes, sym_entries);
  for (size_t i = 0; i < n; i++) {
    const pprofd__kind *k = &rows[i];
    const char *why = k->unavailable != NULL ? k->unavailable(k) : NULL;
    conf_row(b, k->name, "%s%s", why != NULL ? "off: " : "on",
             why != NULL ? why : "");
  }
  pprofd__buf_puts(b, "</table>\n</p>\n</body>\n</html>");
  return pprofd__buf_failed(b);
}
