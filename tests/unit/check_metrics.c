/*
 * check_metrics.c - the runtime metrics endpoints' render path
 * (core/metrics.c) and what it gathers: the process's figures
 * (sample/procstat.c), the heap's totals, the contention delays, the
 * request counts (core/reqstats.c) and the application's variables.
 * Every family has HELP and TYPE lines; counters never step back, even
 * when a rate change rescales the heap's estimates; the heap figures
 * follow what was allocated; /debug/vars parses as JSON with Go's field
 * names; PPROFD_DISABLE's endpoints are the two paths.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/ialloc.h"
#include "core/conf.h"
#include "core/metrics.h"
#include "core/reqstats.h"
#include "core/runtime.h"
#include "pprofd.h"
#include "sample/contention.h"
#include "sample/heap.h"
#include "sample/procstat.h"

#include "../check_json.h"
#include "../check_run.h"

/* No query parameters. */
static const char *no_param(void *arg, const char *key) { return NULL; }

/* Serves /metrics (accept: the Accept header) or /debug/vars into a new
 * string. */
static char *serve(int vars, const char *accept, const char **ctype) {
  pprofd__request rq = {.param = no_param, .method = "GET", .accept = accept};
  pprofd__runtime_config(&rq.cfg);
  pprofd__reply rp;
  pprofd__reply_init(&rp);
  if (vars)
    pprofd__serve_vars(&rq, &rp);
  else
    pprofd__serve_metrics(&rq, &rp);
  ck_assert_uint_eq(rp.status, 200);
  if (ctype != NULL)
    *ctype = rp.ctype;
  pprofd__buf_putc(&rp.body, '\0');
  size_t len;
  char *s = pprofd__buf_steal(&rp.body, &len);
  pprofd__reply_free(&rp);
  return s;
}

/* The value of the first sample line that starts with `sample` followed
 * by a space; -1 when there is none. */
static double value_of(const char *text, const char *sample) {
  size_t n = strlen(sample);
  for (const char *p = text; p != NULL && *p; p = strchr(p, '\n')) {
    if (*p == '\n')
      p++;
    if (strncmp(p, sample, n) == 0 && p[n] == ' ')
      return strtod(p + n + 1, NULL);
  }
  return -1;
}

/* Every family has a HELP and a TYPE line before its samples, and every
 * other line is a sample of the family last typed. */
