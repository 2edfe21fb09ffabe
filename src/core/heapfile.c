/*
 * heapfile.c - the heap text output and the heap rate from the
 * environment (see heapfile.h).
 *
 * The heap sampler's constructor runs first of all pprofd's (its fork
 * handlers must be registered first) and starts at the default rate; the
 * constructor here, next in line, applies PPROFD_MEM_PROFILE_RATE, read
 * through the configuration table (core/conf.c), so the sampler needs
 * nothing from core.
 */
#include "config.h"

#include "core/heapfile.h"

#include "base/guard.h"
#include "core/conf.h"
#include "encode/heaptext.h"
#include "model/heap.h"
#include "sample/heap.h"

int pprofd__heap_write_text(pprofd__buf *out) {
  pprofd__guard_enter();
  pprofd__heapdump d;
  int err = pprofd__heap_dump(&d);
  if (err == 0)
    err = pprofd__heaptext_write(out, &d);
  pprofd__heapdump_free(&d);
  pprofd__guard_exit();
  return err;
}

/* Applies PPROFD_MEM_PROFILE_RATE, right after the sampler's constructor
 * (101) and before the library's other constructors. */
__attribute__((constructor(102))) static void heap_env_rate(void) {
  pprofd__guard_enter();
  int64_t r = pprofd__conf_env_at_load(PPROFD__CONF_mem_profile_rate);
  pprofd__guard_exit();
  if (r >= 0)
    pprofd__heap_init_rate(r);
}
