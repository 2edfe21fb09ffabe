/*
 * check_http_custom.c - end-to-end tests of a custom profile and the
 * symbol endpoint: the demo's demo.sessions as protobuf and as text, the
 * addresses in it resolved by /symbol (GET and POST), go tool pprof
 * loading both forms, and a daemon that serves addresses only.
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

/* Fetches and decodes the demo's custom profile. */
static Perftools__Profiles__Profile *fetch_sessions(const char *query) {
  h_resp r;
  char path[256];
  snprintf(path, sizeof path, "/debug/pprof/demo.sessions%s", query);
  get(path, &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "application/octet-stream");
  assert_header(&r, "Content-Disposition",
                "attachment; filename=\"demo.sessions\"");
  assert_header(&r, "X-Content-Type-Options", "nosniff");
  assert_no_header(&r, "Content-Encoding");
  Perftools__Profiles__Profile *p = h_profile(r.body, r.len);
  ck_assert_msg(p != NULL, "body is not one gzipped profile");
  h_resp_free(&r);
  const char *bad = h_profile_invariants(p);
  ck_assert_msg(bad == NULL, "invariant: %s", bad);
  return p;
}

START_TEST(test_custom_proto) {
  usleep(300 * 1000); /* let the session manager open some sessions */
  Perftools__Profiles__Profile *p = fetch_sessions("?debug=abc&gc=1");
  ck_assert_uint_eq(p->n_sample_type, 1);
  ck_assert_str_eq(h_str(p, p->sample_type[0]->type), "demo.sessions");
  ck_assert_str_eq(h_str(p, p->sample_type[0]->unit), "count");
  ck_assert_str_eq(h_str(p, p->period_type->type), "demo.sessions");
  ck_assert_int_eq(p->period, 1);
  ck_assert_int_eq(p->duration_nanos, 0);
  ck_assert_int_eq(p->default_sample_type, 0);
  ck_assert_uint_ge(p->n_sample, 2);
  /* Both call sites, by name, with the demo's file and real lines. */
  ck_assert(h_has_function(p, "open_session_from_accept"));
  ck_assert(h_has_function(p, "open_session_from_resume"));
  ck_assert(h_has_function(p, "session_manager"));
  int saw_file = 0;
  for (size_t i = 0; i < p->n_function; i++) {
    const char *f = h_str(p, p->function[i]->filename);
    if (strstr(f, "examples/demo.c") != NULL && f[0] == '/')
      saw_file = 1;
  }
  ck_assert(saw_file);
  for (size_t i = 0; i < p->n_location; i++) {
    const Perftools__Profiles__Location *l = p->location[i];
    for (size_t j = 0; j < l->n_line; j++) {
      const char *fn = h_str(p, p->function[l->line[j]->function_id - 1]->name);
      if (strcmp(fn, "session_manager") == 0)
        ck_assert_int_gt(l->line[j]->line, 100);
    }
  }
  /* mapping[0] is the executable, with a build-id and full symbols. */
  ck_assert_uint_ge(p->n_mapping, 2);
  const Perftools__Profiles__Mapping *m = p->mapping[0];
  ck_assert(strstr(h_str(p, m->filename), "pprofd-demo") != NULL);
  ck_assert_uint_eq(strlen(h_str(p, m->build_id)), 40);
  ck_assert(m->has_functions);
  ck_assert(m->has_filenames);
  ck_assert(m->has_line_numbers);
  ck_assert_uint_gt(m->memory_limit, m->memory_start);
  /* Counts add up to the sessions open, each a positive count. */
  int64_t total = 0;
  for (size_t i = 0; i < p->n_sample; i++) {
    ck_assert_int_gt(p->sample[i]->value[0], 0);
    total += p->sample[i]->value[0];
  }
  ck_assert_int_gt(total, 0);
  perftools__profiles__profile__free_unpacked(p, NULL);
}
END_TEST

