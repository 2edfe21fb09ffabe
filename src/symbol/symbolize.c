/*
 * symbolize.c - addresses of this process to functions, files and lines.
 *
 * State: one struct pprofd__symctx, `sym`, guarded by sym.lock. It holds a
 * libdwfl session over this process (reported with dwfl_linux_proc_report,
 * ELF files found by path, debug files by symbol/debuginfo.c), the
 * executable-maps signature the session was reported for, and the cache
 * (symbol/symcache.c). pprofd__sym_begin takes the lock and compares a
 * hash of the file-backed executable mappings of a fresh maps snapshot
 * with the stored one: on a change the session is re-reported (modules
 * still loaded keep their parsed DWARF) and the cache is dropped, since an
 * address may now belong to another object. When the cache has reported
 * itself full, it is dropped at the next sym_begin as well.
 *
 * A lookup is served from the cache, else resolved and cached: every
 * result, its frames and their strings live in the cache's arena until it
 * is dropped, which never happens inside a batch. Every lookup that fails
 * for lack of memory yields nframes 0 and is not cached.
 *
 * Resolution follows eu-addr2line -i. The module comes from
 * dwfl_addrmodule; its ELF symbol holding the address from
 * symbol/elfsym.c; the compile unit from dwfl_module_addrdie (aranges)
 * and the frames from its DWARF in symbol/dwframes.c. Without DWARF the
 * ELF symbol gives one frame with no file or line.
 *
 * Memory that libdw, libelf, dlsym and __cxa_demangle allocate for
 * themselves comes from the C library's malloc; callers that must keep it
 * out of the heap profile hold the interposer's reentrancy guard around a
 * batch.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "symbol/symbolize.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "pprofd.h"
#include "symbol/debuginfo.h"
#include "symbol/dwframes.h"
#include "symbol/elfsym.h"
#include "symbol/maps.h"
#include "symbol/names.h"
#include "symbol/symcache.h"

/* A cached result: the address and what it resolved to. */
struct rec {
  uint64_t addr;
  pprofd__symres res;
};

struct pprofd__symctx {
  pthread_mutex_t lock; /* guards every field below */
  Dwfl *dwfl;
  int reported; /* dwfl reflects the maps with signature maps_sig */
  uint64_t maps_sig;
  pprofd__symcache cache;
};

static pprofd__symctx sym = {.lock = PTHREAD_MUTEX_INITIALIZER};
PPROFD__LOCK_RANK(symbolizer, &sym.lock, PPROFD__RANK_SYMBOLIZER);

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = pprofd__debuginfo_find,
};

int pprofd__sym_demangle(const char *mangled, char *buf, size_t len) {
  if (buf == NULL || len == 0)
    return 0;
  if (mangled == NULL) {
    buf[0] = '\0';
    return 0;
  }
  char *d = pprofd__names_demangle(mangled);
  const char *src = d != NULL ? d : mangled;
  size_t n = strnlen(src, len - 1);
  int demangled = d != NULL;
  memcpy(buf, src, n);
  buf[n] = '\0';
  free(d);
  return demangled;
}

/* Resolves addr into fr[0..PPROFD__DWFRAMES_MAX) and the symbol fields of out.
 * Returns the number of frames, or -1 when out of memory. */
static int resolve(uint64_t addr, pprofd__frame *fr, pprofd__symres *out) {
  Dwfl_Module *mod = dwfl_addrmodule(sym.dwfl, addr);
  Dwarf_Addr mstart = 0, mend = 0;
  if (mod == NULL ||
      dwfl_module_info(mod, NULL, &mstart, &mend, NULL, NULL, NULL, NULL) ==
          NULL ||
      addr < mstart || addr >= mend)
    return 0;
  const pprofd__elfsym *es;
  if (pprofd__elfsym_find(&sym.cache, mod, addr, &es) != 0)
    return -1;
  const char *elfsym = es != NULL ? es->name : NULL;
  if (es != NULL) {
    out->symbol = pprofd__symcache_intern(&sym.cache, es->name);
    if (out->symbol == NULL)
      return -1;
    out->symbol_offset = addr - es->lo;
  }
  Dwarf_Addr bias = 0;
  Dwarf_Die *cudie = dwfl_module_addrdie(mod, addr, &bias);
  if (cudie != NULL) {
    int nf =
        pprofd__dwframes_build(&sym.cache, mod, cudie, addr - bias, elfsym, fr);
    if (nf != 0)
      return nf;
  }
  if (elfsym == NULL)
    return 0;
  memset(fr, 0, sizeof *fr);
  if (pprofd__names_set(&sym.cache, fr, elfsym, NULL) != 0)
    return -1;
  fr->file = "";
  return 1;
}

