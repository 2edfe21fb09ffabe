/*
 * dwframes.c - DWARF frames of an address: the unit's function index, the
 * descent to inlined subroutines, and the file:line of each frame.
 *
 * A unit's index holds the code ranges (DW_AT_low_pc/high_pc or
 * DW_AT_ranges) of every subprogram below the unit, looking into
 * namespaces and classes up to MAX_NEST levels deep; it is collected into
 * a growable array from ialloc, copied into the cache and heap-sorted by
 * low address. A binary search finds the physical function holding the
 * PC, and a descent through the children that contain it (up to MAX_CHAIN
 * levels) finds the lexical blocks and inlined subroutines. Frames are
 * then built innermost first. Without a subprogram entry (assembly, say)
 * the line table and the ELF symbol give one frame.
 *
 * Called by the symbolizer with its lock held. Memory that libdw
 * allocates for itself comes from the C library's malloc.
 */
#include "config.h"

#include "symbol/dwframes.h"

#include <dwarf.h>
#include <stddef.h>
#include <string.h>

#include "base/ialloc.h"
#include "symbol/addrsort.h"
#include "symbol/names.h"

#define MAX_CHAIN 128 /* DIE nesting followed below a function */
#define MAX_NEST 16   /* namespaces and classes searched */
#define PATH_BUF 4096 /* longest joined comp_dir/file path */

/* The code range of one subprogram of a compile unit. */
struct fnrange {
  Dwarf_Addr lo, hi;
  Dwarf_Die die;
};

_Static_assert(offsetof(struct fnrange, lo) == 0, "sorted by address");

/* The sorted subprogram ranges of one compile unit. */
struct cuidx {
  pprofd__symcache_key k;
  struct fnrange *v;
  size_t n;
};

/* A growable array of ranges while a unit index is built. */
struct fnvec {
  struct fnrange *v;
  size_t n, cap;
  int oom;
};

/* Tags whose children may hold subprograms with code: searched while a
 * unit index is built. */
static int is_container(int tag) {
  return tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
         tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
         tag == DW_TAG_module;
}

/* Appends one range to a vector being built; sets oom on failure. */
static void fnvec_push(struct fnvec *fv, Dwarf_Addr lo, Dwarf_Addr hi,
                       const Dwarf_Die *die) {
  if (fv->oom)
    return;
  if (fv->n == fv->cap) {
    size_t cap = fv->cap ? fv->cap * 2 : 64;
    struct fnrange *v = pprofd__irealloc(fv->v, cap * sizeof *v);
    if (v == NULL) {
      fv->oom = 1;
      return;
    }
    fv->v = v;
    fv->cap = cap;
  }
  fv->v[fv->n].lo = lo;
  fv->v[fv->n].hi = hi;
  fv->v[fv->n].die = *die;
  fv->n++;
}

/* Collects the code ranges of every subprogram below parent, looking into
 * namespaces and classes up to MAX_NEST levels deep. */
static void collect_fns(Dwarf_Die *parent, struct fnvec *fv, int depth) {
  Dwarf_Die c;
  if (dwarf_child(parent, &c) != 0)
    return;
  do {
    int tag = dwarf_tag(&c);
    if (tag == DW_TAG_subprogram) {
      Dwarf_Addr base, lo, hi;
      ptrdiff_t it = 0;
      while ((it = dwarf_ranges(&c, it, &base, &lo, &hi)) > 0)
        if (lo < hi)
          fnvec_push(fv, lo, hi, &c);
    } else if (is_container(tag) && depth < MAX_NEST) {
      collect_fns(&c, fv, depth + 1);
    }
  } while (dwarf_siblingof(&c, &c) == 0);
}

/* Range order: by start address. */
static int fnrange_less(const void *a, const void *b) {
  return ((const struct fnrange *)a)->lo < ((const struct fnrange *)b)->lo;
}

/* The subprogram index of a unit, built on first use; NULL when out of
 * memory. */
