/*
 * buildid.h - the GNU build-id of a mapped object, read from its ELF file
 * and cached.
 *
 * Owns: a cache of build-ids keyed by (device, inode, path hash) of the
 * maps line, with its own lock, living as long as the process. The ELF
 * reader behind it reads program and section headers through pread(2),
 * or the vDSO's image in memory, checking every offset and size first.
 *
 * Threads: any thread outside signal context. The cache lock is a leaf,
 * never held across I/O: the symbolizer calls in here (through the maps
 * snapshot) with its own lock held, never the other way round.
 */
#ifndef PPROFD_SYMBOL_BUILDID_H
#define PPROFD_SYMBOL_BUILDID_H

#include <stdint.h>

#include "base/common.h"

#define PPROFD__BUILDID_HEX 129 /* 64 bytes in hex, and the NUL */

/* Writes into out (PPROFD__BUILDID_HEX bytes) the lowercase hex build-id
 * of the object mapped at [start, limit) from path, whose maps line gave
 * device dev (major << 32 | minor) and inode ino; "" when it has none or
 * it cannot be read. "[vdso]" is read from memory; other paths that are
 * not absolute get "". A path that now names another file than the one
 * mapped is read through /proc/self/map_files, or gets "" rather than a
 * wrong build-id. Cached unless ino is 0. */
void pprofd__buildid_get(const char *path, uint64_t start, uint64_t limit,
                         uint64_t dev, uint64_t ino, char *out);

/* In a fork child: see pprofd__maps_postfork_child. */
void pprofd__buildid_postfork_child(void);

#endif