static void assert_shape(const char *text) {
  char fam[256] = "", help[256] = "";
  for (const char *p = text; *p;) {
    const char *e = strchr(p, '\n');
    ck_assert_ptr_nonnull(e);
    char line[1024];
    size_t n =
        (size_t)(e - p) < sizeof line - 1 ? (size_t)(e - p) : sizeof line - 1;
    memcpy(line, p, n);
    line[n] = '\0';
    if (strncmp(line, "# HELP ", 7) == 0) {
      sscanf(line + 7, "%255s", help);
    } else if (strncmp(line, "# TYPE ", 7) == 0) {
      char type[32];
      ck_assert_int_eq(sscanf(line + 7, "%255s %31s", fam, type), 2);
      ck_assert_msg(strcmp(fam, help) == 0, "no HELP before %s", line);
      ck_assert(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
    } else {
      ck_assert_msg(fam[0] && strncmp(line, fam, strlen(fam)) == 0,
                    "sample outside its family: %s", line);
    }
    p = e + 1;
  }
}

START_TEST(test_metrics_text) {
  const char *ct;
  char *t = serve(0, NULL, &ct);
  ck_assert_str_eq(ct, "text/plain; version=0.0.4; charset=utf-8");
  assert_shape(t);
  ck_assert(value_of(t, "process_cpu_seconds_total") >= 0);
  ck_assert(value_of(t, "process_resident_memory_bytes") > 0);
  ck_assert(value_of(t, "process_virtual_memory_bytes") >
            value_of(t, "process_resident_memory_bytes"));
  ck_assert(value_of(t, "process_open_fds") >= 3);
  ck_assert(value_of(t, "process_max_fds") >= value_of(t, "process_open_fds"));
  double start = value_of(t, "process_start_time_seconds");
  ck_assert(start > (double)time(NULL) - 3600 &&
            start < (double)time(NULL) + 1);
  ck_assert(value_of(t, "pprofd_threads") >= 1);
  ck_assert(value_of(t, "pprofd_own_memory_bytes") >= 0);
  if (pprofd__heap_unavailable() == NULL) {
    ck_assert(value_of(t, "pprofd_heap_inuse_bytes") >= 0);
    ck_assert(value_of(t, "pprofd_heap_alloc_bytes_total") >= 0);
    ck_assert(value_of(t, "pprofd_heap_allocs_total") >= 0);
    ck_assert(value_of(t, "pprofd_heap_frees_total") >= 0);
  }
  if (pprofd__contention_unavailable() == NULL) {
    ck_assert(value_of(t, "pprofd_mutex_wait_seconds_total") >= 0);
    ck_assert(value_of(t, "pprofd_block_wait_seconds_total") >= 0);
    ck_assert(value_of(t, "pprofd_threads_created_total") >= 0);
  }
  pprofd__ifree(t);
  t = serve(0, "application/openmetrics-text; version=1.0.0", &ct);
  ck_assert_str_eq(ct, "application/openmetrics-text; version=1.0.0; "
                       "charset=utf-8");
  ck_assert(strstr(t, "# TYPE process_cpu_seconds counter\n"));
  ck_assert(strstr(t, "\nprocess_cpu_seconds_total "));
  ck_assert_str_eq(t + strlen(t) - 6, "# EOF\n");
  pprofd__ifree(t);
}
END_TEST

/* The application's numbers are families of their own; strings are not
 * (Prometheus values are numbers). */
START_TEST(test_metrics_vars) {
  pprofd_var *c = pprofd_var_counter_new("jobs_total", "Jobs done.", NULL);
  pprofd_var *g = pprofd_var_int_new("queue", NULL, NULL);
  pprofd_var *f = pprofd_var_float_new("ratio", "A \"ratio\".", NULL);
  ck_assert_ptr_nonnull(pprofd_var_string_new("build", NULL, NULL));
  pprofd_var_int_add(c, 5);
  pprofd_var_int_set(g, -3);
  pprofd_var_float_set(f, 0.125);
  char *t = serve(0, NULL, NULL);
  assert_shape(t);
  ck_assert(strstr(t, "# HELP jobs_total Jobs done.\n# TYPE jobs_total "
                      "counter\njobs_total 5\n"));
  ck_assert(strstr(t, "# HELP queue Application variable.\n# TYPE queue "
                      "gauge\nqueue -3\n"));
  ck_assert(strstr(t, "# TYPE ratio gauge\nratio 0.125\n"));
  ck_assert_ptr_null(strstr(t, "build"));
  pprofd__ifree(t);
  t = serve(0, "application/openmetrics-text", NULL);
  ck_assert(strstr(t, "# HELP jobs Jobs done.\n# TYPE jobs counter\n"
                      "jobs_total 5\n"));
  ck_assert(strstr(t, "# HELP ratio A \\\"ratio\\\".\n"));
  pprofd__ifree(t);
}
END_TEST

/* Counters never step back. The heap's allocation and free counts are
 * unsampled with the rate in force, so dropping the rate to 1 makes the
 * raw estimate fall by orders of magnitude; the served value holds. */
START_TEST(test_counters_monotonic) {
  if (pprofd__heap_unavailable() != NULL)
    return;
  ck_assert_int_eq(pprofd_set_mem_profile_rate(4096), 0);
  static void *keep[20000];
  for (int i = 0; i < 20000; i++)
    keep[i] = malloc(64 + i % 512);
  char *t0 = serve(0, NULL, NULL);
  double allocs0 = value_of(t0, "pprofd_heap_allocs_total");
  double bytes0 = value_of(t0, "pprofd_heap_alloc_bytes_total");
  double inuse0 = value_of(t0, "pprofd_heap_inuse_bytes");
  ck_assert_msg(allocs0 > 5000, "allocs %f", allocs0);
  ck_assert_msg(bytes0 >= 20000 * 64.0, "bytes %f", bytes0);
  ck_assert_msg(inuse0 > 1e6, "in use %f", inuse0);
  ck_assert_int_eq(pprofd_set_mem_profile_rate(1), 0);
  for (int i = 0; i < 20000; i++)
    free(keep[i]);
  char *t1 = serve(0, NULL, NULL);
  ck_assert(value_of(t1, "pprofd_heap_allocs_total") >= allocs0);
  ck_assert(value_of(t1, "pprofd_heap_frees_total") >=
            value_of(t0, "pprofd_heap_frees_total"));
  ck_assert(value_of(t1, "pprofd_heap_alloc_bytes_total") >= bytes0);
  ck_assert(value_of(t1, "process_cpu_seconds_total") >=
            value_of(t0, "process_cpu_seconds_total"));
  /* With sampling off the sampled families are gone, not zero. */
  ck_assert_int_eq(pprofd_set_mem_profile_rate(0), 0);
  char *t2 = serve(0, NULL, NULL);
  ck_assert(value_of(t2, "pprofd_heap_inuse_bytes") == -1);
  ck_assert(value_of(t2, "pprofd_heap_allocs_total") == -1);
  ck_assert(value_of(t2, "pprofd_heap_alloc_bytes_total") >= bytes0);
  pprofd__ifree(t0);
  pprofd__ifree(t1);
  pprofd__ifree(t2);
}
END_TEST

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Waits for the lock the test holds. */
static void *waiter(void *arg) {
  pthread_mutex_lock(&lock);
  pthread_mutex_unlock(&lock);
  return arg;
}

/* A contended wait shows in both wait counters. */
START_TEST(test_wait_seconds) {
  if (pprofd__contention_unavailable() != NULL)
    return;
  ck_assert_int_eq(pprofd_set_block_profile_rate(1), 0);
  ck_assert_int_eq(pprofd_set_mutex_profile_fraction(1), 0);
  pthread_mutex_lock(&lock);
  pthread_t t;
  pthread_create(&t, NULL, waiter, NULL);
  usleep(50 * 1000);
  pthread_mutex_unlock(&lock);
  pthread_join(t, NULL);
  char *s = serve(0, NULL, NULL);
  ck_assert_msg(value_of(s, "pprofd_block_wait_seconds_total") >= 0.04, "%s",
                s);
  ck_assert(value_of(s, "pprofd_mutex_wait_seconds_total") >= 0.04);
  ck_assert(value_of(s, "pprofd_threads_created_total") >= 1);
  pprofd__ifree(s);
}
END_TEST

START_TEST(test_requests) {
  pprofd__reqstats_count("/metrics", 200);
  pprofd__reqstats_count("/metrics", 200);
  pprofd__reqstats_count("/debug/pprof/heap", 200);
  pprofd__reqstats_count("/debug/pprof/heap", 500);
  pprofd__reqstats_count("/debug/pprof/", 200);
  pprofd__reqstats_count("/debug/pprof/symbol", 405);
  pprofd__reqstats_count("/debug/pprof/nosuch", 404);
  pprofd__reqstats_count("/anything/else", 404);
  pprofd__reqstats_count("/debug/vars", 200);
  char *t = serve(0, NULL, NULL);
  assert_shape(t);
  static const struct {
    const char *sample;
    double n;
  } want[] = {
      {"pprofd_requests_total{path=\"/debug/pprof/\",code=\"200\"}", 1},
      {"pprofd_requests_total{path=\"/debug/pprof/heap\",code=\"200\"}", 1},
      {"pprofd_requests_total{path=\"/debug/pprof/heap\",code=\"500\"}", 1},
      {"pprofd_requests_total{path=\"/debug/pprof/symbol\",code=\"405\"}", 1},
      {"pprofd_requests_total{path=\"/debug/vars\",code=\"200\"}", 1},
      {"pprofd_requests_total{path=\"/metrics\",code=\"200\"}", 2},
      {"pprofd_requests_total{path=\"other\",code=\"404\"}", 2},
  };
  const char *prev = t;
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    ck_assert_msg(value_of(t, want[i].sample) == want[i].n, "%s",
                  want[i].sample);
    const char *at = strstr(t, want[i].sample);
    ck_assert_msg(at > prev, "%s out of order", want[i].sample);
    prev = at;
  }
  pprofd__ifree(t);
}
END_TEST

