/*
 * gzip.h - one gzip member around an encoded profile (zlib's only home).
 *
 * Go writes profiles as a single gzip member with mtime 0, OS byte 255 and
 * no file name, at the fastest level (XFL 4); pprof, Parca and Alloy all
 * detect it by the 1f 8b magic. Thread-safe (no shared state).
 */
#ifndef PPROFD_ENCODE_GZIP_H
#define PPROFD_ENCODE_GZIP_H

#include <stddef.h>

#include "base/buf.h"
#include "base/common.h"

/* Appends gzip(in[0..n)) to out at zlib level `level` (1 = Go's).
 * PPROFD_ENOMEM, PPROFD_ELIMIT (out's cap), PPROFD_EIO (zlib error). */
int pprofd__gzip(const void *in, size_t n, int level,
                 pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
