/*
 * check_symbolize.c - unit tests for symbol/symbolize.c.
 *
 * The addresses come from this program: functions defined here (compiled
 * with -g -O2, so DWARF describes them), return addresses taken inside
 * them with the source line of the call recorded next to it, an always-
 * inline function that must show up as its own frame, a C++ method from
 * symtest_cxx.cc, code with ELF symbols only from symtest_lib.c, libc,
 * and a library loaded with dlopen during the test. Expected lines are
 * recorded at run time with __LINE__ on the same source line as the call,
 * so editing this file cannot break the tests.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pprofd.h"
#include "symbol/maps.h"
#include "symbol/symbolize.h"

#include "../check_run.h"

/* From symtest_lib.c and symtest_cxx.cc. */
void *symtest_asm_local_addr(void);
void *symtest_static_fn_addr(void);
int symtest_static_fn_call(int x);
void *symtest_cxx_poke_site(void);
void *symtest_cxx_twist_site(void);
void *symtest_cxx_demangler(void);
extern int symtest_cxx_poke_line, symtest_cxx_twist_line;

/* Functions under test here; global so their names are predictable. */
int symtest_global_fn(int x);
void *symtest_line_caller(void);
void *symtest_inl_outer(int k);

static volatile uintptr_t sink;
static int ra_line, leaf_line, outer_line;

/* The return address of the call to this function. */
__attribute__((noinline, noclone)) static void *return_address(void) {
  void *ra = __builtin_return_address(0);
  __asm__ volatile("" : : "r"(ra) : "memory");
  return ra;
}

enum { GLOBAL_FN_LINE = __LINE__ + 1 };
__attribute__((noinline)) int symtest_global_fn(int x) {
  sink += (uintptr_t)x;
  return (int)sink * 7;
}

enum { LINE_CALLER_LINE = __LINE__ + 1 };
__attribute__((noinline)) void *symtest_line_caller(void) {
  void *ra;
  ra_line = __LINE__ + 1;
  ra = return_address();
  sink++;
  return ra;
}

enum { INL_LEAF_LINE = __LINE__ + 1 };
static inline __attribute__((always_inline)) void *inl_leaf(int k) {
  void *ra;
  leaf_line = __LINE__ + 1;
  ra = return_address();
  sink += (uintptr_t)k;
  return ra;
}

enum { INL_OUTER_LINE = __LINE__ + 1 };
__attribute__((noinline)) void *symtest_inl_outer(int k) {
  void *ra;
  outer_line = __LINE__ + 1;
  ra = inl_leaf(k);
  sink++;
  return ra;
}

/* The part of an absolute path after its last slash; "" for a path
 * that is not absolute (this program's paths are made absolute). */
static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return p[0] == '/' && s != NULL ? s + 1 : "";
}

/* Resolves one address in a batch of its own; the result's pointers are
 * used after sym_end, which is fine here because no other thread runs. */
static void lookup(uint64_t addr, pprofd__symres *out) {
  pprofd__symctx *ctx;
  ck_assert_int_eq(pprofd__sym_begin(&ctx), 0);
  pprofd__sym_lookup(ctx, addr, out);
  pprofd__sym_end(ctx);
}

/* Checks the invariants every result keeps. */
static void check_well_formed(const pprofd__symres *r) {
  ck_assert_ptr_nonnull(r->symbol);
  ck_assert_int_ge(r->nframes, 0);
  for (int i = 0; i < r->nframes; i++) {
    ck_assert_ptr_nonnull(r->frames[i].name);
    ck_assert_ptr_nonnull(r->frames[i].system_name);
    ck_assert_ptr_nonnull(r->frames[i].file);
    ck_assert_int_ge(r->frames[i].line, 0);
  }
}

