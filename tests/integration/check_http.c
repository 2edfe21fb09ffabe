/*
 * check_http.c - end-to-end tests of the HTTP endpoints with real clients.
 *
 * The demo daemon runs as a child on an ephemeral loopback port; every
 * request goes through curl, every binary body is gunzipped and decoded,
 * and `go tool pprof` loads what a user would point it at. One daemon
 * serves each test case (an unchecked fixture); the limit tests start
 * their own with tighter settings.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "harness.h"
#include "pprofd.h"

#include "../check_regex.h"
#include "../check_run.h"

static h_daemon demo;

/* Starts the demo daemon with extra environment. */
static void start_demo_env(char *const env[]) {
  char *argv[] = {(char *)h_build_path("examples/pprofd-demo"), NULL};
  ck_assert_msg(h_start(&demo, argv, env) == 0, "demo daemon did not start");
}

static void start_demo(void) {
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", NULL};
  start_demo_env(env);
}

static void stop_demo(void) { h_stop(&demo); }

/* GET base+path into r, asserting curl worked. */
static void get(const char *path, h_resp *r) {
  char *url;
  ck_assert_int_gt(asprintf(&url, "%s%s", demo.base, path), 0);
  ck_assert_msg(h_http("GET", url, NULL, 0, r) == 0, "curl failed: %.200s",
                url);
  free(url);
}

/* Asserts header name has exactly value. */
static void assert_header(const h_resp *r, const char *name,
                          const char *value) {
  char *v = h_header(r, name);
  ck_assert_msg(v != NULL, "missing header %s", name);
  ck_assert_str_eq(v, value);
  free(v);
}

static void assert_no_header(const h_resp *r, const char *name) {
  char *v = h_header(r, name);
  ck_assert_msg(v == NULL, "unexpected header %s: %s", name, v);
}

/* Asserts a Go pprof error response. */
static void assert_go_error(const h_resp *r, int status, const char *body) {
  ck_assert_int_eq(r->status, status);
  assert_header(r, "Content-Type", "text/plain; charset=utf-8");
  assert_header(r, "X-Go-Pprof", "1");
  assert_header(r, "X-Content-Type-Options", "nosniff");
  assert_no_header(r, "Content-Disposition");
  assert_no_header(r, "Content-Encoding");
  ck_assert_str_eq(r->body, body);
}

START_TEST(test_redirect) {
  h_resp r;
  get("/debug/pprof", &r);
  ck_assert_int_eq(r.status, 301);
  assert_header(&r, "Location", "/debug/pprof/");
  assert_header(&r, "Content-Type", "text/html; charset=utf-8");
  ck_assert_str_eq(r.body,
                   "<a href=\"/debug/pprof/\">Moved Permanently</a>.\n\n");
  h_resp_free(&r);
  get("/debug//pprof/./cmdline", &r);
  ck_assert_int_eq(r.status, 301);
  assert_header(&r, "Location", "/debug/pprof/cmdline");
  h_resp_free(&r);
  get("/elsewhere", &r);
  ck_assert_int_eq(r.status, 404);
  ck_assert_str_eq(r.body, "404 page not found\n");
  h_resp_free(&r);
}
END_TEST

START_TEST(test_index) {
  h_resp r;
  get("/debug/pprof/?seconds=5", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "text/html; charset=utf-8");
  assert_header(&r, "X-Content-Type-Options", "nosniff");
  ck_assert(
      strncmp(r.body, "<html>\n<head>\n<title>/debug/pprof/</title>", 42) == 0);
  ck_assert_str_eq(r.body + r.len - 15, "</body>\n</html>");
  /* One row per profile, sorted by name, custom profile included. */
  const char *names[] = {"allocs",       "block", "cmdline", "demo.sessions",
                         "goroutine",    "heap",  "mutex",   "profile",
                         "threadcreate", "trace"};
  const char *prev = r.body;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char row[256];
    snprintf(row, sizeof row, "</td><td><a href='%s?debug=1'>%s</a></td></tr>",
             names[i], names[i]);
    const char *at = strstr(r.body, row);
    ck_assert_msg(at != NULL, "no row for %s", names[i]);
    ck_assert_msg(at > prev, "row %s out of order", names[i]);
    prev = at;
  }
  ck_assert(matches(r.body, "^<tr><td>[0-9]+</td><td><a href='demo.sessions"));
  ck_assert(strstr(r.body, "<a href=\"goroutine?debug=2\">full goroutine "
                           "stack dump</a>") != NULL);
  ck_assert(strstr(r.body, "<li><div class=profile-name>cmdline: </div> The "
                           "command line invocation of the current "
                           "program</li>") != NULL);
  ck_assert(strstr(r.body, "Stack traces of all current threads") != NULL);
  /* The configuration in force, and why things are off. */
  ck_assert(strstr(r.body, demo.addr) != NULL);
  ck_assert(strstr(r.body, "<td>block</td><td>on</td>") != NULL);
  ck_assert(strstr(r.body, "<td>block_profile_rate</td><td>1 ns") != NULL);
  ck_assert(strstr(r.body, "<td>mutex_profile_fraction</td><td>1 (") != NULL);
  ck_assert(strstr(r.body, "<td>heap</td><td>on</td>") != NULL);
  ck_assert(strstr(r.body, "<td>goroutine</td><td>on</td>") != NULL);
  ck_assert(strstr(r.body, "<td>demo.sessions</td><td>on</td>") != NULL);
  h_resp_free(&r);
}
END_TEST

