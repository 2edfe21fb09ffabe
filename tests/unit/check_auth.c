/*
 * check_auth.c - unit tests for core/auth.c: bearer and basic checks,
 * credential files and their rotation, refusals counted and logged at
 * most once a minute, and a description that shows no secret.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/auth.h"
#include "core/conf.h"
#include "pprofd.h"

#include "../check_run.h"

static char dir[] = "/tmp/pprofd-auth-XXXXXX";

static void setup(void) { ck_assert_ptr_nonnull(mkdtemp(dir)); }

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}

/* Writes text to dir/name through a rename, as a rotation should. */
static const char *put_file(const char *name, const char *text) {
  static char path[256];
  char tmp[300];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  ck_assert_int_eq(fclose(f), 0);
  ck_assert_int_eq(rename(tmp, path), 0);
  return path;
}

static pprofd__auth_result check(const struct pprofd_config *c,
                                 const char *hdr) {
  return pprofd__auth_check(c, hdr, "GET", "/debug/pprof/", "127.0.0.1");
}

START_TEST(test_off) {
  struct pprofd_config c;
  pprofd__config_defaults(&c);
  ck_assert_uint_eq(pprofd__auth_schemes(&c), 0);
  ck_assert_int_eq(check(&c, NULL), PPROFD__AUTH_OK);
  ck_assert_int_eq(check(&c, "Bearer x"), PPROFD__AUTH_OK);
  ck_assert_int_eq(pprofd__auth_validate(&c, NULL, 0), 0);
  char d[256];
  pprofd__auth_describe(&c, d, sizeof d);
  ck_assert_ptr_nonnull(strstr(d, "off"));
}
END_TEST

START_TEST(test_bearer) {
  struct pprofd_config c;
  pprofd__config_defaults(&c);
  ck_assert_int_eq(pprofd_config_set_auth_token(&c, "s3cret-token"), 0);
  ck_assert_uint_eq(pprofd__auth_schemes(&c), PPROFD__AUTH_BEARER);
  uint64_t f0 = pprofd__auth_failures();
  ck_assert_int_eq(check(&c, "Bearer s3cret-token"), PPROFD__AUTH_OK);
  ck_assert_int_eq(check(&c, "bearer  s3cret-token "), PPROFD__AUTH_OK);
  ck_assert_uint_eq(pprofd__auth_failures(), f0);
  ck_assert_int_eq(check(&c, NULL), PPROFD__AUTH_MISSING);
  ck_assert_int_eq(check(&c, ""), PPROFD__AUTH_MISSING);
  ck_assert_int_eq(check(&c, "Bearer s3cret-toke"), PPROFD__AUTH_WRONG);
  ck_assert_int_eq(check(&c, "Bearer s3cret-token2"), PPROFD__AUTH_WRONG);
  ck_assert_int_eq(check(&c, "Bearer S3cret-token"), PPROFD__AUTH_WRONG);
  ck_assert_int_eq(check(&c, "Bearer "), PPROFD__AUTH_SCHEME);
  ck_assert_int_eq(check(&c, "s3cret-token"), PPROFD__AUTH_SCHEME);
  /* Basic is not configured: even the right secret does not pass. */
  ck_assert_int_eq(check(&c, "Basic OnMzY3JldC10b2tlbg=="),
                   PPROFD__AUTH_SCHEME);
  ck_assert_uint_eq(pprofd__auth_failures(), f0 + 8);
  char d[256];
  pprofd__auth_describe(&c, d, sizeof d);
  ck_assert_ptr_null(strstr(d, "s3cret"));
  ck_assert_ptr_nonnull(strstr(d, "bearer token"));
  ck_assert_ptr_nonnull(strstr(d, "8 requests refused"));
}
END_TEST

START_TEST(test_basic) {
  struct pprofd_config c;
  pprofd__config_defaults(&c);
  ck_assert_int_eq(pprofd_config_set_basic_auth(&c, "alice:pa:ss word"), 0);
  ck_assert_uint_eq(pprofd__auth_schemes(&c), PPROFD__AUTH_BASIC);
  /* base64("alice:pa:ss word") */
  ck_assert_int_eq(check(&c, "Basic YWxpY2U6cGE6c3Mgd29yZA=="),
                   PPROFD__AUTH_OK);
  ck_assert_int_eq(check(&c, "basic YWxpY2U6cGE6c3Mgd29yZA"), PPROFD__AUTH_OK);
  /* base64("alice:pa:ss wore"), base64("bob:pa:ss word") */
  ck_assert_int_eq(check(&c, "Basic YWxpY2U6cGE6c3Mgd29yZQ=="),
                   PPROFD__AUTH_WRONG);
  ck_assert_int_eq(check(&c, "Basic Ym9iOnBhOnNzIHdvcmQ="), PPROFD__AUTH_WRONG);
  ck_assert_int_eq(check(&c, "Basic !!!"), PPROFD__AUTH_SCHEME);
  ck_assert_int_eq(check(&c, "Bearer alice:pa:ss word"), PPROFD__AUTH_SCHEME);
  char d[256];
  pprofd__auth_describe(&c, d, sizeof d);
  ck_assert_ptr_null(strstr(d, "alice"));
  ck_assert_ptr_null(strstr(d, "word"));
  /* Both schemes: either passes. */
  ck_assert_int_eq(pprofd_config_set_auth_token(&c, "t"), 0);
  ck_assert_int_eq(check(&c, "Bearer t"), PPROFD__AUTH_OK);
  ck_assert_int_eq(check(&c, "Basic YWxpY2U6cGE6c3Mgd29yZA=="),
                   PPROFD__AUTH_OK);
  /* A basic credential without a colon cannot be used. */
  ck_assert_int_eq(pprofd_config_set_basic_auth(&c, "alice"), 0);
  char why[256];
  ck_assert_int_eq(pprofd__auth_validate(&c, why, sizeof why), PPROFD_EAUTH);
  ck_assert_ptr_nonnull(strstr(why, "PPROFD_BASIC_AUTH"));
}
END_TEST

