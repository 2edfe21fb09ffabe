/*
 * check_http_metrics.c - end-to-end tests of the runtime metrics
 * endpoints against the demo daemon: /debug/vars parsed as JSON with Go's
 * expvar shape and MemStats names, /metrics in the text format (checked
 * by Prometheus's own linter, promtool) and in OpenMetrics when the
 * Accept header asks, HEAD, 405 for other methods, the request counters,
 * the index page's links and PPROFD_DISABLE.
 *
 * The promtool check needs the Debian package prometheus; without it the
 * test fails and says so.
 *
 * See harness.h for the demo daemon and the helpers every end-to-end
 * test shares.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#include "../check_json.h"
#include "../check_run.h"

/* What Prometheus 2.42 sends when it scrapes. */
#define PROM_ACCEPT                                                            \
  "Accept: application/openmetrics-text;version=1.0.0,application/"            \
  "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"      \
  "*/*;q=0.1"

/* Go's runtime.MemStats field names. */
static const char *const memstats_fields[] = {
    "Alloc",        "TotalAlloc",  "Sys",         "Lookups",       "Mallocs",
    "Frees",        "HeapAlloc",   "HeapSys",     "HeapIdle",      "HeapInuse",
    "HeapReleased", "HeapObjects", "StackInuse",  "StackSys",      "MSpanInuse",
    "MSpanSys",     "MCacheInuse", "MCacheSys",   "BuckHashSys",   "GCSys",
    "OtherSys",     "NextGC",      "LastGC",      "PauseTotalNs",  "PauseNs",
    "PauseEnd",     "NumGC",       "NumForcedGC", "GCCPUFraction", "EnableGC",
    "DebugGC",      "BySize"};

/* GETs /debug/vars and parses it. */
static jv *get_vars(void) {
  h_resp r;
  get("/debug/vars", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "application/json; charset=utf-8");
  ck_assert_str_eq(r.body + r.len - 3, "\n}\n");
  jv *doc = json_parse(r.body);
  ck_assert_msg(doc != NULL, "/debug/vars is not JSON: %s", r.body);
  h_resp_free(&r);
  return doc;
}

/* A number member of o, asserted present. */
static double num(const jv *o, const char *key) {
  const jv *v = json_get(o, key);
  ck_assert_msg(v != NULL && v->t == JNUM, "no number %s", key);
  return v->n;
}

START_TEST(test_vars) {
  /* The demo fills its 32 MiB cache as it starts: wait for it. */
  jv *doc = get_vars();
  for (int i = 0; i < 100 && num(json_get(doc, "memstats"), "Alloc") < 16e6;
       i++) {
    json_free(doc);
    usleep(100 * 1000);
    doc = get_vars();
  }
  ck_assert(doc->t == JOBJ);
  /* Every name, built-in or the application's, in Go's sorted order. */
  for (size_t i = 1; i < doc->len; i++)
    ck_assert_msg(strcmp(doc->k[i - 1], doc->k[i]) < 0, "%s before %s",
                  doc->k[i - 1], doc->k[i]);
  const jv *cmd = json_get(doc, "cmdline");
  ck_assert(cmd != NULL && cmd->t == JARR && cmd->len == 1);
  ck_assert_str_eq(cmd->v[0]->s, h_build_path("examples/pprofd-demo"));
  const jv *ms = json_get(doc, "memstats");
  ck_assert(ms != NULL && ms->t == JOBJ);
  for (size_t i = 0; i < ms->len; i++) {
    size_t k = 0;
    while (k < sizeof memstats_fields / sizeof *memstats_fields &&
           strcmp(memstats_fields[k], ms->k[i]) != 0)
      k++;
    ck_assert_msg(k < sizeof memstats_fields / sizeof *memstats_fields,
                  "memstats.%s is not a field of Go's MemStats", ms->k[i]);
  }
  /* The demo keeps 32 MiB of cache alive and churns the rest. */
  ck_assert(num(ms, "Alloc") > 16e6);
  ck_assert(num(ms, "HeapAlloc") == num(ms, "Alloc"));
  /* Alloc is an estimate; TotalAlloc is counted: both see the cache. */
  ck_assert(num(ms, "TotalAlloc") > 16e6);
  ck_assert(num(ms, "Sys") > num(ms, "Alloc"));
  ck_assert(num(ms, "Mallocs") >= num(ms, "Frees"));
  ck_assert(num(ms, "HeapObjects") > 0);
  (void)num(ms, "NumGC");
  /* The demo's variables, each as its kind prints. */
  ck_assert_str_eq(json_str(doc, "demo_mode"), "busy");
  ck_assert(num(doc, "demo_sessions_opened_total") >= 12);
  ck_assert(num(doc, "demo_sessions_open") >= 0);
  ck_assert(num(doc, "demo_uptime_seconds") > 0);
  double fill = num(doc, "demo_session_fill_ratio");
  ck_assert(fill >= 0 && fill <= 1);
  json_free(doc);
}
END_TEST

