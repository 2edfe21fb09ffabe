/*
 * debuginfo.h - the separate debug file of a loaded object, found on this
 * machine only.
 *
 * Owns nothing: a libdwfl find_debuginfo callback. It looks by build-id
 * under /usr/lib/debug/.build-id, then by the .gnu_debuglink name next to
 * the object, in its .debug/ directory and under /usr/lib/debug, and
 * accepts a candidate only when its build-id matches the object's. It
 * never asks debuginfod (see debuginfo.c for why).
 *
 * Threads: called by libdwfl inside the symbolizer's calls, so with the
 * symbolizer lock held; never from a signal handler or inside malloc.
 */
#ifndef PPROFD_SYMBOL_DEBUGINFO_H
#define PPROFD_SYMBOL_DEBUGINFO_H

#include <elfutils/libdwfl.h>

#include "base/common.h"

/* The Dwfl_Callbacks.find_debuginfo of the symbolizer's session. Returns
 * an open file descriptor and sets *debuginfo_file_name (from malloc,
 * freed by libdwfl), or -1 when there is no local debug file. */
int pprofd__debuginfo_find(Dwfl_Module *mod, void **userdata,
                           const char *modname, Dwarf_Addr base,
                           const char *file_name, const char *debuglink,
                           GElf_Word crc, char **debuginfo_file_name);

#endif
