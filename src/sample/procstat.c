/*
 * procstat.c - the process's own figures (see procstat.h).
 *
 * /proc/self/stat gives CPU time and the start in clock ticks, the
 * virtual size in bytes, the resident set in pages and the thread count;
 * its second field (the command name, in parentheses) may itself hold
 * spaces and parentheses, so fields are counted from the last ')'. The
 * start becomes wall-clock time through the boot time, CLOCK_REALTIME
 * minus CLOCK_BOOTTIME; it is computed once per process (a fork child
 * computes its own). Open descriptors are counted with getdents64 into
 * a stack buffer, so counting allocates nothing.
 */
#include "config.h"

#include "sample/procstat.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "pprofd.h"

/* The start time, and the process it belongs to. A race computes it
 * twice, to the same value; relaxed: nothing else hangs on it. */
static _Atomic double start_cache;
static _Atomic pid_t start_pid;

/* Seconds of clock c. */
static double clock_seconds(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses /proc/self/stat into out. */
static int read_stat(pprofd__procstat *out) {
  char buf[1024];
  if (pprofd__read_small("/proc/self/stat", buf, sizeof buf) <= 0)
    return PPROFD_EIO;
  const char *p = strrchr(buf, ')');
  if (p == NULL)
    return PPROFD_EIO;
  /* Field 3 (state) follows ") "; fields are 1-based as in proc(5). */
  unsigned long long f[25] = {0};
  int field = 3;
  for (p += 2; *p && field <= 24; field++) {
    char *end;
    f[field] = strtoull(p, &end, 10);
    p = end;
    while (*p && *p != ' ')
      p++;
    while (*p == ' ')
      p++;
  }
  if (field <= 24)
    return PPROFD_EIO;
  double tck = (double)sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
  out->cpu_seconds = (double)(f[14] + f[15]) / tck;
  out->threads = (int64_t)f[20];
  out->vsize_bytes = (int64_t)f[23];
  out->rss_bytes = (int64_t)f[24] * page;
  pid_t pid = getpid();
  if (atomic_load_explicit(&start_pid, memory_order_relaxed) != pid) {
    /* The start is known to a clock tick: round to one, so that the
     * noise of reading two clocks does not show as digits. */
    double boot = clock_seconds(CLOCK_REALTIME) - clock_seconds(CLOCK_BOOTTIME);
    double start = boot + (double)f[22] / tck;
    atomic_store_explicit(&start_cache, (double)llround(start * tck) / tck,
                          memory_order_relaxed);
    atomic_store_explicit(&start_pid, pid, memory_order_relaxed);
  }
  out->start_seconds = atomic_load_explicit(&start_cache, memory_order_relaxed);
  return 0;
}

/* statm's data field (data and stack pages), in bytes; -1 unknown. */
static int64_t data_bytes(void) {
  char buf[256];
  unsigned long long v[6];
  if (pprofd__read_small("/proc/self/statm", buf, sizeof buf) <= 0 ||
      sscanf(buf, "%llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
             &v[4], &v[5]) != 6)
    return -1;
  return (int64_t)v[5] * sysconf(_SC_PAGESIZE);
}

/* The number of open descriptors, not counting the one used to count;
 * -1 unknown. */
static int64_t open_fds(void) {
  int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int64_t n = 0;
  char buf[4096] __attribute__((aligned(8)));
  for (;;) {
    long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got <= 0) {
      if (got < 0)
        n = 0;
      break;
    }
    for (long off = 0; off < got;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      if (d->d_name[0] != '.')
        n++;
      off += d->d_reclen;
    }
  }
  close(fd);
  return n > 0 ? n - 1 : -1;
}

int pprofd__procstat_read(pprofd__procstat *out) {
  *out = (pprofd__procstat){-1, -1, -1, -1, -1, -1, -1, -1};
  int err = read_stat(out);
  out->data_bytes = data_bytes();
  out->open_fds = open_fds();
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    out->max_fds = rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur;
  return err;
}
