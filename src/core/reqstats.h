/*
 * reqstats.h - how many requests each endpoint answered, by status code:
 * the `pprofd_requests_total{path,code}` counters of /metrics.
 *
 * Paths are labels, so they are kept few: a request counts under its
 * path only when that path is one pprofd serves (the index, a profile
 * of the table, `symbol`, /debug/vars, /metrics); everything else counts
 * under "other". The table is bounded; counts that find it full are
 * dropped. Threads: pprofd's request threads (or the application's, in
 * mounted mode). One leaf lock, held for a lookup in the table.
 */
#ifndef PPROFD_CORE_REQSTATS_H
#define PPROFD_CORE_REQSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* One (path, code) pair and its count. */
typedef struct pprofd__reqstat {
  char path[96];
  char code[4];
  int64_t n;
} pprofd__reqstat;

/* Counts one answer with status to a request for path (clean, decoded). */
void pprofd__reqstats_count(const char *path, unsigned status);

/* Copies every count, sorted by path and code, into a new array *out
 * (free it with pprofd__ifree); *n is the count. 0, or PPROFD_ENOMEM
 * (then *out is NULL and *n 0). */
int pprofd__reqstats_copy(pprofd__reqstat **out, size_t *n) PPROFD__WARN_UNUSED;

/* Fork hooks (see core/runtime.h): the table's lock is held across
 * fork(). */
void pprofd__reqstats_prefork(void);
void pprofd__reqstats_postfork(void);

#endif
