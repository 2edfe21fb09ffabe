/*
 * check_text.c - Go's legacy text layouts: quoting, label sets, frame
 * lines and the count-profile layout that pprof's legacy parser reads.
 */
#include <check.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "base/ialloc.h"
#include "capture/unwind.h"
#include "encode/text.h"
#include "pprofd.h"

#include "../check_run.h"

static char *render(pprofd__snapshot *s, const char *name) {
  pprofd__buf b;
  pprofd__buf_init(&b, 1 << 20);
  ck_assert_int_eq(pprofd__text_count_profile(s, name, &b), 0);
  pprofd__buf_putc(&b, '\0');
  return pprofd__buf_steal(&b, NULL);
}

START_TEST(test_quote) {
  pprofd__buf b;
  pprofd__buf_init(&b, 1024);
  pprofd__text_quote(&b, "a\"b\\c\n\t\x01\x7f\xc3\xa9");
  pprofd__buf_putc(&b, '\0');
  ck_assert_str_eq(b.data, "\"a\\\"b\\\\c\\n\\t\\x01\\x7f\xc3\xa9\"");
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_labels_sorted) {
  pprofd__label lb[] = {
      {"zone", "b", 0}, {"bytes", NULL, 5}, {"app", "x\"y", 0}};
  pprofd__sample smp = {NULL, 0, 3, lb, {0}};
  pprofd__buf b;
  pprofd__buf_init(&b, 1024);
  pprofd__text_labels(&b, &smp);
  pprofd__buf_putc(&b, '\0');
  ck_assert_str_eq(b.data, "{\"app\":\"x\\\"y\", \"zone\":\"b\"}");
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_count_layout) {
  pprofd__snapshot s;
  pprofd__snap_init_count(&s, "things");
  uint64_t a[] = {0x1000, 0x2000}, b[] = {0x3000};
  int64_t one = 1;
  pprofd__label lb = {"state", "idle", 0};
  pprofd__snap_add(&s, b, 1, &one, NULL, 0);
  pprofd__snap_add(&s, a, 2, &one, NULL, 0);
  pprofd__snap_add(&s, a, 2, &one, NULL, 0);
  pprofd__snap_add(&s, b, 1, &one, &lb, 1);
  pprofd__snap_add(&s, NULL, 0, &one, NULL, 0);
  char *t = render(&s, "things");
  /* Count descending, then key ascending ("@ 0x3001" before "@ 0x3001\n#
   * labels"); return addresses are one more than the locations; frames
   * without symbols print their address only. */
  ck_assert_str_eq(t, "things profile: total 5\n"
                      "2 @ 0x1001 0x2001\n"
                      "#\t0x1000\n"
                      "#\t0x2000\n"
                      "\n"
                      "1 @ 0x0\n"
                      "\n"
                      "1 @ 0x3001\n"
                      "#\t0x3000\n"
                      "\n"
                      "1 @ 0x3001\n"
                      "# labels: {\"state\":\"idle\"}\n"
                      "#\t0x3000\n"
                      "\n");
  pprofd__ifree(t);
  pprofd__snap_free(&s);
}
END_TEST

/* Captures the stack of its caller. */
__attribute__((noinline)) static int grab(uint64_t *locs) {
  int n = pprofd__unwind_here(locs, 32, 0);
  __asm__ volatile("" ::: "memory");
  return n;
}

__attribute__((noinline)) static int capture_here(uint64_t *locs) {
  int n = grab(locs);
  __asm__ volatile("" ::: "memory");
  return n;
}

START_TEST(test_frames_symbolized) {
  uint64_t locs[32];
  int n = capture_here(locs);
  ck_assert_int_ge(n, 2);
  pprofd__snapshot s;
  pprofd__snap_init_count(&s, "things");
  int64_t one = 1;
  pprofd__snap_add(&s, locs, (size_t)n, &one, NULL, 0);
  char *t = render(&s, "things");
  regex_t rx;
  ck_assert_int_eq(regcomp(&rx,
                           "^#\t0x[0-9a-f]+\tcapture_here\\+0x[0-9a-f]+\t+/"
                           ".*tests/unit/check_text.c:[0-9]+$",
                           REG_EXTENDED | REG_NEWLINE),
                   0);
  ck_assert_msg(regexec(&rx, t, 0, NULL, 0) == 0, "%s", t);
  regfree(&rx);
  ck_assert_ptr_nonnull(strstr(t, "\ttest_frames_symbolized_fn+0x"));
  pprofd__ifree(t);
  pprofd__snap_free(&s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("text");
  TCase *tc = tcase_create("encode");
  tcase_add_test(tc, test_quote);
  tcase_add_test(tc, test_labels_sorted);
  tcase_add_test(tc, test_count_layout);
  tcase_add_test(tc, test_frames_symbolized);
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
