/*
 * check_http_autodump.c - end to end, automatic captures: an unmodified
 * program (autodump_target.c) preloaded with libpprofd.so runs one
 * workload per test; the matching rule fires and writes profiles that
 * name the culprit function, go tool pprof reads them, the captures are
 * listed and served over HTTP, a rule that stays true is held back by
 * its cooldown and the directory is rotated, an idle program captures
 * nothing, and a directory that cannot be made leaves the program
 * running.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#include "../check_run.h"

static char dir[64];

/* Starts the target in mode for seconds with PPROFD_AUTODUMP_* env. */
static void start(h_daemon *d, const char *mode, const char *seconds,
                  char *const extra[]) {
  static char pre[1100], ad[128];
  snprintf(dir, sizeof dir, "/tmp/pprofd-ad-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(pre, sizeof pre, "LD_PRELOAD=%s",
           h_build_path(".libs/libpprofd.so"));
  snprintf(ad, sizeof ad, "PPROFD_AUTODUMP_DIR=%s", dir);
  char *env[16] = {pre, ad, "PPROFD_ADDR=127.0.0.1:0"};
  int n = 3;
  for (int i = 0; extra[i] != NULL && n < 15; i++)
    env[n++] = extra[i];
  env[n] = NULL;
  char *argv[] = {(char *)h_build_path("tests/integration/autodump_target"),
                  (char *)mode, (char *)seconds, NULL};
  ck_assert_int_eq(h_start(d, argv, env), 0);
}

/* The contents of dir/name, NUL-terminated, or NULL. */
static char *slurp(const char *name, size_t *len) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  char *b = malloc(64 << 20);
  *len = fread(b, 1, (64 << 20) - 1, f);
  b[*len] = '\0';
  fclose(f);
  return b;
}

/* Waits (up to timeout_s) for a firing of rule in events.log. */
static int wait_event(const char *rule, int timeout_s) {
  char want[64];
  snprintf(want, sizeof want, "\"rule\":\"%s\"", rule);
  for (int i = 0; i < timeout_s * 10; i++) {
    size_t len;
    char *log = slurp("events.log", &len);
    int found = log != NULL && strstr(log, want) != NULL;
    free(log);
    if (found)
      return 1;
    usleep(100 * 1000);
  }
  return 0;
}

/* The name of the capture in dir ending in suffix (into out), or 0. */
static int find_capture(const char *suffix, char *out, size_t len) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  int found = 0;
  size_t sl = strlen(suffix);
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (e->d_name[0] != '.' && n > sl &&
        strcmp(e->d_name + n - sl, suffix) == 0) {
      snprintf(out, len, "%s", e->d_name);
      found = 1;
    }
  }
  closedir(d);
  return found;
}

/* The number of capture files in dir (events.log not counted). */
static int count_captures(void) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)) != NULL)
    n += e->d_name[0] == '2'; /* 20261202T... */
  closedir(d);
  return n;
}

/* Asserts that capture <rule>-<kind>.pb.gz decodes and names fn. */
static void assert_names(const char *suffix, const char *fn) {
  char name[128];
  ck_assert_msg(find_capture(suffix, name, sizeof name), "no *%s", suffix);
  size_t len;
  char *data = slurp(name, &len);
  ck_assert_ptr_nonnull(data);
  Perftools__Profiles__Profile *p = h_profile(data, len);
  ck_assert_msg(p != NULL, "%s does not decode", name);
  ck_assert_ptr_null(h_profile_invariants(p));
  ck_assert_msg(h_has_function(p, fn), "%s does not name %s", name, fn);
  perftools__profiles__profile__free_unpacked(p, NULL);
  free(data);
}

