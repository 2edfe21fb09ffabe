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
