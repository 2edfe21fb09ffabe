/*
 * pprof.c - snapshots to gzipped profile.proto (see pprof.h).
 *
 * One pass over the samples builds three interning tables: strings (first
 * use order, "" at index 0), locations keyed by address, and functions
 * keyed by (name, system name, file, start line). IDs are array positions
 * plus one, which makes them dense and sequential as Parca requires. The
 * protobuf-c message points at these tables and at the symbolizer's
 * strings, so it is packed before the symbolizer lock is released and no
 * string is copied. Per mapping, counters of how many of its locations got
 * a function, a file, a line number and DWARF frames decide the has_*
 * flags, which tell pprof whether to symbolize that mapping itself.
 */
#include "config.h"

#include "encode/pprof.h"

#include <string.h>

#include "base/ialloc.h"
#include "encode/gzip.h"
#include "encode/profile.pb-c.h"
#include "pprofd.h"
#include "symbol/maps.h"
#include "symbol/symbolize.h"

typedef Perftools__Profiles__Profile PProfile;
typedef Perftools__Profiles__ValueType PValueType;
typedef Perftools__Profiles__Sample PSample;
typedef Perftools__Profiles__Label PLabel;
typedef Perftools__Profiles__Mapping PMapping;
typedef Perftools__Profiles__Location PLocation;
typedef Perftools__Profiles__Line PLine;
typedef Perftools__Profiles__Function PFunction;

/* An open-addressing table from a 4-word key to an index. */
typedef struct itab {
  uint64_t (*keys)[4];
  size_t *vals;
  size_t cap; /* power of two; 0 before the first insert */
  size_t n;
} itab;

typedef struct mapstat {
  size_t locs, funcs, files, lines, dwarf;
} mapstat;

typedef struct enc {
  int err;
  /* strings */
  const char **strs;
  size_t nstrs, capstrs;
  size_t *strslot; /* open addressing over strs indices */
  size_t strcap;
  /* tables */
  itab loctab, functab;
  PLocation *locs;
  PLocation **locp;
  size_t nlocs, caplocs;
  PFunction *funcs;
  PFunction **funcp;
  size_t nfuncs, capfuncs;
  PLine *lines; /* one array for every location's lines */
  size_t nlines, caplines;
  size_t *line_first; /* per location: index of its first line */
  size_t capfirst;
  pprofd__maps maps;
  mapstat *mstats;
} enc;

/* FNV-1a of a string. */
static uint64_t str_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

/* Grows a vector of elem-sized items to hold at least need items. */
static int grow(void *vp, size_t *cap, size_t need, size_t elem) {
  void **v = vp;
  if (need <= *cap)
    return 0;
  size_t ncap = *cap ? *cap : 64;
  while (ncap < need)
    ncap *= 2;
  void *n = pprofd__irealloc(*v, ncap * elem);
  if (n == NULL)
    return PPROFD_ENOMEM;
  *v = n;
  *cap = ncap;
  return 0;
}

/* Rebuilds the string slot table at twice the size. */
static int str_rehash(enc *e) {
  size_t ncap = e->strcap ? e->strcap * 2 : 1024;
  size_t *slots = pprofd__ialloc(ncap * sizeof *slots);
  if (slots == NULL)
    return PPROFD_ENOMEM;
  memset(slots, 0xff, ncap * sizeof *slots);
  for (size_t i = 0; i < e->nstrs; i++) {
    size_t s = (size_t)str_hash(e->strs[i]) & (ncap - 1);
    while (slots[s] != (size_t)-1)
      s = (s + 1) & (ncap - 1);
    slots[s] = i;
  }
  pprofd__ifree(e->strslot);
  e->strslot = slots;
  e->strcap = ncap;
  return 0;
}

/* The string table index of s, adding it on first use. s must outlive the
 * packing of the profile. */
static int64_t str_id(enc *e, const char *s) {
  if (e->err)
    return 0;
  if (s == NULL || *s == '\0')
    return 0;
  if ((e->nstrs + 1) * 2 > e->strcap && (e->err = str_rehash(e)) != 0)
    return 0;
  size_t slot = (size_t)str_hash(s) & (e->strcap - 1);
  for (;;) {
    size_t i = e->strslot[slot];
    if (i == (size_t)-1)
      break;
    if (strcmp(e->strs[i], s) == 0)
      return (int64_t)i;
    slot = (slot + 1) & (e->strcap - 1);
  }
  if ((e->err = grow(&e->strs, &e->capstrs, e->nstrs + 1, sizeof *e->strs)) !=
      0)
    return 0;
  e->strs[e->nstrs] = s;
  e->strslot[slot] = e->nstrs;
  return (int64_t)e->nstrs++;
}

