/*
 * text.c - Go's legacy text layouts (see text.h).
 *
 * Everything passes through Go's tabwriter so the alignment matches Go's
 * byte for byte; only `#` frame lines contain tabs, so record lines break
 * the column blocks exactly where Go's do.
 */
#include "config.h"

#include "encode/text.h"

#include <stdlib.h>
#include <string.h>

#include "base/ialloc.h"
#include "pprofd.h"

void pprofd__text_addrs(pprofd__tabw *w, const uint64_t *locs, size_t n) {
  for (size_t i = 0; i < n; i++)
    pprofd__tabw_printf(w, " 0x%llx", (unsigned long long)locs[i] + 1);
}

void pprofd__text_frames(pprofd__tabw *w, pprofd__symctx *sym,
                         const uint64_t *locs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned long long pc = locs[i];
    pprofd__symres r = {0};
    if (sym != NULL)
      pprofd__sym_lookup(sym, locs[i], &r);
    if (r.nframes == 0) {
      pprofd__tabw_printf(w, "#\t%#llx\n", pc);
      continue;
    }
    for (int j = 0; j < r.nframes; j++) {
      const pprofd__frame *f = &r.frames[j];
      pprofd__tabw_printf(w, "#\t%#llx\t%s+%#llx\t%s:%lld\n", pc,
                          f->name[0] ? f->name : r.symbol,
                          (unsigned long long)r.symbol_offset, f->file,
                          (long long)f->line);
    }
  }
  pprofd__tabw_write(w, "\n", 1);
}

void pprofd__text_quote(pprofd__buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  pprofd__buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned c = *p;
    switch (c) {
    case '"':
      pprofd__buf_puts(b, "\\\"");
      continue;
    case '\\':
      pprofd__buf_puts(b, "\\\\");
      continue;
    case '\a':
      pprofd__buf_puts(b, "\\a");
      continue;
    case '\b':
      pprofd__buf_puts(b, "\\b");
      continue;
    case '\f':
      pprofd__buf_puts(b, "\\f");
      continue;
    case '\n':
      pprofd__buf_puts(b, "\\n");
      continue;
    case '\r':
      pprofd__buf_puts(b, "\\r");
      continue;
    case '\t':
      pprofd__buf_puts(b, "\\t");
      continue;
    case '\v':
      pprofd__buf_puts(b, "\\v");
      continue;
    default:
      break;
    }
    if (c < 0x20 || c == 0x7f) {
      char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
      pprofd__buf_append(b, e, 4);
    } else {
      pprofd__buf_putc(b, (char)c);
    }
  }
  pprofd__buf_putc(b, '"');
}

/* qsort comparator for C strings. */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void pprofd__text_labels(pprofd__buf *b, const pprofd__sample *smp) {
  char *kv[PPROFD__MAX_LABELS];
  size_t n = 0;
  for (uint32_t i = 0; i < smp->nlabels && n < PPROFD__MAX_LABELS; i++) {
    if (smp->labels[i].str == NULL)
      continue;
    pprofd__buf one;
    pprofd__buf_init(&one, 1 << 16);
    pprofd__text_quote(&one, smp->labels[i].key);
    pprofd__buf_putc(&one, ':');
    pprofd__text_quote(&one, smp->labels[i].str);
    if (pprofd__buf_failed(&one)) {
      pprofd__buf_free(&one);
      continue;
    }
    kv[n++] = pprofd__buf_steal(&one, NULL);
  }
  qsort(kv, n, sizeof kv[0], cmp_str);
  pprofd__buf_putc(b, '{');
  for (size_t i = 0; i < n; i++) {
    if (i)
      pprofd__buf_puts(b, ", ");
    pprofd__buf_puts(b, kv[i]);
    pprofd__ifree(kv[i]);
  }
  pprofd__buf_putc(b, '}');
}

typedef struct group {
  char *key; /* "@ 0x.. 0x..[\n# labels: {...}]" as Go builds it */
  const pprofd__sample *smp;
} group;

/* Go's keysByCount: count descending, then key ascending. */
static int cmp_group(const void *a, const void *b) {
  const group *x = a, *y = b;
  if (x->smp->values[0] != y->smp->values[0])
    return x->smp->values[0] > y->smp->values[0] ? -1 : 1;
  return strcmp(x->key, y->key);
}

