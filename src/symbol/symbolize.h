/*
 * symbolize.h - addresses of this process to functions, files and lines.
 *
 * Owns: one libdwfl session over this process's loaded objects (reported
 * from /proc/self/maps, refreshed when the mappings change), and a bounded
 * cache from address to its resolved frames. DWARF (the object's own or a
 * separate debug file found by build-id under /usr/lib/debug) gives files,
 * lines and inline frames; without DWARF, ELF .symtab/.dynsym give the
 * function name only. C++ names are demangled with __cxa_demangle when the
 * process has libstdc++ loaded (every C++ program does), else kept mangled.
 *
 * Threads: any thread outside signal context. pprofd__sym_begin() takes the
 * symbolizer lock and pprofd__sym_end() releases it; every pointer a lookup
 * returns stays valid until that pprofd__sym_end(). Never call from a
 * signal handler or from inside malloc.
 */
#ifndef PPROFD_SYMBOL_SYMBOLIZE_H
#define PPROFD_SYMBOL_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "symbol/frame.h"

typedef struct pprofd__symctx pprofd__symctx;

/* Locks the symbolizer and refreshes its view of loaded objects if
 * /proc/self/maps changed since the last batch (dropping cached results of
 * objects that went away). PPROFD_ENOMEM, PPROFD_EIO. On failure nothing
 * is locked. */
int pprofd__sym_begin(pprofd__symctx **ctx) PPROFD__WARN_UNUSED;
/* Resolves addr (an address inside an instruction: the PC of a leaf, or a
 * return address minus one). Always fills *out; nframes 0 if unknown. */
void pprofd__sym_lookup(pprofd__symctx *ctx, uint64_t addr,
                        pprofd__symres *out);
/* Releases the lock taken by pprofd__sym_begin. */
void pprofd__sym_end(pprofd__symctx *ctx);
/* Frees all symbolizer state (library unload, tests). Not thread-safe
 * against concurrent lookups. */
void pprofd__sym_shutdown(void);
/* Cache statistics for the index page: entries held and bytes used. */
void pprofd__sym_stats(size_t *entries, size_t *bytes);

/* In a fork child: fork() never waits for the symbolizer (a batch holds
 * its lock for a whole request); a child forked during a batch starts
 * with an empty symbolizer. */
void pprofd__sym_postfork_child(void);

/* Demangles an Itanium C++ name into buf (NUL-terminated, truncated to
 * len). Returns 1 if demangled, 0 if `mangled` was copied as it is. */
int pprofd__sym_demangle(const char *mangled, char *buf, size_t len);

#endif