START_TEST(test_token_file_rotates) {
  struct pprofd_config c;
  pprofd__config_defaults(&c);
  const char *path = put_file("tokens", "# tokens\n\nfirst \r\nsecond\n");
  ck_assert_int_eq(pprofd_config_set_auth_token_file(&c, path), 0);
  ck_assert_int_eq(pprofd__auth_validate(&c, NULL, 0), 0);
  ck_assert_int_eq(check(&c, "Bearer first"), PPROFD__AUTH_OK);
  ck_assert_int_eq(check(&c, "Bearer second"), PPROFD__AUTH_OK);
  ck_assert_int_eq(check(&c, "Bearer # tokens"), PPROFD__AUTH_WRONG);
  ck_assert_int_eq(check(&c, "Bearer third"), PPROFD__AUTH_WRONG);
  put_file("tokens", "third\n");
  ck_assert_int_eq(check(&c, "Bearer third"), PPROFD__AUTH_OK);
  ck_assert_int_eq(check(&c, "Bearer first"), PPROFD__AUTH_WRONG);
  char d[512];
  pprofd__auth_describe(&c, d, sizeof d);
  ck_assert_ptr_nonnull(strstr(d, path));
  ck_assert_ptr_null(strstr(d, "third"));
  /* Gone or empty: every request is refused until it is back. */
  ck_assert_int_eq(unlink(path), 0);
  ck_assert_int_eq(check(&c, "Bearer third"), PPROFD__AUTH_UNAVAILABLE);
  char why[512];
  ck_assert_int_eq(pprofd__auth_validate(&c, why, sizeof why), PPROFD_EAUTH);
  ck_assert_ptr_nonnull(strstr(why, "PPROFD_AUTH_TOKEN_FILE"));
  put_file("tokens", "\n# none\n");
  ck_assert_int_eq(check(&c, "Bearer third"), PPROFD__AUTH_UNAVAILABLE);
  ck_assert_int_eq(pprofd__auth_validate(&c, why, sizeof why), PPROFD_EAUTH);
  ck_assert_ptr_nonnull(strstr(why, "holds no token"));
  put_file("tokens", "fourth");
  ck_assert_int_eq(check(&c, "Bearer fourth"), PPROFD__AUTH_OK);
  /* An inline token still works while the file is broken. */
  ck_assert_int_eq(pprofd_config_set_auth_token(&c, "inline"), 0);
  ck_assert_int_eq(unlink(path), 0);
  ck_assert_int_eq(check(&c, "Bearer inline"), PPROFD__AUTH_OK);
  ck_assert_int_eq(check(&c, "Bearer fourth"), PPROFD__AUTH_WRONG);
}
END_TEST

START_TEST(test_basic_file) {
  struct pprofd_config c;
  pprofd__config_defaults(&c);
  const char *path = put_file("users", "alice:pw1\nbob:pw2\n");
  ck_assert_int_eq(pprofd_config_set_basic_auth_file(&c, path), 0);
  ck_assert_int_eq(pprofd__auth_validate(&c, NULL, 0), 0);
  /* base64("bob:pw2"), base64("bob:pw1") */
  ck_assert_int_eq(check(&c, "Basic Ym9iOnB3Mg=="), PPROFD__AUTH_OK);
  ck_assert_int_eq(check(&c, "Basic Ym9iOnB3MQ=="), PPROFD__AUTH_WRONG);
  put_file("users", "alice:pw1\nnocolon\n");
  char why[512];
  ck_assert_int_eq(pprofd__auth_validate(&c, why, sizeof why), PPROFD_EAUTH);
  ck_assert_ptr_nonnull(strstr(why, "PPROFD_BASIC_AUTH_FILE"));
}
END_TEST

/* Many refusals, one stderr line. */
START_TEST(test_log_once_a_minute) {
  char path[256];
  snprintf(path, sizeof path, "%s/stderr", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge(fd, 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  struct pprofd_config c;
  pprofd__config_defaults(&c);
  ck_assert_int_eq(pprofd_config_set_auth_token(&c, "tok"), 0);
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(pprofd__auth_check(&c, "Bearer nope", "GET",
                                        "/debug/pprof/heap\n", "10.1.2.3"),
                     PPROFD__AUTH_WRONG);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fd);
  FILE *f = fopen(path, "r");
  char line[512];
  int lines = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    lines++;
    ck_assert_ptr_nonnull(strstr(line, "pprofd: refused GET"));
    ck_assert_ptr_nonnull(strstr(line, "/debug/pprof/heap? from 10.1.2.3"));
    ck_assert_ptr_nonnull(strstr(line, "wrong bearer token"));
    ck_assert_ptr_null(strstr(line, "tok)"));
  }
  fclose(f);
  ck_assert_int_eq(lines, 1);
}
END_TEST

static Suite *auth_suite(void) {
  Suite *s = suite_create("auth");
  TCase *tc = tcase_create("auth");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_off);
  tcase_add_test(tc, test_bearer);
  tcase_add_test(tc, test_basic);
  tcase_add_test(tc, test_token_file_rotates);
  tcase_add_test(tc, test_basic_file);
  tcase_add_test(tc, test_log_once_a_minute);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(auth_suite()); }
