/*
 * symbolize.c - addresses of this process to functions, files and lines.
 *
 * State: one struct pprofd__symctx, `sym`, guarded by sym.lock. It holds a
 * libdwfl session over this process (reported with dwfl_linux_proc_report,
 * ELF files found by path), the executable-maps signature the session was
 * reported for, and the cache. pprofd__sym_begin takes the lock and
 * compares a hash of the file-backed executable mappings of a fresh maps
 * snapshot with the stored one: on a change the session is re-reported
 * (modules still loaded keep their parsed DWARF) and the cache is
 * dropped, since an address may now belong to another object.
 *
 * Debug files are looked up locally only: by build-id under
 * /usr/lib/debug/.build-id, then by .gnu_debuglink next to the object, in
 * its .debug/ directory and under /usr/lib/debug, accepted only when their
 * build-id matches. dwfl_standard_find_debuginfo is not used because
 * libdw 0.188 then dlopens libdebuginfod whether or not DEBUGINFOD_URLS is
 * set, which loads libcurl, GnuTLS and some thirty other libraries into
 * the host daemon (and may reach the network) the first time an object
 * without local debug info is symbolized.
 *
 * Cache (symbol/symcache.c): results, their frames and strings, and the
 * indexes below live in one arena, with strings interned so that a file or
 * function name is stored once however many addresses use it. When the
 * cache reports itself full, new results are still returned but not
 * indexed, and the whole cache is dropped at the next sym_begin. Every
 * lookup that fails for lack of memory yields nframes 0 and is not cached.
 *
 * Resolution follows eu-addr2line -i. The module comes from
 * dwfl_addrmodule and the compile unit from dwfl_module_addrdie (aranges).
 * Two lookups that libdw does by linear scan are indexed here instead, on
 * first use and in the arena: each module's symbol table, sorted by
 * address (dwfl_module_addrinfo walks every symbol on every call, ~100 us
 * for libc), and each unit's subprogram address ranges (dwarf_getscopes
 * walks the whole unit). Between symbols at one address the choice
 * matches dwfl_module_addrinfo: sized before sizeless, then global before
 * weak before local. A binary search finds the physical function and a
 * descent through its children that contain the PC finds the lexical
 * blocks and inlined subroutines. Frames are then built innermost first:
 * the innermost takes its file:line from the line table, and each inlined
 * subroutine's DW_AT_call_file/DW_AT_call_line is the position in the
 * frame that encloses it. Names come from DW_AT_linkage_name (demangled
 * for `name`) or DW_AT_name, following abstract origins and
 * specifications. Without DWARF the ELF symbol gives one frame with no
 * file or line.
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

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "pprofd.h"
#include "symbol/addrsort.h"
#include "symbol/maps.h"
#include "symbol/symcache.h"

#define MAX_FRAMES 64 /* inline depth kept per address */
#define MAX_CHAIN 128 /* DIE nesting followed below a function */
#define MAX_NEST 16   /* namespaces and classes searched */
#define PATH_BUF 4096 /* longest joined comp_dir/file path */
#define SYM_SCAN 16   /* symbols examined below an address */

typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);

/* A cached result: the address and what it resolved to. */
struct rec {
  uint64_t addr;
  pprofd__symres res;
};

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

/* One function symbol; rank orders symbols that share an address. */
struct esym {
  uint64_t lo, size;
  const char *name; /* in libelf's string table, valid with the module */
  unsigned rank;
};

_Static_assert(offsetof(struct esym, lo) == 0, "sorted by address");

/* The symbols of one module sorted by (lo, rank). */
struct symidx {
  pprofd__symcache_key k;
  struct esym *v;
  size_t n;
};

/* A growable array of ranges while a unit index is built. */
struct fnvec {
  struct fnrange *v;
  size_t n, cap;
  int oom;
};

struct pprofd__symctx {
  pthread_mutex_t lock; /* guards every field below */
  Dwfl *dwfl;
  int reported; /* dwfl reflects the maps with signature maps_sig */
  uint64_t maps_sig;
  pprofd__symcache cache;
};

static pprofd__symctx sym = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int find_debuginfo(Dwfl_Module *mod, void **userdata,
                          const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink,
                          GElf_Word crc, char **debuginfo_file_name);

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = find_debuginfo,
};

