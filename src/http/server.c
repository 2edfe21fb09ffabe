/*
 * server.c - routing and handlers for /debug/pprof/ (see server.h).
 *
 * Routing follows Go's ServeMux and net/http/pprof (spec sections 1-3):
 *   - an unclean path is 301-redirected to its clean form;
 *   - /debug/pprof is 301-redirected to /debug/pprof/;
 *   - other paths outside /debug/pprof/ get Go's "404 page not found";
 *   - GET and HEAD are served everywhere, POST also on /symbol (pprof's
 *     symbolz needs it), anything else gets 405 with an Allow header;
 *   - /debug/pprof/ is the index, cmdline/profile/symbol/trace have their
 *     own handlers, and every other name is looked up exactly in the table
 *     of profile kinds (404 "Unknown profile" otherwise).
 * Errors go through go_error(), a copy of Go's pprof error helper:
 * text/plain, X-Go-Pprof: 1, nosniff, no Content-Disposition, message and
 * a newline; pprof prints that body to its user.
 *
 * The raw request URI is captured by libmicrohttpd's URI log callback
 * before it unescapes anything, so the query is parsed with Go's rules and
 * /symbol sees the raw query string as Go's handler does.
 *
 * Limits, each answered with a clear error while the server stays up:
 *   - URI length: 8 KiB (414); libmicrohttpd's per-connection memory
 *     (64 KiB) bounds the headers;
 *   - requests in flight: cfg.max_connections (503), and libmicrohttpd
 *     closes connections beyond that plus a small reserve;
 *   - request body: cfg.max_body (413);
 *   - idle or slow clients: cfg.request_timeout;
 *   - `seconds`: cfg.max_seconds (400).
 */
#include "config.h"

#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/clock.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "core/profiles.h"
#include "core/runtime.h"
#include "encode/index.h"
#include "encode/pprof.h"
#include "http/params.h"
#include "pprofd.h"
#include "sample/cmdline.h"
#include "sample/contention.h"
#include "sample/cpu.h"
#include "sample/heap.h"
#include "sample/trace.h"
#include "symbol/symbolize.h"

#define URI_MAX 8192
#define PREFIX "/debug/pprof/"
#define PREFIX_LEN (sizeof PREFIX - 1)

struct pprofd__http {
  struct MHD_Daemon *daemon;
  int stop_pipe[2]; /* written once at stop: wakes waiting handlers */
  struct pprofd_config cfg;
  char addr[PPROFD__ADDR_MAX];
};

/* One request's state, created by the URI log callback (or by
 * pprofd_mhd_dispatch) and freed when the request completes. */
typedef struct req {
  struct req *next, *prev; /* the set of live requests */
  char *uri;               /* raw, as sent; NULL when mounted */
  pprofd__buf body;        /* POST body of /symbol */
  int phase;               /* 0 new, 1 receiving a body */
  int counted;             /* holds a slot of max_connections */
  int too_large;           /* the body passed max_body */
} req;

/* Live requests: lets pprofd_mhd_completed tell pprofd's *req_cls from
 * the application's. A leaf lock. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static req *live_head;
/* Requests being handled, against max_connections. Relaxed: it is a
 * counter checked once per request, not a guard for other memory. */
static atomic_uint in_flight;

/* A new request state, linked into the live set. */
static req *req_new(const char *uri) {
  req *r = pprofd__icalloc(1, sizeof *r);
  if (r == NULL)
    return NULL;
  if (uri != NULL && (r->uri = pprofd__istrdup(uri)) == NULL) {
    pprofd__ifree(r);
    return NULL;
  }
  pprofd__mutex_lock(&live_lock);
  r->next = live_head;
  if (live_head != NULL)
    live_head->prev = r;
  live_head = r;
  pprofd__mutex_unlock(&live_lock);
  return r;
}

/* Whether p is a live request of ours. */
static int req_is_live(const void *p) {
  int found = 0;
  pprofd__mutex_lock(&live_lock);
  for (req *r = live_head; r != NULL && !found; r = r->next)
    found = r == p;
  pprofd__mutex_unlock(&live_lock);
  return found;
}

/* Unlinks and frees a request, releasing its in-flight slot. */
static void req_free(req *r) {
  pprofd__mutex_lock(&live_lock);
  if (r->prev != NULL)
    r->prev->next = r->next;
  else
    live_head = r->next;
  if (r->next != NULL)
    r->next->prev = r->prev;
  pprofd__mutex_unlock(&live_lock);
  if (r->counted)
    atomic_fetch_sub_explicit(&in_flight, 1, memory_order_relaxed);
  pprofd__buf_free(&r->body);
  pprofd__ifree(r->uri);
  pprofd__ifree(r);
}

