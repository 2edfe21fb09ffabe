/*
 * maps.h - the executable mappings of this process, with GNU build-ids.
 *
 * Owns: a snapshot of the executable (x) entries of /proc/self/maps, in file
 * order except that the main executable's first executable entry comes
 * first (pprof prints `File: <mapping[0]>`). Each entry keeps the exact
 * start, limit and file offset of its maps line, the path with " (deleted)"
 * stripped, and the lowercase hex NT_GNU_BUILD_ID of the file ("" when it
 * has none or cannot be read). Build-ids are cached per (device, inode).
 *
 * Threads: any thread outside signal context; a snapshot is immutable once
 * read and may be shared read-only. The build-id cache takes its own lock.
 */
#ifndef PPROFD_SYMBOL_MAPS_H
#define PPROFD_SYMBOL_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

typedef struct pprofd__mapping {
  uint64_t start;     /* first byte of the maps line */
  uint64_t limit;     /* one past the last byte */
  uint64_t offset;    /* file offset of start */
  char *path;         /* as in maps, " (deleted)" stripped; may be "" */
  char build_id[129]; /* lowercase hex, "" if none */
  int is_main;        /* the main executable */
} pprofd__mapping;

typedef struct pprofd__maps {
  pprofd__mapping *v; /* sorted as described above */
  size_t n;
  uint64_t signature; /* hash of all entries: equal snapshots, equal hash */
} pprofd__maps;

/* Reads the executable mappings into *out (zeroed first). PPROFD_EIO when
 * the maps file cannot be read, PPROFD_ENOMEM. */
int pprofd__maps_read(pprofd__maps *out) PPROFD__WARN_UNUSED;
/* The mapping containing addr, or NULL. O(log n) or better. */
const pprofd__mapping *pprofd__maps_find(const pprofd__maps *m, uint64_t addr);
/* Index in m->v of the mapping containing addr, or -1. */
long pprofd__maps_index(const pprofd__maps *m, uint64_t addr);
/* Frees what pprofd__maps_read allocated; the struct is zeroed. */
void pprofd__maps_free(pprofd__maps *m);

/* In a fork child: fork() never waits for the build-id cache; a child
 * forked while a thread held its lock starts with an empty cache. */
void pprofd__maps_postfork_child(void);

/* Test seam: the path of the maps file (default "/proc/self/maps") and of
 * the main executable (default "/proc/self/exe", resolved with readlink). */
extern const char *PPROFD__SEAM pprofd__maps_path;
extern const char *PPROFD__SEAM pprofd__exe_path;

#endif
