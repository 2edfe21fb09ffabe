/*
 * check_http_routes.c - end-to-end tests of the router and its errors:
 * the redirect, the index page, unknown profiles, cmdline, methods and
 * HEAD, parameter errors as Go writes them and as go tool pprof shows
 * them, and the connection, URI and body limits.
 *
 * See harness.h for the demo daemon and the helpers every end-to-end
 * test shares.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#include "../check_regex.h"
#include "../check_run.h"

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
  const char *hold = "POST /debug/pprof/symbol HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Length: 100\r\n\r\n0x1";
  ck_assert_int_eq(write(fd, hold, strlen(hold)), (ssize_t)strlen(hold));
  /* Until the server has taken the held request in (at most 0.9 s: it
   * drops the stalled client after 1 s), requests still get through. */
  for (int i = 0;; i++) {
    get("/debug/pprof/cmdline", &r);
    if (r.status == 503 || i == 45)
      break;
    h_resp_free(&r);
    usleep(20 * 1000);
  }
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

static Suite *suite(void) {
  Suite *s = suite_create("http_routes");
  TCase *tc = demo_tcase("demo", 120);
  tcase_add_test(tc, test_redirect);
  tcase_add_test(tc, test_index);
  tcase_add_test(tc, test_unknown_profile);
  tcase_add_test(tc, test_cmdline);
  tcase_add_test(tc, test_methods);
  tcase_add_test(tc, test_delta_errors);
  tcase_add_test(tc, test_go_pprof_errors);
  suite_add_tcase(s, tc);
  /* Restarts the daemon inside the (forked) test: its own test case. */
  TCase *tlimits = demo_tcase_each("limits", 60);
  tcase_add_test(tlimits, test_limits);
  suite_add_tcase(s, tlimits);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
