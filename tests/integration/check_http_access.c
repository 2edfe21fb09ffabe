/*
 * check_http_access.c - end-to-end tests of who may ask: the Host header
 * check (DNS rebinding), the escaping of redirects.
 *
 * See harness.h for the demo daemon and the helpers every end-to-end
 * test shares.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "../check_run.h"

/* GET base+path with extra curl arguments into r, asserting curl ran. */
static void get_args(const char *path, const char *args, h_resp *r) {
  char *url;
  ck_assert_int_gt(asprintf(&url, "%s%s", demo.base, path), 0);
  ck_assert_msg(h_http_args("GET", url, args, NULL, 0, r) == 0,
                "curl failed: %.200s %s", url, args);
  free(url);
}

/* The demo's port, as text. */
static const char *port(void) { return strrchr(demo.addr, ':') + 1; }

START_TEST(test_host_rebinding) {
  h_resp r;
  char args[256];
  /* The repro: a rebound name must not get argv. */
  snprintf(args, sizeof args, "-H 'Host: evil.example:%s'", port());
  get_args("/debug/pprof/cmdline", args, &r);
  ck_assert_int_eq(r.status, 421);
  assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
  ck_assert_ptr_nonnull(strstr(r.body, "Host \"evil.example:"));
  ck_assert_ptr_nonnull(strstr(r.body, "DNS rebinding"));
  ck_assert_ptr_null(strstr(r.body, "pprofd-demo"));
  h_resp_free(&r);
  /* Every path: the index, the metrics, unknown paths, redirects. */
  const char *paths[] = {"/debug/pprof/", "/debug/vars",  "/metrics",
                         "/elsewhere",    "/debug/pprof", "/debug/pprof/heap"};
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
    get_args(paths[i], "-H 'Host: evil.example'", &r);
    ck_assert_msg(r.status == 421, "%s: %d", paths[i], r.status);
    h_resp_free(&r);
  }
  /* Loopback names and addresses, with and without the port. */
  const char *ok[] = {"localhost",    "localhost:1", "127.0.0.1",
                      "127.9.9.9:80", "[::1]:6060",  "LOCALHOST."};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    snprintf(args, sizeof args, "-H 'Host: %s'", ok[i]);
    get_args("/debug/pprof/cmdline", args, &r);
    ck_assert_msg(r.status == 200, "%s: %d", ok[i], r.status);
    h_resp_free(&r);
  }
  /* The index page says what it accepts. */
  get("/debug/pprof/", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strstr(r.body, "host_check"));
  h_resp_free(&r);
}
END_TEST

START_TEST(test_host_allowed_list) {
  h_stop(&demo);
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0",
                 "PPROFD_ALLOWED_HOSTS=pprof.internal, .svc.example", NULL};
  start_demo_env(env);
  h_resp r;
  const char *hosts[] = {"pprof.internal", "pprof.internal:1", "a.svc.example",
                         "svc.example:9"};
  for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
    char args[128];
    snprintf(args, sizeof args, "-H 'Host: %s'", hosts[i]);
    get_args("/debug/pprof/cmdline", args, &r);
    ck_assert_msg(r.status == 200, "%s: %d", hosts[i], r.status);
    h_resp_free(&r);
  }
  get_args("/debug/pprof/cmdline", "-H 'Host: evil.example'", &r);
  ck_assert_int_eq(r.status, 421);
  h_resp_free(&r);
  get("/debug/pprof/", &r);
  ck_assert_ptr_nonnull(strstr(r.body, "pprof.internal, .svc.example"));
  h_resp_free(&r);
}
END_TEST

/* A path that decodes to a backslash must not redirect to a URL that a
 * browser reads as another host: Go escapes the Location. */
START_TEST(test_redirect_escaped) {
  h_resp r;
  get_args("/%5Cevil.example/./", "--path-as-is", &r);
  ck_assert_int_eq(r.status, 301);
  assert_header(&r, "Location", "/%5Cevil.example/");
  ck_assert_str_eq(r.body,
                   "<a href=\"/%5Cevil.example/\">Moved Permanently</a>.\n\n");
  h_resp_free(&r);
  get_args("/%5Cevil.example/./?a=%5C&b", "--path-as-is", &r);
  ck_assert_int_eq(r.status, 301);
  assert_header(&r, "Location", "/%5Cevil.example/?a=%5C&b");
  ck_assert_str_eq(r.body, "<a href=\"/%5Cevil.example/?a=%5C&amp;b\">Moved "
                           "Permanently</a>.\n\n");
  h_resp_free(&r);
  get_args("/debug/pprof/./%22x%22", "--path-as-is", &r);
  ck_assert_int_eq(r.status, 301);
  assert_header(&r, "Location", "/debug/pprof/%22x%22");
  h_resp_free(&r);
  get_args("//evil.example/./x", "--path-as-is", &r);
  ck_assert_int_eq(r.status, 301);
  assert_header(&r, "Location", "/evil.example/x");
  h_resp_free(&r);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http_access");
  TCase *tc = demo_tcase("demo", 120);
  tcase_add_test(tc, test_host_rebinding);
  tcase_add_test(tc, test_redirect_escaped);
  suite_add_tcase(s, tc);
  /* Tests that restart the daemon with settings of their own. */
  TCase *each = demo_tcase_each("settings", 120);
  tcase_add_test(each, test_host_allowed_list);
  suite_add_tcase(s, each);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
