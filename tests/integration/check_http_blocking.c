/*
 * check_http_blocking.c - end to end, looking must not change the
 * program: an unmodified program (blocker.c) with a thread in each call
 * Linux never restarts after a signal handler, and a main thread in
 * sleep(30), preloaded with libpprofd.so, gets 200 goroutine dumps in
 * every form. No call returns early or with EINTR, the program exits 0
 * at 30 s, and every wrapped call's thread shows the function that made
 * the call in the debug=2 dump. The same program's wall-clock profile
 * shows each waiter's state and call, and cuts nothing short either.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#include "../check_run.h"

/* Long enough for 200 dumps on a loaded machine (3 s when idle). */
#define SECONDS 30

/* The waiters whose calls go through pprofd's wrappers. */
static const char *const wrapped[] = {
    "nanosleep",   "clock_nanosleep", "usleep",      "poll",
    "ppoll",       "epoll_wait",      "epoll_pwait", "select",
    "pselect",     "sigtimedwait",    "semtimedop",  "recv",
    "read_socket", "accept",          "io_getevents"};
#define NWRAPPED (sizeof wrapped / sizeof wrapped[0])

/* In a debug=2 dump, the block of the thread named name (NUL-ended copy
 * in out), or 0 when there is none. */
static int thread_block(const char *dump, const char *name, char *out,
                        size_t len) {
  char head[64];
  snprintf(head, sizeof head, " \"%.15s\" [", name);
  const char *p = strstr(dump, head);
  if (p == NULL)
    return 0;
  const char *end = strstr(p, "\n\n");
  size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
  if (n >= len)
    n = len - 1;
  memcpy(out, p, n);
  out[n] = '\0';
  return 1;
}

/* Waits until the blocker's last thread (w-msgrcv) exists. Its stderr
 * line "blocker: started" may arrive in the same read as pprofd's
 * "listening" line, which h_start consumes, so the server is asked. */