/* What a handler needs about its request. */
typedef struct ctx {
  struct pprofd__http *h; /* NULL when mounted */
  struct MHD_Connection *conn;
  struct pprofd_config cfg;
  req *r;
  const char *method;
  const char *raw_query; /* after '?', never NULL */
  pprofd__query *q;
} ctx;

enum { F_NOSNIFF = 1, F_GOERR = 2 };

/* Queues a response that takes ownership of data (an ialloc block). */
static enum MHD_Result respond(ctx *c, unsigned status, const char *ctype,
                               char *data, size_t len, int flags,
                               const char *filename) {
  struct MHD_Response *resp =
      MHD_create_response_from_buffer_with_free_callback(len, data,
                                                         pprofd__ifree);
  if (resp == NULL) {
    pprofd__ifree(data);
    return MHD_NO;
  }
  if (ctype != NULL)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  if (flags & F_NOSNIFF)
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  if (flags & F_GOERR)
    MHD_add_response_header(resp, "X-Go-Pprof", "1");
  if (filename != NULL) {
    char cd[160];
    snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", filename);
    MHD_add_response_header(resp, "Content-Disposition", cd);
  }
  enum MHD_Result rc = MHD_queue_response(c->conn, status, resp);
  MHD_destroy_response(resp);
  return rc;
}

/* Queues a copy of a C string as the body. */
static enum MHD_Result respond_str(ctx *c, unsigned status, const char *ctype,
                                   const char *body, int flags) {
  size_t n = strlen(body);
  char *d = pprofd__ialloc(n + 1);
  if (d == NULL)
    return MHD_NO;
  memcpy(d, body, n + 1);
  return respond(c, status, ctype, d, n, flags, NULL);
}

/* Queues a finished buffer (or 500 if it failed). */
static enum MHD_Result respond_buf(ctx *c, unsigned status, const char *ctype,
                                   pprofd__buf *b, int flags,
                                   const char *filename);

/* Go's pprof error helper: status, message + "\n", X-Go-Pprof: 1. */
static enum MHD_Result go_error(ctx *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result go_error(ctx *c, unsigned status, const char *fmt, ...) {
  pprofd__buf b;
  pprofd__buf_init(&b, 4096);
  va_list ap;
  va_start(ap, fmt);
  pprofd__buf_vprintf(&b, fmt, ap);
  va_end(ap);
  pprofd__buf_putc(&b, '\n');
  if (pprofd__buf_failed(&b)) {
    pprofd__buf_free(&b);
    return MHD_NO;
  }
  size_t len;
  char *d = pprofd__buf_steal(&b, &len);
  return respond(c, status, "text/plain; charset=utf-8", d, len,
                 F_NOSNIFF | F_GOERR, NULL);
}

static enum MHD_Result respond_buf(ctx *c, unsigned status, const char *ctype,
                                   pprofd__buf *b, int flags,
                                   const char *filename) {
  int err = pprofd__buf_failed(b);
  if (err != 0) {
    pprofd__buf_free(b);
    return go_error(c, 500, "could not write the response: %s",
                    pprofd_strerror(err));
  }
  size_t len;
  char *d = pprofd__buf_steal(b, &len);
  if (d == NULL) { /* empty body */
    d = pprofd__ialloc(1);
    if (d == NULL)
      return MHD_NO;
    len = 0;
  }
  return respond(c, status, ctype, d, len, flags, filename);
}

/* Go's http.Redirect with 301 (the body only for GET). */
static enum MHD_Result redirect(ctx *c, const char *path) {
  pprofd__buf loc, body;
  pprofd__buf_init(&loc, URI_MAX * 2);
  pprofd__buf_puts(&loc, path);
  if (c->raw_query[0] != '\0') {
    pprofd__buf_putc(&loc, '?');
    pprofd__buf_puts(&loc, c->raw_query);
  }
  if (pprofd__buf_failed(&loc) || loc.data == NULL) {
    pprofd__buf_free(&loc);
    return MHD_NO;
  }
  pprofd__buf_init(&body, URI_MAX * 8);
  if (strcmp(c->method, "GET") == 0) {
    pprofd__buf_puts(&body, "<a href=\"");
    pprofd__buf_html(&body, loc.data);
    pprofd__buf_puts(&body, "\">Moved Permanently</a>.\n\n");
  }
  size_t len;
  char *d = pprofd__buf_failed(&body) ? NULL : pprofd__buf_steal(&body, &len);
  if (d == NULL) {
    d = pprofd__ialloc(1);
    len = 0;
  }
  struct MHD_Response *resp =
      d ? MHD_create_response_from_buffer_with_free_callback(len, d,
                                                             pprofd__ifree)
        : NULL;
  enum MHD_Result rc = MHD_NO;
  if (resp != NULL) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc.data);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/html; charset=utf-8");
    rc = MHD_queue_response(c->conn, 301, resp);
    MHD_destroy_response(resp);
  } else {
    pprofd__ifree(d);
  }
  pprofd__buf_free(&loc);
  pprofd__buf_free(&body);
  return rc;
}