/* Mixes a 4-word key. */
static uint64_t key_hash(const uint64_t k[4]) {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 4; i++) {
    h ^= k[i] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
  }
  return h ^ (h >> 33);
}

/* Finds key; returns its index or (size_t)-1 and the free slot in *slot. */
static size_t itab_find(itab *t, const uint64_t k[4], size_t *slot) {
  size_t s = (size_t)key_hash(k) & (t->cap - 1);
  for (;;) {
    if (t->vals[s] == (size_t)-1) {
      *slot = s;
      return (size_t)-1;
    }
    if (memcmp(t->keys[s], k, sizeof t->keys[s]) == 0)
      return t->vals[s];
    s = (s + 1) & (t->cap - 1);
  }
}

/* Makes room for one more entry, rehashing at half load. */
static int itab_reserve(itab *t) {
  if ((t->n + 1) * 2 <= t->cap)
    return 0;
  size_t ncap = t->cap ? t->cap * 2 : 1024;
  itab n = {pprofd__ialloc(ncap * sizeof *n.keys),
            pprofd__ialloc(ncap * sizeof *n.vals), ncap, t->n};
  if (n.keys == NULL || n.vals == NULL) {
    pprofd__ifree(n.keys);
    pprofd__ifree(n.vals);
    return PPROFD_ENOMEM;
  }
  memset(n.vals, 0xff, ncap * sizeof *n.vals);
  for (size_t i = 0; i < t->cap; i++) {
    if (t->vals[i] == (size_t)-1)
      continue;
    size_t s;
    (void)itab_find(&n, t->keys[i], &s);
    memcpy(n.keys[s], t->keys[i], sizeof n.keys[s]);
    n.vals[s] = t->vals[i];
  }
  pprofd__ifree(t->keys);
  pprofd__ifree(t->vals);
  *t = n;
  return 0;
}

static void itab_free(itab *t) {
  pprofd__ifree(t->keys);
  pprofd__ifree(t->vals);
  memset(t, 0, sizeof *t);
}

/* The ID of the function with these names, file and start line. */
static uint64_t func_id(enc *e, const pprofd__frame *f) {
  uint64_t k[4] = {(uint64_t)str_id(e, f->name),
                   (uint64_t)str_id(e, f->system_name),
                   (uint64_t)str_id(e, f->file), (uint64_t)f->start_line};
  if (e->err || (e->err = itab_reserve(&e->functab)) != 0)
    return 0;
  size_t slot, i = itab_find(&e->functab, k, &slot);
  if (i != (size_t)-1)
    return i + 1;
  if ((e->err =
           grow(&e->funcs, &e->capfuncs, e->nfuncs + 1, sizeof *e->funcs)) != 0)
    return 0;
  PFunction *fn = &e->funcs[e->nfuncs];
  perftools__profiles__function__init(fn);
  fn->id = e->nfuncs + 1;
  fn->name = (int64_t)k[0];
  fn->system_name = (int64_t)k[1];
  fn->filename = (int64_t)k[2];
  fn->start_line = f->start_line;
  memcpy(e->functab.keys[slot], k, sizeof k);
  e->functab.vals[slot] = e->nfuncs;
  e->functab.n++;
  return ++e->nfuncs;
}

/* The ID of the location at addr, symbolizing it on first use. */
static uint64_t loc_id(enc *e, pprofd__symctx *sym, uint64_t addr) {
  uint64_t k[4] = {addr, 0, 0, 0};
  if (e->err || (e->err = itab_reserve(&e->loctab)) != 0)
    return 0;
  size_t slot, i = itab_find(&e->loctab, k, &slot);
  if (i != (size_t)-1)
    return i + 1;
  if ((e->err = grow(&e->locs, &e->caplocs, e->nlocs + 1, sizeof *e->locs)) !=
          0 ||
      (e->err = grow(&e->line_first, &e->capfirst, e->nlocs + 1,
                     sizeof *e->line_first)) != 0)
    return 0;
  size_t idx = e->nlocs;
  PLocation *l = &e->locs[idx];
  perftools__profiles__location__init(l);
  l->id = idx + 1;
  l->address = addr;
  long mi = pprofd__maps_index(&e->maps, addr);
  if (mi >= 0)
    l->mapping_id = (uint64_t)mi + 1;
  else if (e->maps.n == 0)
    l->mapping_id = 1; /* the placeholder mapping, as Go does */
  /* Lines live in one array that may move while it grows; they are
   * attached to their locations after the pass. */
  size_t first = e->nlines;
  if (sym != NULL) {
    pprofd__symres r;
    pprofd__sym_lookup(sym, addr, &r);
    if ((e->err = grow(&e->lines, &e->caplines, e->nlines + (size_t)r.nframes,
                       sizeof *e->lines)) != 0)
      return 0;
    int has_file = r.nframes > 0, has_line = r.nframes > 0;
    for (int j = 0; j < r.nframes; j++) {
      PLine *ln = &e->lines[e->nlines++];
      perftools__profiles__line__init(ln);
      ln->function_id = func_id(e, &r.frames[j]);
      ln->line = r.frames[j].line;
      has_file &= r.frames[j].file[0] != '\0';
      has_line &= r.frames[j].line > 0;
    }
    if (mi >= 0) {
      mapstat *ms = &e->mstats[mi];
      ms->funcs += r.nframes > 0;
      ms->files += has_file;
      ms->lines += has_line;
      ms->dwarf += has_file && has_line;
    }
  }
  if (mi >= 0)
    e->mstats[mi].locs++;
  l->n_line = e->nlines - first;
  e->line_first[idx] = first;
  memcpy(e->loctab.keys[slot], k, sizeof k);
  e->loctab.vals[slot] = idx;
  e->loctab.n++;
  return ++e->nlocs;
}