START_TEST(test_leak_fires_heap) {
  h_daemon d;
  char *extra[] = {"PPROFD_AUTODUMP_RSS_GROWTH=100", "PPROFD_AUTODUMP_WINDOW=3",
                   NULL};
  start(&d, "leak", "8", extra);
  ck_assert(wait_event("rss_growth", 15));
  usleep(500 * 1000); /* the heap capture follows the goroutine one */
  assert_names("-rss_growth-heap.pb.gz", "leak_memory");
  assert_names("-rss_growth-goroutine.pb.gz", "main");
  /* Listed and served over HTTP. */
  h_resp r;
  char url[512], name[128];
  snprintf(url, sizeof url, "%s/debug/pprof/dumps/", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert(find_capture("-rss_growth-heap.pb.gz", name, sizeof name));
  ck_assert_ptr_nonnull(strstr(r.body, name));
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/dumps/%s", d.base, name);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  Perftools__Profiles__Profile *p = h_profile(r.body, r.len);
  ck_assert_ptr_nonnull(p);
  perftools__profiles__profile__free_unpacked(p, NULL);
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_ptr_nonnull(strstr(r.body, "<a href=\"dumps/\">"));
  ck_assert_ptr_nonnull(strstr(r.body, "rss +100% in 3 s"));
  h_resp_free(&r);
  h_stop(&d);
}
END_TEST

START_TEST(test_burst_fires_cpu_and_cooldown_holds) {
  h_daemon d;
  /* Two burning threads get a fifth of a core even on a loaded machine. */
  char *extra[] = {"PPROFD_AUTODUMP_CPU=20",      "PPROFD_AUTODUMP_WINDOW=2",
                   "PPROFD_AUTODUMP_SECONDS=1",   "PPROFD_AUTODUMP_COOLDOWN=3",
                   "PPROFD_AUTODUMP_MAX_FILES=4", NULL};
  start(&d, "burst", "12", extra);
  ck_assert(wait_event("cpu", 15));
  usleep(1500 * 1000); /* the CPU profile's own second */
  assert_names("-cpu-profile.pb.gz", "cpu_burst");
  if (h_have_go()) {
    char name[128], args[512], *out;
    ck_assert(find_capture("-cpu-profile.pb.gz", name, sizeof name));
    snprintf(args, sizeof args, "-raw %s/%s", dir, name);
    int st = pprof_run(args, &out);
    ck_assert_msg(st == 0, "%s", out);
    ck_assert_msg(strstr(out, "cpu_burst") != NULL, "%s", out);
    free(out);
  }
  /* The rule stays true: a firing every cooldown at most, the directory
   * never above its file budget. */
  sleep(8);
  size_t len;
  char *log = slurp("events.log", &len);
  ck_assert_ptr_nonnull(log);
  int firings = 0;
  for (char *p = log; (p = strstr(p, "\"rule\":\"cpu\"")) != NULL; p++)
    firings++;
  free(log);
  fprintf(stderr, "burst: %d firings in about 10 s, %d files kept\n", firings,
          count_captures());
  ck_assert_int_ge(firings, 2);
  ck_assert_int_le(firings, 4);
  ck_assert_int_le(count_captures(), 4);
  h_stop(&d);
}
END_TEST

START_TEST(test_threads_fire_dump) {
  h_daemon d;
  char *extra[] = {"PPROFD_AUTODUMP_THREADS=30", NULL};
  start(&d, "threads", "6", extra);
  ck_assert(wait_event("threads", 15));
  usleep(500 * 1000);
  char name[128];
  ck_assert(find_capture("-threads-goroutine.txt", name, sizeof name));
  size_t len;
  char *text = slurp(name, &len);
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(strstr(text, "idle_worker"));
  free(text);
  assert_names("-threads-threadcreate.pb.gz", "spawn_threads");
  h_stop(&d);
}
END_TEST

START_TEST(test_convoy_fires_contention) {
  h_daemon d;
  char *extra[] = {
      "PPROFD_AUTODUMP_CONTENTION=200",  "PPROFD_AUTODUMP_WINDOW=2",
      "PPROFD_AUTODUMP_SECONDS=1",       "PPROFD_BLOCK_PROFILE_RATE=1",
      "PPROFD_MUTEX_PROFILE_FRACTION=1", NULL};
  start(&d, "convoy", "8", extra);
  ck_assert(wait_event("contention", 15));
  usleep(2500 * 1000); /* two deltas of a second each */
  assert_names("-contention-mutex.pb.gz", "lock_convoy");
  assert_names("-contention-block.pb.gz", "lock_convoy");
  h_stop(&d);
}
END_TEST

/* Every rule set, none met: nothing is written. */
START_TEST(test_idle_captures_nothing) {
  h_daemon d;
  char *extra[] = {"PPROFD_AUTODUMP_RSS=1G",
                   "PPROFD_AUTODUMP_CPU=50",
                   "PPROFD_AUTODUMP_THREADS=100",
                   "PPROFD_AUTODUMP_HEAP=1G",
                   "PPROFD_AUTODUMP_RSS_GROWTH=50",
                   "PPROFD_AUTODUMP_WINDOW=2",
                   NULL};
  start(&d, "idle", "5", extra);
  char out[4096] = "";
  ck_assert(h_wait_stderr(&d, "autodump_target: done", 15000, out, sizeof out));
  ck_assert_int_eq(count_captures(), 0);
  size_t len;
  char *log = slurp("events.log", &len);
  ck_assert_ptr_null(log);
  h_stop(&d);
}
END_TEST

/* A directory that cannot be created: said once, and the program runs to
 * its end and exits 0. */
START_TEST(test_bad_dir_survived) {
  char cmd[2048], *out;
  snprintf(cmd, sizeof cmd,
           "LD_PRELOAD=%s PPROFD_ADDR=127.0.0.1:0 "
           "PPROFD_AUTODUMP_DIR=/proc/self/no/such/dir "
           "PPROFD_AUTODUMP_THREADS=1 %s idle 3; echo exit=$?",
           h_build_path(".libs/libpprofd.so"),
           h_build_path("tests/integration/autodump_target"));
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "pprofd: automatic captures: cannot create") !=
                    NULL,
                "%s", out);
  ck_assert_msg(strstr(out, "exit=0") != NULL, "%s", out);
  char *first = strstr(out, "automatic captures: cannot");
  ck_assert_ptr_null(strstr(first + 1, "automatic captures: cannot"));
  free(out);
}
END_TEST

int main(void) {
  Suite *s = suite_create("http_autodump");
  TCase *tc = tcase_create("autodump");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_leak_fires_heap);
  tcase_add_test(tc, test_burst_fires_cpu_and_cooldown_holds);
  tcase_add_test(tc, test_threads_fire_dump);
  tcase_add_test(tc, test_convoy_fires_contention);
  tcase_add_test(tc, test_idle_captures_nothing);
  tcase_add_test(tc, test_bad_dir_survived);
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