/*
 * Waits up to `seconds`, returning early when the client goes away or the
 * server stops. Returns 0 after the full wait, 1 if the client is gone, 2
 * if the server is stopping. Thread-per-connection means this thread owns
 * the socket while it waits, so POLLRDHUP on it is the client's FIN.
 */
static int wait_window(ctx *c, double seconds) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  struct pollfd fds[2];
  int nfds = 0;
  if (ci != NULL)
    fds[nfds++] = (struct pollfd){ci->connect_fd, POLLRDHUP, 0};
  if (c->h != NULL)
    fds[nfds++] = (struct pollfd){c->h->stop_pipe[0], POLLIN, 0};
  struct timespec now, end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += (time_t)seconds;
  end.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
  if (end.tv_nsec >= 1000000000) {
    end.tv_sec++;
    end.tv_nsec -= 1000000000;
  }
  int result = 0;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(end.tv_sec - now.tv_sec) * 1000 +
                   (end.tv_nsec - now.tv_nsec) / 1000000;
    if (ms <= 0)
      break;
    int n = poll(fds, (nfds_t)nfds, ms > 1000 ? 1000 : (int)ms);
    if (n < 0 && errno != EINTR)
      break;
    if (n <= 0)
      continue;
    if (ci != NULL && (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
      result = 1;
      break;
    }
    if (c->h != NULL && (fds[nfds - 1].revents & POLLIN)) {
      result = 2;
      break;
    }
  }
  /* libmicrohttpd measures idleness from the last socket activity; the
   * wait was not idleness, so restart the clock before the response. */
  MHD_set_connection_option(c->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                            c->cfg.request_timeout);
  return result;
}

/* GET /debug/pprof/: the index page. */
static enum MHD_Result serve_index(ctx *c) {
  size_t n;
  pprofd__kind *rows = pprofd__kind_list(&n);
  if (rows == NULL)
    return go_error(c, 500, "out of memory");
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__index_info info;
  info.addr = c->h != NULL ? c->h->addr : "(mounted in the host's server)";
  size_t cont_bytes;
  pprofd__contention_stats(&info.cont_recorded, &info.cont_lost, &cont_bytes);
  info.block_rate = pprofd__contention_block_rate();
  info.mutex_fraction = pprofd__contention_mutex_fraction();
  info.own_bytes = pprofd__ialloc_in_use() + pprofd__heap_own_bytes() +
                   pprofd__malloc_boot_bytes() + cont_bytes;
  info.mem_rate = pprofd__heap_rate();
  pprofd__cpu_stats cs;
  pprofd__cpu_get_stats(&cs);
  info.cpu_hz = pprofd__cpu_hz();
  info.cpu_timers = (int)cs.timers;
  info.cpu_lost = (int64_t)cs.lost;
  info.cpu_itimer = cs.itimer_fallback;
  info.cpu_timer_failures = cs.timer_failures;
  int err = pprofd__index_html(rows, n, &c->cfg, &info, &b);
  pprofd__ifree(rows);
  if (err != 0) {
    pprofd__buf_free(&b);
    return go_error(c, 500, "could not write the index: %s",
                    pprofd_strerror(err));
  }
  return respond_buf(c, 200, "text/html; charset=utf-8", &b, F_NOSNIFF, NULL);
}

/* GET /debug/pprof/cmdline: argv joined by NUL. */
static enum MHD_Result serve_cmdline(ctx *c) {
  pprofd__buf b;
  pprofd__buf_init(&b, 1 << 20);
  if (pprofd__cmdline(&b) != 0) {
    pprofd__buf_free(&b);
    return go_error(c, 500, "could not read the command line");
  }
  return respond_buf(c, 200, "text/plain; charset=utf-8", &b, F_NOSNIFF, NULL);
}

/* /debug/pprof/symbol: Go's symbolz protocol over the raw query (GET) or
 * the body (POST). */
