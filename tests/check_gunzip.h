/*
 * check_gunzip.h - the inverse of encode/gzip.c, for the tests only: the
 * library writes gzip and never reads it, so the reader lives here rather
 * than in the shipped library.
 */
#ifndef PPROFD_TESTS_CHECK_GUNZIP_H
#define PPROFD_TESTS_CHECK_GUNZIP_H

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "base/buf.h"
#include "pprofd.h"

/* Appends the gunzipped bytes of one or more gzip members in[0..n) to
 * out. 0, PPROFD_ENOMEM or PPROFD_ELIMIT (out's cap), PPROFD_EIO on
 * corrupt or truncated input. */
static inline int check_gunzip(const void *in, size_t n, pprofd__buf *out) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 32) != Z_OK)
    return PPROFD_ENOMEM;
  zs.next_in = (Bytef *)(uintptr_t)in;
  zs.avail_in = (uInt)n;
  int err = 0;
  for (;;) {
    char *dst = pprofd__buf_reserve(out, 64 << 10);
    if (dst == NULL) {
      err = pprofd__buf_failed(out);
      break;
    }
    zs.next_out = (Bytef *)dst;
    zs.avail_out = 64 << 10;
    int rc = inflate(&zs, Z_NO_FLUSH);
    out->len += (64 << 10) - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0)
        break;
      inflateReset(&zs); /* another member follows */
      continue;
    }
    if (rc != Z_OK) {
      err = PPROFD_EIO;
      break;
    }
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      err = PPROFD_EIO; /* truncated input */
      break;
    }
  }
  inflateEnd(&zs);
  return err;
}

#endif
