/*
 * heapfile.h - the heap profile's text output and its load-time rate:
 * core orchestrates the sampler (sample/heap.c) and its encoder
 * (encode/heaptext.c), which never meet.
 *
 * Threads: pprofd__heap_write_text runs on request threads (or the file
 * API's caller); the rate is applied by a library constructor.
 */
#ifndef PPROFD_CORE_HEAPFILE_H
#define PPROFD_CORE_HEAPFILE_H

#include "base/buf.h"
#include "base/common.h"

/* Appends Go's debug=1 heap text to out: collects a heap dump under the
 * reentrancy guard, then encodes it. 0, PPROFD_ENOMEM, or out's error.
 * Thread-safe. */
int pprofd__heap_write_text(pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