static enum MHD_Result serve_symbol(ctx *c) {
  if (c->r->too_large)
    return go_error(c, 413, "request body too large (limit %zu bytes)",
                    c->cfg.max_body);
  const char *in = c->raw_query;
  size_t inlen = strlen(in);
  if (strcmp(c->method, "POST") == 0) {
    in = c->r->body.data != NULL ? c->r->body.data : "";
    inlen = c->r->body.len;
  }
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__buf_puts(&b, "num_symbols: 1\n");
  pprofd__symctx *sym = NULL;
  if (inlen > 0 && pprofd__sym_begin(&sym) != 0)
    sym = NULL;
  size_t i = 0;
  while (sym != NULL && i <= inlen) {
    const char *w = in + i;
    const char *plus = memchr(w, '+', inlen - i);
    size_t wl = plus != NULL ? (size_t)(plus - w) : inlen - i;
    uint64_t pc = 0;
    (void)pprofd__parse_uint64_base0(w, wl, &pc);
    /* Go ignores the error: a syntax error gives 0 (skipped) and an
     * overflow gives the maximum, which resolves to nothing. */
    if (pc != 0) {
      pprofd__symres r;
      pprofd__sym_lookup(sym, pc, &r);
      const char *name = r.symbol;
      if (name[0] == '\0' && r.nframes > 0)
        name = r.frames[r.nframes - 1].system_name;
      if (name[0] != '\0' || r.nframes > 0)
        pprofd__buf_printf(&b, "%#llx %s\n", (unsigned long long)pc, name);
    }
    i += wl + 1;
  }
  if (sym != NULL)
    pprofd__sym_end(sym);
  return respond_buf(c, 200, "text/plain; charset=utf-8", &b, F_NOSNIFF, NULL);
}

/* /debug/pprof/profile: a CPU profile of this request's own window. */
static enum MHD_Result serve_cpu(ctx *c) {
  /* Go: a missing, malformed, zero or negative seconds silently means 30. */
  const char *v = pprofd__query_get(c->q, "seconds");
  int64_t sec = 0;
  if (v == NULL || pprofd__parse_int64(v, &sec) != 0 || sec <= 0)
    sec = 30;
  if (sec > (int64_t)c->cfg.max_seconds)
    return go_error(c, 400,
                    "profile duration exceeds the server's limit of %u "
                    "seconds",
                    c->cfg.max_seconds);
  int64_t hz = PPROFD__CPU_HZ_DEFAULT;
  v = pprofd__query_get(c->q, "hz");
  if (v != NULL && v[0] != '\0' &&
      (pprofd__parse_int64(v, &hz) != 0 || hz < 1 || hz > PPROFD__CPU_HZ_MAX))
    return go_error(c, 400,
                    "invalid value for \"hz\" - must be an integer from 1 "
                    "to %d",
                    PPROFD__CPU_HZ_MAX);
  const char *why = pprofd__cpu_unavailable();
  if (why != NULL)
    return go_error(c, 500, "Could not enable CPU profiling: %s", why);
  pprofd__cpu_session *s;
  int err = pprofd__cpu_open((int)hz, (int)c->cfg.max_cpu_profiles, &s);
  int running = pprofd__cpu_hz();
  if (err == PPROFD_EBUSY && running != 0 && running != (int)hz)
    return go_error(c, 500,
                    "Could not enable CPU profiling: cpu profiling already "
                    "in use at %d Hz (profiles that overlap share one "
                    "rate; ask for hz=%d)",
                    running, running);
  if (err == PPROFD_EBUSY)
    return go_error(c, 500,
                    "Could not enable CPU profiling: cpu profiling "
                    "already in use");
  if (err != 0)
    return go_error(c, 500, "Could not enable CPU profiling: %s",
                    pprofd_strerror(err));
  int w = wait_window(c, (double)sec);
  pprofd__snapshot snap;
  pprofd__snap_init(&snap);
  err = pprofd__cpu_close(s, &snap);
  if (w == 1) { /* the client is gone: its window ends, nobody reads */
    pprofd__snap_free(&snap);
    return MHD_NO;
  }
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  if (err == 0)
    err = pprofd__pprof_encode(&snap, c->cfg.symbolize, &b);
  pprofd__snap_free(&snap);
  if (err != 0) {
    pprofd__buf_free(&b);
    return go_error(c, 500, "could not write CPU profile: %s",
                    pprofd_strerror(err));
  }
  return respond_buf(c, 200, "application/octet-stream", &b, F_NOSNIFF,
                     "profile");
}

/* The tracer's wait: a slice of this request's window; nonzero when the
 * client left or the server is stopping. */
static int trace_wait(void *c, double seconds) {
  return wait_window(c, seconds) != 0;
}

/* /debug/pprof/trace: a timeline of this request's own window, as Chrome
 * trace-event JSON (spec 9.6). */
