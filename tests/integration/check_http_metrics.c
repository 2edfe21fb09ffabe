/*
 * check_http_metrics.c - end-to-end tests of the runtime metrics
 * endpoints against the demo daemon: /debug/vars parsed as JSON with Go's
 * expvar shape and MemStats names, /metrics in the text format (checked
 * by Prometheus's own linter, promtool) and in OpenMetrics when the
 * Accept header asks, HEAD, 405 for other methods, the request counters,
 * the index page's links, PPROFD_DISABLE, and a real Prometheus server
 * scraping the demo every second until its queries return values and it
 * reports the target up without a scrape error.
 *
 * The Prometheus test needs the Debian package prometheus (which
 * scripts/deps.sh installs); without it the test fails and says so.
 *
 * See harness.h for the demo daemon and the helpers every end-to-end
 * test shares.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
  /* The demo fills its 32 MiB cache as it starts: wait for it. Alloc is
   * an estimate from the samples and may pass 16 MB while the fill is
   * still under way, so TotalAlloc is waited for too. */
  jv *doc = get_vars();
  for (int i = 0;
       i < 100 && (num(json_get(doc, "memstats"), "Alloc") < 16e6 ||
                   num(json_get(doc, "memstats"), "TotalAlloc") < 16e6);
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
                            "vars, cmdline, symbol, trace, gc)\n") != NULL,
                "%s", out);
  free(out);
}
END_TEST

/* The Prometheus configuration and alert rule the README shows
 * (examples/prometheus) are valid, and the alert fires on a growing heap
 * only, linking to that instance's heap profile. */
START_TEST(test_shipped_configs) {
  const char *top = getenv("PPROFD_TOP_SRCDIR");
  ck_assert_ptr_nonnull(top);
  char cmd[2048], *out;
  snprintf(cmd, sizeof cmd,
           "command -v promtool >/dev/null || { echo promtool not found; "
           "exit 127; }; cd %s/examples/prometheus && "
           "promtool check config prometheus.yml && "
           "promtool test rules pprofd-alerts_test.yml",
           top);
  int st = h_run(cmd, 60, &out);
  ck_assert_msg(st != 127,
                "promtool is not installed: install the Debian package "
                "prometheus (scripts/deps.sh does)");
  ck_assert_msg(st == 0, "%s", out);
  free(out);
}
END_TEST

/* ---- a real Prometheus server ---- */

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  socklen_t len = sizeof sa;
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  close(fd);
  return ntohs(sa.sin_port);
}

/* Percent-encodes s for a query string. */
static void query_escape(const char *s, char *out, size_t len) {
  size_t k = 0;
  for (; *s && k + 4 < len; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
      out[k++] = (char)c;
    else
      k += (size_t)snprintf(out + k, len - k, "%%%02X", c);
  }
  out[k] = '\0';
}

/* Asks Prometheus at port for query; returns the value of its first
 * result, or -1 when it has none yet (or Prometheus does not answer). */
static double prom_query(int port, const char *query) {
  char q[512], url[700];
  query_escape(query, q, sizeof q);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/query?query=%s", port,
           q);
  h_resp r;
  double v = -1;
  if (h_http("GET", url, NULL, 0, &r) == 0 && r.status == 200) {
    jv *doc = json_parse(r.body);
    const jv *res = json_get(json_get(doc, "data"), "result");
    if (res != NULL && res->t == JARR && res->len > 0) {
      const jv *val = json_get(res->v[0], "value");
      if (val != NULL && val->t == JARR && val->len == 2 &&
          val->v[1]->t == JSTR)
        v = strtod(val->v[1]->s, NULL);
    }
    json_free(doc);
  }
  h_resp_free(&r);
  return v;
}

/* Prometheus's view of its one target: 1 when up with no error, 0 when
 * it reports anything else (its error in why), -1 before it has one. */
static int prom_target(int port, char *why, size_t len) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/targets", port);
  h_resp r;
  int state = -1;
  if (h_http("GET", url, NULL, 0, &r) == 0 && r.status == 200) {
    jv *doc = json_parse(r.body);
    const jv *ts = json_get(json_get(doc, "data"), "activeTargets");
    if (ts != NULL && ts->t == JARR && ts->len == 1) {
      const char *health = json_str(ts->v[0], "health");
      const char *err = json_str(ts->v[0], "lastError");
      const char *surl = json_str(ts->v[0], "scrapeUrl");
      if (health != NULL && strcmp(health, "unknown") != 0) {
        state = strcmp(health, "up") == 0 && err != NULL && err[0] == '\0' &&
                surl != NULL && strstr(surl, "/metrics") != NULL;
        snprintf(why, len, "health %s, lastError \"%s\"", health,
                 err != NULL ? err : "?");
      }
    }
    json_free(doc);
  }
  h_resp_free(&r);
  return state;
}

