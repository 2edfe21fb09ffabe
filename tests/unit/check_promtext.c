/*
 * check_promtext.c - the Prometheus exposition formats (encode/promtext.c)
 * over hand-built metric sets (model/metrics.c): the text format 0.0.4
 * and OpenMetrics 1.0.0 byte for byte, HELP and label escaping, NaN and
 * the infinities, exact integers, counter family names, `# EOF`, content
 * types and the negotiation of the Accept header.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/ialloc.h"
#include "encode/promtext.h"
#include "model/metrics.h"
#include "pprofd.h"

#include "../check_run.h"

/* A set with one counter (two labelled samples) and one gauge. */
static void small_set(pprofd__mset *s) {
  pprofd__mset_init(s);
  pprofd__mset_family(s, "reqs_total", "Requests served.", PPROFD__MCOUNTER);
  pprofd__msample a = {
      .lname = {"path", "code"}, .lvalue = {"/a", "200"}, .nlabels = 2, .i = 7};
  pprofd__msample b = {
      .lname = {"path", "code"}, .lvalue = {"/b", "404"}, .nlabels = 2, .i = 1};
  pprofd__mset_add(s, &a);
  pprofd__mset_add(s, &b);
  pprofd__mset_family(s, "temp_celsius", "A temperature.", PPROFD__MGAUGE);
  pprofd__mset_float(s, 21.5);
}

/* Writes s in format f into a new string (freed by the caller). */
static char *write_set(const pprofd__mset *s, enum pprofd__promfmt f) {
  pprofd__buf b;
  pprofd__buf_init(&b, 1 << 20);
  ck_assert_int_eq(pprofd__promtext_write(s, f, &b), 0);
  pprofd__buf_putc(&b, '\0');
  size_t len;
  return pprofd__buf_steal(&b, &len);
}

START_TEST(test_text_layout) {
  pprofd__mset s;
  small_set(&s);
  char *out = write_set(&s, PPROFD__PROM_TEXT);
  ck_assert_str_eq(out, "# HELP reqs_total Requests served.\n"
                        "# TYPE reqs_total counter\n"
                        "reqs_total{path=\"/a\",code=\"200\"} 7\n"
                        "reqs_total{path=\"/b\",code=\"404\"} 1\n"
                        "# HELP temp_celsius A temperature.\n"
                        "# TYPE temp_celsius gauge\n"
                        "temp_celsius 21.5\n");
  pprofd__ifree(out);
  pprofd__mset_free(&s);
}
END_TEST

START_TEST(test_openmetrics_layout) {
  pprofd__mset s;
  small_set(&s);
  char *out = write_set(&s, PPROFD__PROM_OPENMETRICS);
  /* A counter's family drops `_total`, its samples keep it; `# EOF`. */
  ck_assert_str_eq(out, "# HELP reqs Requests served.\n"
                        "# TYPE reqs counter\n"
                        "reqs_total{path=\"/a\",code=\"200\"} 7\n"
                        "reqs_total{path=\"/b\",code=\"404\"} 1\n"
                        "# HELP temp_celsius A temperature.\n"
                        "# TYPE temp_celsius gauge\n"
                        "temp_celsius 21.5\n"
                        "# EOF\n");
  pprofd__ifree(out);
  pprofd__mset_free(&s);
}
END_TEST

