/*
 * index.h - the /debug/pprof/ index page in Go's exact HTML layout.
 *
 * Go 1.21+'s page byte for byte (rows sorted by name with counts, the
 * `full goroutine stack dump` link, the descriptions), followed by one
 * pprofd section before </body>: the configuration in force and, for
 * every profile that is off, why. Threads: any request thread.
 */
#ifndef PPROFD_ENCODE_INDEX_H
#define PPROFD_ENCODE_INDEX_H

#include <stddef.h>

#include "base/buf.h"
#include "core/conf.h"
#include "core/profiles.h"

/* What the index reports besides the configuration. */
typedef struct pprofd__index_info {
  const char *addr; /* where the server listens, "" when none */
  size_t own_bytes; /* memory pprofd holds for itself */
  int64_t mem_rate; /* heap sampling rate in force */
  int cpu_hz;       /* CPU sampling rate in force, 0 when idle */
  int cpu_timers;   /* per-thread CPU timers armed */
  int64_t cpu_lost; /* CPU samples dropped since start */
  int cpu_itimer;   /* the process-wide setitimer fallback is in use */
  unsigned cpu_timer_failures; /* per-thread timers that could not be made */
  int64_t block_rate;          /* block profile rate in ns, 0 off */
  int64_t mutex_fraction;      /* mutex profile fraction, 0 off */
  int64_t cont_recorded;       /* contention events recorded */
  int64_t cont_lost;           /* contention events lost */
} pprofd__index_info;

/* Writes the page for rows (sorted) under configuration cfg. */
int pprofd__index_html(const pprofd__kind *rows, size_t n,
                       const struct pprofd_config *cfg,
                       const pprofd__index_info *info,
                       pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