static struct cuidx *cu_index(pprofd__symcache *c, Dwfl_Module *mod,
                              Dwarf_Die *cudie) {
  uint64_t off = dwarf_dieoffset(cudie);
  pprofd__symcache_slot *slot = pprofd__symcache_index(c, mod, off);
  if (slot == NULL)
    return NULL;
  if (slot->val != NULL)
    return slot->val;

  struct fnvec fv = {0};
  collect_fns(cudie, &fv, 0);
  struct cuidx *x = NULL;
  if (!fv.oom)
    x = pprofd__symcache_alloc(c, sizeof *x);
  if (x != NULL) {
    x->k.mod = mod;
    x->k.key = off;
    x->n = fv.n;
    x->v = fv.n ? pprofd__symcache_alloc(c, fv.n * sizeof *x->v) : NULL;
    if (fv.n != 0 && x->v == NULL) {
      x = NULL;
    } else if (fv.n != 0) {
      memcpy(x->v, fv.v, fv.n * sizeof *x->v);
      pprofd__addrsort_sort(x->v, x->n, sizeof *x->v, fnrange_less);
    }
  }
  pprofd__ifree(fv.v);
  if (x != NULL)
    pprofd__symcache_index_add(c, slot, &x->k);
  return x;
}

/* The subprogram of the index whose range holds pc, or NULL. */
static Dwarf_Die *cu_find(struct cuidx *x, Dwarf_Addr pc) {
  size_t lo = pprofd__addrsort_upto(x->v, x->n, sizeof *x->v, pc);
  /* Ranges may nest or repeat; try the few that start just below pc. */
  for (size_t k = 0; k < 4 && lo > 0; k++, lo--)
    if (pc < x->v[lo - 1].hi)
      return &x->v[lo - 1].die;
  return NULL;
}

/* Tags of DIEs inside a function that can own code ranges. */
static int is_code_scope(int tag) {
  return tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine ||
         tag == DW_TAG_try_block || tag == DW_TAG_catch_block ||
         tag == DW_TAG_with_stmt || tag == DW_TAG_entry_point ||
         tag == DW_TAG_subprogram;
}

/* Tags that are a function activation. */
static int is_function(int tag) {
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
         tag == DW_TAG_entry_point;
}

/* Fills chain with fn and, below it, each nested scope containing pc,
 * outermost first. Returns the length. */
static int scope_chain(Dwarf_Die *fn, Dwarf_Addr pc, Dwarf_Die *chain) {
  int n = 0;
  chain[n++] = *fn;
  while (n < MAX_CHAIN) {
    Dwarf_Die c;
    if (dwarf_child(&chain[n - 1], &c) != 0)
      break;
    int found = 0;
    do {
      if (is_code_scope(dwarf_tag(&c)) && dwarf_haspc(&c, pc) == 1) {
        found = 1;
        break;
      }
    } while (dwarf_siblingof(&c, &c) == 0);
    if (!found)
      break;
    chain[n++] = c;
  }
  return n;
}

/* A string attribute, following abstract origins and specifications. */
static const char *str_attr(Dwarf_Die *die, unsigned name) {
  Dwarf_Attribute a;
  if (dwarf_attr_integrate(die, name, &a) == NULL)
    return NULL;
  return dwarf_formstring(&a);
}

/* An unsigned attribute (0 when absent), following origins. */
static int64_t num_attr(Dwarf_Die *die, unsigned name, int integrate) {
  Dwarf_Attribute a;
  Dwarf_Word w;
  Dwarf_Attribute *p = integrate ? dwarf_attr_integrate(die, name, &a)
                                 : dwarf_attr(die, name, &a);
  if (p == NULL || dwarf_formudata(p, &w) != 0 || w > INT64_MAX)
    return 0;
  return (int64_t)w;
}

/* Sets the names of a frame from its function DIE; elfsym, the ELF symbol
 * of the address, stands in for a missing linkage name of the physical
 * function when it is a mangled name. */
static int die_names(pprofd__symcache *c, pprofd__frame *f, Dwarf_Die *die,
                     const char *elfsym) {
  const char *link = str_attr(die, DW_AT_linkage_name);
  if (link == NULL)
    link = str_attr(die, DW_AT_MIPS_linkage_name);
  const char *plain = str_attr(die, DW_AT_name);
  if (link == NULL && elfsym != NULL && dwarf_tag(die) == DW_TAG_subprogram &&
      elfsym[0] == '_' && elfsym[1] == 'Z')
    link = elfsym;
  if (link != NULL)
    return pprofd__names_set(c, f, link, plain);
  f->name = f->system_name = pprofd__symcache_intern(c, plain);
  return f->name == NULL ? -1 : 0;
}