static pthread_once_t demangle_once = PTHREAD_ONCE_INIT;
static cxa_demangle_fn demangle_fn; /* written once under demangle_once */

/* Looks up __cxa_demangle in the process (NULL without libstdc++). */
static void demangle_init(void) {
  demangle_fn = (cxa_demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
}

/* The demangled form of an Itanium name in memory from malloc, or NULL if
 * it is not one or no demangler is loaded. */
static char *cxa_demangle(const char *mangled) {
  if (mangled[0] != '_' || mangled[1] != 'Z')
    return NULL;
  pthread_once(&demangle_once, demangle_init);
  if (demangle_fn == NULL)
    return NULL;
  int status = -1;
  char *d = demangle_fn(mangled, NULL, NULL, &status);
  if (status != 0) {
    free(d);
    return NULL;
  }
  return d;
}

int pprofd__sym_demangle(const char *mangled, char *buf, size_t len) {
  if (buf == NULL || len == 0)
    return 0;
  if (mangled == NULL) {
    buf[0] = '\0';
    return 0;
  }
  char *d = cxa_demangle(mangled);
  const char *src = d != NULL ? d : mangled;
  size_t n = strnlen(src, len - 1);
  int demangled = d != NULL;
  memcpy(buf, src, n);
  buf[n] = '\0';
  free(d);
  return demangled;
}

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

/* Symbol order: by address, then rank (the preferred symbol last). */
static int esym_less(const void *a, const void *b) {
  const struct esym *x = a, *y = b;
  return x->lo != y->lo ? x->lo < y->lo : x->rank < y->rank;
}

/* The subprogram index of a unit, built on first use; NULL when out of
 * memory. */
static struct cuidx *cu_index(Dwfl_Module *mod, Dwarf_Die *cudie) {
  uint64_t off = dwarf_dieoffset(cudie);
  pprofd__symcache_slot *slot = pprofd__symcache_index(&sym.cache, mod, off);
  if (slot == NULL)
    return NULL;
  if (slot->val != NULL)
    return slot->val;

  struct fnvec fv = {0};
  collect_fns(cudie, &fv, 0);
  struct cuidx *x = NULL;
  if (!fv.oom)
    x = pprofd__symcache_alloc(&sym.cache, sizeof *x);
  if (x != NULL) {
    x->k.mod = mod;
    x->k.key = off;
    x->n = fv.n;
    x->v =
        fv.n ? pprofd__symcache_alloc(&sym.cache, fv.n * sizeof *x->v) : NULL;
    if (fv.n != 0 && x->v == NULL) {
      x = NULL;
    } else if (fv.n != 0) {
      memcpy(x->v, fv.v, fv.n * sizeof *x->v);
      pprofd__addrsort_sort(x->v, x->n, sizeof *x->v, fnrange_less);
    }
  }
  pprofd__ifree(fv.v);
  if (x != NULL)
    pprofd__symcache_index_add(&sym.cache, slot, &x->k);
  return x;
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
static struct symidx *sym_index(Dwfl_Module *mod) {
  pprofd__symcache_slot *slot =
      pprofd__symcache_index(&sym.cache, mod, PPROFD__SYMCACHE_KEY_SYMTAB);
  if (slot == NULL)
    return NULL;
  if (slot->val != NULL)
    return slot->val;

  int nsyms = dwfl_module_getsymtab(mod);
  struct symidx *x = pprofd__symcache_alloc(&sym.cache, sizeof *x);
  if (x == NULL)
    return NULL;
  x->k.mod = mod;
  x->k.key = PPROFD__SYMCACHE_KEY_SYMTAB;
  x->n = 0;
  x->v = NULL;
  if (nsyms > 1) {
    x->v = pprofd__symcache_alloc(&sym.cache, (size_t)nsyms * sizeof *x->v);
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
    struct esym *e = &x->v[x->n++];
    e->lo = addr;
    e->size = s.st_size;
    e->name = name;
    e->rank = sym_rank(&s);
  }
  pprofd__addrsort_sort(x->v, x->n, sizeof *x->v, esym_less);
  pprofd__symcache_index_add(&sym.cache, slot, &x->k);
  return x;
}

/* The symbol holding addr: the nearest sized symbol below it that covers
 * it, else the nearest symbol below it when that one is sizeless. */
static const struct esym *sym_find(const struct symidx *x, uint64_t addr) {
  size_t lo = pprofd__addrsort_upto(x->v, x->n, sizeof *x->v, addr);
  if (lo == 0)
    return NULL;
  const struct esym *nearest = &x->v[lo - 1];
  for (size_t k = 0; k < SYM_SCAN && lo > 0; k++, lo--) {
    const struct esym *e = &x->v[lo - 1];
    if (e->size > 0 && addr - e->lo < e->size)
      return e;
  }
  return nearest->size == 0 ? nearest : NULL;
}

/* Whether the ELF file open on fd has this build-id. */
static int has_build_id(int fd, const unsigned char *id, int len) {
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (elf == NULL)
    return 0;
  const void *got = NULL;
  ssize_t n = dwelf_elf_gnu_build_id(elf, &got);
  int ok = n == len && got != NULL && memcmp(got, id, (size_t)len) == 0;
  elf_end(elf);
  return ok;
}

/* The find_debuginfo callback: build-id first, then the debuglink name
 * in the usual places, each candidate checked against the module's
 * build-id (a module without one gets only the build-id lookup, which
 * then finds nothing). Never asks debuginfod: see the top of this file.
 * Returns an open fd and sets *debuginfo_file_name (from malloc, freed by
 * libdwfl), or -1. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata,
                          const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink,
                          GElf_Word crc, char **debuginfo_file_name) {
  int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
                                        debuglink, crc, debuginfo_file_name);
  if (fd >= 0)
    return fd;
  const unsigned char *id = NULL;
  GElf_Addr vaddr;
  int idlen = dwfl_module_build_id(mod, &id, &vaddr);
  if (idlen <= 0 || debuglink == NULL || strchr(debuglink, '/') != NULL ||
      file_name == NULL || file_name[0] != '/')
    return -1;
  const char *slash = strrchr(file_name, '/');
  int dirlen = (int)(slash - file_name);
  static const char *const fmts[] = {"%.*s/%s", "%.*s/.debug/%s",
                                     "/usr/lib/debug%.*s/%s"};
  struct stat main_st;
  if (stat(file_name, &main_st) != 0)
    return -1;
  for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
    char path[PATH_BUF];
    int n = snprintf(path, sizeof path, fmts[i], dirlen, file_name, debuglink);
    if (n < 0 || (size_t)n >= sizeof path)
      continue;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    struct stat st;
    if (fstat(fd, &st) == 0 &&
        !(st.st_dev == main_st.st_dev && st.st_ino == main_st.st_ino) &&
        has_build_id(fd, id, idlen)) {
      char *name = strdup(path);
      if (name != NULL) {
        *debuginfo_file_name = name;
        return fd;
      }
    }
    close(fd);
  }
  errno = 0;
  return -1;
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

/* Sets the names of a frame from a raw (possibly mangled) name: the
 * demangled form when there is one, else `plain` or the raw name. 0 on
 * success, -1 when out of memory. */
static int set_names(pprofd__frame *f, const char *raw, const char *plain) {
  f->system_name = pprofd__symcache_intern(&sym.cache, raw);
  if (f->system_name == NULL)
    return -1;
  char *d = cxa_demangle(raw);
  f->name = pprofd__symcache_intern(
      &sym.cache, d != NULL ? d : (plain != NULL ? plain : raw));
  free(d);
  return f->name == NULL ? -1 : 0;
}

/* Sets the names of a frame from its function DIE; elfsym, the ELF symbol
 * of the address, stands in for a missing linkage name of the physical
 * function when it is a mangled name. */
static int die_names(pprofd__frame *f, Dwarf_Die *die, const char *elfsym) {
  const char *link = str_attr(die, DW_AT_linkage_name);
  if (link == NULL)
    link = str_attr(die, DW_AT_MIPS_linkage_name);
  const char *plain = str_attr(die, DW_AT_name);
  if (link == NULL && elfsym != NULL && dwarf_tag(die) == DW_TAG_subprogram &&
      elfsym[0] == '_' && elfsym[1] == 'Z')
    link = elfsym;
  if (link != NULL)
    return set_names(f, link, plain);
  f->name = f->system_name = pprofd__symcache_intern(&sym.cache, plain);
  return f->name == NULL ? -1 : 0;
}

/* The interned absolute form of a source path: relative paths are joined
 * to the unit's compilation directory. */
static const char *abs_path(Dwarf_Die *cudie, const char *path) {
  if (path == NULL || path[0] == '\0' || path[0] == '/')
    return pprofd__symcache_intern(&sym.cache, path);
  const char *dir = str_attr(cudie, DW_AT_comp_dir);
  if (dir == NULL || dir[0] != '/')
    return pprofd__symcache_intern(&sym.cache, path);
  char buf[PATH_BUF];
  size_t dl = strlen(dir), pl = strlen(path);
  if (dl + 1 + pl + 1 > sizeof buf)
    return pprofd__symcache_intern(&sym.cache, path);
  while (pl > 2 && path[0] == '.' && path[1] == '/') {
    path += 2;
    pl -= 2;
  }
  memcpy(buf, dir, dl);
  if (dl > 0 && dir[dl - 1] != '/')
    buf[dl++] = '/';
  memcpy(buf + dl, path, pl + 1);
  return pprofd__symcache_intern(&sym.cache, buf);
}

/* Builds the frames of pc from the DWARF of its unit. Returns the number
 * of frames (0: the unit does not describe pc) or -1 when out of memory. */
static int dwarf_frames(Dwfl_Module *mod, Dwarf_Die *cudie, Dwarf_Addr pc,
                        const char *elfsym, pprofd__frame *fr) {
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
    file = abs_path(cudie, dwarf_linesrc(ln, NULL, NULL));
    if (file == NULL)
      return -1;
    if (dwarf_lineno(ln, &l) == 0 && l > 0)
      line = l;
  }

  struct cuidx *x = cu_index(mod, cudie);
  Dwarf_Die *fn = x != NULL ? cu_find(x, pc) : NULL;
  if (fn == NULL) {
    /* Code without a subprogram entry (assembly, say): the line table
     * and the ELF symbol are all there is. */
    if (elfsym == NULL && ln == NULL)
      return 0;
    memset(fr, 0, sizeof *fr);
    if (set_names(fr, elfsym != NULL ? elfsym : "", NULL) != 0)
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
  for (int i = nchain - 1; i >= 0 && nf < MAX_FRAMES; i--) {
    Dwarf_Die *die = &chain[i];
    int tag = dwarf_tag(die);
    if (!is_function(tag))
      continue;
    pprofd__frame *f = &fr[nf++];
    memset(f, 0, sizeof *f);
    if (die_names(f, die, elfsym) != 0)
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
      file = abs_path(cudie, dwarf_filesrc(files, (size_t)fi, NULL, NULL));
      if (file == NULL)
        return -1;
    }
  }
  return nf;
}

/* Resolves addr into fr[0..MAX_FRAMES) and the symbol fields of out.
 * Returns the number of frames, or -1 when out of memory. */
static int resolve(uint64_t addr, pprofd__frame *fr, pprofd__symres *out) {
  Dwfl_Module *mod = dwfl_addrmodule(sym.dwfl, addr);
  Dwarf_Addr mstart = 0, mend = 0;
  if (mod == NULL ||
      dwfl_module_info(mod, NULL, &mstart, &mend, NULL, NULL, NULL, NULL) ==
          NULL ||
      addr < mstart || addr >= mend)
    return 0;
  struct symidx *sx = sym_index(mod);
  if (sx == NULL)
    return -1;
  const struct esym *es = sym_find(sx, addr);
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
    int nf = dwarf_frames(mod, cudie, addr - bias, elfsym, fr);
    if (nf != 0)
      return nf;
  }
  if (elfsym == NULL)
    return 0;
  memset(fr, 0, sizeof *fr);
  if (set_names(fr, elfsym, NULL) != 0)
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
  pprofd__frame fr[MAX_FRAMES];
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

void pprofd__sym_prefork(void) { pprofd__mutex_lock(&sym.lock); }

void pprofd__sym_postfork(void) { pprofd__mutex_unlock(&sym.lock); }
