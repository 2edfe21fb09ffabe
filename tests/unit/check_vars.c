/*
 * check_vars.c - application variables (sample/vars.c, pprofd_var_*):
 * name and HELP validation, duplicates and counter/gauge twins, every
 * kind's operations and wrong-kind errors, the registry's limit, reads
 * sorted by name, and exact totals when threads update, create and read
 * variables all at once.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model/metrics.h"
#include "pprofd.h"
#include "sample/vars.h"

#include "../check_run.h"

static double seven(void *arg) { return 7.0 + (arg != NULL); }

START_TEST(test_names) {
  int err;
  static const char *const bad[] = {
      "",          "1abc",        "a-b",     "a.b",      "a b",
      "a:b",       "caf\xc3\xa9", "cmdline", "memstats", "pprofd_x",
      "process_x", "go_x",        "x_total", /* a gauge ending _total */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err = 1;
    ck_assert_msg(pprofd_var_int_new(bad[i], NULL, &err) == NULL, "%s", bad[i]);
    ck_assert_int_eq(err, PPROFD_EINVAL);
  }
  ck_assert_ptr_null(pprofd_var_int_new(NULL, NULL, &err));
  ck_assert_int_eq(err, PPROFD_EINVAL);
  /* A counter's name ends in _total, and is more than that. */
  ck_assert_ptr_null(pprofd_var_counter_new("requests", NULL, &err));
  ck_assert_int_eq(err, PPROFD_EINVAL);
  ck_assert_ptr_null(pprofd_var_counter_new("_total", NULL, &err));
  ck_assert_ptr_null(pprofd_var_float_new("f_total", NULL, &err));
  ck_assert_ptr_null(pprofd_var_func_new("g", NULL, NULL, NULL, &err));
  ck_assert_int_eq(err, PPROFD_EINVAL);
  char name[PPROFD__VAR_NAME_MAX + 2];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  ck_assert_ptr_null(pprofd_var_int_new(name, NULL, &err)); /* 129 bytes */
  name[PPROFD__VAR_NAME_MAX] = '\0';
  ck_assert_ptr_nonnull(pprofd_var_int_new(name, NULL, &err)); /* 128 */
  ck_assert_int_eq(err, 0);
  char help[PPROFD__VAR_HELP_MAX + 2];
  memset(help, 'h', sizeof help - 1);
  help[sizeof help - 1] = '\0';
  ck_assert_ptr_null(pprofd_var_int_new("helpful", help, &err));
  ck_assert_int_eq(err, PPROFD_EINVAL);
  help[PPROFD__VAR_HELP_MAX] = '\0';
  ck_assert_ptr_nonnull(pprofd_var_int_new("helpful", help, NULL));
  ck_assert_ptr_nonnull(pprofd_var_int_new("_under9_Score", NULL, &err));
  ck_assert_ptr_nonnull(pprofd_var_counter_new("jobs_total", NULL, &err));
}
END_TEST

START_TEST(test_duplicates) {
  int err;
  pprofd_var *v = pprofd_var_int_new("conns", "Connections.", &err);
  ck_assert_ptr_nonnull(v);
  ck_assert_ptr_null(pprofd_var_int_new("conns", NULL, &err));
  ck_assert_int_eq(err, PPROFD_EEXIST);
  ck_assert_ptr_null(pprofd_var_string_new("conns", NULL, &err));
  ck_assert_int_eq(err, PPROFD_EEXIST);
  /* conns and conns_total would both be family "conns" in OpenMetrics. */
  ck_assert_ptr_null(pprofd_var_counter_new("conns_total", NULL, &err));
  ck_assert_int_eq(err, PPROFD_EEXIST);
  ck_assert_ptr_nonnull(pprofd_var_counter_new("bytes_total", NULL, &err));
  ck_assert_ptr_null(pprofd_var_float_new("bytes", NULL, &err));
  ck_assert_int_eq(err, PPROFD_EEXIST);
  ck_assert_ptr_eq(pprofd_var_lookup("conns"), v);
  ck_assert_ptr_null(pprofd_var_lookup("con"));
  ck_assert_ptr_null(pprofd_var_lookup("connsx"));
  ck_assert_ptr_null(pprofd_var_lookup(NULL));
}
END_TEST