START_TEST(test_custom_text) {
  usleep(300 * 1000);
  h_resp r;
  get("/debug/pprof/demo.sessions?debug=1", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
  assert_no_header(&r, "Content-Disposition");
  ck_assert_msg(matches(r.body, "^demo.sessions profile: total [0-9]+$"), "%s",
                r.body);
  ck_assert(matches(r.body, "^[0-9]+ @( 0x[0-9a-f]+)+$"));
  ck_assert(matches(r.body, "^#\t0x[0-9a-f]+\topen_session_from_accept\\+0x"
                            "[0-9a-f]+\t+/.*examples/demo.c:[0-9]+$"));
  h_resp_free(&r);
}
END_TEST

START_TEST(test_symbol) {
  h_resp r;
  get("/debug/pprof/symbol", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
  ck_assert_str_eq(r.body, "num_symbols: 1\n");
  h_resp_free(&r);
  /* Addresses from a served profile resolve to their functions. */
  Perftools__Profiles__Profile *p = fetch_sessions("");
  uint64_t addr = 0;
  for (size_t i = 0; i < p->n_location && addr == 0; i++) {
    const Perftools__Profiles__Location *l = p->location[i];
    if (l->n_line > 0 &&
        strcmp(h_str(p, p->function[l->line[0]->function_id - 1]->name),
               "open_session_from_accept") == 0)
      addr = l->address;
  }
  perftools__profiles__profile__free_unpacked(p, NULL);
  ck_assert(addr != 0);
  char q[256], want[256];
  snprintf(q, sizeof q, "/debug/pprof/symbol?0x%llx+junk+0+0x10+%llu",
           (unsigned long long)addr, (unsigned long long)addr);
  get(q, &r);
  snprintf(want, sizeof want,
           "num_symbols: 1\n0x%llx open_session_from_accept\n"
           "0x%llx open_session_from_accept\n",
           (unsigned long long)addr, (unsigned long long)addr);
  ck_assert_str_eq(r.body, want);
  h_resp_free(&r);
  char url[512], body[128];
  snprintf(url, sizeof url, "%s/debug/pprof/symbol", demo.base);
  int n = snprintf(body, sizeof body, "0X%llX+0x1_0+0xffffffffffffffffff",
                   (unsigned long long)addr);
  ck_assert_int_eq(h_http("POST", url, body, (size_t)n, &r), 0);
  ck_assert_int_eq(r.status, 200);
  snprintf(want, sizeof want,
           "num_symbols: 1\n0x%llx open_session_from_"
           "accept\n",
           (unsigned long long)addr);
  ck_assert_str_eq(r.body, want);
  h_resp_free(&r);
  /* A trailing newline makes the last word unparsable, as in Go. */
  n = snprintf(body, sizeof body, "0x%llx\n", (unsigned long long)addr);
  ck_assert_int_eq(h_http("POST", url, body, (size_t)n, &r), 0);
  ck_assert_str_eq(r.body, "num_symbols: 1\n");
  h_resp_free(&r);
}
END_TEST

START_TEST(test_go_pprof_proto) {
  if (!h_have_go())
    return;
  usleep(300 * 1000);
  char args[512], *out;
  /* -symbolize=none: the names must come from the profile itself. */
  snprintf(args, sizeof args,
           "-symbolize=none -top %s/debug/pprof/demo.sessions", demo.base);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof failed: %s", out);
  ck_assert_msg(strstr(out, "open_session_from_accept") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "File: pprofd-demo") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "Type: demo.sessions") != NULL, "%s", out);
  free(out);
  snprintf(args, sizeof args, "-raw %s/debug/pprof/demo.sessions", demo.base);
  st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof -raw failed: %s", out);
  ck_assert_msg(matches(out, "open_session_from_resume .*demo.c:[0-9]+"), "%s",
                out);
  free(out);
}
END_TEST

START_TEST(test_go_pprof_text_symbolz) {
  if (!h_have_go())
    return;
  usleep(300 * 1000);
  char args[512], *out;
  /* A text profile has addresses only: pprof POSTs them to /symbol. */
  snprintf(args, sizeof args, "-top '%s/debug/pprof/demo.sessions?debug=1'",
           demo.base);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof failed: %s", out);
  ck_assert_msg(strstr(out, "open_session_from_accept") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "session_manager") != NULL, "%s", out);
  free(out);
}
END_TEST

/* The unsymbolized daemon: addresses only, symbolized by clients. */
START_TEST(test_unsymbolized) {
  h_stop(&demo);
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", "PPROFD_SYMBOLIZE=0", NULL};
  start_demo_env(env);
  usleep(300 * 1000);
  Perftools__Profiles__Profile *p = fetch_sessions("");
  ck_assert_uint_eq(p->n_function, 0);
  ck_assert(!p->mapping[0]->has_functions);
  ck_assert_uint_gt(p->n_location, 0);
  perftools__profiles__profile__free_unpacked(p, NULL);
  if (!h_have_go())
    return;
  char args[512], *out;
  snprintf(args, sizeof args,
           "-symbolize=remote -top %s/debug/pprof/demo.sessions", demo.base);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof failed: %s", out);
  ck_assert_msg(strstr(out, "open_session_from_accept") != NULL, "%s", out);
  free(out);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http_custom");
  TCase *tc = demo_tcase("demo", 120);
  tcase_add_test(tc, test_custom_proto);
  tcase_add_test(tc, test_custom_text);
  tcase_add_test(tc, test_symbol);
  tcase_add_test(tc, test_go_pprof_proto);
  tcase_add_test(tc, test_go_pprof_text_symbolz);
  suite_add_tcase(s, tc);
  /* Restarts the daemon inside the (forked) test: its own test case. */
  TCase *tunsymb = demo_tcase_each("unsymbolized", 120);
  tcase_add_test(tunsymb, test_unsymbolized);
  suite_add_tcase(s, tunsymb);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
