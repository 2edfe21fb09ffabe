/*
 * check_frames.h - asking a snapshot's stacks about functions, for the
 * unit tests: whether a sample's first frames (inline frames included,
 * compiler clones such as fn.constprop.0 counted as fn) name a function.
 */
#ifndef PPROFD_TESTS_CHECK_FRAMES_H
#define PPROFD_TESTS_CHECK_FRAMES_H

#include <stdint.h>
#include <string.h>

#include "model/snapshot.h"
#include "symbol/symbolize.h"

/* Whether name is fn or a compiler clone of it (fn.constprop.0, ...). */
static inline int same_func(const char *name, const char *fn) {
  size_t n = strlen(fn);
  return strncmp(name, fn, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

/* Whether one of the n locations locs is in the function fn. */
static inline int locs_have_frame(pprofd__symctx *sym, const uint64_t *locs,
                                  size_t n, const char *fn) {
  for (size_t i = 0; i < n; i++) {
    pprofd__symres r;
    pprofd__sym_lookup(sym, locs[i], &r);
    for (int j = 0; j < r.nframes; j++)
      if (same_func(r.frames[j].name, fn))
        return 1;
    if (r.nframes == 0 && same_func(r.symbol, fn))
      return 1;
  }
  return 0;
}

/* Whether one of the first `depth` frames of smp is the function fn. */
static inline int has_frame(pprofd__symctx *sym, const pprofd__sample *smp,
                            const char *fn, uint32_t depth) {
  return locs_have_frame(sym, smp->locs,
                         smp->nlocs < depth ? smp->nlocs : depth, fn);
}

#endif
