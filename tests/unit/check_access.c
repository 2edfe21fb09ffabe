/*
 * check_access.c - unit tests for http/access.c: the Host header check
 * that keeps web pages from reaching pprofd through DNS rebinding, and
 * the loopback test of the exposure guard.
 */
#include "config.h"

#include <check.h>
#include <stddef.h>

#include "base/common.h"
#include "http/access.h"

#include "../check_run.h"

static const struct {
  const char *host, *bound, *allowed;
  int ok;
} cases[] = {
    /* Loopback names and addresses, with or without a port. */
    {"127.0.0.1:6060", "127.0.0.1:6060", "", 1},
    {"127.0.0.1", "127.0.0.1:6060", "", 1},
    {"127.1.2.3:80", "127.0.0.1:6060", "", 1},
    {"localhost:6060", "127.0.0.1:6060", "", 1},
    {"LocalHost.", "127.0.0.1:6060", "", 1},
    {"[::1]:6060", "127.0.0.1:6060", "", 1},
    {"[::1]", "127.0.0.1:6060", "", 1},
    {"[0:0::1]:1", "127.0.0.1:6060", "", 1},
    {"[::ffff:127.0.0.1]:1", "127.0.0.1:6060", "", 1},
    /* The repro and other strangers. */
    {"evil.example:6060", "127.0.0.1:6060", "", 0},
    {"evil.example", "127.0.0.1:6060", "", 0},
    {"localhost.evil.example", "127.0.0.1:6060", "", 0},
    {"127.0.0.1.evil.example", "127.0.0.1:6060", "", 0},
    {"10.0.0.5:6060", "127.0.0.1:6060", "", 0},
    {"[::2]:6060", "127.0.0.1:6060", "", 0},
    /* Malformed. */
    {"", "127.0.0.1:6060", "", 0},
    {":6060", "127.0.0.1:6060", "", 0},
    {"::1", "127.0.0.1:6060", "", 0},
    {"[::1", "127.0.0.1:6060", "", 0},
    {"[::1]x", "127.0.0.1:6060", "", 0},
    {"localhost:60a", "127.0.0.1:6060", "", 0},
    {"localhost:", "127.0.0.1:6060", "", 0},
    {"a b", "127.0.0.1:6060", "*", 0},
    /* Absent: HTTP/1.0 clients. */
    {NULL, "127.0.0.1:6060", "", 1},
    /* The bound address, with any port. */
    {"10.0.0.5:6060", "10.0.0.5:6060", "", 1},
    {"10.0.0.5", "10.0.0.5:6060", "", 1},
    {"10.0.0.6:6060", "10.0.0.5:6060", "", 0},
    {"[fd00::5]:6060", "[fd00:0::5]:6060", "", 1},
    /* Bound to every interface: any IP literal, never a name. */
    {"10.0.0.6:6060", "0.0.0.0:6060", "", 1},
    {"[fd00::7]:6060", "[::]:6060", "", 1},
    {"evil.example:6060", "0.0.0.0:6060", "", 0},
    /* The allowed list. */
    {"pprof.internal:6060", "0.0.0.0:6060", "pprof.internal", 1},
    {"PPROF.internal:1", "0.0.0.0:6060", " a.b , pprof.internal ", 1},
    {"pprof.internal:6060", "0.0.0.0:6060", "pprof.internal:6060", 1},
    {"pprof.internal:6061", "0.0.0.0:6060", "pprof.internal:6060", 0},
    {"pprof.internal", "0.0.0.0:6060", "pprof.internal:6060", 0},
    {"a.svc.cluster.local:1", "0.0.0.0:6060", ".svc.cluster.local", 1},
    {"svc.cluster.local", "0.0.0.0:6060", ".svc.cluster.local", 1},
    {"xsvc.cluster.local", "0.0.0.0:6060", ".svc.cluster.local", 0},
    {"anything.example:9", "127.0.0.1:6060", "*", 1},
    {"[fd00::9]:1", "127.0.0.1:6060", "[fd00::9]:1", 1},
    {"evil.example", "127.0.0.1:6060", ",,", 0},
    /* Mounted: nothing checked unless a list is set. */
    {"evil.example", NULL, "", 1},
    {"evil.example", NULL, NULL, 1},
    {"evil.example", NULL, "pprof.internal", 0},
    {"localhost:80", NULL, "pprof.internal", 1},
    {"pprof.internal", NULL, "pprof.internal", 1},
};

START_TEST(test_host) {
  ck_assert_msg(pprofd__host_allowed(cases[_i].host, cases[_i].bound,
                                     cases[_i].allowed) == cases[_i].ok,
                "host %s bound %s allowed %s: want %d",
                cases[_i].host ? cases[_i].host : "(none)",
                cases[_i].bound ? cases[_i].bound : "(mounted)",
                cases[_i].allowed ? cases[_i].allowed : "(null)", cases[_i].ok);
}
END_TEST

START_TEST(test_addr_is_loopback) {
  ck_assert(pprofd__addr_is_loopback("127.0.0.1:6060"));
  ck_assert(pprofd__addr_is_loopback("127.3.2.1:0"));
  ck_assert(pprofd__addr_is_loopback("[::1]:6060"));
  ck_assert(pprofd__addr_is_loopback("[::ffff:127.0.0.1]:6060"));
  ck_assert(!pprofd__addr_is_loopback("0.0.0.0:6060"));
  ck_assert(!pprofd__addr_is_loopback("[::]:6060"));
  ck_assert(!pprofd__addr_is_loopback("10.0.0.5:6060"));
  ck_assert(!pprofd__addr_is_loopback("localhost:6060")); /* not bound */
  ck_assert(!pprofd__addr_is_loopback("?:0"));
  ck_assert(!pprofd__addr_is_loopback(NULL));
}
END_TEST

static Suite *access_suite(void) {
  Suite *s = suite_create("access");
  TCase *tc = tcase_create("host");
  tcase_add_loop_test(tc, test_host, 0, (int)PPROFD__ARRAY_SIZE(cases));
  tcase_add_test(tc, test_addr_is_loopback);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(access_suite()); }
