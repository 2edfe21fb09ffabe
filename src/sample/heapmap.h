/*
 * heapmap.h - the heap sampler's table of live sampled blocks: block
 * address -> an opaque 64-bit value (sample/heap.c packs the stack record
 * and the size into it).
 *
 * Open addressing over mmap'd memory, so it works inside malloc and free.
 * Writers hold the heap lock (sample/heap.c), which this module never
 * takes itself: every _locked function expects it held. The one reader
 * that does not hold it, pprofd__heapmap_contains_sigsafe (the free of an
 * aligned pointer), probes lock-free and allocation-free.
 *
 * Contexts: inside the interposed malloc family on any thread; never
 * calls malloc, never recurses.
 */
#ifndef PPROFD_SAMPLE_HEAPMAP_H
#define PPROFD_SAMPLE_HEAPMAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* Inserts p -> v. 0 when stored; 1 when it replaced a stale entry for p
 * (a block whose free bypassed the wrappers), whose value goes to *old;
 * -1 when the table cannot hold it (PTAB_MAX). Heap lock held. */
int pprofd__heapmap_insert_locked(uintptr_t p, uint64_t v, uint64_t *old);

/* Removes p; 1 with its value in *v when it was there, else 0. Heap lock
 * held. */
int pprofd__heapmap_remove_locked(uintptr_t p, uint64_t *v);

/* 1 with p's value in *v when p is there, else 0. Heap lock held. */
int pprofd__heapmap_get_locked(uintptr_t p, uint64_t *v);

/* The number of live entries. Heap lock held. */
size_t pprofd__heapmap_live_locked(void);

/* Whether p is a live entry. Lock-free, allocation-free: the check the
 * free of an aligned pointer pays (pprofd__heap_is_sampled). */
int pprofd__heapmap_contains_sigsafe(const void *p) PPROFD__SIGSAFE;

/* Bytes the table maps, retired tables included. Thread-safe. */
size_t pprofd__heapmap_own_bytes(void);

#endif
