/*
 * check_http_access.c - end-to-end tests of who may ask: the Host header
 * check (DNS rebinding), the escaping of redirects, bearer and basic
 * authentication with curl and go tool pprof, the exposure guard, and
 * HTTPS (mutual TLS included) with certificates openssl makes.
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
#include "pprofd.h"

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

/* Every path pprofd answers, for the guards that hold on all of them. */
static const char *const all_paths[] = {"/debug/pprof/",
                                        "/debug/pprof/cmdline",
                                        "/debug/pprof/heap",
                                        "/debug/pprof/goroutine",
                                        "/debug/pprof/symbol",
                                        "/debug/vars",
                                        "/metrics",
                                        "/debug/pprof",
                                        "/elsewhere",
                                        "/debug/pprof/nosuch"};

START_TEST(test_bearer) {
  h_stop(&demo);
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", "PPROFD_AUTH_TOKEN=t0k-3n", NULL};
  start_demo_env(env);
  h_resp r;
  for (size_t i = 0; i < sizeof all_paths / sizeof *all_paths; i++) {
    get(all_paths[i], &r);
    ck_assert_msg(r.status == 401, "%s: %d", all_paths[i], r.status);
    assert_header(&r, "WWW-Authenticate", "Bearer realm=\"pprofd\"");
    assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
    ck_assert_str_eq(r.body, "unauthorized: no credentials; pprofd wants a "
                             "bearer token (Authorization: Bearer TOKEN)\n");
    h_resp_free(&r);
    get_args(all_paths[i], "-H 'Authorization: Bearer t0k-3n'", &r);
    ck_assert_msg(r.status != 401 && r.status != 421, "%s: %d", all_paths[i],
                  r.status);
    h_resp_free(&r);
  }
  get_args("/debug/pprof/cmdline", "-H 'Authorization: Bearer t0k-3N'", &r);
  ck_assert_int_eq(r.status, 401);
  ck_assert_ptr_nonnull(strstr(r.body, "wrong credentials"));
  h_resp_free(&r);
  get_args("/debug/pprof/cmdline", "-u 'user:t0k-3n'", &r);
  ck_assert_int_eq(r.status, 401);
  ck_assert_ptr_nonnull(strstr(r.body, "scheme pprofd does not take"));
  h_resp_free(&r);
  /* POST /symbol is refused before its body is read. */
  char url[256];
  snprintf(url, sizeof url, "%s/debug/pprof/symbol", demo.base);
  ck_assert_int_eq(h_http("POST", url, "0x1", 3, &r), 0);
  ck_assert_int_eq(r.status, 401);
  h_resp_free(&r);
  ck_assert_int_eq(h_http_args("POST", url, "-H 'Authorization: Bearer t0k-3n'",
                               "0x1", 3, &r),
                   0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  /* One stderr line for all those refusals. */
  char err[8192] = "";
  ck_assert(h_wait_stderr(&demo, "pprofd: refused", 5000, err, sizeof err));
  /* Once in, the index page counts the refusals, shows no secret. */
  get_args("/debug/pprof/", "-H 'Authorization: Bearer t0k-3n'", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strstr(r.body, "authentication"));
  ck_assert_ptr_nonnull(strstr(r.body, "13 requests refused"));
  ck_assert_ptr_null(strstr(r.body, "t0k-3n"));
  h_resp_free(&r);
  /* The Host check comes first. */
  get_args("/debug/pprof/", "-H 'Host: evil.example'", &r);
  ck_assert_int_eq(r.status, 421);
  h_resp_free(&r);
}
END_TEST

START_TEST(test_basic) {
  h_stop(&demo);
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", "PPROFD_BASIC_AUTH=alice:s3:cret",
                 NULL};
  start_demo_env(env);
  h_resp r;
  for (size_t i = 0; i < sizeof all_paths / sizeof *all_paths; i++) {
    get(all_paths[i], &r);
    ck_assert_msg(r.status == 401, "%s: %d", all_paths[i], r.status);
    assert_header(&r, "WWW-Authenticate",
                  "Basic realm=\"pprofd\", charset=\"UTF-8\"");
    ck_assert_ptr_nonnull(strstr(r.body, "curl -u USER:PASSWORD"));
    h_resp_free(&r);
    get_args(all_paths[i], "-u 'alice:s3:cret'", &r);
    ck_assert_msg(r.status != 401, "%s: %d", all_paths[i], r.status);
    h_resp_free(&r);
  }
  get_args("/debug/pprof/cmdline", "-u 'alice:s3:creT'", &r);
  ck_assert_int_eq(r.status, 401);
  h_resp_free(&r);
  /* Credentials in the URL, as go tool pprof passes them on. */
  char url[256];
  snprintf(url, sizeof url, "http://alice:s3%%3Acret@%s/debug/pprof/cmdline",
           demo.addr);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  if (!h_have_go())
    return;
  char args[512], *out;
  snprintf(args, sizeof args,
           "-raw 'http://alice:s3%%3Acret@%s/debug/pprof/heap'", demo.addr);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof with basic auth failed: %s", out);
  ck_assert_ptr_nonnull(strstr(out, "PeriodType: space bytes"));
  free(out);
  snprintf(args, sizeof args, "-raw 'http://alice:wrong@%s/debug/pprof/heap'",
           demo.addr);
  st = pprof_run(args, &out);
  ck_assert_msg(st != 0 && strstr(out, "unauthorized") != NULL, "%s", out);
  free(out);
}
END_TEST

