/*
 * snapshot.h - the neutral profile model every sampler fills and every
 * encoder reads.
 *
 * A snapshot is what one profile request saw: the sample types and period,
 * the time window, and a list of samples, each a stack of location
 * addresses (leaf first), one value per sample type and optional labels.
 * Location addresses are "inside the instruction": the interrupted PC for
 * the leaf of a CPU sample, and return address - 1 for every caller, which
 * is what pprof expects in Location.address; the text writers add the 1
 * back for Go's `@` lines. Samplers never encode, encoders never sample:
 * this struct is the only thing that crosses between them.
 *
 * All memory (samples, stacks, label strings) comes from the snapshot's
 * own arena and is freed at once by pprofd__snap_free. Not thread-safe:
 * a snapshot belongs to the request that built it.
 */
#ifndef PPROFD_MODEL_SNAPSHOT_H
#define PPROFD_MODEL_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/common.h"

#define PPROFD__MAX_TYPES 4
#define PPROFD__MAX_LABELS 16
#define PPROFD__MAX_DEPTH 128

typedef struct pprofd__vtype {
  const char *type; /* static strings, e.g. "alloc_space" */
  const char *unit; /* e.g. "bytes" */
} pprofd__vtype;

typedef struct pprofd__label {
  const char *key;
  const char *str; /* NULL for a numeric label */
  int64_t num;
} pprofd__label;

typedef struct pprofd__sample {
  uint64_t *locs; /* leaf first */
  uint32_t nlocs;
  uint32_t nlabels;
  pprofd__label *labels;
  int64_t values[PPROFD__MAX_TYPES];
} pprofd__sample;

typedef struct pprofd__arena_chunk pprofd__arena_chunk;

typedef struct pprofd__snapshot {
  pprofd__vtype types[PPROFD__MAX_TYPES];
  int ntypes;
  pprofd__vtype period_type;
  int64_t period;
  int default_type;       /* index into types, -1 for none */
  int64_t time_nanos;     /* wall clock at collection (end of window) */
  int64_t duration_nanos; /* 0 for point-in-time profiles */
  pprofd__sample *samples;
  size_t nsamples;
  size_t cap;
  pprofd__arena_chunk *arena;
  int failed; /* PPROFD_ENOMEM once any add failed */
} pprofd__snapshot;

/* Initializes an empty snapshot with time_nanos = now. */
void pprofd__snap_init(pprofd__snapshot *s);
/* Frees everything the snapshot holds; it may be initialized again. */
void pprofd__snap_free(pprofd__snapshot *s);
/* Sets the sample types (at most PPROFD__MAX_TYPES). */
void pprofd__snap_set_types(pprofd__snapshot *s, const pprofd__vtype *t, int n);
/* Initializes s as a count profile named `name` (goroutine, threadcreate,
 * custom): types and period type "<name>/count", period 1. `name` must
 * outlive s. */
void pprofd__snap_init_count(pprofd__snapshot *s, const char *name);

/* Appends a sample, copying locs, values (ntypes of them) and labels
 * (strings copied). Returns the new sample or NULL (and s->failed) when
 * out of memory. Deeper stacks are cut to PPROFD__MAX_DEPTH. */
pprofd__sample *pprofd__snap_add(pprofd__snapshot *s, const uint64_t *locs,
                                 size_t nlocs, const int64_t *values,
                                 const pprofd__label *labels, size_t nlabels);
/* Copies bytes into the arena; NULL when out of memory. */
void *pprofd__snap_alloc(pprofd__snapshot *s, size_t n);
char *pprofd__snap_strdup(pprofd__snapshot *s, const char *str);

/* Merges samples with identical stacks and labels by adding their values
 * and drops samples whose values are all zero when drop_zero is set.
 * Order of the remaining samples is the order of first appearance. */
int pprofd__snap_merge(pprofd__snapshot *s, int drop_zero) PPROFD__WARN_UNUSED;
/* The same, but numeric labels do not tell samples apart: a merged
 * sample keeps the numeric labels of its first appearance. Deltas use
 * this, since a numeric label such as heap's average `bytes` drifts
 * between two collections of the same stack. */
int pprofd__snap_merge_by_strings(pprofd__snapshot *s,
                                  int drop_zero) PPROFD__WARN_UNUSED;
/* Go's delta: out = p1 - p0 (p0's values negated and merged into a copy of
 * p1 by stack and string labels, numeric labels taken from p1, all-zero
 * samples dropped), time_nanos = p1's, duration = p1 - p0's
 * time. out must be freshly initialized. */
int pprofd__snap_delta(pprofd__snapshot *out, const pprofd__snapshot *p0,
                       const pprofd__snapshot *p1) PPROFD__WARN_UNUSED;

#endif
