/*
 * symbolz.h - Go's /debug/pprof/symbol reply (the symbolz protocol):
 * "num_symbols: 1", then "0xADDR name" for each address of the request
 * that resolves. The request is addresses joined by '+' (a raw query or
 * a POST body); each is parsed as strconv.ParseUint(s, 0, 64) with the
 * error ignored, as Go does.
 *
 * Threads: any request thread.
 */
#ifndef PPROFD_ENCODE_SYMBOLZ_H
#define PPROFD_ENCODE_SYMBOLZ_H

#include <stddef.h>

#include "base/buf.h"
#include "base/common.h"

/* Writes the reply for the n bytes of in; returns out's failure state
 * (pprofd__buf_failed), which callers may leave to whoever sends out. */
int pprofd__symbolz_write(const char *in, size_t n, pprofd__buf *out);

#endif