/* A token file rotates without a restart. */
START_TEST(test_token_file) {
  h_stop(&demo);
  char dir[] = "/tmp/pprofd-tok-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[128], cmd[512], envv[160];
  snprintf(path, sizeof path, "%s/token", dir);
  snprintf(cmd, sizeof cmd, "echo tok-first-1 > %s", path);
  ck_assert_int_eq(system(cmd), 0);
  snprintf(envv, sizeof envv, "PPROFD_AUTH_TOKEN_FILE=%s", path);
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", envv, NULL};
  start_demo_env(env);
  h_resp r;
  get_args("/debug/pprof/cmdline", "-H 'Authorization: Bearer tok-first-1'",
           &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  snprintf(cmd, sizeof cmd, "echo tok-second-2 > %s.new && mv %s.new %s", path,
           path, path);
  ck_assert_int_eq(system(cmd), 0);
  get_args("/debug/pprof/cmdline", "-H 'Authorization: Bearer tok-second-2'",
           &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  get_args("/debug/pprof/cmdline", "-H 'Authorization: Bearer tok-first-1'",
           &r);
  ck_assert_int_eq(r.status, 401);
  h_resp_free(&r);
  get_args("/debug/pprof/", "-H 'Authorization: Bearer tok-second-2'", &r);
  ck_assert_ptr_nonnull(strstr(r.body, path));
  ck_assert_ptr_null(strstr(r.body, "tok-second-2"));
  h_resp_free(&r);
  /* A file that is gone refuses everyone, clearly. */
  unlink(path);
  get_args("/debug/pprof/cmdline", "-H 'Authorization: Bearer tok-second-2'",
           &r);
  ck_assert_int_eq(r.status, 503);
  ck_assert_ptr_nonnull(strstr(r.body, "cannot read its credential file"));
  h_resp_free(&r);
  rmdir(dir);
}
END_TEST

/* Credentials that cannot be used: pprofd does not start, says why on
 * one line, and the program runs on. */
START_TEST(test_bad_credentials_preload) {
  char cmd[1024], *out;
  snprintf(cmd, sizeof cmd,
           "LD_PRELOAD=%s PPROFD_ADDR=127.0.0.1:0 "
           "PPROFD_AUTH_TOKEN_FILE=/nonexistent/token %s 1; echo exit=$?",
           h_build_path(".libs/libpprofd.so"),
           h_build_path("tests/integration/preload_target"));
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "pprofd: not started on 127.0.0.1:0: "
                            "PPROFD_AUTH_TOKEN_FILE /nonexistent/token: No "
                            "such file or directory\n") != NULL,
                "%s", out);
  ck_assert_msg(strstr(out, "exit=0") != NULL, "%s", out);
  free(out);
}
END_TEST

/* The exposure guard under LD_PRELOAD: no start, one line, the program
 * runs on. */
