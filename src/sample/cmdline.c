/*
 * cmdline.c - /debug/pprof/cmdline (see cmdline.h).
 *
 * The kernel ends each argument with a NUL; Go joins with NUL and adds
 * none at the end, so exactly one trailing NUL is dropped.
 */
#include "config.h"

#include "sample/cmdline.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "pprofd.h"

const char *PPROFD__SEAM pprofd__cmdline_path = "/proc/self/cmdline";

int pprofd__cmdline(pprofd__buf *out) {
  int fd = open(pprofd__cmdline_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return PPROFD_EIO;
  size_t start = out->len;
  for (;;) {
    char *p = pprofd__buf_reserve(out, 4096);
    if (p == NULL) {
      close(fd);
      return pprofd__buf_failed(out);
    }
    ssize_t n = read(fd, p, 4096);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      close(fd);
      return PPROFD_EIO;
    }
    if (n == 0)
      break;
    out->len += (size_t)n;
  }
  close(fd);
  if (out->len > start && out->data[out->len - 1] == '\0')
    out->len--;
  return 0;
}