START_TEST(test_global_function) {
  pprofd__symres r;
  uint64_t a = (uint64_t)(uintptr_t)&symtest_global_fn;
  lookup(a, &r);
  check_well_formed(&r);
  ck_assert_int_eq(r.nframes, 1);
  ck_assert_str_eq(r.symbol, "symtest_global_fn");
  ck_assert_uint_eq(r.symbol_offset, 0);
  ck_assert_str_eq(r.frames[0].name, "symtest_global_fn");
  ck_assert_str_eq(r.frames[0].system_name, "symtest_global_fn");
  ck_assert_str_eq(base_name(r.frames[0].file), "check_symbolize.c");
  ck_assert_int_eq(r.frames[0].start_line, GLOBAL_FN_LINE);
  ck_assert_int_ge(r.frames[0].line, GLOBAL_FN_LINE);
  ck_assert_int_le(r.frames[0].line, GLOBAL_FN_LINE + 3);
}
END_TEST

START_TEST(test_line_of_call) {
  void *ra = symtest_line_caller();
  pprofd__symres r;
  lookup((uint64_t)(uintptr_t)ra - 1, &r);
  check_well_formed(&r);
  ck_assert_int_eq(r.nframes, 1);
  ck_assert_str_eq(r.frames[0].name, "symtest_line_caller");
  ck_assert_str_eq(base_name(r.frames[0].file), "check_symbolize.c");
  ck_assert_int_eq(r.frames[0].line, ra_line);
  ck_assert_int_eq(r.frames[0].start_line, LINE_CALLER_LINE);
  ck_assert_str_eq(r.symbol, "symtest_line_caller");
  ck_assert_uint_gt(r.symbol_offset, 0);
}
END_TEST

START_TEST(test_inline_frames) {
  void *ra = symtest_inl_outer(3);
  pprofd__symres r;
  lookup((uint64_t)(uintptr_t)ra - 1, &r);
  check_well_formed(&r);
  ck_assert_int_eq(r.nframes, 2);
  ck_assert_str_eq(r.frames[0].name, "inl_leaf");
  ck_assert_str_eq(r.frames[0].system_name, "inl_leaf");
  ck_assert_int_eq(r.frames[0].line, leaf_line);
  ck_assert_int_eq(r.frames[0].start_line, INL_LEAF_LINE);
  ck_assert_str_eq(base_name(r.frames[0].file), "check_symbolize.c");
  ck_assert_str_eq(r.frames[1].name, "symtest_inl_outer");
  ck_assert_int_eq(r.frames[1].line, outer_line);
  ck_assert_int_eq(r.frames[1].start_line, INL_OUTER_LINE);
  ck_assert_str_eq(r.frames[1].file, r.frames[0].file);
  ck_assert_str_eq(r.symbol, "symtest_inl_outer");
}
END_TEST

START_TEST(test_elf_symbol_only) {
  void *p = symtest_asm_local_addr();
  if (p == NULL)
    return; /* no assembly for this architecture */
  pprofd__symres r;
  lookup((uint64_t)(uintptr_t)p + 2, &r);
  check_well_formed(&r);
  ck_assert_int_eq(r.nframes, 1);
  ck_assert_str_eq(r.symbol, "symtest_asm_local");
  ck_assert_uint_eq(r.symbol_offset, 2);
  ck_assert_str_eq(r.frames[0].name, "symtest_asm_local");
  ck_assert_str_eq(r.frames[0].system_name, "symtest_asm_local");
  ck_assert_str_eq(r.frames[0].file, "");
  ck_assert_int_eq(r.frames[0].line, 0);
  ck_assert_int_eq(r.frames[0].start_line, 0);
}
END_TEST

START_TEST(test_static_function) {
  ck_assert_int_ne(symtest_static_fn_call(2), -1);
  pprofd__symres r;
  lookup((uint64_t)(uintptr_t)symtest_static_fn_addr(), &r);
  check_well_formed(&r);
  ck_assert_int_ge(r.nframes, 1);
  ck_assert_str_eq(r.symbol, "symtest_static_fn");
  ck_assert_str_eq(r.frames[r.nframes - 1].name, "symtest_static_fn");
}
END_TEST