/* The interned absolute form of a source path: relative paths are joined
 * to the unit's compilation directory. */
static const char *abs_path(pprofd__symcache *c, Dwarf_Die *cudie,
                            const char *path) {
  if (path == NULL || path[0] == '\0' || path[0] == '/')
    return pprofd__symcache_intern(c, path);
  const char *dir = str_attr(cudie, DW_AT_comp_dir);
  if (dir == NULL || dir[0] != '/')
    return pprofd__symcache_intern(c, path);
  char buf[PATH_BUF];
  size_t dl = strlen(dir), pl = strlen(path);
  if (dl + 1 + pl + 1 > sizeof buf)
    return pprofd__symcache_intern(c, path);
  while (pl > 2 && path[0] == '.' && path[1] == '/') {
    path += 2;
    pl -= 2;
  }
  memcpy(buf, dir, dl);
  if (dl > 0 && dir[dl - 1] != '/')
    buf[dl++] = '/';
  memcpy(buf + dl, path, pl + 1);
  return pprofd__symcache_intern(c, buf);
}

int pprofd__dwframes_build(pprofd__symcache *c, Dwfl_Module *mod,
                           Dwarf_Die *cudie, Dwarf_Addr pc, const char *elfsym,
                           pprofd__frame *fr) {
  const char *file = "";
  int64_t line = 0;
  /* libdw's address-range lookup can return the unit that ends just
   * before pc (seen for _start, right after the last constructor in
   * .text.startup), and its line table then answers with that unit's
   * last line. Only a unit whose ranges hold pc describes it. */
  if (dwarf_haspc(cudie, pc) != 1)
    return 0;
  Dwarf_Line *ln = dwarf_getsrc_die(cudie, pc);
  if (ln != NULL) {
    int l = 0;
    file = abs_path(c, cudie, dwarf_linesrc(ln, NULL, NULL));
    if (file == NULL)
      return -1;
    if (dwarf_lineno(ln, &l) == 0 && l > 0)
      line = l;
  }

  struct cuidx *x = cu_index(c, mod, cudie);
  Dwarf_Die *fn = x != NULL ? cu_find(x, pc) : NULL;
  if (fn == NULL) {
    /* Code without a subprogram entry (assembly, say): the line table
     * and the ELF symbol are all there is. */
    if (elfsym == NULL && ln == NULL)
      return 0;
    memset(fr, 0, sizeof *fr);
    if (pprofd__names_set(c, fr, elfsym != NULL ? elfsym : "", NULL) != 0)
      return -1;
    fr->file = file;
    fr->line = line;
    return 1;
  }

  Dwarf_Die chain[MAX_CHAIN];
  int nchain = scope_chain(fn, pc, chain);
  Dwarf_Files *files = NULL;
  size_t nfiles = 0;
  if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0)
    files = NULL;

  int nf = 0;
  for (int i = nchain - 1; i >= 0 && nf < PPROFD__DWFRAMES_MAX; i--) {
    Dwarf_Die *die = &chain[i];
    int tag = dwarf_tag(die);
    if (!is_function(tag))
      continue;
    pprofd__frame *f = &fr[nf++];
    memset(f, 0, sizeof *f);
    if (die_names(c, f, die, elfsym) != 0)
      return -1;
    f->file = file;
    f->line = line;
    f->start_line = num_attr(die, DW_AT_decl_line, 1);
    if (tag != DW_TAG_inlined_subroutine)
      break;
    /* The call site of this inlined body is the position in the frame
     * that encloses it. */
    file = "";
    line = num_attr(die, DW_AT_call_line, 0);
    int64_t fi = num_attr(die, DW_AT_call_file, 0);
    Dwarf_Attribute a;
    if (files != NULL && dwarf_attr(die, DW_AT_call_file, &a) != NULL &&
        (uint64_t)fi < nfiles) {
      file = abs_path(c, cudie, dwarf_filesrc(files, (size_t)fi, NULL, NULL));
      if (file == NULL)
        return -1;
    }
  }
  return nf;
}
