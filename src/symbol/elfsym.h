/*
 * elfsym.h - the ELF function symbol that holds an address.
 *
 * Owns: for each module, on first use, an index of its function symbols
 * (.symtab, else .dynsym, as libdwfl loads them) sorted by address, kept
 * in the symbolizer's cache. It replaces dwfl_module_addrinfo, which walks
 * every symbol on every call (~100 us for libc), and makes the same
 * choice: among symbols at one address, sized before sizeless, then global
 * before weak before local.
 *
 * Threads: with the symbolizer lock held, like every use of the cache;
 * never from a signal handler or inside malloc.
 */
#ifndef PPROFD_SYMBOL_ELFSYM_H
#define PPROFD_SYMBOL_ELFSYM_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

#include "base/common.h"
#include "symbol/symcache.h"

/* One function symbol; rank orders symbols that share an address. */
typedef struct pprofd__elfsym {
  uint64_t lo, size;
  const char *name; /* in libelf's string table, valid with the module */
  unsigned rank;
} pprofd__elfsym;

/* Sets *out to the symbol of mod holding addr: the nearest sized symbol
 * below it that covers it, else the nearest symbol below it when that one
 * is sizeless; NULL when there is none. Returns 0, or PPROFD_ENOMEM when
 * the module's index cannot be built (then *out is NULL). */
int pprofd__elfsym_find(pprofd__symcache *c, Dwfl_Module *mod, uint64_t addr,
                        const pprofd__elfsym **out) PPROFD__WARN_UNUSED;

#endif