static void enc_free(enc *e) {
  pprofd__ifree(e->strs);
  pprofd__ifree(e->strslot);
  itab_free(&e->loctab);
  itab_free(&e->functab);
  pprofd__ifree(e->locs);
  pprofd__ifree(e->funcs);
  pprofd__ifree(e->lines);
  pprofd__ifree(e->line_first);
  pprofd__ifree(e->mstats);
  pprofd__maps_free(&e->maps);
}

/* Fills a ValueType from a snapshot type. */
static void vtype(enc *e, PValueType *v, const pprofd__vtype *t) {
  perftools__profiles__value_type__init(v);
  v->type = str_id(e, t->type);
  v->unit = str_id(e, t->unit);
}

/* Builds the Profile message over e's tables and packs it into out
 * (gzipped). Runs with the symbolizer still locked. */
static int pack(enc *e, const pprofd__snapshot *s, PSample *samples,
                pprofd__buf *out) {
  int err = PPROFD_ENOMEM;
  PProfile p;
  perftools__profiles__profile__init(&p);
  PValueType types[PPROFD__MAX_TYPES], ptype;
  PValueType *typep[PPROFD__MAX_TYPES];
  for (int i = 0; i < s->ntypes; i++) {
    vtype(e, &types[i], &s->types[i]);
    typep[i] = &types[i];
  }
  p.n_sample_type = (size_t)s->ntypes;
  p.sample_type = typep;
  if (s->period_type.type != NULL) {
    vtype(e, &ptype, &s->period_type);
    p.period_type = &ptype;
  }
  p.period = s->period;
  p.time_nanos = s->time_nanos;
  p.duration_nanos = s->duration_nanos;
  if (s->default_type >= 0 && s->default_type < s->ntypes)
    p.default_sample_type = str_id(e, s->types[s->default_type].type);
  size_t nmaps = e->maps.n ? e->maps.n : 1;
  PMapping *maps = pprofd__icalloc(nmaps, sizeof *maps);
  PMapping **mapp = pprofd__icalloc(nmaps, sizeof *mapp);
  PSample **smpp = pprofd__icalloc(s->nsamples + 1, sizeof *smpp);
  PLocation **locp = pprofd__icalloc(e->nlocs + 1, sizeof *locp);
  PFunction **funcp = pprofd__icalloc(e->nfuncs + 1, sizeof *funcp);
  PLine **linep = pprofd__icalloc(e->nlines + 1, sizeof *linep);
  uint8_t *bytes = NULL;
  if (!maps || !mapp || !smpp || !locp || !funcp || !linep)
    goto fail;
  for (size_t i = 0; i < nmaps; i++) {
    PMapping *m = &maps[i];
    perftools__profiles__mapping__init(m);
    m->id = i + 1;
    mapp[i] = m;
    if (e->maps.n == 0)
      continue;
    const pprofd__mapping *src = &e->maps.v[i];
    const mapstat *ms = &e->mstats[i];
    m->memory_start = src->start;
    m->memory_limit = src->limit;
    m->file_offset = src->offset;
    m->filename = str_id(e, src->path);
    m->build_id = str_id(e, src->build_id);
    if (ms->locs > 0) {
      m->has_functions = ms->funcs == ms->locs;
      m->has_filenames = ms->files == ms->locs;
      m->has_line_numbers = ms->lines == ms->locs;
      m->has_inline_frames = ms->dwarf == ms->locs;
    }
  }
  for (size_t i = 0; i < e->nlines; i++)
    linep[i] = &e->lines[i];
  for (size_t i = 0; i < e->nlocs; i++) {
    locp[i] = &e->locs[i];
    e->locs[i].line = e->locs[i].n_line ? &linep[e->line_first[i]] : NULL;
  }
  for (size_t i = 0; i < e->nfuncs; i++)
    funcp[i] = &e->funcs[i];
  for (size_t i = 0; i < s->nsamples; i++)
    smpp[i] = &samples[i];
  p.n_mapping = nmaps;
  p.mapping = mapp;
  p.n_sample = s->nsamples;
  p.sample = smpp;
  p.n_location = e->nlocs;
  p.location = locp;
  p.n_function = e->nfuncs;
  p.function = funcp;
  if (e->err) {
    err = e->err;
    goto fail;
  }
  p.n_string_table = e->nstrs;
  p.string_table = (char **)(uintptr_t)e->strs;
  size_t len = perftools__profiles__profile__get_packed_size(&p);
  if (len > out->max) {
    err = PPROFD_ELIMIT;
    goto fail;
  }
  bytes = pprofd__ialloc(len ? len : 1);
  if (bytes == NULL)
    goto fail;
  perftools__profiles__profile__pack(&p, bytes);
  err = pprofd__gzip(bytes, len, 1, out);
fail:
  pprofd__ifree(bytes);
  pprofd__ifree(maps);
  pprofd__ifree(mapp);
  pprofd__ifree(smpp);
  pprofd__ifree(locp);
  pprofd__ifree(funcp);
  pprofd__ifree(linep);
  return err;
}

