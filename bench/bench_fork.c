/*
 * bench_fork.c - how long the host's fork() takes while pprofd serves
 * request work: three threads render goroutine?debug=2, heap?debug=1 and
 * the symbolized CPU-less profiles through pprofd_write_profile in a loop,
 * and a fourth POSTs 69,000 addresses to /debug/pprof/symbol over HTTP
 * in a loop, while the main thread forks every 10 ms (the child exits at
 * once).
 * Prints the median and the longest fork() in microseconds.
 *
 * With "burn", the four threads only burn CPU instead: the fork latency
 * of the same oversubscribed machine without any pprofd work, the
 * baseline the figures above compare with.
 *
 * Usage: bench_fork [forks] [burn]   (default 300)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pprofd.h"

static atomic_int stop, symbol_posts;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Renders one profile in a loop until stopped. */
static volatile unsigned long spins;

/* Burns CPU until stopped (the baseline). */
static void *burner(void *arg) {
  while (!atomic_load_explicit(&stop, memory_order_relaxed))
    spins++;
  return arg;
}

static void *hammer(void *arg) {
  const char *name = arg;
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  while (!atomic_load(&stop)) {
    int debug = name[0] == 'g' ? 2 : 1;
    if (pprofd_write_profile(name, fd, debug) != 0)
      usleep(1000);
  }
  close(fd);
  return NULL;
}

/* POSTs a /debug/pprof/symbol batch of addresses in this program and
 * the C library to the server at addr (HOST:PORT) in a loop. */
#define SYMBOL_ADDRS 69000
static char server[64];

int main(int argc, char **argv);

static void *symbol_hammer(void *arg) {
  (void)arg;
  size_t cap = (size_t)SYMBOL_ADDRS * 20 + 1;
  char *body = malloc(cap);
  size_t len = 0;
  uintptr_t bases[2] = {(uintptr_t)&main, (uintptr_t)&printf};
  for (int i = 0; i < SYMBOL_ADDRS && body != NULL; i++)
    len += (size_t)snprintf(body + len, cap - len, "%s0x%lx", i ? "+" : "",
                            (unsigned long)(bases[i % 2] + (size_t)i * 8));
  const char *colon = strrchr(server, ':');
  struct sockaddr_in sa = {.sin_family = AF_INET};
  if (body == NULL || colon == NULL)
    return NULL;
  sa.sin_port = htons((uint16_t)atoi(colon + 1));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char head[256], buf[65536];
  int hlen = snprintf(head, sizeof head,
                      "POST /debug/pprof/symbol HTTP/1.1\r\nHost: %s\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      server, len);
  while (!atomic_load(&stop)) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        write(fd, head, (size_t)hlen) != hlen ||
        write(fd, body, len) != (ssize_t)len) {
      if (fd >= 0)
        close(fd);
      usleep(1000);
      continue;
    }
    while (read(fd, buf, sizeof buf) > 0)
      ;
    close(fd);
    atomic_fetch_add(&symbol_posts, 1);
  }
  free(body);
  return NULL;
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 300;
  int burn = argc > 2 && strcmp(argv[2], "burn") == 0;
  if (n < 1)
    n = 1;
  static const char *const names[] = {"goroutine", "heap", "threadcreate"};
  pprofd_config *cfg = pprofd_config_new();
  if (cfg == NULL || pprofd_config_set_addr(cfg, "127.0.0.1:0") != 0 ||
      pprofd_config_set_max_body(cfg, 4 << 20) != 0 || pprofd_start(cfg) != 0 ||
      pprofd_get_addr(server, sizeof server) != 0) {
    fprintf(stderr, "bench_fork: pprofd did not start\n");
    return 1;
  }
  pprofd_config_free(cfg);
  pthread_t t[4];
  for (int i = 0; i < 3; i++)
    pthread_create(&t[i], NULL, burn ? burner : hammer, (void *)names[i]);
  pthread_create(&t[3], NULL, burn ? burner : symbol_hammer, NULL);
  int64_t *us = calloc((size_t)n, sizeof *us);
  for (int i = 0; i < n; i++) {
    usleep(10000);
    int64_t t0 = now_us();
    pid_t pid = fork();
    if (pid == 0)
      _exit(0);
    us[i] = now_us() - t0;
    waitpid(pid, NULL, 0);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  pprofd_stop();
  qsort(us, (size_t)n, sizeof *us, cmp);
  printf("%sforks=%d median_us=%lld max_us=%lld symbol_posts=%d\n",
         burn ? "baseline (4 CPU burners): " : "", n, (long long)us[n / 2],
         (long long)us[n - 1], atomic_load(&symbol_posts));
  free(us);
  return 0;
}
