/*
 * maps.c - the executable mappings of this process, with GNU build-ids.
 *
 * A read takes the executable entries of the maps file in file order
 * (symbol/mapsfile.c parses it), keeping at most MAX_ENTRIES of them,
 * each together with the device and inode of its maps line, which only
 * the build-id lookup needs. Three passes then finish the snapshot:
 * build-ids (symbol/buildid.c, cached per object), the main executable
 * moved to slot 0, and a check that slots 1..n-1 are in address order.
 * The kernel always lists mappings in address order and removing one
 * element keeps that order, so for a real maps file the check passes and
 * file order is kept; a crafted file that is out of order is sorted
 * (stably) so that lookups stay O(log n): slot 0 is tried first, then a
 * binary search runs over the rest.
 *
 * A snapshot is owned by its caller and immutable once read. The only
 * shared state, the build-id cache, has its own leaf lock, which the fork
 * hooks here hold across fork(). Any thread outside signal context.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "symbol/maps.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/ialloc.h"
#include "pprofd.h"
#include "symbol/addrsort.h"
#include "symbol/buildid.h"
#include "symbol/mapsfile.h"

const char *PPROFD__SEAM pprofd__maps_path = "/proc/self/maps";
const char *PPROFD__SEAM pprofd__exe_path = "/proc/self/exe";

#define MAX_ENTRIES 65536 /* executable entries kept per snapshot */

_Static_assert(sizeof((pprofd__mapping *)0)->build_id == PPROFD__BUILDID_HEX,
               "room for the longest build-id");
_Static_assert(offsetof(pprofd__mapping, start) == 0, "searched by address");

/* The part of a maps line that only this file needs. */
struct lineinfo {
  uint64_t dev; /* major << 32 | minor, as printed in the line */
  uint64_t ino;
};

/* Entries under construction, in file order. */
struct builder {
  pprofd__mapping *v;
  struct lineinfo *li;
  size_t n, cap;
};

/* Appends an entry, copying its path (a pprofd__mapsfile_fn over a
 * builder). Entries past MAX_ENTRIES are dropped silently. */
static int builder_add(void *arg, const pprofd__mapsline *l) {
  struct builder *b = arg;
  if (b->n == MAX_ENTRIES)
    return 0;
  if (b->n == b->cap) {
    size_t ncap = b->cap ? b->cap * 2 : 64;
    pprofd__mapping *nv = pprofd__irealloc(b->v, ncap * sizeof *nv);
    if (nv == NULL)
      return PPROFD_ENOMEM;
    b->v = nv;
    struct lineinfo *nli = pprofd__irealloc(b->li, ncap * sizeof *nli);
    if (nli == NULL)
      return PPROFD_ENOMEM;
    b->li = nli;
    b->cap = ncap;
  }
  char *copy = pprofd__istrndup(l->path, l->pathlen);
  if (copy == NULL)
    return PPROFD_ENOMEM;
  pprofd__mapping *e = &b->v[b->n];
  memset(e, 0, sizeof *e);
  e->start = l->start;
  e->limit = l->limit;
  e->offset = l->offset;
  e->path = copy;
  b->li[b->n].dev = l->dev;
  b->li[b->n].ino = l->ino;
  b->n++;
  return 0;
}

/* Resolves the main executable's path into buf ("" when unknown). A path
 * that is not a symbolic link is taken as it is. */
static void exe_path(char *buf, size_t len) {
  buf[0] = '\0';
  const char *p = pprofd__exe_path;
  if (p == NULL)
    return;
  ssize_t r = readlink(p, buf, len - 1);
  if (r < 0) {
    if (errno == EINVAL && strlen(p) < len)
      memcpy(buf, p, strlen(p) + 1);
    return;
  }
  buf[pprofd__mapsfile_undeleted(buf, (size_t)r)] = '\0';
}

/* Moves the first main-executable entry to slot 0, shifting the entries
 * before it up by one. */
static void main_first(pprofd__mapping *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!v[i].is_main)
      continue;
    if (i > 0) {
      pprofd__mapping m = v[i];
      memmove(v + 1, v, i * sizeof *v);
      v[0] = m;
    }
    return;
  }
}

