/*
 * check_http_contention.c - end-to-end tests of the block and mutex
 * profiles from the demo's lock workers.
 *
 * See harness.h for the demo daemon and the helpers every end-to-end
 * test shares.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#include "../check_regex.h"
#include "../check_run.h"

/* block and mutex from the demo's lock workers (profiling on at rate 1):
 * proto, Go's text layouts, a delta, and pprof loading both forms. */
START_TEST(test_contention) {
  usleep(500 * 1000);
  static const char *const names[] = {"block", "mutex"};
  for (int k = 0; k < 2; k++) {
    char path[128];
    snprintf(path, sizeof path, "/debug/pprof/%s", names[k]);
    Perftools__Profiles__Profile *p = fetch_profile(path, names[k]);
    ck_assert_uint_eq(p->n_sample_type, 2);
    ck_assert_str_eq(p->string_table[p->sample_type[0]->type], "contentions");
    ck_assert_str_eq(p->string_table[p->sample_type[1]->type], "delay");
    ck_assert_str_eq(p->string_table[p->sample_type[1]->unit], "nanoseconds");
    ck_assert_str_eq(p->string_table[p->period_type->type], "contentions");
    ck_assert_int_eq(p->period, 1);
    ck_assert_uint_ge(p->n_sample, 1);
    /* The demo's holder (mutex) and waiter (block) are named. */
    const char *want = k == 0 ? "lock_worker" : "hold_shared_lock";
    int found = 0;
    for (size_t i = 0; i < p->n_function; i++)
      found |= strcmp(p->string_table[p->function[i]->name], want) == 0;
    ck_assert_msg(found, "%s: no %s", names[k], want);
    perftools__profiles__profile__free_unpacked(p, NULL);
    h_resp r;
    snprintf(path, sizeof path, "/debug/pprof/%s?debug=1", names[k]);
    get(path, &r);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
    assert_no_header(&r, "Content-Disposition");
    ck_assert_msg(matches(r.body, k == 0 ? "^--- contention:\ncycles/second="
                                           "[0-9]+\n"
                                         : "^--- mutex:\ncycles/second="
                                           "[0-9]+\nsampling period=[0-9]+"
                                           "\n"),
                  "%.200s", r.body);
    ck_assert(matches(r.body, "^[0-9]+ [0-9]+ @( 0x[0-9a-f]+)+$"));
    h_resp_free(&r);
  }
  Perftools__Profiles__Profile *p =
      fetch_profile("/debug/pprof/mutex?seconds=1", "mutex-delta");
  ck_assert_int_ge(p->duration_nanos, 900000000LL);
  for (size_t i = 0; i < p->n_sample; i++)
    ck_assert_int_ge(p->sample[i]->value[1], 0); /* cumulative: only grows */
  perftools__profiles__profile__free_unpacked(p, NULL);
  if (!h_have_go())
    return;
  char args[512], *out;
  snprintf(args, sizeof args, "-top %s/debug/pprof/mutex", demo.base);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof failed: %s", out);
  ck_assert_msg(strstr(out, "Type: delay") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "hold_shared_lock") != NULL, "%s", out);
  free(out);
  /* Text: pprof's legacy contention parser plus symbolz. */
  for (int k = 0; k < 2; k++) {
    snprintf(args, sizeof args, "-raw '%s/debug/pprof/%s?debug=1'", demo.base,
             names[k]);
    st = pprof_run(args, &out);
    ck_assert_msg(st == 0, "pprof failed: %s", out);
    ck_assert_msg(strstr(out, "lock_worker") != NULL, "%s", out);
    free(out);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http_contention");
  TCase *tc = demo_tcase("demo", 120);
  tcase_add_test(tc, test_contention);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