START_TEST(test_shared_library) {
  void *p = dlsym(RTLD_DEFAULT, "getpid");
  ck_assert_ptr_nonnull(p);
  pprofd__symres r;
  lookup((uint64_t)(uintptr_t)p, &r);
  check_well_formed(&r);
  ck_assert_int_ge(r.nframes, 1);
  ck_assert(strstr(r.symbol, "getpid") != NULL);
  ck_assert(strstr(r.frames[r.nframes - 1].name, "getpid") != NULL);
}
END_TEST

START_TEST(test_cxx_method) {
  ck_assert_ptr_nonnull(symtest_cxx_demangler());
  void *ra = symtest_cxx_poke_site();
  pprofd__symres r;
  lookup((uint64_t)(uintptr_t)ra - 1, &r);
  check_well_formed(&r);
  ck_assert_int_eq(r.nframes, 1);
  ck_assert_str_eq(r.frames[0].name, "symtest::Widget::poke(int)");
  ck_assert_str_eq(r.frames[0].system_name, "_ZN7symtest6Widget4pokeEi");
  ck_assert_str_eq(base_name(r.frames[0].file), "symtest_cxx.cc");
  ck_assert_int_eq(r.frames[0].line, symtest_cxx_poke_line);
  ck_assert_int_gt(r.frames[0].start_line, 0);
  ck_assert_int_lt(r.frames[0].start_line, symtest_cxx_poke_line);
  /* With link-time optimization the symbol may be a clone of it. */
  ck_assert(strncmp(r.symbol, "_ZN7symtest6Widget4pokeEi", 25) == 0);

  ra = symtest_cxx_twist_site();
  lookup((uint64_t)(uintptr_t)ra - 1, &r);
  check_well_formed(&r);
  ck_assert_int_eq(r.nframes, 1);
  ck_assert_str_eq(r.frames[0].name, "symtest::detail::twist(double)");
  ck_assert_str_eq(r.frames[0].system_name, "_ZN7symtest6detail5twistEd");
  ck_assert_str_eq(base_name(r.frames[0].file), "symtest_cxx.cc");
  ck_assert_int_eq(r.frames[0].line, symtest_cxx_twist_line);
}
END_TEST

START_TEST(test_unknown_address) {
  pprofd__symres r;
  lookup(0x10, &r);
  ck_assert_int_eq(r.nframes, 0);
  ck_assert_str_eq(r.symbol, "");
  ck_assert_uint_eq(r.symbol_offset, 0);
  lookup(UINT64_MAX - 15, &r);
  ck_assert_int_eq(r.nframes, 0);
}
END_TEST

START_TEST(test_cache) {
  pprofd__symctx *ctx;
  pprofd__symres a, b, c;
  uint64_t addr = (uint64_t)(uintptr_t)&symtest_global_fn;
  pprofd__sym_shutdown(); /* count from zero even under CK_FORK=no */
  ck_assert_int_eq(pprofd__sym_begin(&ctx), 0);
  pprofd__sym_lookup(ctx, addr, &a);
  pprofd__sym_lookup(ctx, addr, &b);
  pprofd__sym_end(ctx);
  ck_assert_int_eq(a.nframes, 1);
  ck_assert_ptr_eq(a.frames, b.frames);
  ck_assert_ptr_eq(a.symbol, b.symbol);

  /* The next batch, with no change to the mappings, hits it too. */
  ck_assert_int_eq(pprofd__sym_begin(&ctx), 0);
  pprofd__sym_lookup(ctx, addr, &c);
  pprofd__sym_end(ctx);
  ck_assert_ptr_eq(a.frames, c.frames);

  /* Strings are interned: equal names share storage. */
  pprofd__symres d;
  void *ra = symtest_line_caller();
  lookup((uint64_t)(uintptr_t)ra - 1, &d);
  ck_assert_ptr_eq(d.frames[0].file, a.frames[0].file);

  size_t entries = 0, bytes = 0;
  pprofd__sym_stats(&entries, &bytes);
  ck_assert_uint_eq(entries, 2);
  ck_assert_uint_gt(bytes, 0);

  pprofd__sym_shutdown();
  pprofd__sym_stats(&entries, &bytes);
  ck_assert_uint_eq(entries, 0);
  ck_assert_uint_eq(bytes, 0);

  /* The symbolizer starts over after a shutdown. */
  lookup(addr, &a);
  ck_assert_str_eq(a.frames[0].name, "symtest_global_fn");
  pprofd__sym_shutdown();
}
END_TEST

