/*
 * malloc.h - the interposed malloc family (see malloc.c).
 *
 * Owns the exported malloc, calloc, realloc, free, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc, reallocarray,
 * malloc_usable_size and cfree, the real functions behind them (resolved
 * once with dlsym(RTLD_NEXT)), and the static bootstrap arena that serves
 * the allocations made before and during that resolution. Compiled only
 * when config.h defines PPROFD_ENABLE_INTERPOSE.
 *
 * Threads: any. The wrappers take no lock except on a sampled path.
 */
#ifndef PPROFD_INTERPOSE_MALLOC_H
#define PPROFD_INTERPOSE_MALLOC_H

#include <stddef.h>

#include "base/common.h"

/* Sampled blocks, and only they among blocks with a 16-byte alignment
 * request, are aligned to this; free() looks any further only at
 * pointers aligned to it. */
#define PPROFD__SAMPLE_ALIGN 4096

#endif
