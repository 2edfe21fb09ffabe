/*
 * unwind.c - stack capture with libunwind (see unwind.h).
 *
 * libunwind is dlopen'ed with RTLD_LOCAL rather than linked. Debian's
 * libunwind.so.8 exports _Unwind_RaiseException and friends, and a weak
 * backtrace(); linked into a host, whichever of libgcc_s and libunwind
 * the loader finds first in the global scope becomes the C++ exception
 * unwinder of the whole process (a C program that later dlopens a C++
 * plugin would get libunwind's). RTLD_LOCAL keeps every libunwind symbol
 * out of the global scope, so only pprofd calls into it.
 *
 * unw_backtrace returns instruction pointers: the first is inside
 * pprofd__unwind_here itself, the rest are return addresses, which become
 * location addresses by subtracting one.
 */
#include "config.h"

#include "capture/unwind.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#define MAX_RAW 256

int (*PPROFD__SEAM pprofd__backtrace_fn)(void **, int) = NULL;

typedef int (*backtrace_fn)(void **, int);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static backtrace_fn unw_bt;    /* written once under load_once */
static const char *load_error; /* why unw_bt is NULL */

/* Loads libunwind privately and finds unw_backtrace. */
static void load(void) {
  void *h = dlopen(PPROFD_UNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    load_error = "libunwind (" PPROFD_UNWIND_SONAME ") cannot be loaded";
    return;
  }
  unw_bt = (backtrace_fn)dlsym(h, "unw_backtrace");
  if (unw_bt == NULL)
    load_error = "libunwind has no unw_backtrace";
}

const char *pprofd__unwind_init(void) {
  pthread_once(&load_once, load);
  return load_error;
}

__attribute__((noinline)) int pprofd__unwind_here(uint64_t *locs, int max,
                                                  int skip) {
  void *raw[MAX_RAW];
  if (max <= 0 || skip < 0)
    return 0;
  backtrace_fn bt = pprofd__backtrace_fn;
  if (bt == NULL) {
    pthread_once(&load_once, load);
    if ((bt = unw_bt) == NULL)
      return 0;
  }
  /* Called directly (not through a wrapper of ours) so that raw[0] is
   * always in this function; a wrapper frame would shift every index. */
  int n = bt(raw, MAX_RAW);
  __asm__ volatile("" ::: "memory"); /* not a tail call */
  /* raw[0] is inside this function, raw[1] inside the function that called
   * it, raw[2] inside that function's caller, where the stack starts. */
  int first = 2 + skip;
  int out = 0;
  for (int i = first; i < n && out < max; i++) {
    uint64_t pc = (uint64_t)(uintptr_t)raw[i];
    if (pc == 0)
      break;
    locs[out++] = pc - 1;
  }
  return out;
}
