/*
 * fileio.c - small file I/O (see fileio.h). A /proc file of this size is
 * produced whole by the first read: one open, one read (retried on
 * EINTR), one close. Writes loop until every byte is out.
 */
#include "config.h"

#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "pprofd.h"

ssize_t pprofd__read_small(const char *path, char *buf, size_t cap) {
  return pprofd__read_small_at(AT_FDCWD, path, buf, cap);
}

ssize_t pprofd__read_small_at(int dirfd, const char *path, char *buf,
                              size_t cap) {
  if (cap == 0)
    return -1;
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n;
  do
    n = read(fd, buf, cap - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return n;
}

int pprofd__write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return PPROFD_EIO;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}
