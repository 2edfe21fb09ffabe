/*
 * check_http_blocking.c - end to end, looking must not change the
 * program: an unmodified program (blocker.c) with a thread in each call
 * Linux never restarts after a signal handler, and a main thread in
 * sleep(20), preloaded with libpprofd.so, gets 200 goroutine dumps in
 * every form. No call returns early or with EINTR, the program exits 0
 * at 20 s, and every wrapped call's thread shows the function that made
 * the call in the debug=2 dump.
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

#define SECONDS 20

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
  ck_assert(h_wait_stderr(&d, "blocker: started", 10000, out, sizeof out));
  usleep(200 * 1000);
  long checked = 0, full = 0;
  for (int i = 0; i < 200; i++) {
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
        ck_assert_msg(strstr(block, fn) != NULL, "%s", block);
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

int main(void) {
  Suite *s = suite_create("http_blocking");
  TCase *tc = tcase_create("blocking");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_dumps_never_cut_calls_short);
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
