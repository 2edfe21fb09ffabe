/*
 * check_trace.c - the execution tracer in this very process: a workload
 * with named threads, nested regions, a task, a log line, lock,
 * condition and semaphore waits of known lengths, a short-lived thread
 * and a CPU burner runs while a trace records; the JSON is parsed and
 * its tracks, nesting, durations, stacks and names asserted. Also: one
 * trace at a time, the event budget, and strings that need escaping.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/ialloc.h"
#include "core/render.h"
#include "pprofd.h"
#include "sample/contention.h"
#include "sample/trace.h"

#include "../check_json.h"
#include "../check_run.h"

#define NO_TAIL_CALL() __asm__ volatile("")

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static int sleep_wait(void *arg, double s) {
  sleep_ms((int)(s * 1000));
  return 0;
}

/* Records a trace of `seconds` into a new string (pprofd__ifree it). */
static char *trace(double seconds, int *err) {
  pprofd__buf b;
  pprofd__buf_init(&b, (size_t)256 << 20);
  *err = pprofd__render_trace(seconds, sleep_wait, NULL, 1, 4, &b);
  size_t len;
  char *s = *err == 0 ? pprofd__buf_steal(&b, &len) : NULL;
  pprofd__buf_free(&b);
  return s;
}

static void wait_for_trace(void) {
  for (int i = 0; i < 5000 && !pprofd_trace_enabled(); i++)
    sleep_ms(1);
  ck_assert(pprofd_trace_enabled());
}

/* ---- the workload ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cv_go;
static sem_t sem;
static volatile uint64_t sink;
static _Atomic int tid_waiter, tid_cond, tid_burn, tid_script, tid_short;
static _Atomic int script_holds;  /* the script holds mu */
static _Atomic int waiter_coming; /* the waiter is about to lock it */
static _Atomic int script_ready;  /* it began "before" outside the trace */

static int gettid_(void) { return (int)syscall(SYS_gettid); }

__attribute__((noinline)) static void trace_waiter(void) {
  pthread_mutex_lock(&mu);
  pthread_mutex_unlock(&mu);
  NO_TAIL_CALL();
}

static void *waiter(void *a) {
  pthread_setname_np(pthread_self(), "tr-waiter");
  tid_waiter = gettid_();
  wait_for_trace();
  while (!script_holds)
    sleep_ms(1);
  waiter_coming = 1;
  trace_waiter();
  return NULL;
}

__attribute__((noinline)) static void cond_waiter(void) {
  pthread_mutex_lock(&mu);
  while (!cv_go)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  NO_TAIL_CALL();
}

static void *conder(void *a) {
  pthread_setname_np(pthread_self(), "tr-cond");
  tid_cond = gettid_();
  wait_for_trace();
  cond_waiter();
  while (sem_wait(&sem) != 0 && errno == EINTR)
    ;
  return NULL;
}

__attribute__((noinline)) static void burn(void) {
  for (uint64_t i = 0; i < 400000000ull && pprofd_trace_enabled(); i++)
    sink += i * i;
}

static void *burner(void *a) {
  pthread_setname_np(pthread_self(), "tr-burn");
  tid_burn = gettid_();
  wait_for_trace();
  burn();
  return NULL;
}

static void *short_lived(void *a) {
  pthread_setname_np(pthread_self(), "tr-short");
  tid_short = gettid_();
  return NULL;
}

/* The script: annotations and the holder's side of the waits. */
/* Waits (up to 5 s) until thread tid sleeps in a futex wait on addr, as
 * /proc/self/task/TID/syscall says: "NR ADDR ...". */
static void wait_until_blocked_on(int tid, const void *addr) {
  char path[64], want[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
  snprintf(want, sizeof want, "%d 0x%lx ", (int)SYS_futex,
           (unsigned long)(uintptr_t)addr);
  for (int i = 0; i < 5000; i++) {
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f != NULL)
      fclose(f);
    buf[n] = '\0';
    if (strncmp(buf, want, strlen(want)) == 0)
      return;
    sleep_ms(1);
  }
}