START_TEST(test_escaping) {
  pprofd__mset s;
  pprofd__mset_init(&s);
  pprofd__mset_family(&s, "x", "back\\slash \"quoted\"\nnext line",
                      PPROFD__MGAUGE);
  pprofd__msample m = {.lname = {"l"},
                       .lvalue = {"a\\b\"c\nd \xff\xc3\xa9"},
                       .nlabels = 1,
                       .i = 1};
  pprofd__mset_add(&s, &m);
  pprofd__mset_family(&s, "y", "bad \xc0\xaf utf-8", PPROFD__MGAUGE);
  pprofd__mset_int(&s, 2);
  char *out = write_set(&s, PPROFD__PROM_TEXT);
  /* 0.0.4: HELP escapes backslash and newline only; label values also
   * the double quote; bytes that are not UTF-8 become U+FFFD. */
  ck_assert_str_eq(out, "# HELP x back\\\\slash \"quoted\"\\nnext line\n"
                        "# TYPE x gauge\n"
                        "x{l=\"a\\\\b\\\"c\\nd \xef\xbf\xbd\xc3\xa9\"} 1\n"
                        "# HELP y bad \xef\xbf\xbd\xef\xbf\xbd utf-8\n"
                        "# TYPE y gauge\n"
                        "y 2\n");
  pprofd__ifree(out);
  out = write_set(&s, PPROFD__PROM_OPENMETRICS);
  /* OpenMetrics escapes the double quote in HELP too. */
  ck_assert(strstr(out, "# HELP x back\\\\slash \\\"quoted\\\"\\nnext line\n"));
  ck_assert(strstr(out, "x{l=\"a\\\\b\\\"c\\nd \xef\xbf\xbd\xc3\xa9\"} 1\n"));
  pprofd__ifree(out);
  pprofd__mset_free(&s);
}
END_TEST

START_TEST(test_values) {
  static const struct {
    int is_float;
    int64_t i;
    double d;
    const char *text;
  } t[] = {
      {1, 0, NAN, "NaN"},
      {1, 0, INFINITY, "+Inf"},
      {1, 0, -INFINITY, "-Inf"},
      {1, 0, 0.1, "0.1"},
      {1, 0, 1e-5, "1e-05"},
      {1, 0, 1234567.0, "1.234567e+06"},
      {1, 0, 3.0, "3"},
      {0, INT64_MAX, 0, "9223372036854775807"},
      {0, INT64_MIN, 0, "-9223372036854775808"},
      {0, 9007199254740993, 0, "9007199254740993"}, /* 2^53 + 1, exact */
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    pprofd__mset s;
    pprofd__mset_init(&s);
    pprofd__mset_family(&s, "v", NULL, PPROFD__MGAUGE);
    pprofd__msample m = {.is_float = t[i].is_float, .i = t[i].i, .d = t[i].d};
    pprofd__mset_add(&s, &m);
    char want[128];
    snprintf(want, sizeof want, "# TYPE v gauge\nv %s\n", t[i].text);
    char *out = write_set(&s, PPROFD__PROM_TEXT);
    ck_assert_str_eq(out, want); /* no HELP line without a text */
    pprofd__ifree(out);
    pprofd__mset_free(&s);
  }
}
END_TEST

START_TEST(test_empty_and_failed) {
  pprofd__mset s;
  pprofd__mset_init(&s);
  pprofd__mset_family(&s, "nothing", "No samples.", PPROFD__MCOUNTER);
  char *out = write_set(&s, PPROFD__PROM_TEXT);
  ck_assert_str_eq(out, ""); /* a family without samples is left out */
  pprofd__ifree(out);
  out = write_set(&s, PPROFD__PROM_OPENMETRICS);
  ck_assert_str_eq(out, "# EOF\n");
  pprofd__ifree(out);
  s.failed = PPROFD_ENOMEM;
  pprofd__buf b;
  pprofd__buf_init(&b, 1024);
  ck_assert_int_eq(pprofd__promtext_write(&s, PPROFD__PROM_TEXT, &b),
                   PPROFD_ENOMEM);
  pprofd__buf_free(&b);
  pprofd__mset_free(&s);
  /* A body past the buffer's cap fails with the buffer's error. */
  small_set(&s);
  pprofd__buf_init(&b, 16);
  ck_assert_int_eq(pprofd__promtext_write(&s, PPROFD__PROM_TEXT, &b),
                   PPROFD_ELIMIT);
  pprofd__buf_free(&b);
  pprofd__mset_free(&s);
}
END_TEST

/* Samples added before any family are ignored; many families grow the
 * arrays. */
