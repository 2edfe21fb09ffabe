/*
 * symtest_cxx.cc - C++ functions with known mangled names for
 * check_symbolize.
 *
 * symtest::Widget::poke(int) (_ZN7symtest6Widget4pokeEi) and the free
 * function symtest::detail::twist(double) (_ZN7symtest6detail5twistEd)
 * return the return address of a call they make, so the test gets an
 * address inside each together with the source line of that call. The
 * test binary links libstdc++ because symtest_cxx_demangler_ref holds the
 * address of abi::__cxa_demangle; that is what lets the symbolizer
 * demangle. Compile with g++ -g -O1 (any level works; the noinline
 * attributes and the stores after each call keep the frames apart).
 */
#include <cxxabi.h>

extern "C" {
int symtest_cxx_poke_line, symtest_cxx_twist_line;
void *symtest_cxx_poke_site(void);
void *symtest_cxx_twist_site(void);
void *symtest_cxx_demangler(void);
extern void *volatile symtest_cxx_demangler_ref;
}

// Stores to it keep the code after each call, so no call is a tail call.
static volatile double cxx_sink;

namespace symtest {

struct Widget {
  int v;
  void *poke(int x);
};

// The caller's return address; noinline so that it is a real call.
__attribute__((noinline)) static void *cxx_return_address() {
  void *ra = __builtin_return_address(0);
  __asm__ volatile("" : : "r"(ra) : "memory");
  return ra;
}

__attribute__((noinline)) void *Widget::poke(int x) {
  void *ra;
  symtest_cxx_poke_line = __LINE__ + 1;
  ra = cxx_return_address();
  v += x;
  return ra;
}

namespace detail {

// A free function in a nested namespace: GCC describes it inside the
// namespace entries rather than at the top of the unit.
__attribute__((noinline)) void *twist(double d) {
  void *ra;
  symtest_cxx_twist_line = __LINE__ + 1;
  ra = cxx_return_address();
  cxx_sink = d;
  return ra;
}

} // namespace detail

} // namespace symtest

void *symtest_cxx_poke_site(void) {
  static symtest::Widget w;
  return w.poke(1);
}

void *symtest_cxx_twist_site(void) { return symtest::detail::twist(0.5); }

// A volatile object the test reads: link-time optimization can neither
// fold the reference to libstdc++ away nor drop the library.
void *volatile symtest_cxx_demangler_ref =
    reinterpret_cast<void *>(&abi::__cxa_demangle);

void *symtest_cxx_demangler(void) { return symtest_cxx_demangler_ref; }