START_TEST(test_unknown_profile) {
  const char *paths[] = {"/debug/pprof/nosuch", "/debug/pprof/heap/",
                         "/debug/pprof/Heap", "/debug/pprof/a/b"};
  for (size_t i = 0; i < 4; i++) {
    h_resp r;
    get(paths[i], &r);
    assert_go_error(&r, 404, "Unknown profile\n");
    h_resp_free(&r);
  }
}
END_TEST

START_TEST(test_cmdline) {
  h_resp r;
  get("/debug/pprof/cmdline?debug=1&seconds=3", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
  assert_header(&r, "X-Content-Type-Options", "nosniff");
  const char *exe = h_build_path("examples/pprofd-demo");
  ck_assert_uint_eq(r.len, strlen(exe));
  ck_assert(memcmp(r.body, exe, r.len) == 0);
  h_resp_free(&r);
}
END_TEST

static int connect_demo(void);

START_TEST(test_methods) {
  char url[512];
  h_resp r;
  snprintf(url, sizeof url, "%s/debug/pprof/heap", demo.base);
  ck_assert_int_eq(h_http("PUT", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 405);
  assert_header(&r, "Allow", "GET, HEAD");
  assert_header(&r, "X-Content-Type-Options", "nosniff");
  ck_assert_str_eq(r.body, "Method Not Allowed\n");
  h_resp_free(&r);
  ck_assert_int_eq(h_http("POST", url, "x", 1, &r), 0);
  ck_assert_int_eq(r.status, 405);
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/symbol", demo.base);
  ck_assert_int_eq(h_http("DELETE", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 405);
  assert_header(&r, "Allow", "GET, HEAD, POST");
  h_resp_free(&r);
  ck_assert_int_eq(h_http("POST", url, "0x0", 3, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  /* HEAD: the same headers as GET and no body. */
  snprintf(url, sizeof url, "%s/debug/pprof/demo.sessions", demo.base);
  ck_assert_int_eq(h_http("HEAD", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "application/octet-stream");
  assert_header(&r, "Content-Disposition",
                "attachment; filename=\"demo.sessions\"");
  h_resp_free(&r);
  /* Nothing follows the headers of a HEAD response. */
  int fd = connect_demo();
  const char *req = "HEAD /debug/pprof/demo.sessions HTTP/1.0\r\n\r\n";
  ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
  char buf[4096];
  size_t n = 0;
  ssize_t k;
  while ((k = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
    n += (size_t)k;
  buf[n] = '\0';
  close(fd);
  const char *end = strstr(buf, "\r\n\r\n");
  ck_assert_ptr_nonnull(end);
  ck_assert_str_eq(end, "\r\n\r\n");
}
END_TEST

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

START_TEST(test_delta_errors) {
  h_resp r;
  get("/debug/pprof/demo.sessions?seconds=1", &r);
  assert_go_error(&r, 400,
                  "\"seconds\" parameter is not supported for this "
                  "profile type\n");
  h_resp_free(&r);
  const char *bad[] = {"abc", "-1", "0", "1.5"};
  for (int i = 0; i < 4; i++) {
    char path[128];
    snprintf(path, sizeof path, "/debug/pprof/heap?seconds=%s", bad[i]);
    get(path, &r);
    assert_go_error(&r, 400,
                    "invalid value for \"seconds\" - must be a "
                    "positive integer\n");
    h_resp_free(&r);
  }
  get("/debug/pprof/heap?seconds=1&debug=1", &r);
  assert_go_error(&r, 400, "seconds and debug params are incompatible\n");
  h_resp_free(&r);
  get("/debug/pprof/heap?seconds=999999", &r);
  ck_assert_int_eq(r.status, 400);
  h_resp_free(&r);
  /* seconds= (empty) is no seconds at all. */
  get("/debug/pprof/demo.sessions?seconds=", &r);
  ck_assert_int_eq(r.status, 200);
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

/* The index of the sample type named t, or -1. */
static int type_index(const Perftools__Profiles__Profile *p, const char *t) {
  for (size_t i = 0; i < p->n_sample_type; i++)
    if (strcmp(h_str(p, p->sample_type[i]->type), t) == 0)
      return (int)i;
  return -1;
}

/* Fetches path, asserts a binary profile named filename, decodes it. */
static Perftools__Profiles__Profile *fetch_profile(const char *path,
                                                   const char *filename) {
  h_resp r;
  get(path, &r);
  ck_assert_msg(r.status == 200, "%s: %d %s", path, r.status, r.body);
  assert_header(&r, "Content-Type", "application/octet-stream");
  char cd[128];
  snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", filename);
  assert_header(&r, "Content-Disposition", cd);
  Perftools__Profiles__Profile *p = h_profile(r.body, r.len);
  ck_assert_msg(p != NULL, "%s: body is not one gzipped profile", path);
  h_resp_free(&r);
  const char *bad = h_profile_invariants(p);
  ck_assert_msg(bad == NULL, "%s: invariant: %s", path, bad);
  return p;
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

/* Runs go tool pprof with a private home so nothing leaks out. */
static int pprof_run(const char *args, char **out);
/* go tool pprof -raw on a path of the demo, which must succeed and whose
 * output must name want; call only when Go is there. */
static void pprof_raw_has(const char *path, const char *want);

/* Sums value[0] of the samples whose stack contains function fn. */
static int64_t sum_in(const Perftools__Profiles__Profile *p, const char *fn) {
  int64_t total = 0;
  for (size_t i = 0; i < p->n_sample; i++) {
    const Perftools__Profiles__Sample *s = p->sample[i];
    int hit = 0;
    for (size_t j = 0; j < s->n_location_id && !hit; j++) {
      const Perftools__Profiles__Location *l =
          p->location[s->location_id[j] - 1];
      for (size_t k = 0; k < l->n_line; k++)
        if (strcmp(h_str(p, p->function[l->line[k]->function_id - 1]->name),
                   fn) == 0)
          hit = 1;
    }
    if (hit)
      total += s->value[0];
  }
  return total;
}

START_TEST(test_cpu_profile) {
  h_resp r;
  get("/debug/pprof/profile?seconds=2", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "application/octet-stream");
  assert_header(&r, "Content-Disposition", "attachment; filename=\"profile\"");
  Perftools__Profiles__Profile *p = h_profile(r.body, r.len);
  ck_assert_ptr_nonnull(p);
  h_resp_free(&r);
  const char *bad = h_profile_invariants(p);
  ck_assert_msg(bad == NULL, "invariant: %s", bad);
  ck_assert_uint_eq(p->n_sample_type, 2);
  ck_assert_str_eq(h_str(p, p->sample_type[0]->type), "samples");
  ck_assert_str_eq(h_str(p, p->sample_type[0]->unit), "count");
  ck_assert_str_eq(h_str(p, p->sample_type[1]->type), "cpu");
  ck_assert_str_eq(h_str(p, p->sample_type[1]->unit), "nanoseconds");
  ck_assert_str_eq(h_str(p, p->period_type->type), "cpu");
  ck_assert_str_eq(h_str(p, p->period_type->unit), "nanoseconds");
  ck_assert_int_eq(p->period, 10000000);
  ck_assert_int_ge(p->duration_nanos, 1900000000LL);
  ck_assert_int_le(p->duration_nanos, 3000000000LL);
  int threads = 0;
  for (size_t i = 0; i < p->n_sample; i++) {
    const Perftools__Profiles__Sample *s = p->sample[i];
    ck_assert_int_eq(s->value[1], s->value[0] * p->period);
    for (size_t j = 0; j < s->n_label; j++)
      if (strcmp(h_str(p, s->label[j]->key), "thread") == 0 &&
          strncmp(h_str(p, s->label[j]->str), "cpu-", 4) == 0)
        threads++;
  }
  ck_assert_int_gt(threads, 0);
  int64_t hot = sum_in(p, "compute_hot"), cold = sum_in(p, "compute_cold");
  ck_assert_int_gt(hot, 0);
  ck_assert_int_gt(cold, 0);
  ck_assert_int_gt(hot, cold);
  perftools__profiles__profile__free_unpacked(p, NULL);
}
END_TEST

static void *cpu_200hz_in_background(void *arg) {
  get("/debug/pprof/profile?seconds=2&hz=200", arg);
  return NULL;
}

START_TEST(test_cpu_errors) {
  h_resp r;
  get("/debug/pprof/profile?seconds=1&hz=abc", &r);
  assert_go_error(&r, 400,
                  "invalid value for \"hz\" - must be an integer "
                  "from 1 to 1000\n");
  h_resp_free(&r);
  get("/debug/pprof/profile?seconds=999999", &r);
  ck_assert_int_eq(r.status, 400);
  h_resp_free(&r);
  /* Overlapping profiles share one rate: another rate gets Go's text
   * and the rate to ask for. */
  h_resp bg;
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, cpu_200hz_in_background, &bg), 0);
  usleep(500 * 1000);
  get("/debug/pprof/profile?seconds=1", &r);
  assert_go_error(&r, 500,
                  "Could not enable CPU profiling: cpu profiling already in "
                  "use at 200 Hz (profiles that overlap share one rate; ask "
                  "for hz=200)\n");
  h_resp_free(&r);
  get("/debug/pprof/profile?seconds=1&hz=200", &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  pthread_join(t, NULL);
  ck_assert_int_eq(bg.status, 200);
  h_resp_free(&bg);
}
END_TEST

/* A client that goes away ends its window: the only slot is free again
 * at once, and the server keeps serving. */
START_TEST(test_cpu_disconnect_and_limit) {
  h_stop(&demo);
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", "PPROFD_MAX_CPU_PROFILES=1", NULL};
  start_demo_env(env);
  char cmd[512], *out;
  snprintf(cmd, sizeof cmd,
           "curl -s --max-time 1 %s/debug/pprof/profile?seconds=30 "
           ">/dev/null; echo done",
           demo.base);
  ck_assert_int_eq(h_run(cmd, 10, &out), 0);
  free(out);
  /* Hold the one slot with a background request, then ask again. */
  snprintf(cmd, sizeof cmd,
           "curl -s -o /dev/null -w %%{http_code} "
           "%s/debug/pprof/profile?seconds=3 & sleep 1; "
           "curl -s %s/debug/pprof/profile?seconds=1; wait",
           demo.base, demo.base);
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "Could not enable CPU profiling: cpu profiling "
                            "already in use\n") != NULL,
                "%s", out);
  ck_assert_msg(strstr(out, "200") != NULL, "%s", out);
  free(out);
}
END_TEST

/* Two overlapping windows (a scraper and a person) both succeed. */
START_TEST(test_cpu_overlap) {
  char cmd[1024], *out;
  snprintf(cmd, sizeof cmd,
           "curl -s -o /dev/null -w a=%%{http_code}, "
           "%s/debug/pprof/profile?seconds=3 & sleep 1; "
           "curl -s -o /dev/null -w b=%%{http_code}, "
           "%s/debug/pprof/profile?seconds=1; wait",
           demo.base, demo.base);
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "a=200") && strstr(out, "b=200"), "%s", out);
  free(out);
}
END_TEST

START_TEST(test_go_pprof_cpu) {
  if (!h_have_go())
    return;
  char args[512], *out;
  /* No path: go tool pprof asks for /debug/pprof/profile. */
  snprintf(args, sizeof args, "-seconds 2 -top %s", demo.addr);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof failed: %s", out);
  ck_assert_msg(strstr(out, "compute_hot") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "Type: cpu") != NULL, "%s", out);
  free(out);
}
END_TEST

/* Runs go tool pprof with a private home so nothing leaks out. */
static int pprof_run(const char *args, char **out) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "export HOME=/tmp PPROF_TMPDIR=$(mktemp -d); go tool pprof %s",
           args);
  return h_run(cmd, 120, out);
}

static void pprof_raw_has(const char *path, const char *want) {
  char args[512], *out;
  snprintf(args, sizeof args, "-raw '%s%s'", demo.base, path);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof -raw %s failed: %s", path, out);
  ck_assert_msg(want == NULL || strstr(out, want) != NULL, "%s: %s", path, out);
  free(out);
}

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

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A one-second trace of the demo: Go's headers for a download, and a
 * body that tests/integration/tracecheck (the format's rules, checked
 * independently in Go) accepts, with the demo's threads, waits, CPU
 * samples, regions, tasks and counters in it. */
START_TEST(test_trace) {
  h_resp r;
  double t0 = mono_s();
  get("/debug/pprof/trace?seconds=1", &r);
  double took = mono_s() - t0;
  ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
  ck_assert(took >= 0.9 && took < 10);
  assert_header(&r, "Content-Type", "application/json");
  assert_header(&r, "Content-Disposition",
                "attachment; filename=\"trace.json\"");
  assert_header(&r, "X-Content-Type-Options", "nosniff");
  ck_assert(strncmp(r.body, "{\"traceEvents\":[", 16) == 0);
  if (!h_have_go()) {
    h_resp_free(&r);
    return;
  }
  char path[] = "/tmp/pprofd-trace-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert(write(fd, r.body, r.len) == (ssize_t)r.len);
  close(fd);
  h_resp_free(&r);
  char cmd[1024], *out;
  snprintf(cmd, sizeof cmd,
           "export HOME=/tmp; cd '%s/tests/integration' && "
           "go run ./tracecheck/main.go '%s'",
           getenv("PPROFD_TOP_SRCDIR"), path);
  int st = h_run(cmd, 180, &out);
  ck_assert_msg(st == 0, "tracecheck: %s", out);
  static const char *const want[] = {"ok: ",
                                     "phase X wait: ",
                                     "phase i cpu: ",
                                     "phase B region: ",
                                     "phase E region: ",
                                     "phase b task: ",
                                     "phase C counter: ",
                                     "phase i log: ",
                                     ": lock-1 (",
                                     ": cpu-1 (",
                                     ": sessions ("};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    ck_assert_msg(strstr(out, want[i]) != NULL, "no '%s' in:\n%s", want[i],
                  out);
  free(out);
  /* A real viewer: speedscope in headless Chromium imports the file and
   * shows the demo's threads, with every region closed (strict). */
  snprintf(cmd, sizeof cmd,
           "TRACE_VIEWER_STRICT=1 TRACE_VIEWER_EXPECT=lock-1,lock-2 "
           "'%s/tests/integration/trace_viewer.sh' '%s'",
           getenv("PPROFD_TOP_SRCDIR"), path);
  st = h_run(cmd, 180, &out);
  unlink(path);
  if (st == 77) /* h_run gives the exit status */
    printf("test_trace: viewer check skipped: %s", out);
  else
    ck_assert_msg(st == 0, "trace viewer: %s", out);
  free(out);
}
END_TEST

static void *trace_in_background(void *arg) {
  h_resp *r = arg;
  get("/debug/pprof/trace?seconds=2", r);
  return NULL;
}

/* One trace at a time, Go's errors, Go's seconds parsing. */
START_TEST(test_trace_errors) {
  h_resp bg, r;
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, trace_in_background, &bg), 0);
  usleep(500 * 1000);
  get("/debug/pprof/trace?seconds=1", &r);
  assert_go_error(&r, 500,
                  "Could not enable tracing: tracing is already enabled\n");
  h_resp_free(&r);
  pthread_join(t, NULL);
  ck_assert_int_eq(bg.status, 200);
  h_resp_free(&bg);
  get("/debug/pprof/trace?seconds=100000", &r);
  assert_go_error(&r, 400,
                  "trace duration exceeds the server's limit of 3600 "
                  "seconds\n");
  h_resp_free(&r);
  /* A bad or non-positive seconds is Go's 1 s default; 0.2 is 0.2 s. */
  static const char *const q[] = {"seconds=abc", "seconds=-1", "seconds=0",
                                  "seconds=nan", "seconds=0.2"};
  for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
    char p[128];
    snprintf(p, sizeof p, "/debug/pprof/trace?%s", q[i]);
    double t0 = mono_s();
    get(p, &r);
    double took = mono_s() - t0;
    ck_assert_msg(r.status == 200, "%s: %d", q[i], r.status);
    if (i < 4)
      ck_assert_msg(took >= 0.9 && took < 5, "%s took %.2f s", q[i], took);
    else
      ck_assert_msg(took >= 0.15 && took < 0.9, "%s took %.2f s", q[i], took);
    h_resp_free(&r);
  }
}
END_TEST

