/*
 * frame.h - what the symbolizer says about one address: its frames and
 * its ELF symbol.
 *
 * Types only, shared by the symbolizer's parts (symbolize, dwframes,
 * names) and by its callers through symbol/symbolize.h. The strings of a
 * result live in the symbolizer's cache: see symbolize.h for how long.
 */
#ifndef PPROFD_SYMBOL_FRAME_H
#define PPROFD_SYMBOL_FRAME_H

#include <stdint.h>

/* One function activation at an address. Strings are never NULL. */
typedef struct pprofd__frame {
  const char *name;        /* demangled function name; "" if unknown */
  const char *system_name; /* linkage (mangled) name; "" if unknown */
  const char *file;        /* absolute source path when known, else "" */
  int64_t line;            /* 0 if unknown */
  int64_t start_line;      /* the function's declaration line, 0 if unknown */
} pprofd__frame;

/* What one address resolves to. */
typedef struct pprofd__symres {
  int nframes;                 /* 0: unresolved */
  const pprofd__frame *frames; /* innermost (inlined callee) first */
  const char *symbol;          /* ELF symbol containing addr (mangled), "" */
  uint64_t symbol_offset;      /* addr - symbol start, 0 if no symbol */
} pprofd__symres;

#endif