/* NumGC counts heap?gc=1 runs. */
START_TEST(test_vars_gc) {
  jv *doc = get_vars();
  double before = num(json_get(doc, "memstats"), "NumGC");
  json_free(doc);
  h_resp r;
  get("/debug/pprof/heap?gc=1&debug=1", &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  doc = get_vars();
  const jv *ms = json_get(doc, "memstats");
  ck_assert(num(ms, "NumGC") == before + 1);
  ck_assert(num(ms, "NumForcedGC") == before + 1);
  ck_assert(num(ms, "LastGC") / 1e9 > (double)time(NULL) - 60);
  json_free(doc);
}
END_TEST

/* The value of the sample line `sample value` in text; -1 if absent. */
static double sample_value(const char *text, const char *sample) {
  size_t n = strlen(sample);
  for (const char *p = text; p != NULL; p = strchr(p, '\n')) {
    if (*p == '\n')
      p++;
    if (strncmp(p, sample, n) == 0 && p[n] == ' ')
      return strtod(p + n + 1, NULL);
  }
  return -1;
}

/* Runs `promtool check metrics` (Prometheus's own parser and linter) on
 * body; fails the test when promtool is missing or objects. */
static void promtool_check(const char *body, size_t len) {
  char path[] = "/tmp/pprofd-metrics-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, body, len), (ssize_t)len);
  close(fd);
  char cmd[256], *out;
  snprintf(cmd, sizeof cmd,
           "command -v promtool >/dev/null || { echo promtool not found; "
           "exit 127; }; promtool check metrics < %s",
           path);
  int st = h_run(cmd, 60, &out);
  unlink(path);
  ck_assert_msg(st != 127,
                "promtool is not installed: install the Debian package "
                "prometheus (scripts/deps.sh does)");
  ck_assert_msg(st == 0, "promtool check metrics: %s", out);
  free(out);
}

START_TEST(test_metrics_text) {
  h_resp r;
  get("/metrics", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  assert_header(&r, "X-Content-Type-Options", "nosniff");
  assert_no_header(&r, "X-Go-Pprof");
  static const char *const families[][2] = {
      {"process_cpu_seconds_total", "counter"},
      {"process_resident_memory_bytes", "gauge"},
      {"process_virtual_memory_bytes", "gauge"},
      {"process_open_fds", "gauge"},
      {"process_max_fds", "gauge"},
      {"process_start_time_seconds", "gauge"},
      {"pprofd_heap_inuse_bytes", "gauge"},
      {"pprofd_heap_alloc_bytes_total", "counter"},
      {"pprofd_heap_allocs_total", "counter"},
      {"pprofd_heap_frees_total", "counter"},
      {"pprofd_threads", "gauge"},
      {"pprofd_threads_created_total", "counter"},
      {"pprofd_mutex_wait_seconds_total", "counter"},
      {"pprofd_block_wait_seconds_total", "counter"},
      {"pprofd_own_memory_bytes", "gauge"},
      {"demo_sessions_open", "gauge"},
      {"demo_sessions_opened_total", "counter"},
      {"demo_session_fill_ratio", "gauge"},
      {"demo_uptime_seconds", "gauge"},
  };
  for (size_t i = 0; i < sizeof families / sizeof *families; i++) {
    char line[160];
    snprintf(line, sizeof line, "# HELP %s ", families[i][0]);
    ck_assert_msg(strstr(r.body, line) != NULL, "no %s", line);
    snprintf(line, sizeof line, "\n# TYPE %s %s\n%s ", families[i][0],
             families[i][1], families[i][0]);
    ck_assert_msg(strstr(r.body, line) != NULL, "no %s", line);
  }
  ck_assert(sample_value(r.body, "process_resident_memory_bytes") > 16e6);
  ck_assert(sample_value(r.body, "pprofd_heap_inuse_bytes") > 16e6);
  ck_assert(sample_value(r.body, "pprofd_threads") >= 8);
  ck_assert(sample_value(r.body, "pprofd_mutex_wait_seconds_total") > 0);
  ck_assert_ptr_null(strstr(r.body, "demo_mode")); /* a string */
  ck_assert(strstr(r.body, "# EOF") == NULL);
  promtool_check(r.body, r.len);
  h_resp_free(&r);
}
END_TEST

START_TEST(test_openmetrics) {
  char url[256];
  snprintf(url, sizeof url, "%s/metrics", demo.base);
  h_resp r;
  ck_assert_int_eq(h_http_hdr("GET", url, PROM_ACCEPT, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type",
                "application/openmetrics-text; version=1.0.0; charset=utf-8");
  ck_assert_str_eq(r.body + r.len - 6, "# EOF\n");
  ck_assert(strstr(r.body, "\n# TYPE pprofd_heap_allocs counter\n"
                           "pprofd_heap_allocs_total "));
  ck_assert(strstr(r.body, "\n# TYPE demo_sessions_opened counter\n"));
  h_resp_free(&r);
  /* A scraper that asks for the text format gets it. */
  ck_assert_int_eq(
      h_http_hdr("GET", url, "Accept: text/plain;version=0.0.4", NULL, 0, &r),
      0);
  assert_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  h_resp_free(&r);
}
END_TEST

START_TEST(test_head_and_methods) {
  static const char *const paths[] = {"/metrics", "/debug/vars"};
  static const char *const ctypes[] = {
      "text/plain; version=0.0.4; charset=utf-8",
      "application/json; charset=utf-8"};
  for (int i = 0; i < 2; i++) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", demo.base, paths[i]);
    h_resp r;
    ck_assert_int_eq(h_http("HEAD", url, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "Content-Type", ctypes[i]);
    ck_assert_uint_eq(r.len, 0);
    h_resp_free(&r);
    static const char *const methods[] = {"POST", "PUT", "DELETE"};
    for (int m = 0; m < 3; m++) {
      ck_assert_int_eq(
          h_http(methods[m], url, m == 0 ? "x" : NULL, m == 0 ? 1 : 0, &r), 0);
      ck_assert_int_eq(r.status, 405);
      assert_header(&r, "Allow", "GET, HEAD");
      assert_header(&r, "X-Content-Type-Options", "nosniff");
      ck_assert_str_eq(r.body, "Method Not Allowed\n");
      h_resp_free(&r);
    }
  }
}
END_TEST

/* Only the exact paths exist, as with Go's ServeMux. */
START_TEST(test_paths) {
  static const char *const missing[] = {"/metrics/", "/debug/vars/",
                                        "/debug/varsx", "/Metrics"};
  for (int i = 0; i < 4; i++) {
    h_resp r;
    get(missing[i], &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "404 page not found\n");
    h_resp_free(&r);
  }
  h_resp r;
  get("/debug/vars?debug=1", &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
}
END_TEST

START_TEST(test_request_counts) {
  h_resp r;
  get("/debug/pprof/cmdline", &r);
  h_resp_free(&r);
  get("/debug/pprof/no-such-profile", &r);
  h_resp_free(&r);
  get("/elsewhere", &r);
  h_resp_free(&r);
  char url[256];
  snprintf(url, sizeof url, "%s/metrics", demo.base);
  ck_assert_int_eq(h_http("PUT", url, NULL, 0, &r), 0);
  h_resp_free(&r);
  get("/metrics", &r);
  ck_assert(sample_value(r.body, "pprofd_requests_total{path=\"/debug/pprof/"
                                 "cmdline\",code=\"200\"}") >= 1);
  ck_assert(sample_value(r.body, "pprofd_requests_total{path=\"other\","
                                 "code=\"404\"}") >= 2);
  ck_assert(sample_value(r.body, "pprofd_requests_total{path=\"/metrics\","
                                 "code=\"405\"}") >= 1);
  h_resp_free(&r);
}
END_TEST

START_TEST(test_index_links) {
  h_resp r;
  get("/debug/pprof/", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strstr(r.body, "<td>disable</td><td>nothing"));
  ck_assert(strstr(r.body, "<li><a href=\"../vars\">/debug/vars</a>: Go&#39;s "
                           "expvar JSON: cmdline, memstats and the "
                           "application&#39;s variables (5)</li>\n"));
  ck_assert(strstr(r.body, "<li><a href=\"../../metrics\">/metrics</a>: "));
  ck_assert_str_eq(r.body + r.len - 15, "</body>\n</html>");
  h_resp_free(&r);
}
END_TEST

/* PPROFD_DISABLE turns the endpoints off: 404, listed as off. */
START_TEST(test_disabled) {
  h_stop(&demo);
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", "PPROFD_DISABLE=metrics,vars",
                 NULL};
  start_demo_env(env);
  h_resp r;
  get("/metrics", &r);
  ck_assert_int_eq(r.status, 404);
  ck_assert_str_eq(r.body, "404 page not found\n");
  h_resp_free(&r);
  get("/debug/vars", &r);
  ck_assert_int_eq(r.status, 404);
  h_resp_free(&r);
  get("/debug/pprof/", &r);
  ck_assert(strstr(r.body, "<td>disable</td><td>off: metrics, vars</td>"));
  ck_assert(strstr(r.body, "<li>/debug/vars (off): "));
  ck_assert(strstr(r.body, "<li>/metrics (off): "));
  h_resp_free(&r);
}
END_TEST

/* A name PPROFD_DISABLE does not know is said on stderr; the ones it
 * knows are still off. */
START_TEST(test_disable_typo) {
  char cmd[1024], *out;
  snprintf(cmd, sizeof cmd,
           "PPROFD_ADDR=127.0.0.1:0 PPROFD_DISABLE=metrics,varz %s "
           "--seconds 0.3",
           h_build_path("examples/pprofd-demo"));
  int st = h_run(cmd, 30, &out);
  ck_assert_msg(st == 0, "%s", out);
  ck_assert_msg(strstr(out, "pprofd: PPROFD_DISABLE=metrics,varz: ignoring "
                            "unknown name \"varz\" (known: metrics, "
                            "vars)\n") != NULL,
                "%s", out);
  free(out);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http_metrics");
  TCase *tc = demo_tcase("demo", 120);
  tcase_add_test(tc, test_vars);
  tcase_add_test(tc, test_vars_gc);
  tcase_add_test(tc, test_metrics_text);
  tcase_add_test(tc, test_openmetrics);
  tcase_add_test(tc, test_head_and_methods);
  tcase_add_test(tc, test_paths);
  tcase_add_test(tc, test_request_counts);
  tcase_add_test(tc, test_index_links);
  tcase_add_test(tc, test_disable_typo);
  suite_add_tcase(s, tc);
  /* Restarts the daemon inside the (forked) test: its own test case. */
  TCase *tdis = demo_tcase_each("disabled", 60);
  tcase_add_test(tdis, test_disabled);
  suite_add_tcase(s, tdis);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
