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

#include "core/conf.h"
#include "core/profiles.h"
#include "encode/buf.h"

/* Writes the page for rows (sorted) under configuration cfg, whose server
 * listens on addr ("" when there is none). */
int pprofd__index_html(const pprofd__kind *rows, size_t n,
                       const struct pprofd_config *cfg, const char *addr,
                       pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
