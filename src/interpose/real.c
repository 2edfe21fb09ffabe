/*
 * real.c - resolving the real C library functions (see real.h).
 *
 * Each pointer starts NULL and is filled by dlsym(RTLD_NEXT, name), either
 * by pprofd__real_init() (called from a constructor when the library
 * loads, and again by every module before it installs a signal handler)
 * or lazily by the first wrapper call that needs it, for wrappers that run
 * before the constructor (another library's constructor may create a
 * thread). Two threads racing to resolve the same name both store the
 * same value, so no lock or once-flag is needed, and none may be used:
 * dlsym takes the loader lock, and a once-flag held across it would
 * deadlock a wrapper re-entered from inside the loader.
 *
 * These pointers are write-once process state that every wrapper reads on
 * its fast path; they live here rather than in pprofd__rt so that the
 * interposition layer has no dependency on core/.
 */
#include "config.h"

#include "interpose/real.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>

static _Atomic(void *) real_pthread_create;
static _Atomic(void *) real_dl_iterate_phdr;

/* The pointer in *slot, resolving `name` first if needed. */
static void *resolve(_Atomic(void *) *slot, const char *name) {
  /* Acquire pairs with the release below: whoever sees the pointer also
   * sees everything the resolving thread did before publishing it (there
   * is nothing else to see today; the order documents the intent). */
  void *p = atomic_load_explicit(slot, memory_order_acquire);
  if (PPROFD__LIKELY(p != NULL))
    return p;
  p = dlsym(RTLD_NEXT, name);
  if (p != NULL)
    atomic_store_explicit(slot, p, memory_order_release);
  return p;
}

const char *pprofd__real_init(void) {
  if (resolve(&real_pthread_create, "pthread_create") == NULL)
    return "pthread_create cannot be resolved";
  if (resolve(&real_dl_iterate_phdr, "dl_iterate_phdr") == NULL)
    return "dl_iterate_phdr cannot be resolved";
  return NULL;
}

/* Resolves everything at load time, before the host's main() runs. */
__attribute__((constructor)) static void real_ctor(void) {
  (void)pprofd__real_init();
}

pprofd__pthread_create_fn pprofd__real_pthread_create(void) {
  return (pprofd__pthread_create_fn)resolve(&real_pthread_create,
                                            "pthread_create");
}

pprofd__dl_iterate_phdr_fn pprofd__real_dl_iterate_phdr(void) {
  return (pprofd__dl_iterate_phdr_fn)resolve(&real_dl_iterate_phdr,
                                             "dl_iterate_phdr");
}
