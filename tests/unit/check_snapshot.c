/*
 * check_snapshot.c - the neutral profile model: adding, merging and Go's
 * delta arithmetic.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "model/snapshot.h"

#include "../check_run.h"

static const pprofd__vtype two[] = {{"contentions", "count"},
                                    {"delay", "nanoseconds"}};

START_TEST(test_add_copies) {
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  ck_assert_int_gt(s.time_nanos, 1600000000LL * 1000000000LL);
  pprofd__snap_set_types(&s, two, 2);
  uint64_t locs[] = {0x1000, 0x2000};
  int64_t v[] = {3, 300};
  char key[] = "thread", val[] = "worker";
  pprofd__label lb = {key, val, 0};
  ck_assert_ptr_nonnull(pprofd__snap_add(&s, locs, 2, v, &lb, 1));
  locs[0] = 0;
  key[0] = val[0] = 'X';
  ck_assert_uint_eq(s.nsamples, 1);
  ck_assert_uint_eq(s.samples[0].locs[0], 0x1000);
  ck_assert_str_eq(s.samples[0].labels[0].key, "thread");
  ck_assert_str_eq(s.samples[0].labels[0].str, "worker");
  ck_assert_int_eq(s.samples[0].values[1], 300);
  pprofd__snap_free(&s);
}
END_TEST

START_TEST(test_depth_cap_and_growth) {
  pprofd__snapshot s;
  pprofd__snap_init_count(&s, "things");
  ck_assert_str_eq(s.types[0].type, "things");
  ck_assert_str_eq(s.period_type.unit, "count");
  ck_assert_int_eq(s.period, 1);
  uint64_t deep[PPROFD__MAX_DEPTH + 50];
  for (int i = 0; i < PPROFD__MAX_DEPTH + 50; i++)
    deep[i] = 0x1000 + (uint64_t)i;
  int64_t one = 1;
  for (int i = 0; i < 10000; i++)
    ck_assert_ptr_nonnull(
        pprofd__snap_add(&s, deep, PPROFD__MAX_DEPTH + 50, &one, NULL, 0));
  ck_assert_uint_eq(s.nsamples, 10000);
  ck_assert_uint_eq(s.samples[9999].nlocs, PPROFD__MAX_DEPTH);
  ck_assert_int_eq(pprofd__snap_merge(&s, 1), 0);
  ck_assert_uint_eq(s.nsamples, 1);
  ck_assert_int_eq(s.samples[0].values[0], 10000);
  pprofd__snap_free(&s);
}
END_TEST

START_TEST(test_merge_by_stack_and_labels) {
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  pprofd__snap_set_types(&s, two, 2);
  uint64_t a[] = {1, 2, 3}, b[] = {1, 2, 4};
  int64_t v[] = {1, 10};
  pprofd__label la = {"k", "x", 0}, lb = {"k", "y", 0}, ln = {"bytes", NULL, 8};
  pprofd__snap_add(&s, a, 3, v, &la, 1);
  pprofd__snap_add(&s, b, 3, v, &la, 1);
  pprofd__snap_add(&s, a, 3, v, &la, 1); /* merges into the first */
  pprofd__snap_add(&s, a, 3, v, &lb, 1); /* other label value */
  pprofd__snap_add(&s, a, 2, v, &la, 1); /* shorter stack */
  pprofd__snap_add(&s, a, 3, v, &ln, 1); /* numeric label */
  pprofd__snap_add(&s, a, 3, v, &ln, 1);
  ck_assert_int_eq(pprofd__snap_merge(&s, 0), 0);
  ck_assert_uint_eq(s.nsamples, 5);
  ck_assert_int_eq(s.samples[0].values[0], 2);
  ck_assert_int_eq(s.samples[0].values[1], 20);
  ck_assert_uint_eq(s.samples[1].locs[2], 4);
  ck_assert_int_eq(s.samples[4].values[0], 2);
  pprofd__snap_free(&s);
}
END_TEST

START_TEST(test_delta) {
  pprofd__snapshot p0, p1, d;
  pprofd__snap_init(&p0);
  pprofd__snap_init(&p1);
  pprofd__snap_init(&d);
  pprofd__snap_set_types(&p0, two, 2);
  pprofd__snap_set_types(&p1, two, 2);
  p0.period_type = p1.period_type = two[0];
  p0.period = p1.period = 1;
  p0.time_nanos = 1000;
  p1.time_nanos = 1000 + 1000000000;
  uint64_t a[] = {1, 2}, b[] = {3}, c[] = {5};
  int64_t v5[] = {5, 50}, v7[] = {7, 70}, v2[] = {2, 20}, v1[] = {1, 10};
  pprofd__snap_add(&p0, a, 2, v5, NULL, 0);
  pprofd__snap_add(&p0, b, 1, v2, NULL, 0);
  pprofd__snap_add(&p0, c, 1, v2, NULL, 0);
  pprofd__snap_add(&p1, a, 2, v7, NULL, 0); /* grew by 2 */
  pprofd__snap_add(&p1, b, 1, v2, NULL, 0); /* unchanged: dropped */
  pprofd__snap_add(&p1, c, 1, v1, NULL, 0); /* shrank: negative kept */
  ck_assert_int_eq(pprofd__snap_delta(&d, &p0, &p1), 0);
  ck_assert_int_eq(d.time_nanos, p1.time_nanos);
  ck_assert_int_eq(d.duration_nanos, 1000000000);
  ck_assert_int_eq(d.ntypes, 2);
  ck_assert_uint_eq(d.nsamples, 2);
  ck_assert_int_eq(d.samples[0].values[0], 2);
  ck_assert_int_eq(d.samples[0].values[1], 20);
  ck_assert_int_eq(d.samples[1].values[0], -1);
  ck_assert_int_eq(d.samples[1].values[1], -10);
  pprofd__snap_free(&d);
  /* A numeric label that drifted between the collections (heap's average
   * size) does not split a stack in two: p1's label is kept. */
  pprofd__snap_init(&d);
  pprofd__snap_free(&p0);
  pprofd__snap_free(&p1);
  pprofd__snap_init(&p0);
  pprofd__snap_init(&p1);
  pprofd__snap_set_types(&p0, two, 2);
  pprofd__snap_set_types(&p1, two, 2);
  pprofd__label b0 = {"bytes", NULL, 100}, b1 = {"bytes", NULL, 120};
  pprofd__snap_add(&p0, a, 2, v5, &b0, 1);
  pprofd__snap_add(&p1, a, 2, v7, &b1, 1);
  ck_assert_int_eq(pprofd__snap_delta(&d, &p0, &p1), 0);
  ck_assert_uint_eq(d.nsamples, 1);
  ck_assert_int_eq(d.samples[0].values[0], 2);
  ck_assert_int_eq(d.samples[0].labels[0].num, 120);
  pprofd__snap_free(&p0);
  pprofd__snap_free(&p1);
  pprofd__snap_free(&d);
}
END_TEST

int main(void) {
  Suite *s = suite_create("snapshot");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_add_copies);
  tcase_add_test(tc, test_depth_cap_and_growth);
  tcase_add_test(tc, test_merge_by_stack_and_labels);
  tcase_add_test(tc, test_delta);
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