static enum MHD_Result serve_trace(ctx *c) {
  /* Go: seconds is a float; missing, malformed (a range error included)
   * or not positive means 1 s. NaN, which Go lets through to an
   * undefined duration, means 1 s too. */
  const char *v = pprofd__query_get(c->q, "seconds");
  double sec = 1;
  if (v == NULL || pprofd__parse_float64(v, &sec) != 0 || !(sec > 0))
    sec = 1;
  if (sec > (double)c->cfg.max_seconds)
    return go_error(c, 400,
                    "trace duration exceeds the server's limit of %u "
                    "seconds",
                    c->cfg.max_seconds);
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  int err = pprofd__trace_run(sec, trace_wait, c, c->cfg.symbolize,
                              (int)c->cfg.max_cpu_profiles, &b);
  if (err == PPROFD_EBUSY) {
    pprofd__buf_free(&b);
    return go_error(c, 500,
                    "Could not enable tracing: tracing is already enabled");
  }
  if (err == 1) { /* the client is gone, or the server stops */
    pprofd__buf_free(&b);
    return MHD_NO;
  }
  if (err != 0) {
    pprofd__buf_free(&b);
    return go_error(c, 500, "could not write trace: %s", pprofd_strerror(err));
  }
  return respond_buf(c, 200, "application/json", &b, F_NOSNIFF, "trace.json");
}

/* The seconds-delta path of a named profile (spec section 3). */
static enum MHD_Result serve_delta(ctx *c, const pprofd__kind *k,
                                   const char *seconds, int64_t debug) {
  int64_t sec;
  if (pprofd__parse_int64(seconds, &sec) != 0 || sec <= 0)
    return go_error(c, 400,
                    "invalid value for \"seconds\" - must be a positive "
                    "integer");
  if (!(k->flags & PPROFD__KIND_DELTA))
    return go_error(c, 400,
                    "\"seconds\" parameter is not supported for "
                    "this profile type");
  if (sec > (int64_t)c->cfg.max_seconds)
    return go_error(c, 400,
                    "profile duration exceeds the server's limit of %u "
                    "seconds",
                    c->cfg.max_seconds);
  if (debug != 0)
    return go_error(c, 400, "seconds and debug params are incompatible");
  const char *why = k->unavailable != NULL ? k->unavailable(k) : NULL;
  if (why != NULL || k->collect == NULL)
    return go_error(c, 500, "%s profile unavailable: %s", k->name,
                    why != NULL ? why : "it cannot be collected");
  pprofd__snapshot p0, p1, d;
  pprofd__snap_init(&p0);
  pprofd__snap_init(&p1);
  pprofd__snap_init(&d);
  enum MHD_Result rc;
  /* The window is measured from the collections themselves (a collector
   * may or may not stamp the snapshot it fills). */
  int64_t t0 = pprofd__now_nanos();
  int err = k->collect(k, &p0);
  p0.time_nanos = t0;
  if (err == 0) {
    int w = wait_window(c, (double)sec);
    if (w == 1) {
      rc = MHD_NO; /* the client is gone: nobody reads a response */
      goto done;
    }
    if (w == 2) {
      rc = go_error(c, 500, "context canceled");
      goto done;
    }
    int64_t t1 = pprofd__now_nanos();
    err = k->collect(k, &p1);
    p1.time_nanos = t1;
  }
  if (err == 0)
    err = pprofd__snap_delta(&d, &p0, &p1);
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  if (err == 0)
    err = pprofd__pprof_encode(&d, c->cfg.symbolize, &b);
  if (err != 0) {
    pprofd__buf_free(&b);
    rc = go_error(c, 500, "could not write %s profile: %s", k->name,
                  pprofd_strerror(err));
    goto done;
  }
  char fname[96];
  snprintf(fname, sizeof fname, "%s-delta", k->name);
  rc = respond_buf(c, 200, "application/octet-stream", &b, F_NOSNIFF, fname);
done:
  pprofd__snap_free(&p0);
  pprofd__snap_free(&p1);
  pprofd__snap_free(&d);
  return rc;
}

