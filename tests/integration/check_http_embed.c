/*
 * check_http_embed.c - end-to-end tests of the ways a program hosts
 * pprofd other than the demo's: LD_PRELOAD into a program that knows
 * nothing of it, mounted on the application's own libmicrohttpd daemon,
 * started and stopped in process, and across fork(). The demo daemon
 * runs too, to hold a port that is taken.
 *
 * See harness.h for the demo daemon and the helpers every end-to-end
 * test shares.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <microhttpd.h>

#include "harness.h"
#include "pprofd.h"

#include "../check_run.h"

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

/* Starts the application's own daemon on a free port, with pprofd
 * mounted in it. */
static struct MHD_Daemon *start_app(unsigned *port) {
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
      NULL, app_access, NULL, MHD_OPTION_NOTIFY_COMPLETED, app_completed, NULL,
      MHD_OPTION_END);
  ck_assert_ptr_nonnull(d);
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  ck_assert_ptr_nonnull(info);
  *port = info->port;
  return d;
}

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
/* PPROFD_DISABLE=cmdline,symbol,trace,gc: argv and addresses are not
 * served (Go's 404), the index page links neither, and heap?gc=1 runs
 * nothing (memstats' NumGC, the count of gc=1 runs, stays 0). */
START_TEST(test_preload_disabled_endpoints) {
  char pre[1100],
      *argv[] = {(char *)h_build_path("tests/integration/preload_target"), "5",
                 NULL};
  snprintf(pre, sizeof pre, "LD_PRELOAD=%s",
           h_build_path(".libs/libpprofd.so"));
  char *env[] = {pre, "PPROFD_ADDR=127.0.0.1:0",
                 "PPROFD_DISABLE=cmdline,symbol,trace,gc", NULL};
  h_daemon d;
  ck_assert_int_eq(h_start(&d, argv, env), 0);
  static const char *const off[] = {"cmdline", "symbol", "symbol?0x1",
                                    "trace?seconds=1"};
  h_resp r;
  char url[512];
  for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
    snprintf(url, sizeof url, "%s/debug/pprof/%s", d.base, off[i]);
    ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
    assert_go_error(&r, 404, "Unknown profile\n");
    h_resp_free(&r);
  }
  snprintf(url, sizeof url, "%s/debug/pprof/", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_null(strstr(r.body, "href='cmdline?debug=1'"));
  ck_assert_ptr_null(strstr(r.body, "href='trace?debug=1'"));
  ck_assert_ptr_nonnull(strstr(r.body, "href='heap?debug=1'"));
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/heap?gc=1", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/vars", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_msg(strstr(r.body, "\"NumGC\": 0") != NULL ||
                    strstr(r.body, "\"NumGC\":0") != NULL,
                "%.400s", r.body);
  h_resp_free(&r);
  h_stop(&d);
}
END_TEST

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

START_TEST(test_mounted) {
  pprofd_profile *p = pprofd_profile_new("mounted.things", NULL);
  ck_assert_ptr_nonnull(p);
  static int thing;
  ck_assert_int_eq(pprofd_profile_add(p, &thing, 0), 0);
  unsigned port;
  struct MHD_Daemon *d = start_app(&port);
  char base[128], url[256];
  snprintf(base, sizeof base, "http://127.0.0.1:%u", port);
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
  /* The runtime metrics are mounted too. */
  snprintf(url, sizeof url, "%s/metrics", base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  ck_assert(strstr(r.body, "\n# TYPE process_resident_memory_bytes gauge\n"));
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/vars", base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strncmp(r.body, "{\n\"cmdline\": [", 14) == 0);
  h_resp_free(&r);
  MHD_stop_daemon(d);
}
END_TEST

/* An endpoint PPROFD_DISABLE names is left to the application's daemon,
 * which may have a /metrics of its own. */
START_TEST(test_mounted_disabled) {
  pprofd_config *c = pprofd_config_new();
  ck_assert_int_eq(pprofd_config_set_http(c, 0), 0);
  ck_assert_int_eq(pprofd_config_set_disable(c, "metrics"), 0);
  ck_assert_int_eq(pprofd_start(c), 0);
  unsigned port;
  struct MHD_Daemon *d = start_app(&port);
  char url[256];
  h_resp r;
  snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", port);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_str_eq(r.body, "hello from the app\n");
  h_resp_free(&r);
  snprintf(url, sizeof url, "http://127.0.0.1:%u/debug/vars", port);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "application/json; charset=utf-8");
  h_resp_free(&r);
  MHD_stop_daemon(d);
  ck_assert_int_eq(pprofd_stop(), 0);
  pprofd_config_free(c);
}
END_TEST

/* Mounted, the application's daemon owns the Host policy: pprofd checks
 * the Host header only when allowed hosts are configured. */
START_TEST(test_mounted_host) {
  unsigned port;
  struct MHD_Daemon *d = start_app(&port);
  char url[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/debug/pprof/cmdline", port);
  h_resp r;
  ck_assert_int_eq(h_http_hdr("GET", url, "Host: app.example", NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  pprofd_config *c = pprofd_config_new();
  ck_assert_int_eq(pprofd_config_set_http(c, 0), 0);
  ck_assert_int_eq(pprofd_config_set_allowed_hosts(c, "app.example"), 0);
  ck_assert_int_eq(pprofd_start(c), 0);
  ck_assert_int_eq(h_http_hdr("GET", url, "Host: app.example", NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  ck_assert_int_eq(h_http_hdr("GET", url, "Host: localhost", NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  ck_assert_int_eq(h_http_hdr("GET", url, "Host: evil.example", NULL, 0, &r),
                   0);
  ck_assert_int_eq(r.status, 421);
  h_resp_free(&r);
  MHD_stop_daemon(d);
  ck_assert_int_eq(pprofd_stop(), 0);
  pprofd_config_free(c);
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
  Suite *s = suite_create("http_embed");
  TCase *tc = demo_tcase("demo", 120);
  tcase_add_test(tc, test_preload);
  tcase_add_test(tc, test_preload_bad_addr);
  tcase_add_test(tc, test_preload_disabled_endpoints);
  tcase_add_test(tc, test_mounted);
  tcase_add_test(tc, test_mounted_disabled);
  tcase_add_test(tc, test_mounted_host);
  tcase_add_test(tc, test_start_stop);
  tcase_add_test(tc, test_fork);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