START_TEST(test_vars_json) {
  ck_assert_ptr_nonnull(pprofd_var_string_new("version", NULL, NULL));
  ck_assert_int_eq(
      pprofd_var_string_set(pprofd_var_lookup("version"), "1.2 <beta>"), 0);
  const char *ct;
  char *t = serve(1, NULL, &ct);
  ck_assert_str_eq(ct, "application/json; charset=utf-8");
  ck_assert(strncmp(t, "{\n\"cmdline\": [", 14) == 0);
  jv *doc = json_parse(t);
  ck_assert_msg(doc != NULL, "not JSON: %s", t);
  const jv *cmd = json_get(doc, "cmdline");
  ck_assert(cmd != NULL && cmd->t == JARR && cmd->len >= 1);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  ck_assert(n > 0);
  exe[n] = '\0';
  ck_assert(strstr(exe, strrchr(cmd->v[0]->s, '/') + 1) != NULL);
  const jv *ms = json_get(doc, "memstats");
  ck_assert(ms != NULL && ms->t == JOBJ);
  static const char *const always[] = {"Sys", "LastGC", "NumGC", "NumForcedGC"};
  for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
    ck_assert_msg(json_get(ms, always[i]) != NULL, "no %s", always[i]);
  if (pprofd__heap_unavailable() == NULL && pprofd_mem_profile_rate() > 0) {
    static const char *const heap[] = {"Alloc", "TotalAlloc", "Mallocs",
                                       "Frees", "HeapAlloc",  "HeapObjects"};
    for (size_t i = 0; i < sizeof heap / sizeof heap[0]; i++)
      ck_assert_msg(json_get(ms, heap[i]) != NULL, "no %s", heap[i]);
  }
  ck_assert_str_eq(json_str(doc, "version"), "1.2 <beta>");
  ck_assert(strstr(t, "\"version\": \"1.2 \\u003cbeta\\u003e\"\n}\n"));
  json_free(doc);
  pprofd__ifree(t);
}
END_TEST