/* Libraries that a test may load, with one function each; the first one
 * that is installed and not yet loaded is used. */
static const char *const dl_candidates[][2] = {
    {"libprotobuf-c.so.1", "protobuf_c_version"},
    {"libmicrohttpd.so.12", "MHD_get_version"},
    {"libcheck.so.0", "srunner_create"},
    {"libz.so.1", "deflate"},
};

START_TEST(test_dlopen_dlclose) {
  void *h = NULL;
  const char *fn = NULL;
  for (size_t i = 0; i < sizeof dl_candidates / sizeof dl_candidates[0]; i++) {
    if (dlopen(dl_candidates[i][0], RTLD_NOW | RTLD_NOLOAD) != NULL)
      continue; /* already loaded (the reference just taken is kept) */
    h = dlopen(dl_candidates[i][0], RTLD_NOW | RTLD_LOCAL);
    if (h != NULL) {
      fn = dl_candidates[i][1];
      break;
    }
  }
  if (h == NULL)
    return; /* nothing suitable installed */

  /* A batch before the load, so that the load is a change to detect. */
  pprofd__symres r;
  lookup((uint64_t)(uintptr_t)&symtest_global_fn, &r);

  void *p = dlsym(h, fn);
  ck_assert_ptr_nonnull(p);
  uint64_t addr = (uint64_t)(uintptr_t)p;
  lookup(addr, &r);
  check_well_formed(&r);
  ck_assert_int_ge(r.nframes, 1);
  ck_assert(strstr(r.symbol, fn) != NULL);

  ck_assert_int_eq(dlclose(h), 0);
  lookup(addr, &r);
  check_well_formed(&r);
  lookup((uint64_t)(uintptr_t)&symtest_global_fn, &r);
  ck_assert_str_eq(r.frames[0].name, "symtest_global_fn");
}
END_TEST

START_TEST(test_begin_failure_unlocks) {
  pprofd__symctx *ctx = (pprofd__symctx *)&ctx;
  pprofd__maps_path = "/nonexistent/maps";
  ck_assert_int_eq(pprofd__sym_begin(&ctx), PPROFD_EIO);
  ck_assert_ptr_null(ctx);
  pprofd__maps_path = "/proc/self/maps";
  /* Were the lock still held, this would hang until Check's timeout. */
  ck_assert_int_eq(pprofd__sym_begin(&ctx), 0);
  pprofd__sym_end(ctx);
  pprofd__sym_stats(NULL, NULL);
}
END_TEST