/* /debug/pprof/<name>: a named profile (spec section 2.6). */
static enum MHD_Result serve_named(ctx *c, const char *name) {
  pprofd__kind tmp;
  const pprofd__kind *k;
  if (pprofd__kind_lookup(name, &tmp, &k) != 0)
    return go_error(c, 404, "Unknown profile");
  const char *v = pprofd__query_get(c->q, "debug");
  int64_t debug = v != NULL ? pprofd__atoi_go(v) : 0;
  const char *seconds = pprofd__query_get(c->q, "seconds");
  if (seconds != NULL && seconds[0] != '\0')
    return serve_delta(c, k, seconds, debug);
  v = pprofd__query_get(c->q, "gc");
  int64_t gc = v != NULL ? pprofd__atoi_go(v) : 0;
  if (strcmp(k->name, "heap") != 0)
    gc = 0; /* Go honours gc on heap only */
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  int text = 0;
  const char *why = NULL;
  int err = pprofd__kind_render(k, debug, gc, &b, &text, &why);
  if (err == PPROFD_EUNAVAILABLE) {
    pprofd__buf_free(&b);
    return go_error(c, 500, "%s profile unavailable: %s", k->name, why);
  }
  if (err != 0) {
    pprofd__buf_free(&b);
    return go_error(c, 500, "could not write %s profile: %s", k->name,
                    pprofd_strerror(err));
  }
  /* Go picks the headers from debug != 0 and the format from the
   * profile's own rule, so goroutine?debug=-1 is a proto labelled as
   * text; clients have seen that for years, so it is kept. */
  if (debug != 0)
    return respond_buf(c, 200, "text/plain; charset=utf-8", &b, F_NOSNIFF,
                       NULL);
  return respond_buf(c, 200, "application/octet-stream", &b, F_NOSNIFF,
                     k->name);
}

/* Routes a complete request (body received) to its handler. */
static enum MHD_Result route(ctx *c, const char *path) {
  const char *name = path + PREFIX_LEN;
  if (name[0] == '\0')
    return serve_index(c);
  if (strcmp(name, "cmdline") == 0)
    return serve_cmdline(c);
  if (strcmp(name, "symbol") == 0)
    return serve_symbol(c);
  if (strcmp(name, "profile") == 0)
    return serve_cpu(c);
  if (strcmp(name, "trace") == 0)
    return serve_trace(c);
  return serve_named(c, name);
}

/* Whether method is allowed on path, and the Allow header if not. */
static int method_ok(const char *method, const char *path, const char **allow) {
  int symbol = strcmp(path, PREFIX "symbol") == 0;
  *allow = symbol ? "GET, HEAD, POST" : "GET, HEAD";
  return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
         (symbol && strcmp(method, "POST") == 0);
}

/* Percent-encodes a query key or value the way the mounted path needs to
 * rebuild a raw query from libmicrohttpd's decoded arguments. */
static void query_escape(pprofd__buf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == ' ')
      pprofd__buf_putc(b, '+');
    else if (*p == '%' || *p == '&' || *p == '=' || *p == ';' || *p == '#' ||
             *p < 0x20 || *p >= 0x7f) {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      pprofd__buf_append(b, e, 3);
    } else {
      pprofd__buf_putc(b, (char)*p);
    }
  }
}

/* libmicrohttpd iterator: appends one decoded argument to a raw query. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value) {
  pprofd__buf *b = cls;
  if (b->len > 0)
    pprofd__buf_putc(b, '&');
  query_escape(b, key);
  if (value != NULL) {
    pprofd__buf_putc(b, '=');
    query_escape(b, value);
  }
  return MHD_YES;
}

/*
 * The request handler shared by pprofd's own daemon and the mounted mode.
 * Called by libmicrohttpd once when the headers are in, again for each
 * piece of body, and once more with no data when the body is complete.
 */
