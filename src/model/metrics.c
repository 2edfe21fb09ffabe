/*
 * metrics.c - building metric sets (see metrics.h). Both arrays double
 * as they fill; a failed growth marks the set failed and the writers
 * report it.
 */
#include "config.h"

#include "model/metrics.h"

#include <string.h>

#include "base/ialloc.h"
#include "pprofd.h"

void pprofd__mset_init(pprofd__mset *s) { memset(s, 0, sizeof *s); }

void pprofd__mset_free(pprofd__mset *s) {
  pprofd__ifree(s->fam);
  pprofd__ifree(s->smp);
  memset(s, 0, sizeof *s);
}

/* Makes room for one more element of size sz in *arr (n used, *cap
 * allocated); 0, or -1 when memory is exhausted. */
static int grow(void **arr, size_t n, size_t *cap, size_t sz) {
  if (n < *cap)
    return 0;
  size_t c = *cap ? *cap * 2 : 32;
  void *p = pprofd__irealloc(*arr, c * sz);
  if (p == NULL)
    return -1;
  *arr = p;
  *cap = c;
  return 0;
}

void pprofd__mset_family(pprofd__mset *s, const char *name, const char *help,
                         enum pprofd__mtype type) {
  if (s->failed)
    return;
  if (grow((void **)&s->fam, s->nfam, &s->capfam, sizeof *s->fam) != 0) {
    s->failed = PPROFD_ENOMEM;
    return;
  }
  s->fam[s->nfam++] = (pprofd__mfamily){name, help, type, s->nsmp, 0};
}

void pprofd__mset_add(pprofd__mset *s, const pprofd__msample *smp) {
  if (s->failed || s->nfam == 0)
    return;
  if (grow((void **)&s->smp, s->nsmp, &s->capsmp, sizeof *s->smp) != 0) {
    s->failed = PPROFD_ENOMEM;
    return;
  }
  s->smp[s->nsmp++] = *smp;
  s->fam[s->nfam - 1].n++;
}

void pprofd__mset_int(pprofd__mset *s, int64_t v) {
  pprofd__msample m = {.i = v};
  pprofd__mset_add(s, &m);
}

void pprofd__mset_float(pprofd__mset *s, double v) {
  pprofd__msample m = {.is_float = 1, .d = v};
  pprofd__mset_add(s, &m);
}

void pprofd__varvals_free(pprofd__varval *v, size_t n) {
  for (size_t i = 0; v != NULL && i < n; i++)
    pprofd__ifree(v[i].s);
  pprofd__ifree(v);
}