START_TEST(test_exposure_preload) {
  char cmd[1024], *out;
  snprintf(cmd, sizeof cmd,
           "LD_PRELOAD=%s PPROFD_ADDR=0.0.0.0:0 %s 1; echo exit=$?",
           h_build_path(".libs/libpprofd.so"),
           h_build_path("tests/integration/preload_target"));
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "pprofd: not started on 0.0.0.0:0: refusing to "
                            "listen on a non-loopback address without "
                            "authentication (set PPROFD_AUTH_TOKEN or "
                            "PPROFD_BASIC_AUTH, or PPROFD_ALLOW_INSECURE=1)"
                            "\n") != NULL,
                "%s", out);
  ck_assert_msg(strstr(out, "exit=0") != NULL, "%s", out);
  free(out);
}
END_TEST

/* The exposure guard through the API: every interface or a non-loopback
 * address needs authentication or allow_insecure; loopback does not. */
START_TEST(test_exposure_api) {
  pprofd_config *c = pprofd_config_new();
  ck_assert_int_eq(pprofd_config_set_addr(c, "0.0.0.0:0"), 0);
  ck_assert_int_eq(pprofd_start(c), PPROFD_EINSECURE);
  ck_assert_int_eq(pprofd_stop(), PPROFD_ENOTRUNNING);
  ck_assert_int_eq(pprofd_config_set_addr(c, "[::]:0"), 0);
  ck_assert_int_eq(pprofd_start(c), PPROFD_EINSECURE);
  ck_assert_int_eq(pprofd_config_set_auth_token(c, "tok"), 0);
  ck_assert_int_eq(pprofd_start(c), 0);
  ck_assert_int_eq(pprofd_stop(), 0);
  ck_assert_int_eq(pprofd_config_set_auth_token(c, NULL), 0);
  ck_assert_int_eq(pprofd_config_set_allow_insecure(c, 1), 0);
  ck_assert_int_eq(pprofd_start(c), 0);
  ck_assert_int_eq(pprofd_stop(), 0);
  ck_assert_int_eq(pprofd_config_set_allow_insecure(c, 0), 0);
  ck_assert_int_eq(pprofd_config_set_addr(c, "localhost:0"), 0);
  ck_assert_int_eq(pprofd_start(c), 0);
  ck_assert_int_eq(pprofd_stop(), 0);
  ck_assert_int_eq(pprofd_config_set_addr(c, "127.0.0.2:0"), 0);
  ck_assert_int_eq(pprofd_start(c), 0);
  ck_assert_int_eq(pprofd_stop(), 0);
  pprofd_config_free(c);
}
END_TEST

/* PPROFD_ALLOW_INSECURE=1 serves every interface, and the index page
 * warns; the Host check still holds for names. */