static void wait_started(h_daemon *d) {
  char url[512];
  snprintf(url, sizeof url, "%s/debug/pprof/goroutine?debug=2", d->base);
  for (int i = 0; i < 100; i++) {
    h_resp r;
    ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
    int up = r.body != NULL && strstr(r.body, "\"w-msgrcv\"") != NULL;
    h_resp_free(&r);
    if (up)
      return;
    usleep(100 * 1000);
  }
  ck_abort_msg("the blocker's threads did not start");
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_dumps_never_cut_calls_short) {
  char pre[1100], secs[16];
  snprintf(pre, sizeof pre, "LD_PRELOAD=%s",
           h_build_path(".libs/libpprofd.so"));
  snprintf(secs, sizeof secs, "%d", SECONDS);
  char *argv[] = {(char *)h_build_path("tests/integration/blocker"), secs,
                  NULL};
  char *env[] = {pre, "PPROFD_ADDR=127.0.0.1:0", NULL};
  h_daemon d;
  int64_t t0 = mono_ms();
  ck_assert_int_eq(h_start(&d, argv, env), 0);
  char out[16384] = "";
  wait_started(&d);
  usleep(200 * 1000);
  long checked = 0, full = 0;
  for (int i = 0; i < 200; i++) {
    ck_assert_msg(mono_ms() - t0 < (SECONDS - 2) * 1000,
                  "only %d dumps before the program's end", i);
    int debug = i % 3;
    char url[512];
    snprintf(url, sizeof url, "%s/debug/pprof/goroutine?debug=%d", d.base,
             debug);
    h_resp r;
    ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    if (debug == 0) {
      Perftools__Profiles__Profile *p = h_profile(r.body, r.len);
      ck_assert_ptr_nonnull(p);
      ck_assert_ptr_null(h_profile_invariants(p));
      ck_assert(h_has_function(p, "blocker_poll"));
      perftools__profiles__profile__free_unpacked(p, NULL);
    } else if (debug == 2) {
      char *text = strndup(r.body, r.len);
      for (size_t k = 0; k < NWRAPPED; k++) {
        char name[32], block[8192], fn[64];
        snprintf(name, sizeof name, "w-%.13s", wrapped[k]);
        ck_assert_msg(thread_block(text, name, block, sizeof block),
                      "no thread %s", name);
        if (strstr(block, "[running") != NULL)
          continue; /* between two calls */
        checked++;
        snprintf(fn, sizeof fn, "\nblocker_%s+", wrapped[k]);
        full += strstr(block, fn) != NULL;
      }
      free(text);
    }
    h_resp_free(&r);
  }
  int64_t dumped = mono_ms() - t0;
  fprintf(stderr,
          "200 dumps in %lld ms; %ld blocked stacks checked, %ld "
          "reach their caller\n",
          (long long)dumped, checked, full);
  ck_assert_int_lt(dumped, SECONDS * 1000 - 1000);
  /* A thread that wakes between the dump's reads of its /proc files is
   * taken another way and may show less: 95 % at least (all, when the
   * machine is quiet). */
  ck_assert_msg(checked > 100 && full * 20 >= checked * 19,
                "%ld of %ld blocked stacks reach their caller", full, checked);
  ck_assert_msg(h_wait_stderr(&d, "blocker: done", 30000, out, sizeof out),
                "%s", out);
  fprintf(stderr, "%s", out);
  ck_assert_msg(strstr(out, "fail=0") != NULL, "%s", out);
  int64_t ran = mono_ms() - t0;
  ck_assert_int_ge(ran, SECONDS * 1000);
  /* It exits by itself once its threads are joined. */
  int st = -1;
  for (int i = 0; i < 500 && waitpid(d.pid, &st, WNOHANG) != d.pid; i++)
    usleep(10 * 1000);
  close(d.err_fd);
  ck_assert_msg(WIFEXITED(st), "status %d", st);
  ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

/* Whether sample s of p has label key=value. */
static int has_label(const Perftools__Profiles__Profile *p,
                     const Perftools__Profiles__Sample *s, const char *key,
                     const char *value) {
  for (size_t i = 0; i < s->n_label; i++)
    if (strcmp(h_str(p, s->label[i]->key), key) == 0 &&
        strcmp(h_str(p, s->label[i]->str), value) == 0)
      return 1;
  return 0;
}

/* The wall-clock profile of the same program: every waiter shows with
 * its state and call, go tool pprof reads it and focuses on a state, bad
 * parameters get Go's errors, and still no call returns early. */
START_TEST(test_wall_profile) {
  char pre[1100];
  snprintf(pre, sizeof pre, "LD_PRELOAD=%s",
           h_build_path(".libs/libpprofd.so"));
  char *argv[] = {(char *)h_build_path("tests/integration/blocker"), "8", NULL};
  char *env[] = {pre, "PPROFD_ADDR=127.0.0.1:0", NULL};
  h_daemon d;
  ck_assert_int_eq(h_start(&d, argv, env), 0);
  char out[16384] = "", url[512];
  wait_started(&d);
  h_resp r;
  snprintf(url, sizeof url, "%s/debug/pprof/wall?seconds=2&hz=100", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  Perftools__Profiles__Profile *p = h_profile(r.body, r.len);
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_null(h_profile_invariants(p));
  ck_assert_uint_eq(p->n_sample_type, 2);
  ck_assert_str_eq(h_str(p, p->sample_type[0]->type), "samples");
  ck_assert_str_eq(h_str(p, p->sample_type[1]->type), "wall");
  ck_assert_str_eq(h_str(p, p->sample_type[1]->unit), "nanoseconds");
  ck_assert_int_eq(p->period, 10000000);
  ck_assert(h_has_function(p, "blocker_poll"));
  int sleep_seen = 0, poll_seen = 0;
  for (size_t i = 0; i < p->n_sample; i++) {
    sleep_seen += has_label(p, p->sample[i], "thread", "w-nanosleep") &&
                  has_label(p, p->sample[i], "state", "sleep") &&
                  has_label(p, p->sample[i], "syscall", "nanosleep");
    poll_seen += has_label(p, p->sample[i], "thread", "w-poll") &&
                 has_label(p, p->sample[i], "state", "syscall") &&
                 has_label(p, p->sample[i], "syscall", "poll");
  }
  ck_assert_int_gt(sleep_seen, 0);
  ck_assert_int_gt(poll_seen, 0);
  perftools__profiles__profile__free_unpacked(p, NULL);
  h_resp_free(&r);

  snprintf(url, sizeof url, "%s/debug/pprof/wall?seconds=1&hz=abc", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  assert_go_error(&r, 400,
                  "invalid value for \"hz\" - must be an integer from 1 to "
                  "200\n");
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/wall?seconds=1&hz=201", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_int_eq(r.status, 400);
  h_resp_free(&r);
  snprintf(url, sizeof url, "%s/debug/pprof/", d.base);
  ck_assert_int_eq(h_http("GET", url, NULL, 0, &r), 0);
  ck_assert_ptr_nonnull(strstr(r.body, "<a href='wall?debug=1'>wall</a>"));
  h_resp_free(&r);

  if (h_have_go()) {
    char args[1024], *po;
    snprintf(args, sizeof args,
             "-top -tagfocus=state=syscall '%s/debug/pprof/wall?seconds=1'",
             d.base);
    int st = pprof_run(args, &po);
    ck_assert_msg(st == 0, "pprof failed: %s", po);
    ck_assert_msg(strstr(po, "Type: wall") != NULL, "%s", po);
    ck_assert_msg(strstr(po, "poll") != NULL, "%s", po);
    ck_assert_msg(strstr(po, "nanosleep") == NULL, "%s", po);
    free(po);
  }
  ck_assert_msg(h_wait_stderr(&d, "blocker: done", 30000, out, sizeof out),
                "%s", out);
  ck_assert_msg(strstr(out, "fail=0") != NULL, "%s", out);
  h_stop(&d);
}
END_TEST

int main(void) {
  Suite *s = suite_create("http_blocking");
  TCase *tc = tcase_create("blocking");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_dumps_never_cut_calls_short);
  tcase_add_test(tc, test_wall_profile);
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