static enum MHD_Result handle_guarded(struct pprofd__http *h,
                                      struct MHD_Connection *conn, req *r,
                                      const char *url, const char *method,
                                      const char *upload, size_t *upload_size) {
  ctx c;
  memset(&c, 0, sizeof c);
  c.h = h;
  c.conn = conn;
  c.r = r;
  c.method = method;
  c.raw_query = "";
  if (h != NULL)
    c.cfg = h->cfg;
  else
    pprofd__runtime_config(&c.cfg);
  if (r->phase == 1 && *upload_size > 0) {
    if (r->body.len + *upload_size > c.cfg.max_body)
      r->too_large = 1;
    else
      pprofd__buf_append(&r->body, upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  if (r->phase == 0) {
    if (atomic_fetch_add_explicit(&in_flight, 1, memory_order_relaxed) >=
        c.cfg.max_connections) {
      atomic_fetch_sub_explicit(&in_flight, 1, memory_order_relaxed);
      return go_error(&c, 503,
                      "too many concurrent requests to pprofd (limit %u)",
                      c.cfg.max_connections);
    }
    r->counted = 1;
  }

  /* The raw path and query: from the raw URI when we have it, else from
   * libmicrohttpd's decoded URL and arguments (mounted mode). */
  pprofd__buf rawq;
  pprofd__buf_init(&rawq, URI_MAX * 4);
  char *path = NULL, *clean = NULL;
  enum MHD_Result rc;
  if (r->uri != NULL) {
    if (strlen(r->uri) > URI_MAX) {
      rc = go_error(&c, 414, "request URI too long (limit %d bytes)", URI_MAX);
      goto out;
    }
    const char *qm = strchr(r->uri, '?');
    size_t plen = qm != NULL ? (size_t)(qm - r->uri) : strlen(r->uri);
    int bad = 0;
    path = pprofd__path_unescape(r->uri, plen, &bad);
    if (qm != NULL)
      pprofd__buf_puts(&rawq, qm + 1);
    if (path == NULL) {
      rc = bad ? go_error(&c, 400, "invalid URL escape in path") : MHD_NO;
      goto out;
    }
  } else {
    path = pprofd__istrdup(url);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &rawq);
    if (path == NULL) {
      rc = MHD_NO;
      goto out;
    }
  }
  pprofd__buf_putc(&rawq, '\0');
  if (pprofd__buf_failed(&rawq)) {
    rc = go_error(&c, 414, "request URI too long (limit %d bytes)", URI_MAX);
    goto out;
  }
  c.raw_query = rawq.data;
  if ((c.q = pprofd__query_parse(c.raw_query)) == NULL ||
      (clean = pprofd__path_clean(path)) == NULL) {
    rc = MHD_NO;
    goto out;
  }
  if (strcmp(clean, path) != 0) {
    rc = redirect(&c, clean);
    goto out;
  }
  if (strcmp(path, "/debug/pprof") == 0) {
    rc = redirect(&c, PREFIX);
    goto out;
  }
  if (strncmp(path, PREFIX, PREFIX_LEN) != 0) {
    rc = respond_str(&c, 404, "text/plain; charset=utf-8",
                     "404 page not found\n", F_NOSNIFF);
    goto out;
  }
  const char *allow;
  if (!method_ok(method, path, &allow)) {
    struct MHD_Response *resp = NULL;
    char *d = pprofd__istrdup("Method Not Allowed\n");
    if (d != NULL)
      resp = MHD_create_response_from_buffer_with_free_callback(strlen(d), d,
                                                                pprofd__ifree);
    if (resp == NULL) {
      pprofd__ifree(d);
      rc = MHD_NO;
      goto out;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; charset=utf-8");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    rc = MHD_queue_response(conn, 405, resp);
    MHD_destroy_response(resp);
    goto out;
  }
  if (r->phase == 0 && strcmp(method, "POST") == 0) {
    r->phase = 1; /* collect the body, answer on the last call */
    pprofd__buf_init(&r->body, c.cfg.max_body + 1);
    rc = MHD_YES;
    goto out;
  }
  if (r->phase == 1 && !r->too_large) {
    pprofd__buf_putc(&r->body, '\0'); /* a C string for the parser */
    if (r->body.len > 0)
      r->body.len--;
  }
  rc = route(&c, path);
out:
  pprofd__query_free(c.q);
  pprofd__ifree(path);
  pprofd__ifree(clean);
  pprofd__buf_free(&rawq);
  return rc;
}

/* Handles a request with the heap sampler's guard held, so that what
 * pprofd and its libraries (libdw, zlib, libmicrohttpd) allocate while
 * serving never appears in the heap profile it serves. */
static enum MHD_Result handle(struct pprofd__http *h,
                              struct MHD_Connection *conn, req *r,
                              const char *url, const char *method,
                              const char *upload, size_t *upload_size) {
  pprofd__guard_enter();
  int64_t t0 = pprofd__trace_active() ? pprofd__mono_nanos() : 0;
  enum MHD_Result rc =
      handle_guarded(h, conn, r, url, method, upload, upload_size);
  if (t0 != 0 && r->phase != 1) { /* not waiting for more of a body */
    const char *q = r->uri != NULL ? strchr(r->uri, '?') : NULL;
    pprofd__trace_http(method, url, q != NULL ? q + 1 : NULL, t0,
                       pprofd__mono_nanos());
  }
  pprofd__guard_exit();
  return rc;
}

/* libmicrohttpd's URI log callback: the first sight of a request, with
 * its URI exactly as sent. The return value becomes *req_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  return req_new(uri != NULL ? uri : "/");
}

/* libmicrohttpd's access handler for pprofd's own daemon. */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload,
                                 size_t *upload_size, void **req_cls) {
  req *r = *req_cls;
  if (r == NULL)
    return MHD_NO; /* out of memory when the request arrived */
  return handle(cls, conn, r, url, method, upload, upload_size);
}

/* libmicrohttpd's completion callback: frees the request state. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
  if (*req_cls != NULL)
    req_free(*req_cls);
  *req_cls = NULL;
}

/* Binds and listens on host:port; returns the socket or a PPROFD_E code. */
static int bind_listen(const char *host, unsigned port) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char ps[8];
  snprintf(ps, sizeof ps, "%u", port);
  if (getaddrinfo(host, ps, &hints, &res) != 0 || res == NULL)
    return PPROFD_EADDR;
  int fd = PPROFD_ELISTEN;
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (s < 0)
      continue;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, 64) == 0) {
      fd = s;
      break;
    }
    close(s);
  }
  freeaddrinfo(res);
  return fd;
}

