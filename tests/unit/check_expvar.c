/*
 * check_expvar.c - /debug/vars in Go's expvar shape (encode/expvar.c):
 * the document byte for byte, the built-in variables sorted among the
 * application's, memstats' field names and order, encoding/json's string
 * escapes (the expected texts were produced by Go 1.19's json.Marshal),
 * floats as Go's expvar.Float writes them, and a body that always parses
 * as JSON.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <string.h>

#include "base/ialloc.h"
#include "encode/expvar.h"
#include "pprofd.h"

#include "../check_json.h"
#include "../check_run.h"

/* Writes the document into a new string (freed by the caller). */
static char *write_doc(const char *cmd, size_t len, const pprofd__memstats *m,
                       const pprofd__varval *v, size_t n) {
  pprofd__buf b;
  pprofd__buf_init(&b, 1 << 20);
  ck_assert_int_eq(pprofd__expvar_write(cmd, len, m, v, n, &b), 0);
  pprofd__buf_putc(&b, '\0');
  size_t l;
  return pprofd__buf_steal(&b, &l);
}

START_TEST(test_document) {
  pprofd__memstats m = {.have_heap = 1,
                        .have_sampled = 1,
                        .alloc = 100,
                        .total_alloc = 5000,
                        .sys = 1 << 20,
                        .mallocs = 40,
                        .frees = 30,
                        .heap_objects = 10,
                        .last_gc = 1700000000000000000ull,
                        .num_gc = 2};
  /* Sorted as Go sorts every published name: "Zeta" < "alpha" <
   * "cmdline" < "lag" < "memstats" < "mode" < "requests_total". */
  pprofd__varval v[] = {
      {"Zeta", NULL, PPROFD__VAR_INT, -5, 0, NULL},
      {"alpha", NULL, PPROFD__VAR_FLOAT, 0, 0.25, NULL},
      {"lag", NULL, PPROFD__VAR_FUNC, 0, 1234567.0, NULL},
      {"mode", NULL, PPROFD__VAR_STRING, 0, 0, "busy \"now\""},
      {"requests_total", NULL, PPROFD__VAR_COUNTER, 42, 0, NULL},
  };
  static const char cmd[] = "/usr/bin/daemon\0--flag\0two words";
  char *out = write_doc(cmd, sizeof cmd - 1, &m, v, 5);
  ck_assert_str_eq(
      out, "{\n"
           "\"Zeta\": -5,\n"
           "\"alpha\": 0.25,\n"
           "\"cmdline\": [\"/usr/bin/daemon\",\"--flag\",\"two words\"],\n"
           "\"lag\": 1.234567e+06,\n"
           "\"memstats\": {\"Alloc\":100,\"TotalAlloc\":5000,\"Sys\":1048576,"
           "\"Mallocs\":40,\"Frees\":30,\"HeapAlloc\":100,\"HeapObjects\":10,"
           "\"LastGC\":1700000000000000000,\"NumGC\":2,\"NumForcedGC\":2},\n"
           "\"mode\": \"busy \\\"now\\\"\",\n"
           "\"requests_total\": 42\n"
           "}\n");
  jv *doc = json_parse(out);
  ck_assert_ptr_nonnull(doc);
  ck_assert_str_eq(json_str(doc, "mode"), "busy \"now\"");
  json_free(doc);
  pprofd__ifree(out);
}
END_TEST

/* Without pprofd's malloc (or with sampling off) the heap figures are
 * left out, not made up; no variables, no command line. */
START_TEST(test_no_heap) {
  pprofd__memstats m = {.sys = 4096, .num_gc = 1, .last_gc = 7};
  char *out = write_doc("", 0, &m, NULL, 0);
  ck_assert_str_eq(out, "{\n"
                        "\"cmdline\": [],\n"
                        "\"memstats\": {\"Sys\":4096,\"LastGC\":7,\"NumGC\":1,"
                        "\"NumForcedGC\":1}\n"
                        "}\n");
  pprofd__ifree(out);
  m.have_heap = 1;
  m.total_alloc = 9;
  out = write_doc("x", 1, &m, NULL, 0);
  ck_assert(strstr(out, "{\"TotalAlloc\":9,\"Sys\":4096,\"LastGC\""));
  pprofd__ifree(out);
}
END_TEST

