/*
 * heap.c - the heap profile's data (see heap.h): freeing a dump, and Go's
 * unsampling formula, shared by the sampler's estimates and the encoders.
 * Called from request threads; pure apart from the free.
 */
#include "config.h"

#include "model/heap.h"

#include <math.h>

#include "base/ialloc.h"

void pprofd__heapdump_free(pprofd__heapdump *d) {
  pprofd__ifree(d->recs);
  d->recs = NULL;
  d->n = 0;
}

void pprofd__heap_scale(int64_t count, int64_t size, int64_t rate, int64_t *oc,
                        int64_t *os) {
  if (count == 0 || size == 0) {
    *oc = *os = 0;
    return;
  }
  if (rate <= 1) {
    *oc = count;
    *os = size;
    return;
  }
  double avg = (double)size / (double)count;
  double sc = 1 / (1 - exp(-avg / (double)rate));
  *oc = (int64_t)((double)count * sc);
  *os = (int64_t)((double)size * sc);
}
