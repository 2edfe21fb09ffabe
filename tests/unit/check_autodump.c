/*
 * check_autodump.c - automatic captures: the rules fed with made-up
 * seconds (thresholds, sustained CPU, growth, cooldown, the hourly cap),
 * rotation by bytes and count that never touches a foreign file, the
 * listing and file serving (no way out of the directory), and a
 * directory that cannot be written, survived and reported.
 */
#define _GNU_SOURCE
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check_run.h"
#include "core/autodump.h"
#include "core/conf.h"
#include "core/render.h"
#include "pprofd.h"

#define SEC 1000000000LL

static pprofd__autodump_rules rules(void) {
  pprofd__autodump_rules r = {.dir = "/nonexistent",
                              .window = 5,
                              .cooldown = 60,
                              .max_per_hour = 100,
                              .cpu_seconds = 1,
                              .max_bytes = 1 << 20,
                              .max_files = 10};
  return r;
}

/* A point at second t with everything known and quiet. */
static pprofd__autodump_point at(int64_t t) {
  pprofd__autodump_point p = {.mono_ns = t * SEC,
                              .rss = 100 << 20,
                              .cpu_ns = 0,
                              .threads = 4,
                              .heap = 1 << 20,
                              .contention_ns = 0};
  return p;
}

static pprofd__autorule_state st;

START_TEST(test_thresholds_and_cooldown) {
  memset(&st, 0, sizeof st);
  pprofd__autodump_rules r = rules();
  r.rss = 200 << 20;
  r.threads = 10;
  r.heap = 8 << 20;
  pprofd__autorule_hit h[PPROFD__NRULES];
  for (int t = 1; t <= 10; t++) {
    pprofd__autodump_point p = at(t);
    ck_assert_uint_eq(pprofd__autorule_eval(&st, &r, &p, h), 0);
  }
  pprofd__autodump_point p = at(11);
  p.rss = 300 << 20;
  p.threads = 12;
  unsigned f = pprofd__autorule_eval(&st, &r, &p, h);
  ck_assert_uint_eq(f, (1u << PPROFD__RULE_RSS) | (1u << PPROFD__RULE_THREADS));
  ck_assert_int_eq(h[PPROFD__RULE_RSS].value, 300 << 20);
  ck_assert_int_eq(h[PPROFD__RULE_RSS].threshold, 200 << 20);
  ck_assert_int_eq(h[PPROFD__RULE_THREADS].value, 12);
  /* Still true for the next minute: held back by the cooldown... */
  for (int t = 12; t < 71; t++) {
    p = at(t);
    p.rss = 300 << 20;
    ck_assert_uint_eq(pprofd__autorule_eval(&st, &r, &p, h), 0);
  }
  ck_assert_int_eq(st.suppressed, 59);
  /* ...and fires again once it is over. */
  p = at(71);
  p.rss = 300 << 20;
  ck_assert_uint_eq(pprofd__autorule_eval(&st, &r, &p, h),
                    1u << PPROFD__RULE_RSS);
  /* The heap rule. */
  p = at(72);
  p.heap = 9 << 20;
  ck_assert_uint_eq(pprofd__autorule_eval(&st, &r, &p, h),
                    1u << PPROFD__RULE_HEAP);
}
END_TEST

/* CPU and contention must hold over the whole window; growth is from
 * the window's lowest point. */
