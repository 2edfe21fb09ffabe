/*
 * heap.h - the heap profile's data: what the heap sampler (sample/heap.c)
 * fills and the heap encoders (encode/heaptext.c) read.
 *
 * A heap dump is a copy of the sampler's stack records taken at one
 * instant (each stack with Go's four cumulative counters, raw sampled
 * counts) plus the sampler's statistics at the same instant. Counts are
 * unsampled only at output, with Go's formula (pprofd__heap_scale).
 * Stacks point into the sampler's frame arena, which is never freed, so
 * a dump stays valid after the sampler's lock is dropped.
 *
 * Threads: a dump belongs to the request that made it; not thread-safe.
 */
#ifndef PPROFD_MODEL_HEAP_H
#define PPROFD_MODEL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* One allocation stack and its raw sampled counters. */
typedef struct pprofd__heaprec {
  const uint64_t *locs; /* leaf first */
  uint32_t nlocs;
  int64_t ao, ab; /* allocated objects, bytes */
  int64_t fo, fb; /* freed objects, bytes */
} pprofd__heaprec;

/* The sampler's counters (the debug=1 trailer's figures). */
typedef struct pprofd__heapstats {
  int64_t rate;        /* sampling rate in bytes; 0 off */
  int64_t total_alloc; /* bytes allocated, sampled or not */
  int64_t samples, frees;
  int64_t dropped;   /* samples taken before stacks could be captured */
  int64_t untracked; /* sampled pointers the pointer table could not hold */
  int64_t lost;      /* frees that could not be matched */
  size_t live;       /* sampled pointers live now */
  int64_t stacks;    /* distinct stacks */
  size_t own;        /* bytes the sampler's tables map */
} pprofd__heapstats;

/* The heap's running totals at one instant, for the metrics. The
 * sampled figures are unsampled as the profile's are (summed per stack
 * with Go's formula) and valid only while sampling is on. */
typedef struct pprofd__heaptotals {
  int sampled;           /* heap sampling is on: the figures below hold */
  int64_t inuse_bytes;   /* in use (the sum of inuse_space) */
  int64_t inuse_objects; /* objects in use (the sum of inuse_objects) */
  int64_t alloc_objects; /* allocations since load (alloc_objects) */
  int64_t free_objects;  /* frees since load */
  int64_t total_alloc;   /* bytes allocated since load, sampled or not,
                            as each thread's countdown ran out */
  int64_t gc_runs;       /* ?gc=1 runs */
  int64_t last_gc_nanos; /* when the last one ran (wall clock), or 0 */
} pprofd__heaptotals;

/* A copy of the heap profile. recs is from pprofd__ialloc (NULL when
 * there are no records); free it with pprofd__heapdump_free. */
typedef struct pprofd__heapdump {
  pprofd__heaprec *recs;
  size_t n;
  pprofd__heapstats st;
} pprofd__heapdump;

/* Frees the records of d and empties it. */
void pprofd__heapdump_free(pprofd__heapdump *d);

/* Go's scaleHeapSample: the unsampled count and size of `count` sampled
 * objects of `size` bytes in all, at `rate` (rate <= 1: as they are).
 * Pure; thread-safe. */
void pprofd__heap_scale(int64_t count, int64_t size, int64_t rate, int64_t *oc,
                        int64_t *os);

#endif