START_TEST(test_kinds) {
  pprofd_var *i = pprofd_var_int_new("i", NULL, NULL);
  pprofd_var *c = pprofd_var_counter_new("c_total", NULL, NULL);
  pprofd_var *f = pprofd_var_float_new("f", NULL, NULL);
  pprofd_var *s = pprofd_var_string_new("s", NULL, NULL);
  pprofd_var *g = pprofd_var_func_new("g", NULL, seven, NULL, NULL);
  ck_assert(i && c && f && s && g);
  ck_assert_int_eq(pprofd_var_int_add(i, -5), 0);
  ck_assert_int_eq(pprofd_var_int_value(i), -5);
  ck_assert_int_eq(pprofd_var_int_set(i, INT64_MAX), 0);
  ck_assert_int_eq(pprofd_var_int_value(i), INT64_MAX);
  ck_assert_int_eq(pprofd_var_int_add(c, 3), 0);
  ck_assert_int_eq(pprofd_var_int_add(c, -1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_int_set(c, -1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_int_value(c), 3);
  ck_assert_int_eq(pprofd_var_int_set(c, 0), 0); /* a reset */
  ck_assert_int_eq(pprofd_var_float_add(f, 0.5), 0);
  ck_assert_int_eq(pprofd_var_float_add(f, 0.25), 0);
  ck_assert(pprofd_var_float_value(f) == 0.75);
  ck_assert_int_eq(pprofd_var_float_set(f, NAN), 0);
  ck_assert(isnan(pprofd_var_float_value(f)));
  ck_assert(pprofd_var_float_value(g) == 7.0);
  ck_assert_int_eq(pprofd_var_string_set(s, "hello"), 0);
  /* Wrong kinds and NULLs. */
  ck_assert_int_eq(pprofd_var_int_add(f, 1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_int_set(s, 1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_float_add(i, 1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_float_set(g, 1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_string_set(i, "x"), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_string_set(s, NULL), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_int_add(NULL, 1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_float_set(NULL, 1), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_string_set(NULL, "x"), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_var_int_value(f), 0);
  ck_assert_int_eq(pprofd_var_int_value(NULL), 0);
  ck_assert(pprofd_var_float_value(i) == 0);
  ck_assert(pprofd_var_float_value(NULL) == 0);
  static char big[PPROFD__VAR_STRING_MAX + 2];
  memset(big, 'b', sizeof big - 1);
  ck_assert_int_eq(pprofd_var_string_set(s, big), PPROFD_EINVAL);
  big[PPROFD__VAR_STRING_MAX] = '\0';
  ck_assert_int_eq(pprofd_var_string_set(s, big), 0);
}
END_TEST

START_TEST(test_read_sorted) {
  ck_assert_ptr_nonnull(pprofd_var_string_new("zz", "Last.", NULL));
  pprofd_var *a = pprofd_var_int_new("aa", NULL, NULL);
  ck_assert_ptr_nonnull(pprofd_var_func_new("Mm", NULL, seven, a, NULL));
  ck_assert_ptr_nonnull(pprofd_var_float_new("bb", NULL, NULL));
  ck_assert_int_eq(pprofd_var_int_set(a, 11), 0);
  ck_assert_int_eq(pprofd_var_string_set(pprofd_var_lookup("zz"), "z!"), 0);
  pprofd__varval *v;
  size_t n;
  ck_assert_int_eq(pprofd__vars_read(&v, &n), 0);
  ck_assert_uint_eq(n, 4);
  ck_assert_uint_eq(pprofd__vars_count(), 4);
  ck_assert_str_eq(v[0].name, "Mm"); /* byte-wise: upper case first */
  ck_assert_int_eq(v[0].kind, PPROFD__VAR_FUNC);
  ck_assert(v[0].d == 8.0);
  ck_assert_str_eq(v[1].name, "aa");
  ck_assert_int_eq(v[1].i, 11);
  ck_assert_str_eq(v[2].name, "bb");
  ck_assert_str_eq(v[3].name, "zz");
  ck_assert_str_eq(v[3].help, "Last.");
  ck_assert_str_eq(v[3].s, "z!");
  ck_assert_ptr_null(v[1].help);
  pprofd__varvals_free(v, n);
}
END_TEST

START_TEST(test_limit) {
  char name[32];
  int err = 0;
  for (int i = 0; i < PPROFD__VARS_MAX; i++) {
    snprintf(name, sizeof name, "v%d", i);
    ck_assert_ptr_nonnull(pprofd_var_int_new(name, NULL, &err));
  }
  ck_assert_ptr_null(pprofd_var_int_new("one_more", NULL, &err));
  ck_assert_int_eq(err, PPROFD_ELIMIT);
  ck_assert_ptr_nonnull(pprofd_var_lookup("v4095"));
}
END_TEST

enum { THREADS = 4, ROUNDS = 100000 };
static pprofd_var *hits, *sum, *label;

/* Adds to an integer and a float, and rewrites a string. */
static void *updater(void *arg) {
  char text[32];
  for (int i = 0; i < ROUNDS; i++) {
    pprofd_var_int_add(hits, 1);
    pprofd_var_float_add(sum, 0.5);
    if (i % 1000 == 0) {
      snprintf(text, sizeof text, "thread %d at %d", (int)(intptr_t)arg, i);
      pprofd_var_string_set(label, text);
    }
  }
  return arg;
}

/* Creates variables while the others update and read. */
static void *creator(void *arg) {
  char name[32];
  for (int i = 0; i < 500; i++) {
    snprintf(name, sizeof name, "made_%d_total", i);
    ck_assert_ptr_nonnull(pprofd_var_counter_new(name, NULL, NULL));
  }
  return arg;
}

/* Reads everything until told to stop; every read is sorted and whole. */
static atomic_int stop_reading;
static void *reader(void *arg) {
  long reads = 0;
  while (!atomic_load(&stop_reading) || reads == 0) {
    pprofd__varval *v;
    size_t n;
    ck_assert_int_eq(pprofd__vars_read(&v, &n), 0);
    for (size_t i = 1; i < n; i++)
      ck_assert(strcmp(v[i - 1].name, v[i].name) < 0);
    pprofd__varvals_free(v, n);
    reads++;
  }
  return (void *)reads;
}

START_TEST(test_concurrency) {
  hits = pprofd_var_int_new("hits", NULL, NULL);
  sum = pprofd_var_float_new("sum", NULL, NULL);
  label = pprofd_var_string_new("label", NULL, NULL);
  pthread_t t[THREADS], c, r;
  pthread_create(&r, NULL, reader, NULL);
  pthread_create(&c, NULL, creator, NULL);
  for (intptr_t i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, updater, (void *)i);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  pthread_join(c, NULL);
  atomic_store(&stop_reading, 1);
  void *reads;
  pthread_join(r, &reads);
  ck_assert_int_eq(pprofd_var_int_value(hits), (int64_t)THREADS * ROUNDS);
  ck_assert(pprofd_var_float_value(sum) == THREADS * ROUNDS * 0.5);
  ck_assert_uint_eq(pprofd__vars_count(), 503);
  ck_assert((long)reads > 0);
}
END_TEST

static Suite *vars_suite(void) {
  Suite *s = suite_create("vars");
  TCase *tc = tcase_create("api");
  tcase_add_test(tc, test_names);
  tcase_add_test(tc, test_duplicates);
  tcase_add_test(tc, test_kinds);
  tcase_add_test(tc, test_read_sorted);
  tcase_add_test(tc, test_limit);
  suite_add_tcase(s, tc);
  tc = tcase_create("threads");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_concurrency);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(vars_suite()); }
