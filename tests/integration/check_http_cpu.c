/*
 * check_http_cpu.c - end-to-end tests of the CPU profile: a window's
 * samples and types, its errors, overlapping windows, a client that goes
 * away, the limit on windows, and go tool pprof asking for one.
 *
 * See harness.h for the demo daemon and the helpers every end-to-end
 * test shares.
 */
#define _GNU_SOURCE
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#include "../check_run.h"

static void *cpu_200hz_in_background(void *arg) {
  get("/debug/pprof/profile?seconds=2&hz=200", arg);
  return NULL;
}

START_TEST(test_cpu_profile) {
  h_resp r;
  get("/debug/pprof/profile?seconds=2", &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", "application/octet-stream");
  assert_header(&r, "Content-Disposition", "attachment; filename=\"profile\"");
  Perftools__Profiles__Profile *p = h_profile(r.body, r.len);
  ck_assert_ptr_nonnull(p);
  h_resp_free(&r);
  const char *bad = h_profile_invariants(p);
  ck_assert_msg(bad == NULL, "invariant: %s", bad);
  ck_assert_uint_eq(p->n_sample_type, 2);
  ck_assert_str_eq(h_str(p, p->sample_type[0]->type), "samples");
  ck_assert_str_eq(h_str(p, p->sample_type[0]->unit), "count");
  ck_assert_str_eq(h_str(p, p->sample_type[1]->type), "cpu");
  ck_assert_str_eq(h_str(p, p->sample_type[1]->unit), "nanoseconds");
  ck_assert_str_eq(h_str(p, p->period_type->type), "cpu");
  ck_assert_str_eq(h_str(p, p->period_type->unit), "nanoseconds");
  ck_assert_int_eq(p->period, 10000000);
  ck_assert_int_ge(p->duration_nanos, 1900000000LL);
  ck_assert_int_le(p->duration_nanos, 3000000000LL);
  int threads = 0;
  for (size_t i = 0; i < p->n_sample; i++) {
    const Perftools__Profiles__Sample *s = p->sample[i];
    ck_assert_int_eq(s->value[1], s->value[0] * p->period);
    for (size_t j = 0; j < s->n_label; j++)
      if (strcmp(h_str(p, s->label[j]->key), "thread") == 0 &&
          strncmp(h_str(p, s->label[j]->str), "cpu-", 4) == 0)
        threads++;
  }
  ck_assert_int_gt(threads, 0);
  int64_t hot = sum_in(p, "compute_hot"), cold = sum_in(p, "compute_cold");
  ck_assert_int_gt(hot, 0);
  ck_assert_int_gt(cold, 0);
  ck_assert_int_gt(hot, cold);
  perftools__profiles__profile__free_unpacked(p, NULL);
}
END_TEST

START_TEST(test_cpu_errors) {
  h_resp r;
  get("/debug/pprof/profile?seconds=1&hz=abc", &r);
  assert_go_error(&r, 400,
                  "invalid value for \"hz\" - must be an integer "
                  "from 1 to 1000\n");
  h_resp_free(&r);
  get("/debug/pprof/profile?seconds=999999", &r);
  ck_assert_int_eq(r.status, 400);
  h_resp_free(&r);
  /* Overlapping profiles share one rate: another rate gets Go's text
   * and the rate to ask for. */
  h_resp bg;
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, cpu_200hz_in_background, &bg), 0);
  /* Until the index page says the 200 Hz profile runs (at most 1.5 s of
   * its 2 s window). */
  for (int i = 0; i < 75; i++) {
    get("/debug/pprof/", &r);
    int running = r.body != NULL && strstr(r.body, "200 Hz now") != NULL;
    h_resp_free(&r);
    if (running)
      break;
    usleep(20 * 1000);
  }
  get("/debug/pprof/profile?seconds=1", &r);
  assert_go_error(&r, 500,
                  "Could not enable CPU profiling: cpu profiling already in "
                  "use at 200 Hz (profiles that overlap share one rate; ask "
                  "for hz=200)\n");
  h_resp_free(&r);
  get("/debug/pprof/profile?seconds=1&hz=200", &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  pthread_join(t, NULL);
  ck_assert_int_eq(bg.status, 200);
  h_resp_free(&bg);
}
END_TEST

/* A client that goes away ends its window: the only slot is free again
 * at once, and the server keeps serving. */
START_TEST(test_cpu_disconnect_and_limit) {
  h_stop(&demo);
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", "PPROFD_MAX_CPU_PROFILES=1", NULL};
  start_demo_env(env);
  char cmd[512], *out;
  snprintf(cmd, sizeof cmd,
           "curl -s --max-time 1 %s/debug/pprof/profile?seconds=30 "
           ">/dev/null; echo done",
           demo.base);
  ck_assert_int_eq(h_run(cmd, 10, &out), 0);
  free(out);
  /* Hold the one slot with a background request, then ask again. */
  snprintf(cmd, sizeof cmd,
           "curl -s -o /dev/null -w %%{http_code} "
           "%s/debug/pprof/profile?seconds=3 & sleep 1; "
           "curl -s %s/debug/pprof/profile?seconds=1; wait",
           demo.base, demo.base);
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "Could not enable CPU profiling: cpu profiling "
                            "already in use\n") != NULL,
                "%s", out);
  ck_assert_msg(strstr(out, "200") != NULL, "%s", out);
  free(out);
}
END_TEST

/* Two overlapping windows (a scraper and a person) both succeed. */
START_TEST(test_cpu_overlap) {
  char cmd[1024], *out;
  snprintf(cmd, sizeof cmd,
           "curl -s -o /dev/null -w a=%%{http_code}, "
           "%s/debug/pprof/profile?seconds=3 & sleep 1; "
           "curl -s -o /dev/null -w b=%%{http_code}, "
           "%s/debug/pprof/profile?seconds=1; wait",
           demo.base, demo.base);
  ck_assert_int_eq(h_run(cmd, 30, &out), 0);
  ck_assert_msg(strstr(out, "a=200") && strstr(out, "b=200"), "%s", out);
  free(out);
}
END_TEST

START_TEST(test_go_pprof_cpu) {
  if (!h_have_go())
    return;
  char args[512], *out;
  /* No path: go tool pprof asks for /debug/pprof/profile. */
  snprintf(args, sizeof args, "-seconds 2 -top %s", demo.addr);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof failed: %s", out);
  ck_assert_msg(strstr(out, "compute_hot") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "Type: cpu") != NULL, "%s", out);
  free(out);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http_cpu");
  TCase *tc = demo_tcase("demo", 120);
  tcase_add_test(tc, test_cpu_profile);
  tcase_add_test(tc, test_cpu_errors);
  tcase_add_test(tc, test_cpu_overlap);
  tcase_add_test(tc, test_go_pprof_cpu);
  suite_add_tcase(s, tc);
  /* Restarts the daemon inside the (forked) test: its own test case. */
  TCase *tcpulim = demo_tcase_each("cpu_limit", 60);
  tcase_add_test(tcpulim, test_cpu_disconnect_and_limit);
  suite_add_tcase(s, tcpulim);
  return s;
}

int main(void) { return pprofd_check_run(suite()); }
