/*
 * bench_metrics.c - what a scrape of /metrics (and /debug/vars) costs the
 * server: CPU time per request with 100 application variables and a heap
 * profile of 2^bits distinct allocation stacks (default 512: the render
 * makes one pass over them).
 *
 * Two figures per endpoint, medians of 5 rounds (and, for comparison, the
 * HTTP figure of /debug/pprof/cmdline, the cheapest page there is):
 *   - render: the render path alone (gather, build, encode), timed with
 *     the calling thread's CPU clock;
 *   - HTTP: whole scrapes over pprofd's own server, one connection each
 *     (the server closes it, so Prometheus reconnects too), with the
 *     Accept header Prometheus sends; the server's CPU is the process's
 *     CPU time minus the client thread's, over the requests.
 *
 * Usage: bench_metrics [scrapes per round [bits]]   (defaults 500, 9)
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/metrics.h"
#include "core/runtime.h"
#include "pprofd.h"

#define PROM_ACCEPT                                                            \
  "application/openmetrics-text;version=1.0.0,application/"                    \
  "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"      \
  "*/*;q=0.1"

static double cpu_seconds(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* volatile: a store the compiler may not drop, nor then the malloc. */
static void *volatile keep[1024];
static int nkeep;

/* Allocates at the end of a chain of calls that spells bits: 2^depth
 * distinct stacks. */
__attribute__((noinline)) static void left(int depth, unsigned bits);
__attribute__((noinline)) static void right(int depth, unsigned bits);

static void step(int depth, unsigned bits) {
  if (depth == 0) {
    keep[nkeep++ % 1024] = malloc(256);
    return;
  }
  if (bits & 1)
    right(depth - 1, bits >> 1);
  else
    left(depth - 1, bits >> 1);
}

__attribute__((noinline)) static void left(int depth, unsigned bits) {
  step(depth, bits);
  __asm__ volatile("");
}

__attribute__((noinline)) static void right(int depth, unsigned bits) {
  step(depth, bits);
  __asm__ volatile("");
}

static double fn_value(void *arg) { return (double)(intptr_t)arg * 0.5; }

/* 100 variables: 40 integer gauges, 30 counters, 20 floats, 5 strings
 * and 5 computed values. */
static void make_vars(void) {
  char name[64];
  int err;
  for (int i = 0; i < 100; i++) {
    pprofd_var *v;
    if (i < 40) {
      snprintf(name, sizeof name, "app_gauge_%d", i);
      v = pprofd_var_int_new(name, "An integer gauge.", &err);
      pprofd_var_int_set(v, i * 1000);
    } else if (i < 70) {
      snprintf(name, sizeof name, "app_events_%d_total", i);
      v = pprofd_var_counter_new(name, "A counter.", &err);
      pprofd_var_int_add(v, i * 123456);
    } else if (i < 90) {
      snprintf(name, sizeof name, "app_ratio_%d", i);
      v = pprofd_var_float_new(name, "A float.", &err);
      pprofd_var_float_set(v, 1.0 / (i + 1));
    } else if (i < 95) {
      snprintf(name, sizeof name, "app_text_%d", i);
      v = pprofd_var_string_new(name, NULL, &err);
      pprofd_var_string_set(v, "some \"text\" <value>");
    } else {
      snprintf(name, sizeof name, "app_computed_%d", i);
      v = pprofd_var_func_new(name, NULL, fn_value, (void *)(intptr_t)i, &err);
    }
    if (v == NULL) {
      fprintf(stderr, "%s: %s\n", name, pprofd_strerror(err));
      exit(1);
    }
  }
}

static const char *no_param(void *arg, const char *key) { return NULL; }

/* CPU microseconds per render of /metrics (vars: /debug/vars). */
static double render_us(int n, int vars, const char *accept, size_t *bytes) {
  pprofd__request rq = {.param = no_param, .method = "GET", .accept = accept};
  pprofd__runtime_config(&rq.cfg);
  double t0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < n; i++) {
    pprofd__reply rp;
    pprofd__reply_init(&rp);
    if (vars)
      pprofd__serve_vars(&rq, &rp);
    else
      pprofd__serve_metrics(&rq, &rp);
    *bytes = rp.body.len;
    pprofd__reply_free(&rp);
  }
  return (cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - t0) / n * 1e6;
}

