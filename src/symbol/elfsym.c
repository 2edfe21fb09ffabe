/*
 * elfsym.c - the per-module index of function symbols.
 *
 * The index is built the first time a module is asked about: every symbol
 * libdwfl loaded for it that names code (a function, or an untyped label
 * in an executable section) is copied into an array in the cache, with
 * its name pointing into libelf's string table, and heap-sorted by
 * (address, rank). A lookup binary-searches the last symbol at or below
 * the address, then looks back over at most SYM_SCAN symbols for a sized
 * one that covers it, since symbols may nest (a local label inside a
 * function) or overlap.
 *
 * Called by the symbolizer with its lock held.
 */
#include "config.h"

#include "symbol/elfsym.h"

#include <gelf.h>
#include <stddef.h>

#include "pprofd.h"
#include "symbol/addrsort.h"

#define SYM_SCAN 16 /* symbols examined below an address */

_Static_assert(offsetof(pprofd__elfsym, lo) == 0, "sorted by address");

/* The symbols of one module sorted by (lo, rank). */
struct symidx {
  pprofd__symcache_key k;
  pprofd__elfsym *v;
  size_t n;
};

/* Symbol order: by address, then rank (the preferred symbol last). */
static int esym_less(const void *a, const void *b) {
  const pprofd__elfsym *x = a, *y = b;
  return x->lo != y->lo ? x->lo < y->lo : x->rank < y->rank;
}

/* The preference among symbols at one address, as dwfl_module_addrinfo
 * has it: sized over sizeless, then global, weak, local. */
static unsigned sym_rank(const GElf_Sym *s) {
  unsigned bind = GELF_ST_BIND(s->st_info);
  unsigned r = bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0;
  return (s->st_size > 0 ? 4 : 0) + r;
}

/* Whether a symbol names code: a function, or an untyped label in an
 * executable section (untyped symbols elsewhere, such as _end, would
 * otherwise claim every address above them). */
static int is_code_symbol(const GElf_Sym *s, GElf_Word shndx, Elf *elf) {
  unsigned type = GELF_ST_TYPE(s->st_info);
  if (shndx == SHN_UNDEF || shndx == SHN_ABS || shndx >= SHN_LORESERVE)
    return 0;
  if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE)
    return 0;
  GElf_Shdr sh;
  Elf_Scn *scn = elf != NULL ? elf_getscn(elf, shndx) : NULL;
  if (scn == NULL || gelf_getshdr(scn, &sh) == NULL)
    return type != STT_NOTYPE;
  return (sh.sh_flags & SHF_EXECINSTR) != 0;
}

/* The sorted function symbols of a module, built on first use; NULL when
 * out of memory. A module without symbols gets an empty index. */
static struct symidx *sym_index(pprofd__symcache *c, Dwfl_Module *mod) {
  pprofd__symcache_slot *slot =
      pprofd__symcache_index(c, mod, PPROFD__SYMCACHE_KEY_SYMTAB);
  if (slot == NULL)
    return NULL;
  if (slot->val != NULL)
    return slot->val;

  int nsyms = dwfl_module_getsymtab(mod);
  struct symidx *x = pprofd__symcache_alloc(c, sizeof *x);
  if (x == NULL)
    return NULL;
  x->k.mod = mod;
  x->k.key = PPROFD__SYMCACHE_KEY_SYMTAB;
  x->n = 0;
  x->v = NULL;
  if (nsyms > 1) {
    x->v = pprofd__symcache_alloc(c, (size_t)nsyms * sizeof *x->v);
    if (x->v == NULL)
      return NULL;
  }
  for (int i = 1; i < nsyms; i++) {
    GElf_Sym s;
    GElf_Addr addr;
    GElf_Word shndx;
    Elf *elf = NULL;
    const char *name =
        dwfl_module_getsym_info(mod, i, &s, &addr, &shndx, &elf, NULL);
    if (name == NULL || name[0] == '\0' || name[0] == '$' ||
        !is_code_symbol(&s, shndx, elf))
      continue;
    pprofd__elfsym *e = &x->v[x->n++];
    e->lo = addr;
    e->size = s.st_size;
    e->name = name;
    e->rank = sym_rank(&s);
  }
  pprofd__addrsort_sort(x->v, x->n, sizeof *x->v, esym_less);
  pprofd__symcache_index_add(c, slot, &x->k);
  return x;
}

/* The symbol holding addr: the nearest sized symbol below it that covers
 * it, else the nearest symbol below it when that one is sizeless. */
static const pprofd__elfsym *sym_find(const struct symidx *x, uint64_t addr) {
  size_t lo = pprofd__addrsort_upto(x->v, x->n, sizeof *x->v, addr);
  if (lo == 0)
    return NULL;
  const pprofd__elfsym *nearest = &x->v[lo - 1];
  for (size_t k = 0; k < SYM_SCAN && lo > 0; k++, lo--) {
    const pprofd__elfsym *e = &x->v[lo - 1];
    if (e->size > 0 && addr - e->lo < e->size)
      return e;
  }
  return nearest->size == 0 ? nearest : NULL;
}

int pprofd__elfsym_find(pprofd__symcache *c, Dwfl_Module *mod, uint64_t addr,
                        const pprofd__elfsym **out) {
  struct symidx *x = sym_index(c, mod);
  *out = x != NULL ? sym_find(x, addr) : NULL;
  return x != NULL ? 0 : PPROFD_ENOMEM;
}
