/*
 * demo.c - a busy daemon to point pprof clients at.
 *
 * It starts pprofd (address from PPROFD_ADDR, default 127.0.0.1:6060) and
 * runs named worker threads that keep every profile interesting: two CPU
 * workers splitting their time 70/30 between two functions, an allocator
 * churning memory, threads contending on one mutex, and a session manager
 * that opens and closes "sessions" from two call sites, tracked in the
 * custom profile `demo.sessions` and annotated for execution traces
 * (regions, tasks, log lines). A spawner starts and joins a short-lived
 * thread every 200 ms, so threadcreate keeps growing (and its deltas,
 * threadcreate?seconds=N, are never empty). The session manager also
 * publishes application variables (/debug/vars and /metrics): sessions
 * open (a gauge), sessions opened (a counter), the last round's fill
 * ratio (a float), its mode (a string) and its uptime (computed when
 * read).
 *
 * Usage: pprofd-demo [--seconds N]   (default: run until SIGINT/SIGTERM)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pprofd.h>

static atomic_int stopping;
static volatile uint64_t sink;
static pprofd_profile *sessions;
static pprofd_var *open_now, *opened_total, *fill_ratio, *mode;
static struct timespec started;

/* Burns CPU for roughly `units` units of work. */
__attribute__((noinline)) static uint64_t spin(uint64_t units) {
  uint64_t x = units;
  for (uint64_t i = 0; i < units * 1000; i++)
    x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

/* The hot function: 70% of a CPU worker's time. */
__attribute__((noinline)) static void compute_hot(void) { sink += spin(7); }

/* The colder function: 30% of a CPU worker's time. */
__attribute__((noinline)) static void compute_cold(void) { sink += spin(3); }

static void *cpu_worker(void *arg) {
  while (!atomic_load(&stopping)) {
    compute_hot();
    compute_cold();
  }
  return arg;
}

static void *cache[2048];

/* Fills a long-lived cache: 2048 blocks of 16 KiB, 32 MiB in use. */
__attribute__((noinline)) static void fill_cache(void) {
  for (int i = 0; i < 2048; i++) {
    cache[i] = malloc(16 << 10);
    memset(cache[i], i, 16 << 10);
  }
}

/* Allocates and frees a mix of sizes, keeping a rolling window alive. */
static void *alloc_worker(void *arg) {
  fill_cache();
  enum { WINDOW = 512 };
  void *live[WINDOW] = {0};
  unsigned i = 0;
  while (!atomic_load(&stopping)) {
    free(live[i % WINDOW]);
    live[i % WINDOW] = malloc(32 + (i * 97) % 8192);
    if (++i % 1024 == 0)
      usleep(1000);
  }
  for (unsigned j = 0; j < WINDOW; j++)
    free(live[j]);
  for (int j = 0; j < 2048; j++)
    free(cache[j]);
  return arg;
}

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

/* Holds the shared lock for a while, making the others wait. (The
 * store after the unlock keeps it out of tail position, so the mutex
 * profile names this function rather than its caller.) */
__attribute__((noinline)) static void hold_shared_lock(void) {
  pthread_mutex_lock(&shared_lock);
  sink += spin(2);
  usleep(300); /* slow work under the lock: the other worker waits */
  pthread_mutex_unlock(&shared_lock);
  sink++;
}

static void *lock_worker(void *arg) {
  while (!atomic_load(&stopping)) {
    hold_shared_lock();
    usleep(100);
  }
  return arg;
}

static atomic_long accepted, resumed;

/* Counts an opened session in the application variables. */
static void count_open(void) {
  (void)pprofd_var_int_add(open_now, 1);
  (void)pprofd_var_int_add(opened_total, 1);
}

/* Opens a session from the "accept" path. */
__attribute__((noinline)) static void open_session_from_accept(void *s) {
  if (pprofd_profile_add(sessions, s, 0) == 0) {
    atomic_fetch_add(&accepted, 1);
    count_open();
  }
}

/* Opens a session from the "resume" path. */
__attribute__((noinline)) static void open_session_from_resume(void *s) {
  if (pprofd_profile_add(sessions, s, 0) == 0) {
    atomic_fetch_add(&resumed, 1);
    count_open();
  }
}

static void *session_manager(void *arg) {
  enum { SLOTS = 64 };
  static char slot[SLOTS];
  static char resident[12];
  /* A few long-lived sessions, so the profile is never empty. */
  for (int j = 0; j < 12; j++) {
    if (j % 3 == 0)
      open_session_from_resume(&resident[j]);
    else
      open_session_from_accept(&resident[j]);
  }
  unsigned i = 0;
  while (!atomic_load(&stopping)) {
    /* A trace (/debug/pprof/trace) shows each round as a region, every
     * 50th as a task with a log line; free when no trace records. */
    uint64_t task = i % 350 == 0 ? pprofd_trace_task_begin("sweep") : 0;
    pprofd_trace_region_begin("session round");
    void *s = &slot[i % SLOTS];
    if (pprofd_profile_remove(sessions, s) != 0) {
      if (i % 3 == 0)
        open_session_from_resume(s);
      else
        open_session_from_accept(s);
    } else {
      (void)pprofd_var_int_add(open_now, -1);
    }
    (void)pprofd_var_float_set(
        fill_ratio, (double)pprofd_var_int_value(open_now) / (SLOTS + 12));
    if (task != 0) {
      char msg[64];
      snprintf(msg, sizeof msg, "%ld accepted, %ld resumed",
               atomic_load(&accepted), atomic_load(&resumed));
      pprofd_trace_log("sessions", msg);
    }
    pprofd_trace_region_end();
    pprofd_trace_task_end(task);
    i += 7;
    usleep(2000);
  }
  return arg;
}

/* A short-lived thread's whole life: a little work, then return. */
static void *helper_thread(void *arg) {
  sink += spin(1);
  return arg;
}

/* Creates one short-lived thread and waits for it to end: the creation
 * stack (this function) is what threadcreate counts. */
__attribute__((noinline)) static void spawn_helper_thread(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, helper_thread, NULL) == 0)
    pthread_join(t, NULL);
}

