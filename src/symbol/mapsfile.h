/*
 * mapsfile.h - a reader of the /proc/<pid>/maps format that keeps the
 * executable entries.
 *
 * Owns nothing between calls: a read opens the file, hands each
 * well-formed executable line to the caller's function and closes it.
 * Bounded whatever the input: lines longer than 4 KiB and lines that do
 * not parse are skipped, never a crash.
 *
 * Threads: any thread outside signal context; no shared state. It reads
 * with read(2) into a buffer from ialloc (no stdio), so nothing is
 * allocated behind ialloc's back.
 */
#ifndef PPROFD_SYMBOL_MAPSFILE_H
#define PPROFD_SYMBOL_MAPSFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* One executable entry as its line gives it. */
typedef struct pprofd__mapsline {
  uint64_t start, limit, offset;
  uint64_t dev; /* major << 32 | minor, as printed in the line */
  uint64_t ino;
  const char *path; /* into the reader's buffer: valid during the call */
  size_t pathlen;   /* bytes of path, " (deleted)" stripped */
} pprofd__mapsline;

/* Takes one entry; returns 0 to go on, or a PPROFD_E* code to stop. */
typedef int (*pprofd__mapsfile_fn)(void *arg, const pprofd__mapsline *l);

/* Reads the maps file at path and calls fn(arg, line) for each
 * executable entry, in file order. Returns 0, PPROFD_EIO when the file
 * cannot be opened or read, PPROFD_ENOMEM, or the code fn stopped with. */
int pprofd__mapsfile_read(const char *path, pprofd__mapsfile_fn fn,
                          void *arg) PPROFD__WARN_UNUSED;
/* The length of s[0..len) without a trailing " (deleted)", the mark the
 * kernel puts on files removed since they were mapped. */
size_t pprofd__mapsfile_undeleted(const char *s, size_t len);

#endif
