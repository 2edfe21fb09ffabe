/*
 * index.h - the /debug/pprof/ index page in Go's exact HTML layout.
 *
 * Go 1.21+'s page byte for byte (rows sorted by name with counts, the
 * `full goroutine stack dump` link, the descriptions), followed by one
 * pprofd section before </body>: the configuration in force and, for
 * every profile that is off, why; then pprofd's other endpoints (the
 * runtime metrics), linked when they are on. The page's content is gathered by
 * core/render.c; this file only writes it. Threads: any request thread.
 */
#ifndef PPROFD_ENCODE_INDEX_H
#define PPROFD_ENCODE_INDEX_H

#include <stddef.h>

#include "base/buf.h"
#include "base/common.h"

/* One profile row: Go's count and link, and its description. */
typedef struct pprofd__index_row {
  const char *name;
  const char *desc;
  int64_t count;
} pprofd__index_row;

/* One row of pprofd's own section: a setting or state and its text. */
typedef struct pprofd__index_setting {
  const char *key;
  const char *value;
} pprofd__index_setting;

/* One endpoint outside /debug/pprof/: its path, a link to it relative
 * to the index page, what it serves, and whether it is on. */
typedef struct pprofd__index_link {
  const char *path;
  const char *href;
  const char *desc;
  int on;
} pprofd__index_link;

/* Writes the page: rows (sorted by name) in Go's layout, then the pprofd
 * section headed with version, listing settings in order, then links.
 */
int pprofd__index_html(const pprofd__index_row *rows, size_t n,
                       const pprofd__index_setting *set, size_t nset,
                       const pprofd__index_link *links, size_t nlinks,
                       const char *version,
                       pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
