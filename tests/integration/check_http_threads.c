/*
 * check_http_threads.c - end-to-end tests of the thread profiles:
 * goroutine in every form (protobuf, debug=1, the debug=2 dump),
 * threadcreate, and deltas of both.
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

/* A count profile's one-second delta: its one sample type, a duration of
 * about the second asked for, and no zero sample (merging drops them). */
static void assert_count_delta(const Perftools__Profiles__Profile *p,
                               const char *type) {
  ck_assert_uint_eq(p->n_sample_type, 1);
  ck_assert_str_eq(h_str(p, p->sample_type[0]->type), type);
  ck_assert_str_eq(h_str(p, p->sample_type[0]->unit), "count");
  ck_assert_int_ge(p->duration_nanos, 900000000LL);
  ck_assert_int_le(p->duration_nanos, 3000000000LL);
  for (size_t i = 0; i < p->n_sample; i++)
    for (size_t j = 0; j < p->sample[i]->n_value; j++)
      ck_assert_int_ne(p->sample[i]->value[j], 0);
}

START_TEST(test_goroutine) {
  Perftools__Profiles__Profile *p =
      fetch_profile("/debug/pprof/goroutine", "goroutine");
  ck_assert_str_eq(h_str(p, p->sample_type[0]->type), "goroutine");
  ck_assert_str_eq(h_str(p, p->period_type->type), "goroutine");
  ck_assert_int_eq(p->period, 1);
  int64_t total = 0;
  for (size_t i = 0; i < p->n_sample; i++)
    total += p->sample[i]->value[0];
  ck_assert_int_ge(total, 7); /* main, seven workers, the server */
  ck_assert(h_has_function(p, "cpu_worker"));
  ck_assert(h_has_function(p, "session_manager"));
  perftools__profiles__profile__free_unpacked(p, NULL);
  h_resp r;
  get("/debug/pprof/goroutine?debug=1", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(matches(r.body, "^goroutine profile: total [0-9]+$"));
  ck_assert(matches(r.body, "^[0-9]+ @( 0x[0-9a-f]+)+$"));
  ck_assert_msg(matches(r.body, "^# labels: \\{.*\"threads\":\"cpu-\\*\""),
                "%.500s", r.body);
  h_resp_free(&r);
  get("/debug/pprof/goroutine?debug=2", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
  ck_assert_msg(matches(r.body, "^thread [0-9]+ \"lock-1\" \\["), "%.500s",
                r.body);
  ck_assert(matches(r.body, "^cpu_worker\\+0x[0-9a-f]+$"));
  ck_assert(matches(r.body, "^\t/.*examples/demo.c:[0-9]+$"));
  h_resp_free(&r);
}
END_TEST

START_TEST(test_threadcreate) {
  Perftools__Profiles__Profile *p =
      fetch_profile("/debug/pprof/threadcreate", "threadcreate");
  ck_assert_str_eq(h_str(p, p->sample_type[0]->type), "threadcreate");
  ck_assert_str_eq(h_str(p, p->period_type->type), "threadcreate");
  ck_assert_int_eq(p->period, 1);
  /* The demo's seven workers come from main(); the main thread was there
   * before pprofd. */
  ck_assert(h_has_function(p, "main"));
  ck_assert(h_has_function(p, "pprofd_thread_created_before_pprofd"));
  perftools__profiles__profile__free_unpacked(p, NULL);
  h_resp r;
  get("/debug/pprof/threadcreate?debug=1", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(matches(r.body, "^threadcreate profile: total [0-9]+$"));
  ck_assert(matches(r.body, "^[0-9]+ @( 0x[0-9a-f]+)+$"));
  ck_assert(!matches(r.body, "^[0-9]+ @$"));
  h_resp_free(&r);
  get("/debug/pprof/goroutine?debug=2", &r);
  ck_assert_msg(matches(r.body, "^created by main in thread [0-9]+$"), "%.800s",
                r.body);
  h_resp_free(&r);
  if (!h_have_go())
    return;
  pprof_raw_has("/debug/pprof/threadcreate?debug=1", NULL);
}
END_TEST

/* Deltas of the thread profiles (p1 - p0 over `seconds`): the demo's
 * spawner creates a thread every 200 ms, so a threadcreate delta counts
 * those creations; goroutine deltas decode; debug!=0 and seconds=0 get
 * Go's errors; go tool pprof loads a delta. */
START_TEST(test_thread_deltas) {
  Perftools__Profiles__Profile *p = fetch_profile(
      "/debug/pprof/threadcreate?seconds=1", "threadcreate-delta");
  assert_count_delta(p, "threadcreate");
  /* About five in the second; two is a bound a slow machine still meets. */
  int64_t spawned = sum_in(p, "spawn_helper_thread");
  ck_assert_msg(spawned >= 2, "spawn_helper_thread created %lld threads",
                (long long)spawned);
  perftools__profiles__profile__free_unpacked(p, NULL);
  p = fetch_profile("/debug/pprof/goroutine?seconds=1", "goroutine-delta");
  assert_count_delta(p, "goroutine");
  perftools__profiles__profile__free_unpacked(p, NULL);
  h_resp r;
  get("/debug/pprof/goroutine?seconds=1&debug=1", &r);
  assert_go_error(&r, 400, "seconds and debug params are incompatible\n");
  h_resp_free(&r);
  get("/debug/pprof/threadcreate?seconds=1&debug=2", &r);
  assert_go_error(&r, 400, "seconds and debug params are incompatible\n");
  h_resp_free(&r);
  get("/debug/pprof/goroutine?seconds=0", &r);
  assert_go_error(&r, 400,
                  "invalid value for \"seconds\" - must be a "
                  "positive integer\n");
  h_resp_free(&r);
  if (!h_have_go())
    return;
  pprof_raw_has("/debug/pprof/threadcreate?seconds=1", "spawn_helper_thread");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http_threads");
  TCase *tc = demo_tcase("demo", 120);
  tcase_add_test(tc, test_goroutine);
  tcase_add_test(tc, test_threadcreate);
  tcase_add_test(tc, test_thread_deltas);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