START_TEST(test_window_rules) {
  memset(&st, 0, sizeof st);
  pprofd__autodump_rules r = rules();
  r.cpu = 190;        /* 1.9 cores, on average over the window */
  r.contention = 100; /* ms per second */
  r.rss_growth = 50;
  pprofd__autorule_hit h[PPROFD__NRULES];
  int64_t cpu = 0, cont = 0;
  /* Two seconds at 2 cores, then idle: never 190 % over 5 s. */
  for (int t = 1; t <= 10; t++) {
    cpu += t <= 2 ? 2 * SEC : 0;
    pprofd__autodump_point p = at(t);
    p.cpu_ns = cpu;
    ck_assert_uint_eq(pprofd__autorule_eval(&st, &r, &p, h), 0);
  }
  /* Five seconds at 2 cores: fires at the fifth. */
  unsigned f = 0;
  int when = 0;
  for (int t = 11; t <= 15 && f == 0; t++) {
    cpu += 2 * SEC;
    pprofd__autodump_point p = at(t);
    p.cpu_ns = cpu;
    f = pprofd__autorule_eval(&st, &r, &p, h);
    when = t;
  }
  ck_assert_uint_eq(f, 1u << PPROFD__RULE_CPU);
  ck_assert_int_eq(when, 15);
  ck_assert_int_eq(h[PPROFD__RULE_CPU].value, 200);
  /* 120 ms of lock waits per second. */
  f = 0;
  for (int t = 16; t <= 22 && f == 0; t++) {
    cont += 120 * 1000000LL;
    pprofd__autodump_point p = at(t);
    p.cpu_ns = cpu;
    p.contention_ns = cont;
    f = pprofd__autorule_eval(&st, &r, &p, h);
  }
  ck_assert_uint_eq(f, 1u << PPROFD__RULE_CONTENTION);
  ck_assert_int_eq(h[PPROFD__RULE_CONTENTION].value, 120);
  /* RSS from 100 MiB to 160 MiB within the window: +60 %. */
  pprofd__autodump_point p = at(30);
  p.cpu_ns = cpu;
  p.contention_ns = cont;
  p.rss = 160 << 20;
  ck_assert_uint_eq(pprofd__autorule_eval(&st, &r, &p, h),
                    1u << PPROFD__RULE_RSS_GROWTH);
  ck_assert_int_eq(h[PPROFD__RULE_RSS_GROWTH].value, 60);
}
END_TEST

/* No more than max_per_hour firings an hour, whatever the rules. */
START_TEST(test_hourly_cap) {
  memset(&st, 0, sizeof st);
  pprofd__autodump_rules r = rules();
  r.threads = 1;
  r.cooldown = 0;
  r.max_per_hour = 3;
  pprofd__autorule_hit h[PPROFD__NRULES];
  int fired = 0;
  for (int t = 1; t <= 3600; t++) {
    pprofd__autodump_point p = at(t);
    fired += pprofd__autorule_eval(&st, &r, &p, h) != 0;
  }
  ck_assert_int_eq(fired, 3);
  pprofd__autodump_point p = at(3601 + 1);
  ck_assert_uint_ne(pprofd__autorule_eval(&st, &r, &p, h), 0);
}
END_TEST

static char tmpdir[64];

static void touch(const char *name, size_t size) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
  close(fd);
}

static int exists(const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  return access(path, F_OK) == 0;
}

START_TEST(test_rotation) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/pprofd-autodump-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  const char *names[] = {"20260101T000000Z-1-rss-heap.pb.gz",
                         "20260101T000001Z-1-rss-goroutine.pb.gz",
                         "20260102T000000Z-1-cpu-profile.pb.gz",
                         "20260103T000000Z-1-threads-goroutine.txt"};
  for (int i = 0; i < 4; i++)
    touch(names[i], 1000);
  touch("notes.txt", 5000);            /* the user's */
  touch("20260101T000000Z.txt", 5000); /* not a capture's shape */
  touch("events.log", 5000);
  /* By bytes: 4000 in all, 2500 allowed: the two oldest go. */
  ck_assert_int_eq(pprofd__autodump_rotate(tmpdir, 2500, 100), 2);
  ck_assert(!exists(names[0]) && !exists(names[1]));
  ck_assert(exists(names[2]) && exists(names[3]));
  /* By count. */
  ck_assert_int_eq(pprofd__autodump_rotate(tmpdir, 1 << 20, 1), 1);
  ck_assert(!exists(names[2]) && exists(names[3]));
  ck_assert(exists("notes.txt") && exists("20260101T000000Z.txt") &&
            exists("events.log"));
  ck_assert_int_eq(pprofd__autodump_rotate("/nonexistent/dir", 1, 1), -1);
}
END_TEST