START_TEST(test_demangle) {
  char buf[64];
  ck_assert_ptr_nonnull(symtest_cxx_demangler());
  ck_assert_int_eq(
      pprofd__sym_demangle("_ZN7symtest6Widget4pokeEi", buf, sizeof buf), 1);
  ck_assert_str_eq(buf, "symtest::Widget::poke(int)");
  ck_assert_int_eq(pprofd__sym_demangle("main", buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "main");
  ck_assert_int_eq(pprofd__sym_demangle("_Znotvalid", buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "_Znotvalid");
  ck_assert_int_eq(pprofd__sym_demangle("_ZN7symtest6Widget4pokeEi", buf, 8),
                   1);
  ck_assert_str_eq(buf, "symtest");
  ck_assert_int_eq(pprofd__sym_demangle("x", buf, 0), 0);
  ck_assert_int_eq(pprofd__sym_demangle("", buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "");
}
END_TEST

/* Resolves the known addresses over and over from one thread. */
static void *hammer(void *arg) {
  const uint64_t *addrs = arg;
  for (int round = 0; round < 200; round++) {
    pprofd__symctx *ctx;
    if (pprofd__sym_begin(&ctx) != 0)
      return (void *)1;
    for (int i = 0; i < 3; i++) {
      pprofd__symres r;
      pprofd__sym_lookup(ctx, addrs[i], &r);
      if (r.nframes < 1 ||
          strstr(r.frames[r.nframes - 1].name, "symtest") == NULL) {
        pprofd__sym_end(ctx);
        return (void *)1;
      }
    }
    pprofd__sym_end(ctx);
  }
  return NULL;
}

START_TEST(test_threads) {
  uint64_t addrs[3] = {
      (uint64_t)(uintptr_t)&symtest_global_fn,
      (uint64_t)(uintptr_t)symtest_line_caller() - 1,
      (uint64_t)(uintptr_t)symtest_inl_outer(1) - 1,
  };
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, addrs), 0);
  for (int i = 0; i < 4; i++) {
    void *res;
    ck_assert_int_eq(pthread_join(t[i], &res), 0);
    ck_assert_ptr_null(res);
  }
}
END_TEST

/* A thread holding the symbolizer (a batch in progress) until told. */
static atomic_int batch_held, batch_release;

static void *hold_batch(void *arg) {
  pprofd__symctx *ctx;
  if (pprofd__sym_begin(&ctx) != 0)
    return NULL;
  atomic_store(&batch_held, 1);
  while (!atomic_load(&batch_release))
    usleep(1000);
  pprofd__sym_end(ctx);
  return NULL;
}

/* fork() does not wait for a batch in progress (it would wait forever
 * here: the batch ends only after fork returns), and the child, whose
 * symbolizer lock was held by a thread it does not have, starts afresh
 * and resolves. */
START_TEST(test_fork_during_batch) {
  uint64_t a = (uint64_t)(uintptr_t)&symtest_global_fn;
  pprofd__symres r;
  lookup(a, &r); /* the child inherits a populated symbolizer */
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, hold_batch, NULL), 0);
  while (!atomic_load(&batch_held))
    usleep(1000);
  pid_t pid = fork();
  if (pid == 0) {
    pprofd__symctx *ctx;
    if (pprofd__sym_begin(&ctx) != 0)
      _exit(2);
    pprofd__symres c;
    pprofd__sym_lookup(ctx, a, &c);
    int ok = c.nframes == 1 && strcmp(c.symbol, "symtest_global_fn") == 0;
    pprofd__sym_end(ctx);
    _exit(ok ? 0 : 3);
  }
  ck_assert_int_gt(pid, 0);
  atomic_store(&batch_release, 1);
  pthread_join(t, NULL);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *symbolize_suite(void) {
  Suite *s = suite_create("symbolize");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_global_function);
  tcase_add_test(tc, test_line_of_call);
  tcase_add_test(tc, test_inline_frames);
  tcase_add_test(tc, test_elf_symbol_only);
  tcase_add_test(tc, test_static_function);
  tcase_add_test(tc, test_shared_library);
  tcase_add_test(tc, test_cxx_method);
  tcase_add_test(tc, test_unknown_address);
  tcase_add_test(tc, test_cache);
  tcase_add_test(tc, test_dlopen_dlclose);
  tcase_add_test(tc, test_begin_failure_unlocks);
  tcase_add_test(tc, test_demangle);
  tcase_add_test(tc, test_threads);
  tcase_add_test(tc, test_fork_during_batch);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(symbolize_suite()); }