START_TEST(test_exposure_allowed) {
  h_stop(&demo);
  char *env[] = {"PPROFD_ADDR=0.0.0.0:0", "PPROFD_ALLOW_INSECURE=1", NULL};
  start_demo_env(env);
  h_resp r;
  get("/debug/pprof/", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strstr(r.body, "WARNING"));
  ck_assert_ptr_nonnull(strstr(r.body, "without authentication"));
  h_resp_free(&r);
  get_args("/debug/pprof/cmdline", "-H 'Host: evil.example'", &r);
  ck_assert_int_eq(r.status, 421);
  h_resp_free(&r);
  get_args("/debug/pprof/cmdline", "-H 'Host: 192.0.2.7:6060'", &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
}
END_TEST

/* A scratch directory with certificates made by openssl: a CA, a server
 * certificate for 127.0.0.1 and localhost, a client certificate the CA
 * signed, a self-signed one it did not, and a key that matches nothing.
 * Returns 0 when openssl is missing. */
static int make_certs(char *dir) {
  if (system("command -v openssl >/dev/null 2>&1") != 0)
    return 0;
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char cmd[4096], *out;
  snprintf(
      cmd, sizeof cmd,
      "cd %s && K=\"-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes\" "
      "&& openssl req -x509 $K -keyout ca.key -out ca.pem -days 2 "
      "-subj /CN=pprofd-test-ca "
      "&& openssl req -x509 $K -keyout server.key -out server.pem -days 2 "
      "-subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
      "&& openssl req $K -keyout client.key -out client.csr "
      "-subj /CN=scraper "
      "&& openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -out client.pem -days 2 "
      "&& openssl req -x509 $K -keyout rogue.key -out rogue.pem -days 2 "
      "-subj /CN=rogue "
      "&& openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 "
      "-out other.key && echo not a certificate > garbage.pem && ls server.pem",
      dir);
  int st = h_run(cmd, 60, &out);
  ck_assert_msg(st == 0, "openssl failed: %s", out);
  free(out);
  return 1;
}

/* Starts pprofd in this process on 127.0.0.1:0 with TLS files from dir
 * (names, or NULL); returns pprofd_start's result and the address. */
static int start_tls_on(const char *bind, const char *dir, const char *cert,
                        const char *key, const char *ca, char *addr,
                        size_t len) {
  pprofd_config *c = pprofd_config_new();
  char p[3][256];
  snprintf(p[0], sizeof p[0], "%s/%s", dir, cert ? cert : "");
  snprintf(p[1], sizeof p[1], "%s/%s", dir, key ? key : "");
  snprintf(p[2], sizeof p[2], "%s/%s", dir, ca ? ca : "");
  ck_assert_int_eq(pprofd_config_set_addr(c, bind), 0);
  ck_assert_int_eq(pprofd_config_set_tls_cert(c, cert ? p[0] : NULL), 0);
  ck_assert_int_eq(pprofd_config_set_tls_key(c, key ? p[1] : NULL), 0);
  ck_assert_int_eq(pprofd_config_set_tls_client_ca(c, ca ? p[2] : NULL), 0);
  int err = pprofd_start(c);
  pprofd_config_free(c);
  if (err == 0)
    ck_assert_int_eq(pprofd_get_addr(addr, len), 0);
  return err;
}

static int start_tls(const char *dir, const char *cert, const char *key,
                     const char *ca, char *addr, size_t len) {
  return start_tls_on("127.0.0.1:0", dir, cert, key, ca, addr, len);
}

static void rm_dir(const char *dir) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_tls) {
  char dir[] = "/tmp/pprofd-tls-XXXXXX";
  if (!make_certs(dir))
    return; /* no openssl: nothing to test with */
  char addr[64], url[256], args[512];
  h_resp r;
  ck_assert_int_eq(
      start_tls(dir, "server.pem", "server.key", NULL, addr, sizeof addr), 0);
  snprintf(url, sizeof url, "https://%s/debug/pprof/cmdline", addr);
  snprintf(args, sizeof args, "--cacert %s/server.pem", dir);
  ck_assert_int_eq(h_http_args("GET", url, args, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  snprintf(url, sizeof url, "https://localhost:%s/debug/pprof/",
           strrchr(addr, ':') + 1);
  ck_assert_int_eq(h_http_args("GET", url, args, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  /* The certificate is checked: a client without the CA refuses it. */
  char *out;
  snprintf(args, sizeof args, "curl -sS https://%s/debug/pprof/", addr);
  ck_assert_int_ne(h_run(args, 30, &out), 0);
  free(out);
  if (h_have_go()) {
    snprintf(args, sizeof args, "-raw 'https+insecure://%s/debug/pprof/heap'",
             addr);
    int st = pprof_run(args, &out);
    ck_assert_msg(st == 0, "pprof over TLS failed: %s", out);
    ck_assert_ptr_nonnull(strstr(out, "PeriodType: space bytes"));
    free(out);
  }
  ck_assert_int_eq(pprofd_stop(), 0);
  /* Files that cannot be used: pprofd does not start. */
  ck_assert_int_eq(
      start_tls(dir, "server.pem", "other.key", NULL, addr, sizeof addr),
      PPROFD_ETLS);
  ck_assert_int_eq(
      start_tls(dir, "garbage.pem", "server.key", NULL, addr, sizeof addr),
      PPROFD_ETLS);
  ck_assert_int_eq(
      start_tls(dir, "missing.pem", "server.key", NULL, addr, sizeof addr),
      PPROFD_ETLS);
  ck_assert_int_eq(start_tls(dir, "server.pem", NULL, NULL, addr, sizeof addr),
                   PPROFD_ETLS);
  ck_assert_int_eq(start_tls(dir, "server.pem", "server.key", "garbage.pem",
                             addr, sizeof addr),
                   PPROFD_ETLS);
  ck_assert_int_eq(pprofd_stop(), PPROFD_ENOTRUNNING);
  rm_dir(dir);
}
END_TEST

START_TEST(test_mutual_tls) {
  char dir[] = "/tmp/pprofd-tls-XXXXXX";
  if (!make_certs(dir))
    return;
  char addr[64], url[256], args[512];
  h_resp r;
  ck_assert_int_eq(
      start_tls(dir, "server.pem", "server.key", "ca.pem", addr, sizeof addr),
      0);
  snprintf(url, sizeof url, "https://%s/debug/pprof/cmdline", addr);
  snprintf(args, sizeof args,
           "--cacert %s/server.pem --cert %s/client.pem --key %s/client.key",
           dir, dir, dir);
  ck_assert_int_eq(h_http_args("GET", url, args, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  snprintf(args, sizeof args, "--cacert %s/server.pem", dir);
  ck_assert_int_eq(h_http_args("GET", url, args, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 403);
  ck_assert_ptr_nonnull(strstr(r.body, "client certificate"));
  h_resp_free(&r);
  snprintf(args, sizeof args,
           "--cacert %s/server.pem --cert %s/rogue.pem --key %s/rogue.key", dir,
           dir, dir);
  int rc = h_http_args("GET", url, args, NULL, 0, &r);
  ck_assert_msg(rc != 0 || r.status == 403, "rogue client got %d", r.status);
  h_resp_free(&r);
  ck_assert_int_eq(pprofd_stop(), 0);
  /* Mutual TLS authenticates: the exposure guard lets it serve every
   * interface; server TLS alone does not. */
  ck_assert_int_eq(start_tls_on("0.0.0.0:0", dir, "server.pem", "server.key",
                                "ca.pem", addr, sizeof addr),
                   0);
  ck_assert_int_eq(pprofd_stop(), 0);
  ck_assert_int_eq(start_tls_on("0.0.0.0:0", dir, "server.pem", "server.key",
                                NULL, addr, sizeof addr),
                   PPROFD_EINSECURE);
  rm_dir(dir);
}
END_TEST

/* Under LD_PRELOAD a bad TLS file is one stderr line; the host runs on. */
START_TEST(test_tls_preload_bad) {
  char dir[] = "/tmp/pprofd-tls-XXXXXX";
  if (!make_certs(dir))
    return;
  char cmd[1024], *out;
  snprintf(
      cmd, sizeof cmd,
      "LD_PRELOAD=%s PPROFD_ADDR=127.0.0.1:0 PPROFD_TLS_CERT=%s/server.pem "
      "PPROFD_TLS_KEY=%s/other.key %s 1; echo exit=$?",
      h_build_path(".libs/libpprofd.so"), dir, dir,
      h_build_path("tests/integration/preload_target"));
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "pprofd: not started on 127.0.0.1:0: "
                            "PPROFD_TLS_CERT ") != NULL,
                "%s", out);
  ck_assert_msg(strstr(out, "exit=0") != NULL, "%s", out);
  free(out);
  snprintf(
      cmd, sizeof cmd,
      "LD_PRELOAD=%s PPROFD_ADDR=127.0.0.1:0 PPROFD_TLS_CERT=%s/server.pem "
      "PPROFD_TLS_KEY=%s/server.key %s 1 2>&1 | head -1",
      h_build_path(".libs/libpprofd.so"), dir, dir,
      h_build_path("tests/integration/preload_target"));
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "pprofd: listening on https://127.0.0.1:") != NULL,
                "%s", out);
  free(out);
  rm_dir(dir);
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
  tcase_add_test(each, test_bearer);
  tcase_add_test(each, test_basic);
  tcase_add_test(each, test_token_file);
  tcase_add_test(each, test_bad_credentials_preload);
  tcase_add_test(each, test_exposure_preload);
  tcase_add_test(each, test_exposure_api);
  tcase_add_test(each, test_exposure_allowed);
  suite_add_tcase(s, each);
  /* HTTPS, served by pprofd started in the test's own process. */
  TCase *tls = tcase_create("tls");
  tcase_set_timeout(tls, 120);
  tcase_add_test(tls, test_tls);
  tcase_add_test(tls, test_mutual_tls);
  tcase_add_test(tls, test_tls_preload_bad);
  suite_add_tcase(s, tls);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
