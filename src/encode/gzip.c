/*
 * gzip.c - gzip members with zlib (see gzip.h).
 *
 * The output is deflated straight into the caller's buffer, growing it a
 * deflateBound() at a time, so a large profile is never held twice.
 */
#include "config.h"

#include "encode/gzip.h"

#include <string.h>
#include <zlib.h>

#include "pprofd.h"

int pprofd__gzip(const void *in, size_t n, int level, pprofd__buf *out) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    return PPROFD_ENOMEM;
  gz_header hdr;
  memset(&hdr, 0, sizeof hdr);
  hdr.os = 255; /* "unknown", as Go's compress/gzip writes */
  int err = 0;
  if (deflateSetHeader(&zs, &hdr) != Z_OK) {
    err = PPROFD_EIO;
    goto done;
  }
  zs.next_in = (Bytef *)(uintptr_t)in;
  zs.avail_in = (uInt)n; /* profiles are capped far below 4 GiB */
  for (;;) {
    size_t room = deflateBound(&zs, zs.avail_in) + 64;
    char *dst = pprofd__buf_reserve(out, room);
    if (dst == NULL) {
      err = pprofd__buf_failed(out);
      goto done;
    }
    zs.next_out = (Bytef *)dst;
    zs.avail_out = (uInt)room;
    int rc = deflate(&zs, Z_FINISH);
    out->len += room - zs.avail_out;
    if (rc == Z_STREAM_END)
      break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      err = PPROFD_EIO;
      goto done;
    }
  }
done:
  deflateEnd(&zs);
  return err;
}

int pprofd__gunzip(const void *in, size_t n, pprofd__buf *out) {
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
