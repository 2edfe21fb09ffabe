/*
 * mapsfile.c - the maps file, line by line.
 *
 * A read is one pass over the file with read(2) into a 64 KiB buffer.
 * Each complete line is parsed in place; a line longer than MAX_LINE bytes
 * is skipped whole (the rest of it up to its newline too) and a line that
 * does not parse is skipped, so odd input costs bounded memory and never
 * a crash. Numbers are parsed by hand, without overflow, rather than with
 * sscanf. Called by the maps snapshot (symbol/maps.c) from any thread
 * outside signal context; no state outlives a call.
 */
#include "config.h"

#include "symbol/mapsfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/ialloc.h"
#include "pprofd.h"

#define MAX_LINE 4096  /* longer maps lines are skipped */
#define READ_BUF 65536 /* read(2) buffer; must exceed MAX_LINE */

#define DELETED " (deleted)"

size_t pprofd__mapsfile_undeleted(const char *s, size_t len) {
  size_t dl = sizeof DELETED - 1;
  if (len >= dl && memcmp(s + len - dl, DELETED, dl) == 0)
    len -= dl;
  return len;
}

/* Value of one hex digit, or -1. */
static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Parses 1-16 hex digits at *p and advances; -1 if there are none or too
 * many (which would overflow). */
static int parse_hex(const char **p, uint64_t *out) {
  const char *s = *p;
  uint64_t v = 0;
  int nd = 0;
  int d;
  while ((d = hexval(*s)) >= 0) {
    if (++nd > 16)
      return -1;
    v = v << 4 | (uint64_t)d;
    s++;
  }
  if (nd == 0)
    return -1;
  *p = s;
  *out = v;
  return 0;
}

/* Parses a decimal number at *p without overflow and advances; -1 if none
 * or too large. */
static int parse_dec(const char **p, uint64_t *out) {
  const char *s = *p;
  uint64_t v = 0;
  if (*s < '0' || *s > '9')
    return -1;
  while (*s >= '0' && *s <= '9') {
    uint64_t d = (uint64_t)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
    s++;
  }
  *p = s;
  *out = v;
  return 0;
}

/* Expects one space at *p and advances past it. */
static int expect_space(const char **p) {
  if (**p != ' ')
    return -1;
  (*p)++;
  return 0;
}

/* Parses one NUL-terminated maps line. Returns 1 for a well-formed
 * executable entry (l filled; its path points into the line), 0 for
 * anything else. */
static int parse_line(const char *s, pprofd__mapsline *l) {
  const char *p = s;
  uint64_t start, limit, off, maj, min, ino;
  if (parse_hex(&p, &start) != 0 || *p++ != '-')
    return 0;
  if (parse_hex(&p, &limit) != 0 || expect_space(&p) != 0)
    return 0;
  const char *perms = p;
  for (int i = 0; i < 4; i++)
    if (p[i] == '\0' || p[i] == ' ')
      return 0;
  p += 4;
  if (expect_space(&p) != 0 || parse_hex(&p, &off) != 0 ||
      expect_space(&p) != 0)
    return 0;
  if (parse_hex(&p, &maj) != 0 || *p++ != ':' || parse_hex(&p, &min) != 0 ||
      expect_space(&p) != 0)
    return 0;
  if (parse_dec(&p, &ino) != 0 || (*p != ' ' && *p != '\0'))
    return 0;
  if (memchr(perms, 'x', 4) == NULL || start >= limit)
    return 0;
  while (*p == ' ')
    p++;
  l->start = start;
  l->limit = limit;
  l->offset = off;
  l->dev = (maj & 0xffffffffu) << 32 | (min & 0xffffffffu);
  l->ino = ino;
  l->path = p;
  l->pathlen = pprofd__mapsfile_undeleted(p, strlen(p));
  return 1;
}

/* Handles one NUL-terminated line of the maps file. */
static int take_line(const char *line, pprofd__mapsfile_fn fn, void *arg) {
  pprofd__mapsline l;
  if (!parse_line(line, &l))
    return 0;
  return fn(arg, &l);
}

/* Reads the maps file open on fd, line by line. The buffer holds READ_BUF
 * bytes plus a NUL; a partial line longer than MAX_LINE is discarded and
 * the rest of it skipped up to its newline. */
static int read_lines(int fd, pprofd__mapsfile_fn fn, void *arg) {
  char *buf = pprofd__ialloc(READ_BUF + 1);
  if (buf == NULL)
    return PPROFD_ENOMEM;
  size_t have = 0;
  int skipping = 0;
  int rc = 0;
  for (;;) {
    ssize_t r = read(fd, buf + have, READ_BUF - have);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      rc = PPROFD_EIO;
      break;
    }
    if (r == 0) {
      if (have > 0 && !skipping) {
        buf[have] = '\0';
        rc = take_line(buf, fn, arg);
      }
      break;
    }
    have += (size_t)r;
    char *p = buf;
    char *end = buf + have;
    char *nl;
    while (rc == 0 && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
      *nl = '\0';
      if (skipping)
        skipping = 0;
      else if ((size_t)(nl - p) <= MAX_LINE)
        rc = take_line(p, fn, arg);
      p = nl + 1;
    }
    if (rc != 0)
      break;
    have = (size_t)(end - p);
    memmove(buf, p, have);
    if (have > MAX_LINE) {
      skipping = 1;
      have = 0;
    }
  }
  pprofd__ifree(buf);
  return rc;
}

int pprofd__mapsfile_read(const char *path, pprofd__mapsfile_fn fn, void *arg) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return PPROFD_EIO;
  int rc = read_lines(fd, fn, arg);
  close(fd);
  return rc;
}
