/*
 * tabwriter.h - Go's text/tabwriter, as runtime/pprof configures it.
 *
 * Go's legacy text profiles pass through tabwriter.NewWriter(w, 1, 8, 1,
 * '\t', 0): cells are the tab-terminated pieces of a line, a column block
 * is a run of consecutive lines that have a cell in that column, each
 * column is as wide as its widest cell plus 1, rounded up to a multiple of
 * 8, and the padding is written as tabs. pprof's legacy parsers and people
 * diffing against Go output both see the same bytes only if this is exact.
 *
 * Usage: write whole text with pprofd__tabw_write (any number of calls),
 * then pprofd__tabw_flush appends the aligned text to the output buffer.
 * Not thread-safe; one per response.
 */
#ifndef PPROFD_ENCODE_TABWRITER_H
#define PPROFD_ENCODE_TABWRITER_H

#include <stddef.h>

#include "base/buf.h"

typedef struct pprofd__tabw pprofd__tabw;

/* A writer that will append to out. NULL when out of memory. */
pprofd__tabw *pprofd__tabw_new(pprofd__buf *out);
void pprofd__tabw_write(pprofd__tabw *w, const char *s, size_t n);
void pprofd__tabw_printf(pprofd__tabw *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Formats everything written so far into out; the writer stays usable. */
void pprofd__tabw_flush(pprofd__tabw *w);
/* Flushes nothing; frees the writer. */
void pprofd__tabw_free(pprofd__tabw *w);

#endif
