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

#include "core/common.h"

/* Sampled blocks, and only they among blocks with a 16-byte alignment
 * request, are aligned to this; free() looks any further only at
 * pointers aligned to it. */
#define PPROFD__SAMPLE_ALIGN 4096

/* 1 when this library's malloc is the one the process calls (it was
 * linked or preloaded, and the executable does not define its own), 0
 * when it is not, -1 when built without interposition. Thread-safe;
 * takes the loader lock on its first call. */
int pprofd__malloc_interposed(void);

/* Bytes handed out by the bootstrap arena (never freed). Thread-safe. */
size_t pprofd__malloc_boot_bytes(void);

#endif