static void *script(void *a) {
  pthread_setname_np(pthread_self(), "tr-script");
  tid_script = gettid_();
  pprofd_trace_region_begin("before"); /* not recorded: no trace yet */
  script_ready = 1;
  wait_for_trace();
  pthread_mutex_lock(&mu); /* the waiter waits ~50 ms for this */
  script_holds = 1;
  /* Held 50 ms from when the waiter sleeps on it, however late the
   * scheduler lets it come. */
  while (!waiter_coming)
    sleep_ms(1);
  wait_until_blocked_on(tid_waiter, &mu);
  sleep_ms(50);
  pthread_mutex_unlock(&mu);
  pprofd_trace_region_begin("outer");
  pprofd_trace_region_begin("inner");
  uint64_t task = pprofd_trace_task_begin("job");
  ck_assert_uint_ne(task, 0);
  pprofd_trace_log("cat\"egory", "line\n\"two\" \xff end");
  sleep_ms(5);
  pprofd_trace_task_end(task);
  pprofd_trace_region_end(); /* inner */
  pprofd_trace_region_end(); /* outer */
  pprofd_trace_region_end(); /* before: begun outside the trace */
  pthread_t t;
  pthread_create(&t, NULL, short_lived, NULL);
  pthread_join(t, NULL);
  sleep_ms(40); /* then wake the condition waiter */
  pthread_mutex_lock(&mu);
  cv_go = 1;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
  sleep_ms(30);
  sem_post(&sem);
  return NULL;
}

/* ---- reading the trace ---- */

typedef struct want {
  const jv *root, *events, *frames;
} want;

static double num(const jv *o, const char *k) {
  const jv *v = json_get(o, k);
  ck_assert_msg(v != NULL && v->t == JNUM, "no number %s", k);
  return v->n;
}

/* Whether the stack of event e has a frame whose name starts with fn. */
static int stack_has(const want *w, const jv *e, const char *fn) {
  const char *id = json_str(e, "sf");
  int depth = 0;
  while (id != NULL && depth++ < 200) {
    const jv *f = json_get(w->frames, id);
    ck_assert_msg(f != NULL, "sf %s is not in stackFrames", id);
    const char *name = json_str(f, "name");
    ck_assert_ptr_nonnull(name);
    if (strncmp(name, fn, strlen(fn)) == 0)
      return 1;
    id = json_str(f, "parent");
  }
  return 0;
}

/* The name of thread tid's track. */
static const char *track_name(const want *w, int tid) {
  for (size_t i = 0; i < w->events->len; i++) {
    const jv *e = w->events->v[i];
    const char *n = json_str(e, "name");
    if (strcmp(json_str(e, "ph"), "M") == 0 && n != NULL &&
        strcmp(n, "thread_name") == 0 && (int)num(e, "tid") == tid)
      return json_str(json_get(e, "args"), "name");
  }
  return NULL;
}

/* Counts events of phase ph (and name, cat when not NULL) on tid (-1:
 * any). */
static int count(const want *w, const char *ph, const char *name,
                 const char *cat, int tid) {
  int n = 0;
  for (size_t i = 0; i < w->events->len; i++) {
    const jv *e = w->events->v[i];
    const char *p = json_str(e, "ph"), *nm = json_str(e, "name"),
               *c = json_str(e, "cat");
    if (strcmp(p, ph) != 0 || (name != NULL && strcmp(nm, name) != 0) ||
        (cat != NULL && (c == NULL || strcmp(c, cat) != 0)) ||
        (tid >= 0 && (int)num(e, "tid") != tid))
      continue;
    n++;
  }
  return n;
}

/* The first event matching, or NULL. */
static const jv *find(const want *w, const char *ph, const char *name,
                      int tid) {
  for (size_t i = 0; i < w->events->len; i++) {
    const jv *e = w->events->v[i];
    if (strcmp(json_str(e, "ph"), ph) == 0 &&
        (name == NULL || strcmp(json_str(e, "name"), name) == 0) &&
        (tid < 0 || (int)num(e, "tid") == tid))
      return e;
  }
  return NULL;
}

