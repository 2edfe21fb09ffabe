/*
 * trace.h - an execution trace: what /debug/pprof/trace recorded for its
 * window. Events on per-thread tracks (CPU samples, lock waits, thread
 * starts and exits, pprofd's HTTP requests, user regions, tasks and
 * logs), process counters, and the names of the threads.
 *
 * sample/trace fills it; encode/tracejson writes it.
 */
#ifndef PPROFD_MODEL_TRACE_H
#define PPROFD_MODEL_TRACE_H

#include <stddef.h>
#include <stdint.h>

enum pprofd__tev_kind {
  PPROFD__TEV_CPU,          /* a CPU sample: instant, with stack */
  PPROFD__TEV_WAIT,         /* a blocking call: duration, with stack */
  PPROFD__TEV_THREAD_START, /* instant */
  PPROFD__TEV_THREAD_EXIT,  /* instant */
  PPROFD__TEV_HTTP,         /* a request pprofd served: duration */
  PPROFD__TEV_COUNTER,      /* a process counter: name, value */
  PPROFD__TEV_REGION_BEGIN, /* user region, nests per thread */
  PPROFD__TEV_REGION_END,
  PPROFD__TEV_TASK_BEGIN, /* user task: id, may span threads */
  PPROFD__TEV_TASK_END,
  PPROFD__TEV_LOG, /* user log: name is the category, text the message */
};

typedef struct pprofd__tev {
  uint8_t kind;
  int32_t tid;
  int64_t ts;           /* CLOCK_MONOTONIC ns */
  int64_t dur;          /* WAIT, HTTP: ns */
  int64_t value;        /* COUNTER: the value; TASK_*: the id; CPU: weight */
  const char *name;     /* static, or owned by the trace */
  const char *text;     /* LOG: the message; HTTP: the query; or NULL */
  const uint64_t *locs; /* leaf first; owned by the trace */
  uint32_t nlocs;
  uint32_t seq; /* recording order: breaks ties between equal times */
} pprofd__tev;

typedef struct pprofd__tthread {
  int32_t tid;
  char name[16];
} pprofd__tthread;

typedef struct pprofd__trace {
  const pprofd__tev *ev;
  size_t nev;
  const pprofd__tthread *threads; /* names known for tids; may be partial */
  size_t nthreads;
  int pid;
  const char *process; /* the executable's name */
  char comm[32];       /* storage for process, when the tracer names it */
  int64_t start_mono, end_mono;
  int64_t start_wall;  /* wall-clock ns at start_mono */
  int64_t dropped;     /* events the budget had no room for */
  int cpu_hz;          /* 0: no CPU samples */
  const char *cpu_why; /* why there are no CPU samples, or NULL */
} pprofd__trace;

#endif
