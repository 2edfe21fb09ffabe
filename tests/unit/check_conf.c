/*
 * check_conf.c - the configuration: defaults, setter ranges, address
 * parsing and the PPROFD_* environment variables.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/runtime.h"
#include "pprofd.h"

#include "../check_run.h"

START_TEST(test_defaults) {
  pprofd_config *c = pprofd_config_new();
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(c->addr, "127.0.0.1:6060");
  ck_assert_int_eq(c->http, 1);
  ck_assert_uint_eq(c->max_connections, 16);
  ck_assert_uint_eq(c->max_seconds, 3600);
  ck_assert_int_eq(c->symbolize, 1);
  pprofd_config_free(c);
  pprofd_config_free(NULL);
}
END_TEST

START_TEST(test_addresses) {
  char host[64];
  unsigned port;
  ck_assert_int_eq(
      pprofd__config_split_addr("127.0.0.1:6060", host, sizeof host, &port), 0);
  ck_assert_str_eq(host, "127.0.0.1");
  ck_assert_uint_eq(port, 6060);
  ck_assert_int_eq(
      pprofd__config_split_addr("[::1]:0", host, sizeof host, &port), 0);
  ck_assert_str_eq(host, "::1");
  ck_assert_uint_eq(port, 0);
  ck_assert_int_eq(
      pprofd__config_split_addr("localhost:80", host, sizeof host, &port), 0);
  const char *bad[] = {"",        "6060",   ":6060",   "host:",    "host:65536",
                       "host:-1", "::1:80", "[::1:80", "host:12a", "host:+5"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(pprofd__config_split_addr(bad[i], host, sizeof host, &port) ==
                      PPROFD_EADDR,
                  "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_setter_ranges) {
  pprofd_config *c = pprofd_config_new();
  ck_assert_int_eq(pprofd_config_set_addr(c, "bad"), PPROFD_EADDR);
  ck_assert_str_eq(c->addr, "127.0.0.1:6060");
  ck_assert_int_eq(pprofd_config_set_max_connections(c, 0), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_config_set_max_connections(c, 1025), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_config_set_max_connections(c, 4), 0);
  ck_assert_uint_eq(c->max_connections, 4);
  ck_assert_int_eq(pprofd_config_set_request_timeout(c, 0), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_config_set_max_seconds(c, 86401), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_config_set_max_body(c, 100), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_config_set_max_body(c, 4096), 0);
  ck_assert_int_eq(pprofd_config_set_max_cpu_profiles(c, 0), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_config_set_max_cpu_profiles(c, 65), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_config_set_max_cpu_profiles(c, 2), 0);
  ck_assert_uint_eq(c->max_cpu_profiles, 2);
  ck_assert_int_eq(pprofd_config_set_symbolize(c, 0), 0);
  ck_assert_int_eq(c->symbolize, 0);
  ck_assert_int_eq(pprofd_config_set_http(NULL, 1), PPROFD_EINVAL);
  pprofd_config_free(c);
}
END_TEST

START_TEST(test_env) {
  setenv("PPROFD_ADDR", "[::1]:7000", 1);
  setenv("PPROFD_MAX_CONNECTIONS", "3", 1);
  setenv("PPROFD_SYMBOLIZE", "off", 1);
  setenv("PPROFD_HTTP", "yes", 1);
  setenv("PPROFD_MAX_BODY", "2048", 1);
  pprofd_config *c = pprofd_config_new();
  ck_assert_int_eq(pprofd_config_from_env(c), 0);
  ck_assert_str_eq(c->addr, "[::1]:7000");
  ck_assert_uint_eq(c->max_connections, 3);
  ck_assert_int_eq(c->symbolize, 0);
  ck_assert_uint_eq(c->max_body, 2048);
  /* A bad value is an error and leaves that knob alone; others apply. */
  setenv("PPROFD_MAX_CONNECTIONS", "3x", 1);
  setenv("PPROFD_REQUEST_TIMEOUT", "9", 1);
  setenv("PPROFD_SYMBOLIZE", "maybe", 1);
  ck_assert_int_eq(pprofd_config_from_env(c), PPROFD_EINVAL);
  ck_assert_uint_eq(c->max_connections, 3);
  ck_assert_uint_eq(c->request_timeout, 9);
  ck_assert_int_eq(c->symbolize, 0);
  pprofd_config_free(c);
}
END_TEST