void pprofd__sym_lookup(pprofd__symctx *ctx, uint64_t addr,
                        pprofd__symres *out) {
  memset(out, 0, sizeof *out);
  out->symbol = "";
  if (ctx != &sym || sym.dwfl == NULL)
    return;
  struct rec *r = pprofd__symcache_get(&sym.cache, addr);
  if (r != NULL) {
    *out = r->res;
    return;
  }
  pprofd__frame fr[PPROFD__DWFRAMES_MAX];
  int nf = resolve(addr, fr, out);
  if (nf < 0)
    goto fail;
  r = pprofd__symcache_alloc(&sym.cache, sizeof *r);
  pprofd__frame *frames = NULL;
  if (nf != 0)
    frames = pprofd__symcache_alloc(&sym.cache, (size_t)nf * sizeof *frames);
  if (r == NULL || (nf != 0 && frames == NULL))
    goto fail;
  if (nf != 0)
    memcpy(frames, fr, (size_t)nf * sizeof *frames);
  out->nframes = nf;
  out->frames = frames;
  r->addr = addr;
  r->res = *out;
  pprofd__symcache_put(&sym.cache, addr, r);
  return;

fail:
  memset(out, 0, sizeof *out);
  out->symbol = "";
}

/* A hash of the file-backed executable mappings, the only ones libdwfl
 * can symbolize. Anonymous executable memory (JIT compilers, valgrind's
 * translation cache) changes all the time and is left out, so that it
 * does not flush the cache at every batch. */
static uint64_t objects_signature(const pprofd__maps *m) {
  uint64_t h = PPROFD__FNV_INIT;
  for (size_t i = 0; i < m->n; i++) {
    const pprofd__mapping *e = &m->v[i];
    if (e->path[0] != '/')
      continue;
    h = pprofd__fnv1a(h, &e->start, sizeof e->start);
    h = pprofd__fnv1a(h, &e->limit, sizeof e->limit);
    h = pprofd__fnv1a(h, &e->offset, sizeof e->offset);
    h = pprofd__fnv1a(h, e->path, strlen(e->path) + 1);
  }
  return h;
}

/* Reports the process's modules to the session (a new one if needed).
 * Returns 0, PPROFD_ENOMEM or PPROFD_EIO. */
static int report(void) {
  if (sym.dwfl == NULL) {
    sym.dwfl = dwfl_begin(&dwfl_callbacks);
    if (sym.dwfl == NULL)
      return PPROFD_ENOMEM;
  }
  dwfl_report_begin(sym.dwfl);
  int rc = dwfl_linux_proc_report(sym.dwfl, getpid());
  if (dwfl_report_end(sym.dwfl, NULL, NULL) != 0 || rc != 0)
    return PPROFD_EIO;
  return 0;
}

int pprofd__sym_begin(pprofd__symctx **ctx) {
  *ctx = NULL;
  pprofd__mutex_lock(&sym.lock);
  pprofd__maps m;
  int rc = pprofd__maps_read(&m);
  if (rc != 0)
    goto fail;
  uint64_t sig = objects_signature(&m);
  pprofd__maps_free(&m);
  if (sym.dwfl == NULL || !sym.reported || sig != sym.maps_sig) {
    pprofd__symcache_clear(&sym.cache);
    sym.reported = 0;
    rc = report();
    if (rc != 0)
      goto fail;
    sym.reported = 1;
    sym.maps_sig = sig;
  } else if (sym.cache.full) {
    pprofd__symcache_clear(&sym.cache);
  }
  *ctx = &sym;
  return 0;

fail:
  pprofd__mutex_unlock(&sym.lock);
  return rc;
}

void pprofd__sym_end(pprofd__symctx *ctx) {
  if (ctx == &sym)
    pprofd__mutex_unlock(&sym.lock);
}

void pprofd__sym_shutdown(void) {
  pprofd__mutex_lock(&sym.lock);
  pprofd__symcache_clear(&sym.cache);
  if (sym.dwfl != NULL)
    dwfl_end(sym.dwfl);
  sym.dwfl = NULL;
  sym.reported = 0;
  sym.maps_sig = 0;
  pprofd__mutex_unlock(&sym.lock);
}

void pprofd__sym_stats(size_t *entries, size_t *bytes) {
  pprofd__mutex_lock(&sym.lock);
  if (entries != NULL)
    *entries = sym.cache.addrs.count;
  if (bytes != NULL)
    *bytes = pprofd__symcache_bytes(&sym.cache);
  pprofd__mutex_unlock(&sym.lock);
}

/* fork() does not wait for the symbolizer: a request holds its lock for
 * the whole of a rendering (a POST /symbol of many addresses, a heap
 * text), and the host's fork must not wait on that. A child forked while
 * a thread held it starts from an empty symbolizer instead, leaking the
 * parent's (libdw's session may be half-updated). */
void pprofd__sym_postfork_child(void) {
  if (pprofd__mutex_reclaim_in_child(&sym.lock))
    return;
  sym.dwfl = NULL;
  sym.reported = 0;
  sym.maps_sig = 0;
  memset(&sym.cache, 0, sizeof sym.cache);
}