/* Every field name is one of Go's runtime.MemStats, in its order. */
START_TEST(test_memstats_names) {
  static const char *const go_fields[] = {
      "Alloc",         "TotalAlloc", "Sys",          "Lookups",
      "Mallocs",       "Frees",      "HeapAlloc",    "HeapSys",
      "HeapIdle",      "HeapInuse",  "HeapReleased", "HeapObjects",
      "StackInuse",    "StackSys",   "MSpanInuse",   "MSpanSys",
      "MCacheInuse",   "MCacheSys",  "BuckHashSys",  "GCSys",
      "OtherSys",      "NextGC",     "LastGC",       "PauseTotalNs",
      "PauseNs",       "PauseEnd",   "NumGC",        "NumForcedGC",
      "GCCPUFraction", "EnableGC",   "DebugGC",      "BySize"};
  pprofd__memstats m = {.have_heap = 1, .have_sampled = 1};
  char *out = write_doc("a", 1, &m, NULL, 0);
  jv *doc = json_parse(out);
  ck_assert_ptr_nonnull(doc);
  const jv *ms = json_get(doc, "memstats");
  ck_assert(ms != NULL && ms->t == JOBJ);
  ck_assert_uint_eq(ms->len, 10);
  size_t at = 0;
  for (size_t i = 0; i < ms->len; i++) {
    while (at < sizeof go_fields / sizeof go_fields[0] &&
           strcmp(go_fields[at], ms->k[i]) != 0)
      at++;
    ck_assert_msg(at < sizeof go_fields / sizeof go_fields[0],
                  "%s is not a MemStats field, or out of order", ms->k[i]);
  }
  json_free(doc);
  pprofd__ifree(out);
}
END_TEST

START_TEST(test_json_strings) {
  /* json.Marshal's output for each input (Go 1.19). */
  static const struct {
    const char *in;
    size_t len;
    const char *out;
  } t[] = {
      {"plain", 5, "\"plain\""},
      {"q\"b\\s/", 6, "\"q\\\"b\\\\s/\""},
      {"\n\r\t\b\f\x01\x1f\x7f", 8,
       "\"\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\x7f\""},
      {"<a href=x&y>", 12, "\"\\u003ca href=x\\u0026y\\u003e\""},
      {"\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa", 9,
       "\"\\u2028\\u2029\xe2\x80\xaa\""},
      {"caf\xc3\xa9 \xf0\x9f\x98\x80", 10, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
      {"bad \xff \xc0\xaf \xed\xa0\x80 \xe2\x82", 15,
       "\"bad \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\""},
      {"nul\0in", 6, "\"nul\\u0000in\""},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    pprofd__buf b;
    pprofd__buf_init(&b, 1024);
    pprofd__expvar_json_str(&b, t[i].in, t[i].len);
    pprofd__buf_putc(&b, '\0');
    ck_assert_msg(strcmp(b.data, t[i].out) == 0, "%zu: got %s", i, b.data);
    jv *v = json_parse(b.data);
    ck_assert_msg(v != NULL && v->t == JSTR, "%zu does not parse", i);
    json_free(v);
    pprofd__buf_free(&b);
  }
}
END_TEST

/* NaN and the infinities, which Go's expvar would write as invalid
 * JSON, are null here; other floats are Go's 'g' texts. */
START_TEST(test_floats) {
  pprofd__varval v[] = {
      {"a", NULL, PPROFD__VAR_FLOAT, 0, NAN, NULL},
      {"b", NULL, PPROFD__VAR_FLOAT, 0, INFINITY, NULL},
      {"c", NULL, PPROFD__VAR_FUNC, 0, -INFINITY, NULL},
      {"d", NULL, PPROFD__VAR_FLOAT, 0, 1e-7, NULL},
      {"e", NULL, PPROFD__VAR_FLOAT, 0, -0.0, NULL},
  };
  pprofd__memstats m = {0};
  char *out = write_doc("x", 1, &m, v, 5);
  ck_assert(strstr(out, "\"a\": null,\n\"b\": null,\n\"c\": null,\n"
                        "\"cmdline\": [\"x\"],\n\"d\": 1e-07,\n\"e\": -0,\n"));
  jv *doc = json_parse(out);
  ck_assert_ptr_nonnull(doc);
  const jv *d = json_get(doc, "d");
  ck_assert(d != NULL && d->t == JNUM && d->n == 1e-7);
  json_free(doc);
  pprofd__ifree(out);
}
END_TEST

static Suite *expvar_suite(void) {
  Suite *s = suite_create("expvar");
  TCase *tc = tcase_create("document");
  tcase_add_test(tc, test_document);
  tcase_add_test(tc, test_no_heap);
  tcase_add_test(tc, test_memstats_names);
  tcase_add_test(tc, test_json_strings);
  tcase_add_test(tc, test_floats);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(expvar_suite()); }
