/*
 * cpu_cxx.cc - C++ exceptions for check_cpu's loader stress test. Each
 * throw goes through libgcc's unwinder, which calls dl_iterate_phdr (or
 * _dl_find_object) to find the frames' unwind tables: a SIGPROF that
 * lands there must not make the sampler's own unwinder wait for the
 * loader lock the thread already holds (DESIGN pitfall 1).
 */
#include <stdexcept>

extern "C" {
long cpu_cxx_throw_catch(long n);
}

// Stores to it keep the code after each call, so no call is a tail call.
static volatile long cxx_sink;

// Throws from a few frames down, so the unwinder has frames to walk.
__attribute__((noinline)) static void cxx_thrower(long depth) {
  if (depth > 0)
    cxx_thrower(depth - 1);
  else
    throw std::runtime_error("cpu_cxx");
  cxx_sink = depth;
}

/* Throws and catches n exceptions, each four frames deep; returns how
 * many were caught (n, unless the unwinder is broken). */
__attribute__((noinline)) long cpu_cxx_throw_catch(long n) {
  long caught = 0;
  for (long i = 0; i < n; i++) {
    try {
      cxx_thrower(3);
    } catch (const std::exception &) {
      caught++;
    }
  }
  cxx_sink = caught;
  return caught;
}
