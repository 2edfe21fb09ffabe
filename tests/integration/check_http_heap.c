/*
 * check_http_heap.c - end-to-end tests of the heap and allocs profiles:
 * protobuf, Go's text layout, a delta, and go tool pprof loading them
 * (with the goroutine profile).
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

/* The index of the sample type named t, or -1. */
static int type_index(const Perftools__Profiles__Profile *p, const char *t) {
  for (size_t i = 0; i < p->n_sample_type; i++)
    if (strcmp(h_str(p, p->sample_type[i]->type), t) == 0)
      return (int)i;
  return -1;
}

START_TEST(test_heap_proto) {
  usleep(300 * 1000);
  Perftools__Profiles__Profile *p =
      fetch_profile("/debug/pprof/heap?gc=1", "heap");
  const char *types[] = {"alloc_objects", "alloc_space", "inuse_objects",
                         "inuse_space"};
  const char *units[] = {"count", "bytes", "count", "bytes"};
  ck_assert_uint_eq(p->n_sample_type, 4);
  for (int i = 0; i < 4; i++) {
    ck_assert_str_eq(h_str(p, p->sample_type[i]->type), types[i]);
    ck_assert_str_eq(h_str(p, p->sample_type[i]->unit), units[i]);
  }
  ck_assert_str_eq(h_str(p, p->period_type->type), "space");
  ck_assert_str_eq(h_str(p, p->period_type->unit), "bytes");
  ck_assert_int_eq(p->period, 524288);
  ck_assert_int_eq(p->default_sample_type, 0);
  ck_assert_int_eq(p->duration_nanos, 0);
  ck_assert_uint_gt(p->n_sample, 0);
  ck_assert(h_has_function(p, "alloc_worker"));
  for (size_t i = 0; i < p->n_sample; i++) {
    const Perftools__Profiles__Sample *s = p->sample[i];
    ck_assert_int_ge(s->value[1], s->value[3]);
    for (size_t j = 0; j < s->n_label; j++) {
      ck_assert_str_eq(h_str(p, s->label[j]->key), "bytes");
      ck_assert_int_gt(s->label[j]->num, 0);
    }
  }
  perftools__profiles__profile__free_unpacked(p, NULL);
  p = fetch_profile("/debug/pprof/allocs", "allocs");
  ck_assert_str_eq(h_str(p, p->default_sample_type), "alloc_space");
  perftools__profiles__profile__free_unpacked(p, NULL);
}
END_TEST

START_TEST(test_heap_text_and_delta) {
  usleep(300 * 1000);
  h_resp r;
  get("/debug/pprof/heap?debug=1", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
  ck_assert_msg(matches(r.body, "^heap profile: [0-9]+: [0-9]+ \\[[0-9]+: "
                                "[0-9]+\\] @ heap/1048576$"),
                "%.300s", r.body);
  ck_assert(matches(r.body, "^[0-9]+: [0-9]+ \\[[0-9]+: [0-9]+\\] @( "
                            "0x[0-9a-f]+)+$"));
  ck_assert(matches(r.body, "^#\t0x[0-9a-f]+\talloc_worker\\+0x"));
  ck_assert(strstr(r.body, "\n\n# ") != NULL);
  h_resp_free(&r);
  get("/debug/pprof/allocs?debug=1", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strncmp(r.body, "heap profile: ", 14) == 0);
  h_resp_free(&r);
  Perftools__Profiles__Profile *p =
      fetch_profile("/debug/pprof/allocs?seconds=1", "allocs-delta");
  ck_assert_int_ge(p->duration_nanos, 900000000LL);
  ck_assert_int_le(p->duration_nanos, 2500000000LL);
  int a = type_index(p, "alloc_space");
  ck_assert_int_ge(a, 0);
  for (size_t i = 0; i < p->n_sample; i++) {
    int nonzero = 0;
    for (size_t j = 0; j < p->sample[i]->n_value; j++)
      nonzero |= p->sample[i]->value[j] != 0;
    ck_assert(nonzero);
    ck_assert_int_ge(p->sample[i]->value[a], 0); /* allocs only grow */
  }
  perftools__profiles__profile__free_unpacked(p, NULL);
}
END_TEST

START_TEST(test_go_pprof_heap_goroutine) {
  if (!h_have_go())
    return;
  usleep(300 * 1000);
  char args[512], *out;
  snprintf(args, sizeof args,
           "-symbolize=none -sample_index=inuse_space -top "
           "%s/debug/pprof/heap",
           demo.base);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof failed: %s", out);
  ck_assert_msg(strstr(out, "Type: inuse_space") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "alloc_worker") != NULL, "%s", out);
  free(out);
  /* Text heap profile: pprof's legacy parser plus symbolz. */
  snprintf(args, sizeof args, "-top '%s/debug/pprof/heap?debug=1'", demo.base);
  st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof failed: %s", out);
  ck_assert_msg(strstr(out, "alloc_worker") != NULL, "%s", out);
  free(out);
  snprintf(args, sizeof args, "-seconds 1 -top %s/debug/pprof/allocs",
           demo.base);
  st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof -seconds failed: %s", out);
  free(out);
  pprof_raw_has("/debug/pprof/goroutine?debug=1", "cpu_worker");
  pprof_raw_has("/debug/pprof/goroutine", "session_manager");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http_heap");
  TCase *tc = demo_tcase("demo", 120);
  tcase_add_test(tc, test_heap_proto);
  tcase_add_test(tc, test_heap_text_and_delta);
  tcase_add_test(tc, test_go_pprof_heap_goroutine);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
