/*
 * names.c - C++ demangling through the process's own __cxa_demangle, and
 * the names of a frame.
 *
 * dlsym(RTLD_DEFAULT, "__cxa_demangle") runs once, under pthread_once;
 * the pointer it leaves is only read afterwards. The strings
 * __cxa_demangle returns come from the C library's malloc and are freed
 * here as soon as they are interned. Called by the symbolizer (outside
 * signal context; pprofd__names_set under its lock).
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "symbol/names.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);

static pthread_once_t demangle_once = PTHREAD_ONCE_INIT;
static cxa_demangle_fn demangle_fn; /* written once under demangle_once */

/* Looks up __cxa_demangle in the process (NULL without libstdc++). */
static void demangle_init(void) {
  demangle_fn = (cxa_demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
}

char *pprofd__names_demangle(const char *mangled) {
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

int pprofd__names_set(pprofd__symcache *c, pprofd__frame *f, const char *raw,
                      const char *plain) {
  f->system_name = pprofd__symcache_intern(c, raw);
  if (f->system_name == NULL)
    return -1;
  char *d = pprofd__names_demangle(raw);
  f->name =
      pprofd__symcache_intern(c, d != NULL ? d : (plain != NULL ? plain : raw));
  free(d);
  return f->name == NULL ? -1 : 0;
}
