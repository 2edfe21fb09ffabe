/*
 * unwind.c - stack capture with libunwind (see unwind.h).
 *
 * unw_backtrace returns instruction pointers: the first is inside
 * pprofd__unwind_here itself (skipped), the rest are return addresses,
 * which become location addresses by subtracting one.
 */
#include "config.h"

#include "capture/unwind.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define MAX_RAW 256

int (*PPROFD__SEAM pprofd__backtrace_fn)(void **, int) = NULL;

__attribute__((noinline)) int pprofd__unwind_here(uint64_t *locs, int max,
                                                  int skip) {
  void *raw[MAX_RAW];
  if (max <= 0 || skip < 0)
    return 0;
  /* Called directly (not through a wrapper) so that raw[0] is always in
   * this function; a wrapper frame would shift every index. */
  int n = pprofd__backtrace_fn != NULL ? pprofd__backtrace_fn(raw, MAX_RAW)
                                       : unw_backtrace(raw, MAX_RAW);
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