/* Every event has the fields its phase needs; B/E pairs nest per tid. */
static void check_schema(const want *w) {
  int depth[1 << 16] = {0};
  for (size_t i = 0; i < w->events->len; i++) {
    const jv *e = w->events->v[i];
    ck_assert_int_eq(e->t, JOBJ);
    const char *ph = json_str(e, "ph");
    ck_assert_ptr_nonnull(ph);
    ck_assert_ptr_nonnull(json_str(e, "name"));
    num(e, "pid");
    int tid = (int)num(e, "tid");
    ck_assert(num(e, "ts") >= 0);
    if (strcmp(ph, "X") == 0)
      ck_assert(num(e, "dur") >= 0);
    if (strcmp(ph, "b") == 0 || strcmp(ph, "e") == 0)
      ck_assert_ptr_nonnull(json_str(e, "id"));
    if (strcmp(ph, "i") == 0)
      ck_assert_str_eq(json_str(e, "s"), "t");
    if (strcmp(ph, "B") == 0)
      depth[tid & 0xffff]++;
    if (strcmp(ph, "E") == 0)
      ck_assert_msg(--depth[tid & 0xffff] >= 0, "E without B on %d", tid);
    if (json_get(e, "sf") != NULL)
      stack_has(w, e, "\x01"); /* walks it: every id exists */
    if (i > 0 && strcmp(ph, "M") != 0 &&
        strcmp(json_str(w->events->v[i - 1], "ph"), "M") != 0)
      ck_assert(num(e, "ts") >= num(w->events->v[i - 1], "ts"));
  }
}

START_TEST(test_workload) {
  sem_init(&sem, 0, 0);
  pthread_t t[4];
  void *(*fn[4])(void *) = {waiter, conder, burner, script};
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, fn[i], NULL), 0);
  while (!script_ready)
    sleep_ms(1);
  int err;
  char *json = trace(0.6, &err);
  ck_assert_int_eq(err, 0);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  jv *root = json_parse(json);
  ck_assert_msg(root != NULL, "not JSON: %.300s", json);
  want w = {root, json_get(root, "traceEvents"), json_get(root, "stackFrames")};
  ck_assert(w.events != NULL && w.events->t == JARR);
  ck_assert(w.frames != NULL && w.frames->t == JOBJ);
  const jv *other = json_get(root, "otherData");
  ck_assert_str_eq(json_str(other, "droppedEvents"), "0");
  ck_assert_str_eq(json_str(root, "displayTimeUnit"), "ms");
  check_schema(&w);

  /* Tracks named after their threads. */
  int tids[] = {tid_waiter, tid_script, tid_cond, tid_short};
  for (int i = 0; i < 4; i++)
    ck_assert_msg(track_name(&w, tids[i]) != NULL, "no track for %d", tids[i]);
  ck_assert(strncmp(track_name(&w, tid_waiter), "tr-waiter", 9) == 0);
  ck_assert(strncmp(track_name(&w, tid_script), "tr-script", 9) == 0);
  ck_assert(strncmp(track_name(&w, tid_cond), "tr-cond", 7) == 0);
  ck_assert(strncmp(track_name(&w, tid_short), "tr-short", 8) == 0);

  /* The lock wait: ~50 ms (held that long after the waiter came). */
  const jv *lw = find(&w, "X", "pthread_mutex_lock", tid_waiter);
  ck_assert_msg(lw != NULL, "no lock wait on the waiter's track");
  double dur = num(lw, "dur") / 1000; /* ms */
  printf("mutex wait %.1f ms\n", dur);
  ck_assert(dur > 25 && dur < 200);
  ck_assert(stack_has(&w, lw, "trace_waiter"));
  /* The condition wait and the semaphore wait (~30 ms). */
  const jv *cw = find(&w, "X", "pthread_cond_wait", tid_cond);
  ck_assert_msg(cw != NULL, "no condition wait");
  ck_assert(num(cw, "dur") / 1000 > 30); /* ~45 ms after the lock wait */
  ck_assert(stack_has(&w, cw, "cond_waiter"));
  const jv *sw = find(&w, "X", "sem_wait", tid_cond);
  ck_assert_msg(sw != NULL, "no semaphore wait");
  ck_assert(num(sw, "dur") / 1000 > 15);

  /* Regions: outer then inner begin, inner then outer end; "before"
   * ends without an E. */
  ck_assert_int_eq(count(&w, "B", NULL, "region", tid_script), 2);
  ck_assert_int_eq(count(&w, "E", NULL, "region", tid_script), 2);
  /* Each end repeats its begin's name (viewers match them by name). */
  ck_assert_int_eq(count(&w, "E", "inner", "region", tid_script), 1);
  ck_assert_int_eq(count(&w, "E", "outer", "region", tid_script), 1);
  const jv *ob = find(&w, "B", "outer", tid_script);
  const jv *ib = find(&w, "B", "inner", tid_script);
  ck_assert(ob != NULL && ib != NULL);
  ck_assert(num(ob, "ts") <= num(ib, "ts"));
  /* The task's begin and end share id and name; the log kept its text. */
  const jv *tb = find(&w, "b", "job", tid_script);
  const jv *te = find(&w, "e", "job", tid_script);
  ck_assert(tb != NULL && te != NULL);
  ck_assert_str_eq(json_str(tb, "id"), json_str(te, "id"));
  const jv *lg = find(&w, "i", "cat\"egory", tid_script);
  ck_assert_msg(lg != NULL, "no log event");
  ck_assert_str_eq(json_str(json_get(lg, "args"), "message"),
                   "line\n\"two\" \xef\xbf\xbd end");
  /* The short thread's start and exit; CPU samples of the burner. */
  ck_assert_int_eq(count(&w, "i", "thread start", "thread", tid_short), 1);
  ck_assert_int_eq(count(&w, "i", "thread exit", "thread", tid_short), 1);
  int burn_samples = 0;
  for (size_t i = 0; i < w.events->len; i++) {
    const jv *e = w.events->v[i];
    if (strcmp(json_str(e, "name"), "cpu sample") == 0 &&
        (int)num(e, "tid") == tid_burn && stack_has(&w, e, "burn"))
      burn_samples++;
  }
  printf("burner: %d CPU samples\n", burn_samples);
  ck_assert_int_ge(burn_samples, 10);
  /* Counters. */
  ck_assert_int_ge(count(&w, "C", "RSS (bytes)", "counter", -1), 3);
  ck_assert_int_ge(count(&w, "C", "threads", "counter", -1), 3);
  json_free(root);
  pprofd__ifree(json);
}
END_TEST