/* Out-of-range variables are errors too, with no truncation on the way:
 * 2^32 + 1 is not 1. */
START_TEST(test_env_ranges) {
  pprofd_config *c = pprofd_config_new();
  setenv("PPROFD_MAX_CONNECTIONS", "1025", 1);
  setenv("PPROFD_MAX_SECONDS", "4294967297", 1);
  setenv("PPROFD_MAX_BODY", "1023", 1);
  setenv("PPROFD_MAX_CPU_PROFILES", "64", 1);
  setenv("PPROFD_HTTP", "0", 1);
  ck_assert_int_eq(pprofd_config_from_env(c), PPROFD_EINVAL);
  ck_assert_uint_eq(c->max_connections, 16);
  ck_assert_uint_eq(c->max_seconds, 3600);
  ck_assert_uint_eq(c->max_body, (size_t)1 << 20);
  ck_assert_uint_eq(c->max_cpu_profiles, 64);
  ck_assert_int_eq(c->http, 0);
  ck_assert_int_eq(pprofd_config_set_max_body(c, (size_t)-1), PPROFD_EINVAL);
  ck_assert_uint_eq(c->max_body, (size_t)1 << 20);
  pprofd_config_free(c);
}
END_TEST

/* Collects pprofd__conf_rows' output as "key=value" lines. */
static void collect_row(void *ctx, const char *key, const char *value) {
  char *out = ctx;
  size_t n = strlen(out);
  snprintf(out + n, 2048 - n, "%s=%s\n", key, value);
}

/* The index page's configuration rows: the same texts it has always
 * printed, in its order, and only for the knobs it shows. */
START_TEST(test_rows) {
  pprofd_config *c = pprofd_config_new();
  char out[2048] = "";
  pprofd__conf_rows(c, collect_row, out);
  ck_assert_str_eq(out,
                   "symbolize=on: profiles carry functions, files and lines\n"
                   "max_connections=16 concurrent requests\n"
                   "request_timeout=30 s\n"
                   "max_seconds=3600 s (longest profile, delta or trace)\n"
                   "max_body=1048576 bytes\n"
                   "max_cpu_profiles=4 concurrent CPU profiles\n"
                   "disable=nothing (PPROFD_DISABLE=metrics,vars,cmdline,... "
                   "turns endpoints off)\n"
                   "mem_profile_rate=524288 bytes (heap sampling)\n"
                   "block_profile_rate=0: off (pprofd_set_block_profile_rate "
                   "or PPROFD_BLOCK_PROFILE_RATE=N ns turns it on)\n"
                   "mutex_profile_fraction=0: off "
                   "(pprofd_set_mutex_profile_fraction or "
                   "PPROFD_MUTEX_PROFILE_FRACTION=N turns it on)\n");
  ck_assert_int_eq(pprofd_config_set_symbolize(c, 0), 0);
  ck_assert_int_eq(pprofd_config_set_max_connections(c, 1024), 0);
  ck_assert_int_eq(pprofd_config_set_max_body(c, (size_t)64 << 20), 0);
  out[0] = '\0';
  pprofd__conf_rows(c, collect_row, out);
  ck_assert(strstr(out, "symbolize=off: profiles carry addresses only\n"));
  ck_assert(strstr(out, "max_connections=1024 concurrent requests\n"));
  ck_assert(strstr(out, "max_body=67108864 bytes\n"));
  pprofd_config_free(c);
}
END_TEST

/* The rates: process-wide, set at once through the old setters, which
 * check the table's range; the config in force reads them back, and the
 * index rows show them as the page always has. */