/* NumGC counts ?gc=1 runs. */
START_TEST(test_vars_gc) {
  pprofd__heap_gc();
  pprofd__heap_gc();
  char *t = serve(1, NULL, NULL);
  jv *doc = json_parse(t);
  const jv *gc = json_get(json_get(doc, "memstats"), "NumGC");
  ck_assert(gc != NULL && gc->n == 2);
  const jv *last = json_get(json_get(doc, "memstats"), "LastGC");
  ck_assert(last != NULL && last->n / 1e9 > (double)time(NULL) - 60);
  json_free(doc);
  pprofd__ifree(t);
}
END_TEST

START_TEST(test_procstat) {
  pprofd__procstat ps;
  ck_assert_int_eq(pprofd__procstat_read(&ps), 0);
  ck_assert(ps.rss_bytes > 0 && ps.vsize_bytes >= ps.rss_bytes);
  ck_assert(ps.data_bytes > 0);
  ck_assert(ps.threads >= 1);
  ck_assert(ps.cpu_seconds >= 0);
  /* Check's runner itself holds a few descriptors; open one more. */
  int64_t before = ps.open_fds;
  int fd = dup(0);
  ck_assert(pprofd__procstat_read(&ps) == 0 && ps.open_fds == before + 1);
  close(fd);
}
END_TEST

START_TEST(test_endpoints) {
  ck_assert_uint_eq(pprofd__metrics_endpoint("/metrics"),
                    PPROFD__DISABLE_METRICS);
  ck_assert_uint_eq(pprofd__metrics_endpoint("/debug/vars"),
                    PPROFD__DISABLE_VARS);
  ck_assert_uint_eq(pprofd__metrics_endpoint("/metrics/"), 0);
  ck_assert_uint_eq(pprofd__metrics_endpoint("/debug/vars/x"), 0);
  ck_assert_uint_eq(pprofd__metrics_endpoint("/debug/pprof/"), 0);
}
END_TEST

static Suite *metrics_suite(void) {
  Suite *s = suite_create("metrics");
  TCase *tc = tcase_create("metrics");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_metrics_text);
  tcase_add_test(tc, test_metrics_vars);
  tcase_add_test(tc, test_counters_monotonic);
  tcase_add_test(tc, test_wait_seconds);
  tcase_add_test(tc, test_requests);
  suite_add_tcase(s, tc);
  tc = tcase_create("vars");
  tcase_add_test(tc, test_vars_json);
  tcase_add_test(tc, test_vars_gc);
  suite_add_tcase(s, tc);
  tc = tcase_create("figures");
  tcase_add_test(tc, test_procstat);
  tcase_add_test(tc, test_endpoints);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(metrics_suite()); }
