/*
 * heaptext.h - Go's debug=1 heap text, from a heap dump (model/heap.h).
 *
 * The layout is Go's legacy heap profile: a header with the raw sampled
 * totals and heap/2*rate, one record per stack ordered by in-use bytes,
 * its frame lines, then a `#` trailer with the C equivalent of
 * runtime.MemStats (mallinfo2, RSS and peak RSS, the sampler's counters
 * and pprofd's own memory).
 *
 * Threads: any request thread; takes the symbolizer lock while writing
 * frame lines. Call under the reentrancy guard, so that the symbolizer's
 * allocations are not sampled.
 */
#ifndef PPROFD_ENCODE_HEAPTEXT_H
#define PPROFD_ENCODE_HEAPTEXT_H

#include "base/buf.h"
#include "base/common.h"
#include "model/heap.h"

/* Appends the text of d to out; sorts d's records in place (in-use bytes,
 * descending). 0, PPROFD_ENOMEM, or out's error (PPROFD_ETOOBIG). */
int pprofd__heaptext_write(pprofd__buf *out,
                           pprofd__heapdump *d) PPROFD__WARN_UNUSED;

#endif