START_TEST(test_rates) {
  pprofd_config *c = pprofd_config_new();
  ck_assert_int_eq(c->mem_profile_rate, 524288);
  ck_assert_int_eq(c->block_profile_rate, 0);
  ck_assert_int_eq(c->mutex_profile_fraction, 0);
  if (getenv("PPROFD_MEM_PROFILE_RATE") == NULL) /* the samplers agree */
    ck_assert_int_eq(pprofd_mem_profile_rate(), c->mem_profile_rate);
  ck_assert_int_eq(pprofd_set_mem_profile_rate(-1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_set_block_profile_rate(-1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_set_mutex_profile_fraction(-1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_set_mem_profile_rate(0), 0);
  ck_assert_int_eq(pprofd_set_block_profile_rate(1000), 0);
  ck_assert_int_eq(pprofd_set_mutex_profile_fraction(4), 0);
  ck_assert_int_eq(pprofd_mem_profile_rate(), 0);
  ck_assert_int_eq(pprofd_block_profile_rate(), 1000);
  ck_assert_int_eq(pprofd_mutex_profile_fraction(), 4);
  struct pprofd_config in_force;
  pprofd__runtime_config(&in_force);
  ck_assert_int_eq(in_force.mem_profile_rate, 0);
  ck_assert_int_eq(in_force.block_profile_rate, 1000);
  ck_assert_int_eq(in_force.mutex_profile_fraction, 4);
  char out[2048] = "";
  pprofd__conf_rows(&in_force, collect_row, out);
  ck_assert(strstr(out, "mem_profile_rate=0 bytes (heap sampling off)\n"));
  ck_assert(strstr(out, "block_profile_rate=1000 ns (every wait that long is "
                        "recorded, shorter ones in proportion)\n"));
  ck_assert(strstr(out, "mutex_profile_fraction=4 (1 in 4 contended releases "
                        "recorded)\n"));
  /* Their variables are read at load, not by pprofd_config_from_env. */
  setenv("PPROFD_MEM_PROFILE_RATE", "1x", 1);
  ck_assert_int_eq(pprofd_config_from_env(c), 0);
  ck_assert_int_eq(pprofd__conf_env_at_load(PPROFD__CONF_mem_profile_rate), -1);
  setenv("PPROFD_BLOCK_PROFILE_RATE", "7", 1);
  ck_assert_int_eq(pprofd__conf_env_at_load(PPROFD__CONF_block_profile_rate),
                   7);
  ck_assert_int_eq(pprofd_block_profile_rate(), 1000);
  pprofd_config_free(c);
}
END_TEST

/* The samplers' own variables: a whole number >= 0, else -1 (and a line
 * on stderr for a malformed one). */
START_TEST(test_env_count) {
  unsetenv("PPROFD_TEST_COUNT");
  ck_assert_int_eq(pprofd__config_env_count("PPROFD_TEST_COUNT"), -1);
  static const struct {
    const char *v;
    int64_t want;
  } cases[] = {{"", -1},           {"0", 0},
               {"524288", 524288}, {"-1", -1},
               {"+1", -1},         {"1.5", -1},
               {"abc", -1},        {"12abc", -1},
               {" 1", -1},         {"99999999999999999999", -1}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    setenv("PPROFD_TEST_COUNT", cases[i].v, 1);
    ck_assert_msg(pprofd__config_env_count("PPROFD_TEST_COUNT") ==
                      cases[i].want,
                  "'%s'", cases[i].v);
  }
}
END_TEST

/* Reads what fn writes to stderr. */
static void capture_stderr(void (*fn)(void *), void *arg, char *out,
                           size_t len) {
  char path[] = "/tmp/pprofd-conf-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  fn(arg);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  ssize_t n = pread(fd, out, len - 1, 0);
  out[n > 0 ? n : 0] = '\0';
  close(fd);
  unlink(path);
}

static void apply_env(void *c) {
  ck_assert_int_eq(pprofd_config_from_env(c), PPROFD_EINVAL);
}

/* PPROFD_DISABLE: a list of endpoint names, as a setter, a variable and
 * an index row; an unknown name is an error, named on stderr by the
 * variable, which still switches off the names it knows. */
START_TEST(test_disable) {
  pprofd_config *c = pprofd_config_new();
  ck_assert_uint_eq(c->disable, 0);
  ck_assert_int_eq(pprofd_config_set_disable(c, "metrics"), 0);
  ck_assert_uint_eq(c->disable, PPROFD__DISABLE_METRICS);
  ck_assert_int_eq(pprofd_config_set_disable(c, " Vars , metrics,,"), 0);
  ck_assert_uint_eq(c->disable, PPROFD__DISABLE_METRICS | PPROFD__DISABLE_VARS);
  ck_assert_int_eq(
      pprofd_config_set_disable(c, "metrics,vars,cmdline,SYMBOL,trace,gc"), 0);
  ck_assert_uint_eq(c->disable, PPROFD__DISABLE_ALL);
  ck_assert_int_eq(pprofd_config_set_disable(c, "metrics,argv"), PPROFD_EINVAL);
  ck_assert_uint_eq(c->disable, PPROFD__DISABLE_ALL); /* unchanged */
  ck_assert_int_eq(pprofd_config_set_disable(c, NULL), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_config_set_disable(NULL, "vars"), PPROFD_EINVAL);
  char out[2048] = "";
  pprofd__conf_rows(c, collect_row, out);
  ck_assert(
      strstr(out, "disable=off: metrics, vars, cmdline, symbol, trace, gc\n"));
  ck_assert_int_eq(pprofd_config_set_disable(c, ""), 0);
  ck_assert_uint_eq(c->disable, 0);

  setenv("PPROFD_DISABLE", "vars", 1);
  ck_assert_int_eq(pprofd_config_from_env(c), 0);
  ck_assert_uint_eq(c->disable, PPROFD__DISABLE_VARS);
  setenv("PPROFD_DISABLE", "metrics, bogus", 1);
  char err[512];
  capture_stderr(apply_env, c, err, sizeof err);
  ck_assert_str_eq(err, "pprofd: PPROFD_DISABLE=metrics, bogus: ignoring "
                        "unknown name \"bogus\" (known: metrics, vars, "
                        "cmdline, symbol, trace, gc)\n");
  ck_assert_uint_eq(c->disable, PPROFD__DISABLE_METRICS);
  unsetenv("PPROFD_DISABLE");
  pprofd_config_free(c);
}
END_TEST

START_TEST(test_errors_and_version) {
  ck_assert_str_eq(pprofd_strerror(PPROFD_EINVAL), "invalid argument");
  ck_assert_str_eq(pprofd_err_name(PPROFD_ELISTEN), "PPROFD_ELISTEN");
  ck_assert_str_eq(pprofd_strerror(-999), "unknown error");
  ck_assert_str_eq(pprofd_err_name(-999), "PPROFD_UNKNOWN");
  ck_assert_str_eq(pprofd_strerror(0), "success");
  for (int e = -1; e > PPROFD_ERRNO_LAST; e--)
    ck_assert_str_ne(pprofd_strerror(e), "unknown error");
  ck_assert_str_eq(pprofd_version(), PPROFD_VERSION_STRING);
  ck_assert_uint_eq(pprofd_version_hex(), PPROFD_VERSION_HEX);
}
END_TEST

int main(void) {
  Suite *s = suite_create("conf");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_addresses);
  tcase_add_test(tc, test_setter_ranges);
  tcase_add_test(tc, test_env);
  tcase_add_test(tc, test_env_ranges);
  tcase_add_test(tc, test_rows);
  tcase_add_test(tc, test_rates);
  tcase_add_test(tc, test_env_count);
  tcase_add_test(tc, test_disable);
  tcase_add_test(tc, test_errors_and_version);
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