START_TEST(test_go_pprof_errors) {
  if (!h_have_go())
    return;
  char args[512], *out;
  snprintf(args, sizeof args, "-top %s/debug/pprof/nosuch", demo.base);
  int st = pprof_run(args, &out);
  ck_assert_int_ne(st, 0);
  ck_assert_msg(strstr(out, "server response: 404 Not Found - Unknown "
                            "profile") != NULL,
                "%s", out);
  free(out);
  snprintf(args, sizeof args, "-seconds 1 -top %s/debug/pprof/demo.sessions",
           demo.base);
  st = pprof_run(args, &out);
  ck_assert_int_ne(st, 0);
  ck_assert_msg(strstr(out, "400 Bad Request - \"seconds\" parameter is not "
                            "supported") != NULL,
                "%s", out);
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

/* Opens a TCP connection to the daemon. */
static int connect_demo(void) {
  char host[64];
  int port;
  ck_assert_int_eq(sscanf(demo.addr, "%63[^:]:%d", host, &port), 2);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &sa.sin_addr);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

START_TEST(test_limits) {
  h_stop(&demo);
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", "PPROFD_MAX_CONNECTIONS=1",
                 "PPROFD_MAX_BODY=1024", "PPROFD_REQUEST_TIMEOUT=1", NULL};
  start_demo_env(env);
  h_resp r;
  /* URI length. */
  char *path = malloc(10000);
  strcpy(path, "/debug/pprof/cmdline?x=");
  memset(path + strlen(path), 'a', 9000);
  path[9023] = '\0';
  get(path, &r);
  ck_assert_int_eq(r.status, 414);
  assert_header(&r, "X-Go-Pprof", "1");
  h_resp_free(&r);
  free(path);
  /* Body size. */
  char url[512];
  snprintf(url, sizeof url, "%s/debug/pprof/symbol", demo.base);
  char *big = malloc(4096);
  memset(big, '1', 4096);
  ck_assert_int_eq(h_http("POST", url, big, 4096, &r), 0);
  assert_go_error(&r, 413, "request body too large (limit 1024 bytes)\n");
  h_resp_free(&r);
  free(big);
  /* A request holding the only slot makes the next one wait its turn. */
  int fd = connect_demo();
  const char *hold = "POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: 100\r\n\r\n0x1";
  ck_assert_int_eq(write(fd, hold, strlen(hold)), (ssize_t)strlen(hold));
  usleep(200 * 1000);
  get("/debug/pprof/cmdline", &r);
  assert_go_error(&r, 503,
                  "too many concurrent requests to pprofd "
                  "(limit 1)\n");
  h_resp_free(&r);
  /* The stalled client is dropped after the request timeout. */
  struct pollfd pfd = {fd, POLLIN, 0};
  ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
  char buf[256];
  ck_assert_int_le(read(fd, buf, sizeof buf), 0);
  close(fd);
  /* An idle connection is closed too, and the server stays up. */
  fd = connect_demo();
  pfd.fd = fd;
  ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
  ck_assert_int_le(read(fd, buf, sizeof buf), 0);
  close(fd);
  get("/debug/pprof/cmdline", &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
}
END_TEST

/* LD_PRELOAD into a program that knows nothing of pprofd. */
START_TEST(test_preload) {
  char pre[1100],
      *argv[] = {(char *)h_build_path("tests/integration/preload_target"), "3",
                 NULL};
  snprintf(pre, sizeof pre, "LD_PRELOAD=%s",
           h_build_path(".libs/libpprofd.so"));
  char *env[] = {pre, "PPROFD_ADDR=127.0.0.1:0", NULL};
  h_daemon d;
  ck_assert_int_eq(h_start(&d, argv, env), 0);
  h_resp r;
  char url[512];
  snprintf(url, sizeof url, "%s/debug/pprof/cmdline", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert(memmem(r.body, r.len,
                   "preload_target\0"
                   "3",
                   16) != NULL);
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  int st = h_stop(&d);
  ck_assert(WIFSIGNALED(st) || WIFEXITED(st));
}
END_TEST

/* A failure to start is reported once and the host runs on. */
START_TEST(test_preload_bad_addr) {
  char cmd[2048], *out;
  snprintf(cmd, sizeof cmd,
           "LD_PRELOAD=%s PPROFD_ADDR=nonsense %s 1; echo exit=$?",
           h_build_path(".libs/libpprofd.so"),
           h_build_path("tests/integration/preload_target"));
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "pprofd: ignoring an invalid PPROFD_* variable") !=
                    NULL,
                "%s", out);
  ck_assert_msg(strstr(out, "exit=0") != NULL, "%s", out);
  free(out);
  /* A taken port: the host still runs to completion. */
  snprintf(cmd, sizeof cmd, "LD_PRELOAD=%s PPROFD_ADDR=%s %s 1; echo exit=$?",
           h_build_path(".libs/libpprofd.so"), demo.addr,
           h_build_path("tests/integration/preload_target"));
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "pprofd: not started on") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "exit=0") != NULL, "%s", out);
  free(out);
}
END_TEST