/* Stable merge sort of v[0..n) by start, using tmp[0..n) as scratch. */
static void sort_by_start(pprofd__mapping *v, pprofd__mapping *tmp, size_t n) {
  if (n < 2)
    return;
  size_t h = n / 2;
  sort_by_start(v, tmp, h);
  sort_by_start(v + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n)
    tmp[k++] = v[j].start < v[i].start ? v[j++] : v[i++];
  while (i < h)
    tmp[k++] = v[i++];
  while (j < n)
    tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

/* Puts v[1..n) in address order if a crafted file left it unsorted. */
static int order_rest(pprofd__mapping *v, size_t n) {
  size_t i;
  for (i = 2; i < n; i++)
    if (v[i].start < v[i - 1].start)
      break;
  if (i >= n)
    return 0;
  pprofd__mapping *tmp = pprofd__ialloc((n - 1) * sizeof *tmp);
  if (tmp == NULL)
    return PPROFD_ENOMEM;
  sort_by_start(v + 1, tmp, n - 1);
  pprofd__ifree(tmp);
  return 0;
}

/* The hash of all entries' start, limit, offset and path. */
static uint64_t signature(const pprofd__mapping *v, size_t n) {
  uint64_t h = PPROFD__FNV_INIT;
  for (size_t i = 0; i < n; i++) {
    h = pprofd__fnv1a(h, &v[i].start, sizeof v[i].start);
    h = pprofd__fnv1a(h, &v[i].limit, sizeof v[i].limit);
    h = pprofd__fnv1a(h, &v[i].offset, sizeof v[i].offset);
    h = pprofd__fnv1a(h, v[i].path, strlen(v[i].path) + 1);
  }
  return pprofd__fnv1a(h, &n, sizeof n);
}

int pprofd__maps_read(pprofd__maps *out) {
  memset(out, 0, sizeof *out);
  struct builder b = {0};
  int rc = pprofd__mapsfile_read(pprofd__maps_path, builder_add, &b);
  if (rc != 0)
    goto fail;

  char exe[PATH_MAX];
  exe_path(exe, sizeof exe);
  for (size_t i = 0; i < b.n; i++) {
    b.v[i].is_main = exe[0] != '\0' && strcmp(b.v[i].path, exe) == 0;
    pprofd__buildid_get(b.v[i].path, b.v[i].start, b.v[i].limit, b.li[i].dev,
                        b.li[i].ino, b.v[i].build_id);
  }
  main_first(b.v, b.n);
  rc = order_rest(b.v, b.n);
  if (rc != 0)
    goto fail;

  pprofd__ifree(b.li);
  out->v = b.v;
  out->n = b.n;
  out->signature = signature(b.v, b.n);
  return 0;

fail:
  for (size_t i = 0; i < b.n; i++)
    pprofd__ifree(b.v[i].path);
  pprofd__ifree(b.v);
  pprofd__ifree(b.li);
  return rc;
}

long pprofd__maps_index(const pprofd__maps *m, uint64_t addr) {
  if (m == NULL || m->n == 0)
    return -1;
  const pprofd__mapping *v = m->v;
  if (addr >= v[0].start && addr < v[0].limit)
    return 0;
  /* The last entry in v[1..n) that starts at or below addr. */
  size_t lo = 1 + pprofd__addrsort_upto(v + 1, m->n - 1, sizeof *v, addr);
  if (lo == 1)
    return -1;
  size_t i = lo - 1;
  return addr < v[i].limit ? (long)i : -1;
}

const pprofd__mapping *pprofd__maps_find(const pprofd__maps *m, uint64_t addr) {
  long i = pprofd__maps_index(m, addr);
  return i < 0 ? NULL : &m->v[i];
}

void pprofd__maps_free(pprofd__maps *m) {
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n; i++)
    pprofd__ifree(m->v[i].path);
  pprofd__ifree(m->v);
  memset(m, 0, sizeof *m);
}

void pprofd__maps_postfork_child(void) { pprofd__buildid_postfork_child(); }