int pprofd__text_count_profile(pprofd__snapshot *s, const char *name,
                               pprofd__buf *out) {
  int64_t total = 0;
  for (size_t i = 0; i < s->nsamples; i++)
    total += s->samples[i].values[0];
  int err = pprofd__snap_merge(s, 1);
  if (err != 0)
    return err;
  group *g = pprofd__icalloc(s->nsamples + 1, sizeof *g);
  if (g == NULL)
    return PPROFD_ENOMEM;
  for (size_t i = 0; i < s->nsamples; i++) {
    const pprofd__sample *smp = &s->samples[i];
    pprofd__buf k;
    pprofd__buf_init(&k, 1 << 20);
    pprofd__buf_putc(&k, '@');
    for (uint32_t j = 0; j < smp->nlocs; j++)
      pprofd__buf_printf(&k, " %#llx", (unsigned long long)smp->locs[j] + 1);
    /* pprof's legacy parser rejects a record with no address at all; Go
     * 1.23 pads such stacks with 0x0, and so do we. */
    if (smp->nlocs == 0)
      pprofd__buf_puts(&k, " 0x0");
    int has_str = 0;
    for (uint32_t j = 0; j < smp->nlabels; j++)
      has_str |= smp->labels[j].str != NULL;
    if (has_str) {
      pprofd__buf_puts(&k, "\n# labels: ");
      pprofd__text_labels(&k, smp);
    }
    pprofd__buf_putc(&k, '\0');
    g[i].smp = smp;
    g[i].key = pprofd__buf_failed(&k) ? NULL : pprofd__buf_steal(&k, NULL);
    pprofd__buf_free(&k);
    if (g[i].key == NULL) {
      err = PPROFD_ENOMEM;
      goto done;
    }
  }
  qsort(g, s->nsamples, sizeof *g, cmp_group);
  pprofd__tabw *w = pprofd__tabw_new(out);
  if (w == NULL) {
    err = PPROFD_ENOMEM;
    goto done;
  }
  pprofd__symctx *sym = NULL;
  if (pprofd__sym_begin(&sym) != 0)
    sym = NULL;
  pprofd__tabw_printf(w, "%s profile: total %lld\n", name, (long long)total);
  for (size_t i = 0; i < s->nsamples; i++) {
    pprofd__tabw_printf(w, "%lld %s\n", (long long)g[i].smp->values[0],
                        g[i].key);
    pprofd__text_frames(w, sym, g[i].smp->locs, g[i].smp->nlocs);
  }
  if (sym != NULL)
    pprofd__sym_end(sym);
  pprofd__tabw_flush(w);
  pprofd__tabw_free(w);
  err = pprofd__buf_failed(out);
done:
  for (size_t i = 0; i < s->nsamples; i++)
    pprofd__ifree(g[i].key);
  pprofd__ifree(g);
  return err;
}

int pprofd__text_contention(const pprofd__snapshot *s, int mutex,
                            pprofd__buf *out) {
  pprofd__tabw *w = pprofd__tabw_new(out);
  if (w == NULL)
    return PPROFD_ENOMEM;
  /* Nanoseconds as "cycles": pprof's cycles-to-time conversion is then
   * the identity. The mutex values are already scaled by the fraction in
   * force when each event was recorded (as Go >= 1.21 does), so the
   * sampling period printed for pprof to multiply by is 1; printing the
   * fraction would scale them twice (Go >= 1.21's bug, spec 2.9). */
  pprofd__tabw_printf(w, "--- %s:\ncycles/second=1000000000\n",
                      mutex ? "mutex" : "contention");
  if (mutex)
    pprofd__tabw_printf(w, "sampling period=1\n");
  pprofd__symctx *sym = NULL;
  if (pprofd__sym_begin(&sym) != 0)
    sym = NULL;
  for (size_t i = 0; i < s->nsamples; i++) {
    const pprofd__sample *smp = &s->samples[i];
    pprofd__tabw_printf(w, "%lld %lld @", (long long)smp->values[1],
                        (long long)smp->values[0]);
    pprofd__text_addrs(w, smp->locs, smp->nlocs);
    pprofd__tabw_write(w, "\n", 1);
    pprofd__text_frames(w, sym, smp->locs, smp->nlocs);
  }
  if (sym != NULL)
    pprofd__sym_end(sym);
  pprofd__tabw_flush(w);
  pprofd__tabw_free(w);
  return pprofd__buf_failed(out);
}