/* The application's own libmicrohttpd daemon with pprofd mounted. */
static enum MHD_Result app_access(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls) {
  int rc;
  if (pprofd_mhd_dispatch(c, url, method, upload, upload_size, req_cls, &rc))
    return (enum MHD_Result)rc;
  static char hello[] = "hello from the app\n";
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      strlen(hello), hello, MHD_RESPMEM_PERSISTENT);
  enum MHD_Result r = MHD_queue_response(c, 200, resp);
  MHD_destroy_response(resp);
  return r;
}

static void app_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                          enum MHD_RequestTerminationCode toe) {
  pprofd_mhd_completed(req_cls);
}

START_TEST(test_mounted) {
  pprofd_profile *p = pprofd_profile_new("mounted.things", NULL);
  ck_assert_ptr_nonnull(p);
  static int thing;
  ck_assert_int_eq(pprofd_profile_add(p, &thing, 0), 0);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
      NULL, app_access, NULL, MHD_OPTION_NOTIFY_COMPLETED, app_completed, NULL,
      MHD_OPTION_END);
  ck_assert_ptr_nonnull(d);
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  char base[128], url[256];
  snprintf(base, sizeof base, "http://127.0.0.1:%u", info->port);
  h_resp r;
  snprintf(url, sizeof url, "%s/app", base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_str_eq(r.body, "hello from the app\n");
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/", base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strstr(r.body, "mounted.things?debug=1") != NULL);
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/mounted.things?debug=1", base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strstr(r.body, "mounted.things profile: total 1\n") != NULL);
  ck_assert(strstr(r.body, "test_mounted") != NULL);
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/symbol", base);
  ck_assert_int_eq(h_http("POST", url, "0x1", 3, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/nosuch", base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 404);
  h_resp_free(&r);
  MHD_stop_daemon(d);
}
END_TEST

/* In-process start/stop, port 0 and restarts. */
START_TEST(test_start_stop) {
  pprofd_config *c = pprofd_config_new();
  ck_assert_int_eq(pprofd_config_set_addr(c, "127.0.0.1:0"), 0);
  char addr[64];
  ck_assert_int_eq(pprofd_get_addr(addr, sizeof addr), PPROFD_ENOTRUNNING);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(pprofd_start(c), 0);
    ck_assert_int_eq(pprofd_start(c), PPROFD_EALREADY);
    ck_assert_int_eq(pprofd_get_addr(addr, sizeof addr), 0);
    ck_assert(strncmp(addr, "127.0.0.1:", 10) == 0 && atoi(addr + 10) > 0);
    ck_assert_int_eq(pprofd_get_addr(addr, 4), PPROFD_EINVAL);
    h_resp r;
    char url[128];
    snprintf(url, sizeof url, "http://%s/debug/pprof/cmdline", addr);
    ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    h_resp_free(&r);
    ck_assert_int_eq(pprofd_stop(), 0);
  }
  ck_assert_int_eq(pprofd_stop(), PPROFD_ENOTRUNNING);
  /* A taken port is a clear error, and nothing is left running. */
  ck_assert_int_eq(pprofd_config_set_addr(c, demo.addr), 0);
  ck_assert_int_eq(pprofd_start(c), PPROFD_ELISTEN);
  ck_assert_int_eq(pprofd_stop(), PPROFD_ENOTRUNNING);
  pprofd_config_free(c);
}
END_TEST

/* fork(): the child inherits no held lock and no server, and can start
 * its own; the parent keeps serving. */
START_TEST(test_fork) {
  pprofd_config *c = pprofd_config_new();
  ck_assert_int_eq(pprofd_config_set_addr(c, "127.0.0.1:0"), 0);
  ck_assert_int_eq(pprofd_start(c), 0);
  char addr[64];
  ck_assert_int_eq(pprofd_get_addr(addr, sizeof addr), 0);
  pprofd_profile *p = pprofd_profile_new("forked.keys", NULL);
  static char keys[2];
  ck_assert_int_eq(pprofd_profile_add(p, &keys[0], 0), 0);
  pid_t pid = fork();
  if (pid == 0) {
    char a[64];
    int ok = pprofd_get_addr(a, sizeof a) == PPROFD_ENOTRUNNING &&
             pprofd_profile_add(p, &keys[1], 0) == 0 &&
             pprofd_profile_count(p) == 2 && pprofd_start(c) == 0 &&
             pprofd_get_addr(a, sizeof a) == 0 && strcmp(a, addr) != 0 &&
             pprofd_write_profile("forked.keys", 2, 1) == 0 &&
             pprofd_stop() == 0;
    _exit(ok ? 0 : 1);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  h_resp r;
  char url[128];
  snprintf(url, sizeof url, "http://%s/debug/pprof/forked.keys?debug=1", addr);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strncmp(r.body, "forked.keys profile: total 1\n", 29) == 0);
  h_resp_free(&r);
  ck_assert_int_eq(pprofd_stop(), 0);
  pprofd_config_free(c);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http");
  TCase *tc = tcase_create("demo");
  tcase_set_timeout(tc, 120);
  tcase_add_unchecked_fixture(tc, start_demo, stop_demo);
  tcase_add_test(tc, test_redirect);
  tcase_add_test(tc, test_index);
  tcase_add_test(tc, test_unknown_profile);
  tcase_add_test(tc, test_cmdline);
  tcase_add_test(tc, test_methods);
  tcase_add_test(tc, test_custom_proto);
  tcase_add_test(tc, test_custom_text);
  tcase_add_test(tc, test_delta_errors);
  tcase_add_test(tc, test_trace);
  tcase_add_test(tc, test_trace_errors);
  tcase_add_test(tc, test_contention);
  tcase_add_test(tc, test_symbol);
  tcase_add_test(tc, test_cpu_profile);
  tcase_add_test(tc, test_cpu_errors);
  tcase_add_test(tc, test_cpu_overlap);
  tcase_add_test(tc, test_go_pprof_cpu);
  tcase_add_test(tc, test_heap_proto);
  tcase_add_test(tc, test_heap_text_and_delta);
  tcase_add_test(tc, test_goroutine);
  tcase_add_test(tc, test_threadcreate);
  tcase_add_test(tc, test_thread_deltas);
  tcase_add_test(tc, test_go_pprof_heap_goroutine);
  tcase_add_test(tc, test_go_pprof_proto);
  tcase_add_test(tc, test_go_pprof_text_symbolz);
  tcase_add_test(tc, test_go_pprof_errors);
  tcase_add_test(tc, test_preload);
  tcase_add_test(tc, test_preload_bad_addr);
  tcase_add_test(tc, test_mounted);
  tcase_add_test(tc, test_start_stop);
  tcase_add_test(tc, test_fork);
  suite_add_tcase(s, tc);
  /* These restart the daemon inside the (forked) test: own test cases. */
  TCase *tu = tcase_create("unsymbolized");
  tcase_set_timeout(tu, 120);
  tcase_add_checked_fixture(tu, start_demo, stop_demo);
  tcase_add_test(tu, test_unsymbolized);
  suite_add_tcase(s, tu);
  TCase *tcpu = tcase_create("cpu_limit");
  tcase_set_timeout(tcpu, 60);
  tcase_add_checked_fixture(tcpu, start_demo, stop_demo);
  tcase_add_test(tcpu, test_cpu_disconnect_and_limit);
  suite_add_tcase(s, tcpu);
  TCase *tl = tcase_create("limits");
  tcase_set_timeout(tl, 60);
  tcase_add_checked_fixture(tl, start_demo, stop_demo);
  tcase_add_test(tl, test_limits);
  suite_add_tcase(s, tl);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
