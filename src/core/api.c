/*
 * api.c - the public entry points: start/stop, the file API, errors and
 * the version, and the constructor that starts pprofd under LD_PRELOAD.
 *
 * rt.lock serializes start and stop and guards the config in force. A
 * failure to start leaves nothing running and is reported to the caller
 * (or, for the constructor, once on stderr); it never ends the host.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fileio.h"
#include "base/guard.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "capture/blockctx.h"
#include "capture/stackcopy.h"
#include "capture/threadreg.h"
#include "capture/unwind.h"
#include "core/auth.h"
#include "core/autodump.h"
#include "core/conf.h"
#include "core/cpufile.h"
#include "core/profiles.h"
#include "core/render.h"
#include "core/reqstats.h"
#include "core/runtime.h"
#include "http/server.h"
#include "http/tls.h"
#include "pprofd.h"
#include "sample/cmdline.h"
#include "sample/contention.h"
#include "sample/cpu.h"
#include "sample/custom.h"
#include "sample/heap.h"
#include "sample/labels.h"
#include "sample/threads.h"
#include "sample/trace.h"
#include "sample/vars.h"
#include "symbol/maps.h"
#include "symbol/symbolize.h"

struct pprofd__runtime pprofd__rt = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};
PPROFD__LOCK_RANK(runtime, &pprofd__rt.lock, PPROFD__RANK_RUNTIME);

/* The address the server listens on ("" without a server). */
static char bound_addr[PPROFD__ADDR_MAX];
static int cfg_ready;

void pprofd__runtime_config(struct pprofd_config *out) {
  pprofd__mutex_lock(&pprofd__rt.lock);
  if (!cfg_ready) {
    pprofd__config_defaults(&pprofd__rt.cfg);
    cfg_ready = 1;
  }
  *out = pprofd__rt.cfg;
  pprofd__mutex_unlock(&pprofd__rt.lock);
  pprofd__conf_live(out); /* the rates live in their samplers */
}

/* PPROFD_ERRNO_LAST is one past the last code, and the codes run -1, -2,
 * ... in the order PPROFD_ERRNO_MAP lists them: a code added without
 * moving PPROFD_ERRNO_LAST (or out of order, or with a gap, which would
 * leave pprofd_strerror an unknown code inside the range) fails the build.
 */