static void *spawner(void *arg) {
  while (!atomic_load(&stopping)) {
    spawn_helper_thread();
    usleep(200 * 1000);
  }
  return arg;
}

/* The demo_uptime_seconds variable: computed each time it is read. */
static double uptime(void *arg) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - started.tv_sec) +
         (double)(now.tv_nsec - started.tv_nsec) / 1e9;
}

/* Publishes the demo's application variables. */
static int publish_vars(void) {
  int err;
  clock_gettime(CLOCK_MONOTONIC, &started);
  if ((open_now = pprofd_var_int_new("demo_sessions_open", "Sessions open now.",
                                     &err)) == NULL ||
      (opened_total = pprofd_var_counter_new("demo_sessions_opened_total",
                                             "Sessions opened since start.",
                                             &err)) == NULL ||
      (fill_ratio = pprofd_var_float_new(
           "demo_session_fill_ratio",
           "Open sessions over session slots, after the last round.", &err)) ==
          NULL ||
      (mode = pprofd_var_string_new("demo_mode", NULL, &err)) == NULL ||
      pprofd_var_func_new("demo_uptime_seconds",
                          "Seconds since the demo started.", uptime, NULL,
                          &err) == NULL) {
    fprintf(stderr, "pprofd_var_*_new: %s\n", pprofd_strerror(err));
    return -1;
  }
  return pprofd_var_string_set(mode, "busy");
}

static void on_signal(int sig) {
  (void)sig;
  atomic_store(&stopping, 1);
}

int main(int argc, char **argv) {
  double seconds = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      seconds = atof(argv[++i]);
    else if (strcmp(argv[i], "--help") == 0) {
      printf("usage: %s [--seconds N]\n", argv[0]);
      return 0;
    }
  }
  int err;
  sessions = pprofd_profile_new("demo.sessions", &err);
  if (sessions == NULL) {
    fprintf(stderr, "pprofd_profile_new: %s\n", pprofd_strerror(err));
    return 1;
  }
  if (publish_vars() != 0)
    return 1;
  /* Go's demos call runtime.SetBlockProfileRate(1) and
   * SetMutexProfileFraction(1); so does this one, unless the environment
   * chose (PPROFD_BLOCK_PROFILE_RATE, PPROFD_MUTEX_PROFILE_FRACTION). */
  if (getenv("PPROFD_BLOCK_PROFILE_RATE") == NULL)
    (void)pprofd_set_block_profile_rate(1);
  if (getenv("PPROFD_MUTEX_PROFILE_FRACTION") == NULL)
    (void)pprofd_set_mutex_profile_fraction(1);
  if ((err = pprofd_start(NULL)) != 0) {
    fprintf(stderr, "pprofd_start: %s\n", pprofd_strerror(err));
    return 1;
  }
  char addr[128] = "?";
  (void)pprofd_get_addr(addr, sizeof addr);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  struct {
    const char *name;
    void *(*fn)(void *);
  } workers[] = {
      {"cpu-1", cpu_worker},   {"cpu-2", cpu_worker},
      {"alloc", alloc_worker}, {"lock-1", lock_worker},
      {"lock-2", lock_worker}, {"sessions", session_manager},
      {"spawner", spawner},
  };
  enum { NW = sizeof workers / sizeof workers[0] };
  pthread_t tids[NW];
  for (int i = 0; i < NW; i++) {
    pthread_create(&tids[i], NULL, workers[i].fn, NULL);
    pthread_setname_np(tids[i], workers[i].name);
  }
  fprintf(stderr,
          "pprofd: listening on http://%s/debug/pprof/\n"
          "try:\n"
          "  curl -s http://%s/debug/pprof/cmdline | tr '\\0' ' '\n"
          "  curl -s 'http://%s/debug/pprof/demo.sessions?debug=1'\n"
          "  go tool pprof -top http://%s/debug/pprof/demo.sessions\n"
          "  go tool pprof -top http://%s/debug/pprof/mutex\n"
          "  curl -s 'http://%s/debug/pprof/block?debug=1'\n"
          "  curl -o trace.json 'http://%s/debug/pprof/trace?seconds=2'"
          " (open it in Perfetto UI)\n"
          "  curl -s http://%s/debug/vars\n"
          "  curl -s http://%s/metrics\n"
          "  a browser on http://%s/debug/pprof/\n",
          addr, addr, addr, addr, addr, addr, addr, addr, addr, addr);

  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (!atomic_load(&stopping)) {
    usleep(100 * 1000);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (seconds > 0 && (double)(now.tv_sec - start.tv_sec) +
                               (now.tv_nsec - start.tv_nsec) / 1e9 >=
                           seconds)
      atomic_store(&stopping, 1);
  }
  for (int i = 0; i < NW; i++)
    pthread_join(tids[i], NULL);
  pprofd_stop();
  return 0;
}