/* Formats the socket's local address as HOST:PORT. */
static void local_addr(int fd, char *out, size_t len) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
    if (ss.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      port = ntohs(a->sin6_port);
      snprintf(out, len, "[%s]:%u", host, port);
      return;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  }
  snprintf(out, len, "%s:%u", host, port);
}

int pprofd__http_start(const struct pprofd_config *cfg,
                       struct pprofd__http **out, char *addr, size_t addrlen) {
  char host[PPROFD__ADDR_MAX];
  unsigned port;
  int err = pprofd__config_split_addr(cfg->addr, host, sizeof host, &port);
  if (err != 0)
    return err;
  struct pprofd__http *h = pprofd__icalloc(1, sizeof *h);
  if (h == NULL)
    return PPROFD_ENOMEM;
  h->cfg = *cfg;
  h->stop_pipe[0] = h->stop_pipe[1] = -1;
  if (pipe2(h->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    err = PPROFD_EHTTP;
    goto fail;
  }
  int fd = bind_listen(host, port);
  if (fd < 0) {
    err = fd;
    goto fail;
  }
  local_addr(fd, h->addr, sizeof h->addr);
  h->daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
          MHD_USE_POLL,
      0, NULL, NULL, on_access, h, MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, h, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)(cfg->max_connections + 8), MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)cfg->request_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)(64 << 10), MHD_OPTION_END);
  if (h->daemon == NULL) {
    close(fd);
    err = PPROFD_EHTTP;
    goto fail;
  }
  snprintf(addr, addrlen, "%s", h->addr);
  *out = h;
  return 0;
fail:
  if (h->stop_pipe[0] >= 0) {
    close(h->stop_pipe[0]);
    close(h->stop_pipe[1]);
  }
  pprofd__ifree(h);
  return err;
}

void pprofd__http_stop(struct pprofd__http *h) {
  if (h == NULL)
    return;
  ssize_t n = write(h->stop_pipe[1], "x", 1);
  (void)n; /* a full pipe already wakes everyone */
  MHD_stop_daemon(h->daemon);
  close(h->stop_pipe[0]);
  close(h->stop_pipe[1]);
  pprofd__ifree(h);
}

int pprofd_mhd_dispatch(struct MHD_Connection *conn, const char *url,
                        const char *method, const char *upload_data,
                        size_t *upload_data_size, void **req_cls,
                        int *mhd_result) {
  if (conn == NULL || url == NULL || method == NULL || req_cls == NULL ||
      mhd_result == NULL || upload_data_size == NULL)
    return 0;
  req *r = *req_cls;
  if (r == NULL) {
    if (strncmp(url, "/debug/pprof", 12) != 0 ||
        (url[12] != '\0' && url[12] != '/'))
      return 0;
    if ((r = req_new(NULL)) == NULL) {
      *mhd_result = MHD_NO;
      return 1;
    }
    *req_cls = r;
  } else if (!req_is_live(r)) {
    return 0;
  }
  *mhd_result =
      handle(NULL, conn, r, url, method, upload_data, upload_data_size);
  return 1;
}

void pprofd_mhd_completed(void **req_cls) {
  if (req_cls == NULL || *req_cls == NULL || !req_is_live(*req_cls))
    return;
  req_free(*req_cls);
  *req_cls = NULL;
}

void pprofd__http_prefork(void) { pprofd__mutex_lock(&live_lock); }

void pprofd__http_postfork_parent(void) { pprofd__mutex_unlock(&live_lock); }

void pprofd__http_postfork_child(struct pprofd__http *h) {
  /* The requests in the set belong to threads that only the parent has. */
  live_head = NULL;
  atomic_store_explicit(&in_flight, 0, memory_order_relaxed);
  pprofd__mutex_unlock(&live_lock);
  if (h == NULL)
    return;
  const union MHD_DaemonInfo *di =
      MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_LISTEN_FD);
  if (di != NULL)
    close(di->listen_fd);
  close(h->stop_pipe[0]);
  close(h->stop_pipe[1]);
  /* h itself and the daemon's memory are left alone: freeing them would
   * run code that assumes the daemon's threads exist. */
}