enum {
#define PPROFD_ERR_RANK(name, val, msg) ERR_RANK_##name,
  PPROFD_ERRNO_MAP(PPROFD_ERR_RANK)
#undef PPROFD_ERR_RANK
      ERR_COUNT
};
#define PPROFD_ERR_CHECK(name, val, msg)                                       \
  _Static_assert(PPROFD_##name == -1 - ERR_RANK_##name,                        \
                 "PPROFD_" #name " is out of sequence");
PPROFD_ERRNO_MAP(PPROFD_ERR_CHECK)
#undef PPROFD_ERR_CHECK
_Static_assert(PPROFD_ERRNO_LAST == -1 - ERR_COUNT,
               "PPROFD_ERRNO_LAST is not one past the last error code");

const char *pprofd_strerror(int err) {
#define PPROFD_ERR_MSG(name, val, msg)                                         \
  case val:                                                                    \
    return msg;
  switch (err) {
    PPROFD_ERRNO_MAP(PPROFD_ERR_MSG)
  case 0:
    return "success";
  default:
    return "unknown error";
  }
#undef PPROFD_ERR_MSG
}

const char *pprofd_err_name(int err) {
#define PPROFD_ERR_NAME(name, val, msg)                                        \
  case val:                                                                    \
    return "PPROFD_" #name;
  switch (err) {
    PPROFD_ERRNO_MAP(PPROFD_ERR_NAME)
  default:
    return "PPROFD_UNKNOWN";
  }
#undef PPROFD_ERR_NAME
}

const char *pprofd_version(void) { return PPROFD_VERSION_STRING; }

unsigned pprofd_version_hex(void) { return PPROFD_VERSION_HEX; }

/* Starts the automatic captures that c asks for. A failure is said on
 * stderr and leaves them off; pprofd itself starts. */
static void start_autodump(const struct pprofd_config *c) {
  pprofd__autodump_rules r = {
      .dir = c->autodump_dir,
      .rss = c->autodump_rss,
      .rss_growth = c->autodump_rss_growth,
      .window = c->autodump_window,
      .cpu = c->autodump_cpu,
      .threads = c->autodump_threads,
      .heap = c->autodump_heap,
      .contention = c->autodump_contention,
      .cooldown = c->autodump_cooldown,
      .max_per_hour = c->autodump_max_per_hour,
      .cpu_seconds = c->autodump_seconds,
      .max_bytes = c->autodump_max_bytes,
      .max_files = c->autodump_max_files,
  };
  int err = pprofd__autodump_start(&r, pprofd__serve);
  if (err != 0)
    fprintf(stderr, "pprofd: automatic captures not started: %s\n",
            pprofd_strerror(err));
}

int pprofd_start(const pprofd_config *cfg) {
  struct pprofd_config c;
  int err = 0;
  if (cfg != NULL) {
    c = *cfg;
  } else {
    pprofd__config_defaults(&c);
    (void)pprofd_config_from_env(&c); /* bad values keep their defaults */
  }
  pprofd__mutex_lock(&pprofd__rt.lock);
  if (pprofd__rt.running) {
    err = PPROFD_EALREADY;
    goto out;
  }
  /* Load the unwinders now, outside any signal handler or hot path (and
   * before a wedged loader could keep a thread dump from loading its
   * own); a failure only turns the profiles that need stacks off. */
  (void)pprofd__unwind_init();
  (void)pprofd__stackcopy_init();
  /* Credentials that cannot be used would refuse every request. */
  err = pprofd__auth_validate(&c, NULL, 0);
  if (err != 0)
    goto out;
  char addr[PPROFD__ADDR_MAX] = "";
  if (c.http) {
    err = pprofd__http_start(&c, &pprofd__rt.http, addr, sizeof addr);
    if (err != 0)
      goto out;
  }
  memcpy(bound_addr, addr, sizeof bound_addr);
  start_autodump(&c);
  pprofd__rt.cfg = c;
  cfg_ready = 1;
  pprofd__rt.running = 1;
  pprofd__rt.start_nanos = 0;
out:
  pprofd__mutex_unlock(&pprofd__rt.lock);
  return err;
}

int pprofd_stop(void) {
  pprofd__mutex_lock(&pprofd__rt.lock);
  if (!pprofd__rt.running) {
    pprofd__mutex_unlock(&pprofd__rt.lock);
    return PPROFD_ENOTRUNNING;
  }
  struct pprofd__http *h = pprofd__rt.http;
  pprofd__rt.http = NULL;
  pprofd__rt.running = 0;
  bound_addr[0] = '\0';
  pprofd__mutex_unlock(&pprofd__rt.lock);
  /* Outside rt.lock: handlers finishing their requests read the config,
   * and a capture in progress does too. */
  pprofd__autodump_stop();
  pprofd__http_stop(h);
  return 0;
}

int pprofd_get_addr(char *buf, size_t len) {
  int err = 0;
  pprofd__mutex_lock(&pprofd__rt.lock);
  if (!pprofd__rt.running || bound_addr[0] == '\0')
    err = PPROFD_ENOTRUNNING;
  else if (buf == NULL || strlen(bound_addr) >= len)
    err = PPROFD_EINVAL;
  else
    strcpy(buf, bound_addr);
  pprofd__mutex_unlock(&pprofd__rt.lock);
  return err;
}

/* pprofd_write_profile's one parameter: debug. */
static const char *write_param(void *arg, const char *key) {
  return strcmp(key, "debug") == 0 ? arg : NULL;
}

int pprofd_write_profile(const char *name, int fd, int debug) {
  if (name == NULL || fd < 0)
    return PPROFD_EINVAL;
  /* As for an HTTP request: what rendering allocates (the symbolizer's
   * libraries, stdio) is pprofd's, not the application's, and is never
   * sampled, so it neither shows in the heap profile nor needs the
   * unwinder. */
  pprofd__guard_enter();
  char dbg[16];
  snprintf(dbg, sizeof dbg, "%d", debug);
  pprofd__request rq = {.param = write_param, .arg = dbg, .method = "GET"};
  pprofd__runtime_config(&rq.cfg);
  pprofd__reply rp;
  pprofd__reply_init(&rp);
  /* The index page and symbol are pages of the server, not profiles. */
  int err =
      name[0] == '\0' || strcmp(name, "symbol") == 0 ? PPROFD_ENOPROFILE : 0;
  if (err == 0)
    pprofd__serve(name, &rq, &rp);
  if (err == 0 && rp.status != 200)
    err = rp.err;
  if (err == 0)
    err = pprofd__buf_failed(&rp.body);
  if (err == 0 && rp.body.len > 0)
    err = pprofd__write_all(fd, rp.body.data, rp.body.len);
  pprofd__reply_free(&rp);
  pprofd__guard_exit();
  return err;
}

/* Before fork(): every lock that a request never holds for long, in rank
 * order (base/lockrank.h). The locks of request work (the thread dump,
 * the stack-copy walker, the symbolizer and its build-id cache) are not
 * taken, so the host's fork() never waits for a request; the child takes
 * them back, resetting what they guard when a thread held one. */
static void prefork(void) {
  pprofd__mutex_lock(&pprofd__rt.lock);
  pprofd__custom_prefork();
  pprofd__threadreg_prefork();
  pprofd__cpufile_prefork();
  pprofd__cpu_prefork();
  pprofd__labels_prefork();
  pprofd__http_prefork();
  pprofd__reqstats_prefork();
  pprofd__auth_prefork();
  pprofd__vars_prefork();
  pprofd__unwind_prefork();
  pprofd__contention_prefork();
  pprofd__trace_prefork();
}

/* After fork() in the parent: release in reverse order. */
static void postfork_parent(void) {
  pprofd__trace_postfork_parent();
  pprofd__contention_postfork();
  pprofd__unwind_postfork_parent();
  pprofd__vars_postfork();
  pprofd__auth_postfork();
  pprofd__reqstats_postfork();
  pprofd__http_postfork_parent();
  pprofd__labels_postfork();
  pprofd__cpu_postfork_parent();
  pprofd__cpufile_postfork_parent();
  pprofd__threadreg_postfork();
  pprofd__custom_postfork();
  pprofd__mutex_unlock(&pprofd__rt.lock);
}

/* After fork() in the child: the same, and the parent's server is
 * forgotten (only the forking thread exists here). */
static void postfork_child(void) {
  pprofd__trace_postfork_child();
  pprofd__contention_postfork();
  pprofd__unwind_postfork_child();
  pprofd__stackcopy_postfork_child();
  pprofd__autodump_postfork_child();
  pprofd__blockctx_postfork_child();
  pprofd__vars_postfork();
  pprofd__auth_postfork();
  pprofd__reqstats_postfork();
  pprofd__http_postfork_child(pprofd__rt.http);
  pprofd__rt.http = NULL;
  pprofd__rt.running = 0;
  bound_addr[0] = '\0';
  pprofd__maps_postfork_child();
  pprofd__sym_postfork_child();
  pprofd__labels_postfork();
  pprofd__cpu_postfork_child();
  pprofd__cpufile_postfork_child();
  pprofd__threadreg_postfork();
  pprofd__threads_postfork_child();
  pprofd__custom_postfork();
  pprofd__mutex_unlock(&pprofd__rt.lock);
}

/* Whether this library was named in LD_PRELOAD. */
static int preloaded(void) {
  const char *p = getenv("LD_PRELOAD");
  return p != NULL && strstr(p, "libpprofd") != NULL;
}

/*
 * At load: install the fork hooks; then, under LD_PRELOAD with PPROFD_ADDR
 * set (or with PPROFD_AUTOSTART=1 in any program), start pprofd before
 * main() with the environment's config. A failure is reported once on
 * stderr and the host runs on without it.
 */
__attribute__((constructor)) static void pprofd_autostart(void) {
  pthread_atfork(prefork, postfork_parent, postfork_child);
  const char *addr = getenv("PPROFD_ADDR");
  const char *force = getenv("PPROFD_AUTOSTART");
  int want = (addr != NULL && *addr && preloaded()) ||
             (force != NULL && strcmp(force, "1") == 0);
  if (force != NULL && strcmp(force, "0") == 0)
    want = 0;
  if (!want)
    return;
  struct pprofd_config c;
  pprofd__config_defaults(&c);
  if (pprofd_config_from_env(&c) != 0)
    fprintf(stderr, "pprofd: ignoring an invalid PPROFD_* variable\n");
  int err = pprofd_start(&c);
  if (err != 0) {
    char why[PPROFD__PATH_MAX + 128] = "";
    if (err == PPROFD_EAUTH && pprofd__auth_validate(&c, why, sizeof why) == 0)
      why[0] = '\0'; /* the file was fixed meanwhile */
    pprofd__tls tls;
    if (err == PPROFD_ETLS && pprofd__tls_load(&c, &tls, why, sizeof why) == 0)
      pprofd__tls_free(&tls); /* loads now: libmicrohttpd refused it */
    fprintf(stderr, "pprofd: not started on %s: %s\n", c.addr,
            why[0] ? why : pprofd_strerror(err));
    return;
  }
  char a[PPROFD__ADDR_MAX];
  if (pprofd_get_addr(a, sizeof a) == 0)
    fprintf(stderr, "pprofd: listening on http%s://%s/debug/pprof/\n",
            c.tls_cert[0] ? "s" : "", a);
}