/* Starts prometheus scraping the demo every second; returns its pid. It
 * is killed when the test's process ends, however it ends; its files
 * (dir) are left for a failed test to show. */
static pid_t start_prometheus(const char *dir, int port) {
  char conf[512], data[512], log[512], listen[64];
  snprintf(conf, sizeof conf, "%s/prometheus.yml", dir);
  snprintf(data, sizeof data, "--storage.tsdb.path=%s/data", dir);
  snprintf(log, sizeof log, "%s/prometheus.log", dir);
  snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", port);
  FILE *f = fopen(conf, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f,
          "global:\n"
          "  scrape_interval: 1s\n"
          "  scrape_timeout: 1s\n"
          "  evaluation_interval: 1s\n"
          "scrape_configs:\n"
          "  - job_name: pprofd\n"
          "    static_configs:\n"
          "      - targets: ['%s']\n",
          demo.addr);
  fclose(f);
  char cfg[600];
  snprintf(cfg, sizeof cfg, "--config.file=%s", conf);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* A failed assertion ends the test's process at once: the server
     * must not outlive it. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execlp("prometheus", "prometheus", cfg, data, listen, "--log.level=warn",
           (char *)NULL);
    _exit(127);
  }
  return pid;
}

START_TEST(test_prometheus) {
  char *out;
  int have = h_run("command -v prometheus", 10, &out);
  free(out);
  ck_assert_msg(have == 0,
                "prometheus is not installed: the end-to-end scrape test "
                "needs the Debian package prometheus (scripts/deps.sh "
                "installs it)");
  char dir[] = "/tmp/pprofd-prometheus-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  int port = free_port();
  pid_t pid = start_prometheus(dir, port);
  static const char *const queries[] = {
      "process_resident_memory_bytes{job=\"pprofd\"}",
      "pprofd_heap_inuse_bytes{job=\"pprofd\"}",
      "rate(pprofd_heap_allocs_total{job=\"pprofd\"}[10s])",
  };
  double got[3] = {-1, -1, -1};
  char why[512] = "no scrape yet";
  int up = -1, ups = 0;
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (double waited = 0; waited < 45; usleep(500 * 1000)) {
    int status;
    ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0,
                  "prometheus exited; see %s/prometheus.log", dir);
    up = prom_target(port, why, sizeof why);
    ck_assert_msg(up != 0, "Prometheus reports the target: %s", why);
    for (int i = 0; i < 3; i++)
      if (got[i] < 0)
        got[i] = prom_query(port, queries[i]);
    /* Every scrape so far was up: as many scrapes as ups, both counted
     * at one instant by one query. */
    double down = prom_query(port, "count_over_time(up{job=\"pprofd\"}[1m]) "
                                   "- sum_over_time(up{job=\"pprofd\"}[1m])");
    ck_assert_msg(down <= 0, "%g scrapes were not up", down);
    double n = prom_query(port, "count_over_time(up{job=\"pprofd\"}[1m])");
    ups = n > 0 ? (int)n : 0;
    if (got[0] >= 0 && got[1] >= 0 && got[2] >= 0 && ups >= 5)
      break;
    clock_gettime(CLOCK_MONOTONIC, &t);
    waited = (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
  }
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  (void)h_run(cmd, 30, &out);
  free(out);
  for (int i = 0; i < 3; i++)
    ck_assert_msg(got[i] >= 0, "no value for %s (target: %s)", queries[i], why);
  ck_assert(got[0] > 16e6 && got[1] > 16e6);
  ck_assert_msg(up == 1 && ups >= 5, "target %s after %d scrapes", why, ups);
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
  tcase_add_test(tc, test_shipped_configs);
  tcase_add_test(tc, test_prometheus);
  suite_add_tcase(s, tc);
  /* Restarts the daemon inside the (forked) test: its own test case. */
  TCase *tdis = demo_tcase_each("disabled", 60);
  tcase_add_test(tdis, test_disabled);
  suite_add_tcase(s, tdis);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