static const char *no_param(void *arg, const char *key) {
  (void)arg, (void)key;
  return NULL;
}

static void serve(const char *rest, pprofd__reply *rp) {
  pprofd__request rq = {.param = no_param, .method = "GET"};
  pprofd__config_defaults(&rq.cfg);
  snprintf(rq.cfg.autodump_dir, sizeof rq.cfg.autodump_dir, "%s", tmpdir);
  pprofd__reply_init(rp);
  pprofd__serve_dumps(rest, &rq, rp);
  pprofd__buf_putc(&rp->body, '\0');
}

START_TEST(test_listing_and_files) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/pprofd-autodump-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  touch("20260101T000000Z-7-rss-heap.pb.gz", 10);
  touch("events.log", 3);
  touch("secret.txt", 3);
  pprofd__reply rp;
  serve("", &rp);
  ck_assert_int_eq(rp.status, 200);
  ck_assert_str_eq(rp.ctype, "text/html; charset=utf-8");
  ck_assert_ptr_nonnull(
      strstr(rp.body.data, "<td>2026-01-01 00:00:00 UTC</td><td>rss</td><td><a "
                           "href='20260101T000000Z-7-rss-heap.pb.gz'>"));
  ck_assert_ptr_null(strstr(rp.body.data, "secret"));
  pprofd__reply_free(&rp);
  serve("20260101T000000Z-7-rss-heap.pb.gz", &rp);
  ck_assert_int_eq(rp.status, 200);
  ck_assert_uint_eq(rp.body.len, 11);
  ck_assert_str_eq(rp.ctype, "application/octet-stream");
  pprofd__reply_free(&rp);
  serve("events.log", &rp);
  ck_assert_int_eq(rp.status, 200);
  pprofd__reply_free(&rp);
  static const char *bad[] = {"secret.txt", "../../etc/passwd",
                              "20260101T000000Z-7-rss-../../x.txt",
                              "20260101T000000Z-7-rss-none.pb.gz"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    serve(bad[i], &rp);
    ck_assert_msg(rp.status == 404, "%s: %u", bad[i], rp.status);
    pprofd__reply_free(&rp);
  }
}
END_TEST

/* A directory that cannot be written: reported, the program runs on,
 * and stopping is prompt. */
START_TEST(test_failing_disk) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/pprofd-autodump-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  char file[128];
  snprintf(file, sizeof file, "%s/not-a-dir", tmpdir);
  touch("not-a-dir", 1);
  pprofd__autodump_rules r = rules();
  r.dir = file; /* a file: every write fails with ENOTDIR */
  r.threads = 1;
  r.cooldown = 0;
  ck_assert_int_eq(pprofd__autodump_start(&r, pprofd__serve), 0);
  char status[512] = "";
  for (int i = 0; i < 100 && strstr(status, "DISK FAILING") == NULL; i++) {
    usleep(50 * 1000);
    pprofd__autodump_status(status, sizeof status);
  }
  ck_assert_msg(strstr(status, "DISK FAILING") != NULL, "%s", status);
  ck_assert_msg(strstr(status, "Not a directory") != NULL, "%s", status);
  pprofd__autodump_stop();
  pprofd__autodump_status(status, sizeof status);
  ck_assert_str_eq(status,
                   "off (PPROFD_AUTODUMP_DIR=path and a rule turn it on)");
  /* Bad rules are refused. */
  r.window = 0;
  ck_assert_int_eq(pprofd__autodump_start(&r, pprofd__serve), PPROFD_EINVAL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("autodump");
  TCase *tc = tcase_create("autodump");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_thresholds_and_cooldown);
  tcase_add_test(tc, test_window_rules);
  tcase_add_test(tc, test_hourly_cap);
  tcase_add_test(tc, test_rotation);
  tcase_add_test(tc, test_listing_and_files);
  tcase_add_test(tc, test_failing_disk);
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
