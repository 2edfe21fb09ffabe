/*
 * names.h - function names for frames: C++ demangling, and a frame's two
 * names interned in the symbolizer's cache.
 *
 * Owns: the address of __cxa_demangle, looked up once with dlsym in the
 * process's own libraries (every C++ program has libstdc++ loaded; a C
 * program may not, and then names stay mangled). No link-time dependency
 * on libstdc++.
 *
 * Threads: pprofd__names_demangle from any thread outside signal context
 * (the lookup is guarded by pthread_once); pprofd__names_set with the
 * symbolizer lock held, like every use of the cache. Never inside malloc:
 * __cxa_demangle allocates.
 */
#ifndef PPROFD_SYMBOL_NAMES_H
#define PPROFD_SYMBOL_NAMES_H

#include "base/common.h"
#include "symbol/frame.h"
#include "symbol/symcache.h"

/* The demangled form of an Itanium C++ name (one that starts with "_Z"),
 * in memory from the C library's malloc that the caller frees; NULL when
 * it is not such a name, it does not demangle or no demangler is
 * loaded. */
char *pprofd__names_demangle(const char *mangled);
/* Sets f->system_name to raw and f->name to its demangled form, else to
 * `plain` when not NULL, else to raw; both interned in c. 0, or -1 when
 * out of memory. */
int pprofd__names_set(pprofd__symcache *c, pprofd__frame *f, const char *raw,
                      const char *plain) PPROFD__WARN_UNUSED;

#endif
