/*
 * procstat.h - the process's own figures, for the standard `process_*`
 * metrics every Prometheus client exports and for MemStats.Sys.
 *
 * Read from the kernel at each call (/proc/self/stat and statm, the
 * /proc/self/fd directory, RLIMIT_NOFILE, the clocks), the way
 * client_golang's process collector reads them, so no figure stops or
 * waits for a thread of the host. Threads: any thread outside signal
 * context. No state but the cached start time.
 */
#ifndef PPROFD_SAMPLE_PROCSTAT_H
#define PPROFD_SAMPLE_PROCSTAT_H

#include <stdint.h>

#include "base/common.h"

/* The figures; -1 (or a negative time) for one that could not be read. */
typedef struct pprofd__procstat {
  double cpu_seconds;   /* user + system CPU time, all threads */
  int64_t rss_bytes;    /* resident set */
  int64_t vsize_bytes;  /* virtual memory */
  int64_t data_bytes;   /* data and stack mappings (statm's data) */
  int64_t threads;      /* threads of the process */
  int64_t open_fds;     /* open file descriptors */
  int64_t max_fds;      /* RLIMIT_NOFILE's soft limit; -1 unlimited */
  double start_seconds; /* the process's start, seconds since 1970 */
} pprofd__procstat;

/* Fills *out. 0, or PPROFD_EIO when /proc/self/stat cannot be read (the
 * other figures are still filled where they could be, so a caller that
 * leaves out the -1s may ignore the result). */
int pprofd__procstat_read(pprofd__procstat *out);

#endif
