/*
 * dwframes.h - the frames of an address from DWARF: function, file:line
 * and the inline frames above it.
 *
 * Owns: for each compile unit, on first use, an index of its subprograms'
 * code ranges sorted by address, kept in the symbolizer's cache. It
 * replaces dwarf_getscopes, which walks the whole unit on every call.
 * Resolution follows eu-addr2line -i: the innermost frame takes its
 * file:line from the line table, each inlined subroutine's
 * DW_AT_call_file/DW_AT_call_line is the position in the frame that
 * encloses it, and names come from DW_AT_linkage_name (demangled) or
 * DW_AT_name, following abstract origins and specifications.
 *
 * Threads: with the symbolizer lock held, like every use of the cache;
 * never from a signal handler or inside malloc.
 */
#ifndef PPROFD_SYMBOL_DWFRAMES_H
#define PPROFD_SYMBOL_DWFRAMES_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "base/common.h"
#include "symbol/frame.h"
#include "symbol/symcache.h"

#define PPROFD__DWFRAMES_MAX 64 /* inline depth kept per address */

/* Builds the frames of pc (an address relative to the module's bias) from
 * cudie, the compile unit of mod that libdwfl found for it, innermost
 * first, into fr[0..PPROFD__DWFRAMES_MAX). elfsym, the ELF symbol holding
 * pc or NULL, names the function when DWARF has no linkage name for it or
 * no subprogram entry at all. Returns the number of frames, 0 when the
 * unit does not describe pc, -1 when out of memory. */
int pprofd__dwframes_build(pprofd__symcache *c, Dwfl_Module *mod,
                           Dwarf_Die *cudie, Dwarf_Addr pc, const char *elfsym,
                           pprofd__frame *fr) PPROFD__WARN_UNUSED;

#endif