START_TEST(test_set_growth) {
  pprofd__mset s;
  pprofd__mset_init(&s);
  pprofd__mset_int(&s, 1);
  ck_assert_uint_eq(s.nsmp, 0);
  static char names[1000][16];
  for (int i = 0; i < 1000; i++) {
    snprintf(names[i], sizeof names[i], "m%d", i);
    pprofd__mset_family(&s, names[i], NULL, PPROFD__MGAUGE);
    pprofd__mset_int(&s, i);
    pprofd__mset_int(&s, -i);
  }
  ck_assert_int_eq(s.failed, 0);
  ck_assert_uint_eq(s.nfam, 1000);
  ck_assert_uint_eq(s.nsmp, 2000);
  ck_assert_uint_eq(s.fam[999].first, 1998);
  ck_assert_uint_eq(s.fam[999].n, 2);
  char *out = write_set(&s, PPROFD__PROM_TEXT);
  ck_assert(strstr(out, "# TYPE m999 gauge\nm999 999\nm999 -999\n"));
  pprofd__ifree(out);
  pprofd__mset_free(&s);
}
END_TEST

START_TEST(test_negotiate) {
  static const struct {
    const char *accept;
    enum pprofd__promfmt f;
  } t[] = {
      {NULL, PPROFD__PROM_TEXT},
      {"", PPROFD__PROM_TEXT},
      /* What Prometheus 2.42 sends. */
      {"application/openmetrics-text;version=1.0.0,application/"
       "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
       "*/*;q=0.1",
       PPROFD__PROM_OPENMETRICS},
      {"application/openmetrics-text", PPROFD__PROM_OPENMETRICS},
      {"Application/OpenMetrics-Text; Version=\"0.0.1\"",
       PPROFD__PROM_OPENMETRICS},
      {"application/openmetrics-text; version=2.0.0", PPROFD__PROM_TEXT},
      {"application/openmetrics-text;q=0", PPROFD__PROM_TEXT},
      {"text/plain;version=0.0.4", PPROFD__PROM_TEXT},
      {"*/*", PPROFD__PROM_TEXT},
      {"application/json", PPROFD__PROM_TEXT},
      /* Ranked by q, then by how specific the range is, then by order. */
      {"text/plain;q=0.5, application/openmetrics-text;q=0.6",
       PPROFD__PROM_OPENMETRICS},
      {"text/plain;q=0.7, application/openmetrics-text;q=0.6",
       PPROFD__PROM_TEXT},
      {"*/*, application/openmetrics-text", PPROFD__PROM_OPENMETRICS},
      {"text/*;q=1, application/openmetrics-text;q=1",
       PPROFD__PROM_OPENMETRICS},
      {"text/plain, application/openmetrics-text", PPROFD__PROM_TEXT},
      {"application/openmetrics-text, text/plain", PPROFD__PROM_OPENMETRICS},
      {" application/openmetrics-text ; q=0.9 , text/plain ; q=0.8 ",
       PPROFD__PROM_OPENMETRICS},
      {"application/openmetrics-text;q=junk", PPROFD__PROM_OPENMETRICS},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    ck_assert_msg(pprofd__promtext_negotiate(t[i].accept) == t[i].f, "%s",
                  t[i].accept != NULL ? t[i].accept : "(none)");
}
END_TEST

START_TEST(test_ctype) {
  ck_assert_str_eq(pprofd__promtext_ctype(PPROFD__PROM_TEXT),
                   "text/plain; version=0.0.4; charset=utf-8");
  ck_assert_str_eq(pprofd__promtext_ctype(PPROFD__PROM_OPENMETRICS),
                   "application/openmetrics-text; version=1.0.0; "
                   "charset=utf-8");
}
END_TEST

static Suite *promtext_suite(void) {
  Suite *s = suite_create("promtext");
  TCase *tc = tcase_create("formats");
  tcase_add_test(tc, test_text_layout);
  tcase_add_test(tc, test_openmetrics_layout);
  tcase_add_test(tc, test_escaping);
  tcase_add_test(tc, test_values);
  tcase_add_test(tc, test_empty_and_failed);
  tcase_add_test(tc, test_set_growth);
  suite_add_tcase(s, tc);
  tc = tcase_create("negotiation");
  tcase_add_test(tc, test_negotiate);
  tcase_add_test(tc, test_ctype);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(promtext_suite()); }
