/*
 * procfs.c - reading small /proc files (see procfs.h). One open, one read
 * (retried on EINTR), one close: /proc files of this size are produced
 * whole by the first read.
 */
#include "config.h"

#include "core/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

ssize_t pprofd__read_small(const char *path, char *buf, size_t cap) {
  if (cap == 0)
    return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
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