/* One request on a new connection to port; reads the whole response. */
static size_t scrape(int port, const char *path, const char *accept) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("connect");
    exit(1);
  }
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: %s\r\n"
                   "Connection: close\r\n\r\n",
                   path, accept);
  if (write(fd, req, (size_t)n) != n) {
    perror("write");
    exit(1);
  }
  static char buf[1 << 16];
  size_t total = 0;
  ssize_t k;
  while ((k = read(fd, buf, sizeof buf)) > 0)
    total += (size_t)k;
  close(fd);
  return total;
}

/* Server CPU microseconds per HTTP request. */
static double http_us(int n, int port, const char *path, const char *accept) {
  double p0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  double c0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < n; i++)
    scrape(port, path, accept);
  double c = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
  double p = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - p0;
  /* Let the last connection threads finish, and count them. */
  usleep(20000);
  p = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - p0;
  return (p - c) / n * 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median5(double v[5]) {
  qsort(v, 5, sizeof *v, cmp_double);
  return v[2];
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 500;
  int bits = argc > 2 ? atoi(argv[2]) : 9;
  if (n < 1 || n > 1000000 || bits < 0 || bits > 17) {
    fprintf(stderr, "usage: %s [scrapes per round [bits (0..17)]]\n", argv[0]);
    return 2;
  }
  make_vars();
  /* Every allocation sampled for a moment: 2^bits distinct stacks. */
  (void)pprofd_set_mem_profile_rate(1);
  for (unsigned b = 0; b < 1u << bits; b++)
    step(bits, b);
  (void)pprofd_set_mem_profile_rate(524288);
  pprofd_config *cfg = pprofd_config_new();
  pprofd_config_set_addr(cfg, "127.0.0.1:0");
  if (cfg == NULL || pprofd_start(cfg) != 0) {
    fprintf(stderr, "pprofd_start failed\n");
    return 1;
  }
  char addr[64];
  pprofd_get_addr(addr, sizeof addr);
  int port = atoi(strchr(addr, ':') + 1);

  static const struct {
    const char *what, *path, *accept;
    int vars; /* 1: /debug/vars; -1: no render figure */
  } cases[] = {
      {"/metrics, text 0.0.4", "/metrics", "text/plain;version=0.0.4", 0},
      {"/metrics, OpenMetrics", "/metrics", PROM_ACCEPT, 0},
      {"/debug/vars", "/debug/vars", "*/*", 1},
      {"/debug/pprof/cmdline", "/debug/pprof/cmdline", "*/*", -1},
  };
  printf("100 application variables, %u heap stacks, %d requests a round, "
         "median of 5 rounds (CPU time)\n",
         1u << bits, n);
  printf("%-24s %10s %12s %8s\n", "endpoint", "render", "HTTP server", "bytes");
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    double r[5] = {0}, h[5];
    size_t bytes = 0;
    for (int round = 0; round < 5; round++) {
      if (cases[c].vars >= 0)
        r[round] = render_us(n, cases[c].vars, cases[c].accept, &bytes);
      h[round] = http_us(n, port, cases[c].path, cases[c].accept);
    }
    if (cases[c].vars >= 0)
      printf("%-24s %7.1f us %9.1f us %8zu\n", cases[c].what, median5(r),
             median5(h), bytes);
    else
      printf("%-24s %10s %9.1f us\n", cases[c].what, "-", median5(h));
  }
  pprofd_stop();
  pprofd_config_free(cfg);
  return 0;
}
