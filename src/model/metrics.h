/*
 * metrics.h - runtime metrics as data: what core/metrics.c gathers and
 * the exposition encoders (encode/promtext.c, encode/expvar.c) write.
 *
 * Three plain shapes:
 *   - a metric set (pprofd__mset): families in the order they are to be
 *     written, each with a name, a HELP text, a TYPE and its samples (a
 *     value and up to two labels). A counter's name is the one the text
 *     format 0.0.4 shows, ending in `_total`; the OpenMetrics writer
 *     derives the family name from it. Values are exact integers or
 *     doubles, so a byte count never passes through a double;
 *   - Go's runtime.MemStats, the fields that mean something for a C
 *     program (pprofd__memstats);
 *   - one application variable's value (pprofd__varval), copied out of
 *     the registry (sample/vars.c) at one instant.
 *
 * The set borrows every string it is given (names, HELP texts, label
 * names and values): they must outlive it. Its arrays come from ialloc.
 *
 * Threads: a set belongs to the request that builds it; not thread-safe.
 */
#ifndef PPROFD_MODEL_METRICS_H
#define PPROFD_MODEL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* A family's Prometheus TYPE. */
enum pprofd__mtype { PPROFD__MGAUGE, PPROFD__MCOUNTER };

#define PPROFD__MLABELS 2

/* One sample: labels and a value (an integer unless is_float). */
typedef struct pprofd__msample {
  const char *lname[PPROFD__MLABELS];
  const char *lvalue[PPROFD__MLABELS];
  unsigned nlabels;
  int is_float;
  int64_t i;
  double d;
} pprofd__msample;

/* One family: its samples are set->smp[first .. first + n). */
typedef struct pprofd__mfamily {
  const char *name; /* a counter's ends in _total */
  const char *help; /* NULL: none */
  enum pprofd__mtype type;
  size_t first, n;
} pprofd__mfamily;

typedef struct pprofd__mset {
  pprofd__mfamily *fam;
  size_t nfam, capfam;
  pprofd__msample *smp;
  size_t nsmp, capsmp;
  int failed; /* PPROFD_ENOMEM after a failed append */
} pprofd__mset;

void pprofd__mset_init(pprofd__mset *s);
void pprofd__mset_free(pprofd__mset *s);
/* Opens family name; the samples added next belong to it. On failure
 * the set is marked failed and later calls do nothing. */
void pprofd__mset_family(pprofd__mset *s, const char *name, const char *help,
                         enum pprofd__mtype type);
/* Adds a sample (labels and value as in *smp) to the open family. */
void pprofd__mset_add(pprofd__mset *s, const pprofd__msample *smp);
/* Adds an unlabelled integer or float sample to the open family. */
void pprofd__mset_int(pprofd__mset *s, int64_t v);
void pprofd__mset_float(pprofd__mset *s, double v);

/*
 * Go's runtime.MemStats, as far as a C program has its figures. The heap
 * figures exist only where pprofd sees the allocations (have_heap), and
 * the sampled estimates only while heap sampling is on (have_sampled);
 * the others always.
 */
typedef struct pprofd__memstats {
  int have_heap;         /* TotalAlloc is known */
  int have_sampled;      /* Alloc, HeapAlloc, Mallocs, Frees, HeapObjects */
  uint64_t alloc;        /* Alloc, HeapAlloc: sampled heap in use */
  uint64_t total_alloc;  /* TotalAlloc: bytes allocated, cumulative */
  uint64_t sys;          /* Sys: data and stack mappings (VmData+VmStk) */
  uint64_t mallocs;      /* Mallocs: allocations, estimated, cumulative */
  uint64_t frees;        /* Frees: frees, estimated, cumulative */
  uint64_t heap_objects; /* HeapObjects: sampled objects in use */
  uint64_t last_gc;      /* LastGC: ns since 1970 of the last gc=1, or 0 */
  uint32_t num_gc;       /* NumGC, NumForcedGC: gc=1 runs */
} pprofd__memstats;

/* An application variable's kind (pprofd_var_*_new). */
enum pprofd__varkind {
  PPROFD__VAR_INT,     /* an int64 gauge */
  PPROFD__VAR_COUNTER, /* an int64 that only grows */
  PPROFD__VAR_FLOAT,   /* a double gauge */
  PPROFD__VAR_STRING,  /* text: /debug/vars only */
  PPROFD__VAR_FUNC,    /* a double computed by a callback when read */
};

/* One variable's value. name and help live as long as the process; s
 * (a STRING's text) is owned by the value. */
typedef struct pprofd__varval {
  const char *name;
  const char *help; /* NULL: none */
  enum pprofd__varkind kind;
  int64_t i; /* INT, COUNTER */
  double d;  /* FLOAT, FUNC */
  char *s;   /* STRING: an ialloc'd copy, never NULL */
} pprofd__varval;

/* Frees the strings of v[0..n) and v itself (an ialloc'd array). */
void pprofd__varvals_free(pprofd__varval *v, size_t n);

#endif
