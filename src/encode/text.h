/*
 * text.h - Go's legacy text profile layouts (debug=1).
 *
 * The pieces every text profile shares: ` 0x…` return-address lists for
 * `@` lines, `#\t0x…\tfunc+0xoff\tfile:line` frame lines aligned by Go's
 * tabwriter, Go-quoted label sets, and the whole count-profile layout used
 * by goroutine, threadcreate and custom profiles. pprof's legacy parsers
 * read these and symbolize the addresses through /debug/pprof/symbol.
 *
 * Threads: any request thread; frame lines take the symbolizer lock for
 * the duration of one write call.
 */
#ifndef PPROFD_ENCODE_TEXT_H
#define PPROFD_ENCODE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "encode/tabwriter.h"
#include "model/snapshot.h"
#include "symbol/symbolize.h"

/* Appends " 0x%x" for each location as a return address (loc + 1). */
void pprofd__text_addrs(pprofd__tabw *w, const uint64_t *locs, size_t n);
/* Appends Go's printStackRecord output for the stack: one `#` line per
 * frame (inline frames each get a line), then a blank line. sym may be
 * NULL, which prints addresses only. */
void pprofd__text_frames(pprofd__tabw *w, pprofd__symctx *sym,
                         const uint64_t *locs, size_t n);
/* Appends s quoted as Go's strconv.Quote does. */
void pprofd__text_quote(pprofd__buf *b, const char *s);
/* Appends the sample's string labels as Go's labelMap.String():
 * {"k":"v", ...} sorted. */
void pprofd__text_labels(pprofd__buf *b, const pprofd__sample *smp);

/* Writes a count profile in Go's debug=1 layout: "<name> profile: total N"
 * then groups by count descending, each with its `@` line, optional
 * `# labels:` line and frame lines. Values[0] of each sample is its count;
 * identical stacks are merged first. PPROFD_ENOMEM, PPROFD_ELIMIT. */
int pprofd__text_count_profile(pprofd__snapshot *s, const char *name,
                               pprofd__buf *out) PPROFD__WARN_UNUSED;

/* Writes a contention profile (s: [contentions/count, delay/nanoseconds],
 * sorted by delay) in Go's debug=1 layout: "--- mutex:" when mutex, else
 * "--- contention:", with cycles/second=1000000000. */
int pprofd__text_contention(const pprofd__snapshot *s, int mutex,
                            pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
