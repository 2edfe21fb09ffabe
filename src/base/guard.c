/*
 * guard.c - the per-thread guard and heap countdown (see guard.h).
 */
#include "config.h"

#include "base/guard.h"

__thread struct pprofd__heap_tls pprofd__tls_heap
    __attribute__((tls_model("initial-exec")));
