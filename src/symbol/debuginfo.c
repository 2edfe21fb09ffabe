/*
 * debuginfo.c - local lookup of separate debug files.
 *
 * libdwfl finds the build-id file itself (dwfl_build_id_find_debuginfo);
 * the .gnu_debuglink places are tried here, each candidate opened, checked
 * not to be the object itself and read for its build-id with libelf.
 * dwfl_standard_find_debuginfo is not used because libdw 0.188 then
 * dlopens libdebuginfod whether or not DEBUGINFOD_URLS is set, which loads
 * libcurl, GnuTLS and some thirty other libraries into the host daemon
 * (and may reach the network) the first time an object without local
 * debug info is symbolized.
 *
 * Called by libdwfl within the symbolizer's calls, with its lock held.
 * The path strdup'd for libdwfl comes from the C library's malloc, as
 * libdwfl frees it.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "symbol/debuginfo.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BUF 4096 /* longest candidate path */

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
int pprofd__debuginfo_find(Dwfl_Module *mod, void **userdata,
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