static void *trace_thread(void *arg) {
  int err;
  pprofd__ifree(trace(0.5, &err));
  *(int *)arg = err;
  return NULL;
}

START_TEST(test_one_at_a_time) {
  int err1 = -100;
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, trace_thread, &err1), 0);
  wait_for_trace();
  int err2;
  ck_assert_ptr_null(trace(0.1, &err2));
  ck_assert_int_eq(err2, PPROFD_EBUSY);
  pthread_join(t, NULL);
  ck_assert_int_eq(err1, 0);
  ck_assert(!pprofd_trace_enabled());
  /* Annotations outside a trace cost nothing and record nothing. */
  ck_assert_uint_eq(pprofd_trace_task_begin("x"), 0);
  pprofd_trace_region_begin("x");
  pprofd_trace_region_end();
  pprofd_trace_log("x", "y");
  /* And the next trace works. */
  char *json = trace(0.1, &err2);
  ck_assert_int_eq(err2, 0);
  jv *root = json_parse(json);
  ck_assert_ptr_nonnull(root);
  json_free(root);
  pprofd__ifree(json);
}
END_TEST

static void *flood(void *arg) {
  wait_for_trace();
  for (int i = 0; i < PPROFD__TRACE_MAX_EVENTS + 50000; i++)
    pprofd_trace_log("flood", "x");
  return NULL;
}

START_TEST(test_budget) {
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, flood, NULL), 0);
  int err;
  char *json = trace(1.5, &err);
  pthread_join(t, NULL);
  ck_assert_int_eq(err, 0);
  jv *root = json_parse(json);
  ck_assert_ptr_nonnull(root);
  const jv *other = json_get(root, "otherData");
  long dropped = atol(json_str(other, "droppedEvents"));
  long events = atol(json_str(other, "events"));
  printf("budget: %ld events, %ld dropped\n", events, dropped);
  ck_assert_int_eq(events, PPROFD__TRACE_MAX_EVENTS);
  ck_assert_int_ge(dropped, 50000);
  json_free(root);
  pprofd__ifree(json);
}
END_TEST

static Suite *trace_suite(void) {
  Suite *s = suite_create("trace");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_workload);
  tcase_add_test(tc, test_one_at_a_time);
  tcase_add_test(tc, test_budget);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  /* Without interposition (sanitizer builds) no wait or thread start is
   * seen, which is most of what this suite asserts. */
  return pprofd_check_run_unless(pprofd__contention_unavailable,
                                 "waits cannot be traced", trace_suite);
}
