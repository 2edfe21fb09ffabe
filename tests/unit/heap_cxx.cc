/*
 * heap_cxx.cc - C++ new and delete for check_heap: libstdc++'s operator
 * new calls malloc and operator delete calls free, so the interposed
 * functions see them. heap_cxx_new is the call site the test looks for.
 */
#include <cstddef>

extern "C" {
void *heap_cxx_new(std::size_t n);
void heap_cxx_delete(void *p);
}

// Stores to it keep the code after each call, so no call is a tail call.
static volatile int cxx_sink;

__attribute__((noinline)) void *heap_cxx_new(std::size_t n) {
  char *p = new char[n];
  cxx_sink = 1;
  return p;
}

__attribute__((noinline)) void heap_cxx_delete(void *p) {
  delete[] static_cast<char *>(p);
  cxx_sink = 2;
}