int pprofd__pprof_encode(const pprofd__snapshot *s, int symbolize,
                         pprofd__buf *out) {
  if (s->failed)
    return s->failed;
  enc e;
  memset(&e, 0, sizeof e);
  pprofd__symctx *sym = NULL;
  PSample *samples = NULL;
  uint64_t *ids = NULL;
  PLabel *labels = NULL;
  PLabel **labelp = NULL;
  int err = 0;
  size_t nids = 0, nlab = 0;
  /* Without /proc/self/maps, Go emits one all-zero mapping; so do we. */
  if (pprofd__maps_read(&e.maps) != 0)
    memset(&e.maps, 0, sizeof e.maps);
  e.mstats = pprofd__icalloc(e.maps.n + 1, sizeof *e.mstats);
  if (e.mstats == NULL || grow(&e.strs, &e.capstrs, 1, sizeof *e.strs)) {
    err = PPROFD_ENOMEM;
    goto done;
  }
  e.strs[e.nstrs++] = ""; /* string_table[0] must be "" */
  if (symbolize && pprofd__sym_begin(&sym) != 0)
    sym = NULL; /* serve addresses; clients can still symbolize */
  for (size_t i = 0; i < s->nsamples; i++) {
    nids += s->samples[i].nlocs;
    nlab += s->samples[i].nlabels;
  }
  samples = pprofd__icalloc(s->nsamples + 1, sizeof *samples);
  ids = pprofd__icalloc(nids + 1, sizeof *ids);
  labels = pprofd__icalloc(nlab + 1, sizeof *labels);
  labelp = pprofd__icalloc(nlab + 1, sizeof *labelp);
  if (!samples || !ids || !labels || !labelp) {
    err = PPROFD_ENOMEM;
    goto done;
  }
  size_t idn = 0, labn = 0;
  for (size_t i = 0; i < s->nsamples && !e.err; i++) {
    const pprofd__sample *src = &s->samples[i];
    PSample *dst = &samples[i];
    perftools__profiles__sample__init(dst);
    dst->location_id = &ids[idn];
    dst->n_location_id = src->nlocs;
    for (uint32_t j = 0; j < src->nlocs; j++)
      ids[idn++] = loc_id(&e, sym, src->locs[j]);
    dst->value = (int64_t *)(uintptr_t)src->values;
    dst->n_value = (size_t)s->ntypes;
    dst->label = &labelp[labn];
    dst->n_label = src->nlabels;
    for (uint32_t j = 0; j < src->nlabels; j++) {
      PLabel *lb = &labels[labn];
      perftools__profiles__label__init(lb);
      lb->key = str_id(&e, src->labels[j].key);
      if (src->labels[j].str != NULL)
        lb->str = str_id(&e, src->labels[j].str);
      else
        lb->num = src->labels[j].num;
      labelp[labn++] = lb;
    }
  }
  err = e.err ? e.err : pack(&e, s, samples, out);
done:
  if (sym != NULL)
    pprofd__sym_end(sym);
  pprofd__ifree(samples);
  pprofd__ifree(ids);
  pprofd__ifree(labels);
  pprofd__ifree(labelp);
  enc_free(&e);
  return err;
}
