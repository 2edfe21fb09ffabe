/*
 * symtest_lib.c - functions with known names for check_symbolize.
 *
 * Two kinds of code whose symbolization does not depend on how this file
 * is compiled:
 *   - symtest_asm_local, a local (non-global) function written in a
 *     top-level asm block and placed in its own section, so that no
 *     compile unit's DWARF covers it whatever the -g flags: only .symtab
 *     names it, and the symbolizer must fall back to the ELF symbol;
 *   - symtest_static_fn, a static C function: found in .symtab, or in the
 *     DWARF when this file is built with -g, under the same name.
 * The accessors return their addresses, which C cannot name directly from
 * another file.
 */
#include <stdint.h>

void *symtest_asm_local_addr(void);
void *symtest_static_fn_addr(void);
int symtest_static_fn_call(int x);

#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) ||        \
    defined(__riscv)
/* Three no-ops and a return: four instructions, so an address inside the
 * function has a non-zero offset from its symbol. */
__asm__(".pushsection .text.symtest_nodwarf,\"ax\",%progbits\n"
        ".type symtest_asm_local, %function\n"
        "symtest_asm_local:\n"
        "  nop\n"
        "  nop\n"
        "  nop\n"
        "  ret\n"
        ".size symtest_asm_local, .-symtest_asm_local\n"
        ".popsection\n");

void symtest_asm_local(void) __attribute__((visibility("hidden")));

void *symtest_asm_local_addr(void) {
  return (void *)(uintptr_t)&symtest_asm_local;
}
#else
void *symtest_asm_local_addr(void) { return NULL; }
#endif

static volatile int symtest_state;

/* Keeps some state so that the compiler cannot fold the function away. */
__attribute__((noinline)) static int symtest_static_fn(int x) {
  symtest_state += x;
  return symtest_state * 3;
}

void *symtest_static_fn_addr(void) {
  return (void *)(uintptr_t)&symtest_static_fn;
}

int symtest_static_fn_call(int x) { return symtest_static_fn(x); }
