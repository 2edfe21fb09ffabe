/*
 * cpufile.c - the CPU profile to a file descriptor (see cpufile.h).
 *
 * pprofd_cpu_start opens one CPU session at the default rate (sharing the
 * sampler with any HTTP windows, within max_cpu_profiles) and remembers
 * the descriptor; pprofd_cpu_stop closes it, encodes the snapshot as
 * gzipped pprof protobuf and writes it. Called from the application's
 * threads.
 */
#include "config.h"

#include "core/cpufile.h"

#include <pthread.h>

#include "base/buf.h"
#include "base/fileio.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "core/runtime.h"
#include "encode/pprof.h"
#include "model/snapshot.h"
#include "pprofd.h"
#include "sample/cpu.h"

static struct {
  pthread_mutex_t lock; /* the file lock: the fields below */
  pprofd__cpu_session *session;
  int fd;
} file = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .fd = -1,
};
PPROFD__LOCK_RANK(cpu_file, &file.lock, PPROFD__RANK_CPU_FILE);

int pprofd_cpu_start(int fd) {
  if (fd < 0)
    return PPROFD_EINVAL;
  struct pprofd_config cfg;
  pprofd__runtime_config(&cfg); /* rt.lock ranks before ours */
  pprofd__mutex_lock(&file.lock);
  int err = PPROFD_EALREADY;
  if (file.session == NULL) {
    int max = cfg.max_cpu_profiles > 0 ? (int)cfg.max_cpu_profiles : 1;
    err = pprofd__cpu_open(PPROFD__CPU_HZ_DEFAULT, max, &file.session);
    if (err == 0)
      file.fd = fd;
  }
  pprofd__mutex_unlock(&file.lock);
  return err;
}

int pprofd_cpu_stop(void) {
  pprofd__mutex_lock(&file.lock);
  pprofd__cpu_session *ss = file.session;
  int fd = file.fd;
  file.session = NULL;
  file.fd = -1;
  pprofd__mutex_unlock(&file.lock);
  if (ss == NULL)
    return PPROFD_ENOTRUNNING;
  pprofd__snapshot snap;
  pprofd__buf buf;
  int err = pprofd__cpu_close(ss, &snap);
  pprofd__buf_init(&buf, PPROFD__BUF_MAX_DEFAULT);
  if (err == 0)
    err = pprofd__pprof_encode(&snap, 1, &buf);
  if (err == 0)
    err = pprofd__write_all(fd, buf.data, buf.len);
  pprofd__buf_free(&buf);
  pprofd__snap_free(&snap);
  return err;
}

void pprofd__cpufile_prefork(void) { pprofd__mutex_lock(&file.lock); }

void pprofd__cpufile_postfork_parent(void) { pprofd__mutex_unlock(&file.lock); }

/* The child's one thread is the one that took the lock before fork, so
 * it releases it (which also keeps the debug lock-order record right). */
void pprofd__cpufile_postfork_child(void) { pprofd__mutex_unlock(&file.lock); }
