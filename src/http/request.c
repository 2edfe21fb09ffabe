/*
 * request.c - one request, from libmicrohttpd's calls to a reply (see
 * request.h).
 *
 * Routing follows Go's ServeMux and net/http/pprof (spec sections 1-3):
 *   - an unclean path is 301-redirected to its clean form;
 *   - /debug/pprof is 301-redirected to /debug/pprof/;
 *   - /debug/vars (Go's expvar) and /metrics (Prometheus) go to
 *     core/metrics.h, unless PPROFD_DISABLE names them;
 *   - other paths outside /debug/pprof/ get Go's "404 page not found";
 *   - GET and HEAD are served everywhere, POST also on /symbol (pprof's
 *     symbolz needs it), anything else gets 405 with an Allow header;
 *   - every path under /debug/pprof/ goes to the render path
 *     (core/render.h), which knows the index, symbol and the profiles.
 * Each answer is counted by path and status (core/reqstats.h).
 *
 * The raw request URI is captured by libmicrohttpd's URI log callback
 * before it unescapes anything, so the query is parsed with Go's rules and
 * /symbol sees the raw query string as Go's handler does.
 *
 * Before anything else, the Host header must pass the DNS rebinding guard
 * (http/access.h), or the request gets 421 Misdirected Request; then,
 * under mutual TLS, the client's certificate must verify (403); then,
 * when credentials are configured, the request must carry one
 * (core/auth.h), or it gets 401 with a WWW-Authenticate challenge. All
 * hold for every path, the index page, /debug/vars and /metrics
 * included, and for the paths no handler serves.
 *
 * Limits, each answered with a clear error while the server stays up:
 *   - URI length: 8 KiB (414); libmicrohttpd's per-connection memory
 *     (64 KiB) bounds the headers;
 *   - requests in flight: cfg.max_connections (503), and libmicrohttpd
 *     closes connections beyond that plus a small reserve;
 *   - request body: cfg.max_body (413);
 *   - `seconds`: cfg.max_seconds (400, from the render path).
 */
#include "config.h"

#include "http/request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/guard.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "core/auth.h"
#include "core/metrics.h"
#include "core/reqstats.h"
#include "core/runtime.h"
#include "http/access.h"
#include "pprofd.h"

/* Live requests: lets pprofd_mhd_completed tell pprofd's *req_cls from
 * the application's. A leaf lock. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
PPROFD__LOCK_RANK(http_live, &live_lock, PPROFD__RANK_HTTP);
static pprofd__hreq *live_head;
/* Requests being handled, against max_connections. Relaxed: it is a
 * counter checked once per request, not a guard for other memory. */
static atomic_uint in_flight;

pprofd__hreq *pprofd__req_new(const char *uri) {
  pprofd__hreq *r = pprofd__icalloc(1, sizeof *r);
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

int pprofd__req_is_live(const void *p) {
  int found = 0;
  pprofd__mutex_lock(&live_lock);
  for (pprofd__hreq *r = live_head; r != NULL && !found; r = r->next)
    found = r == p;
  pprofd__mutex_unlock(&live_lock);
  return found;
}

void pprofd__req_free(pprofd__hreq *r) {
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

/*
 * Waits up to `seconds`, returning early when the client goes away or the
 * server stops. Returns 0 after the full wait, 1 if the client is gone, 2
 * if the server is stopping. Thread-per-connection means this thread owns
 * the socket while it waits, so POLLRDHUP on it is the client's FIN.
 */
static int http_wait(pprofd__hctx *c, double seconds) {
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

/* The render path's view of a request's query. */
static const char *param(void *arg, const char *key) {
  return pprofd__query_get(((pprofd__hctx *)arg)->q, key);
}

/* The render path's wait: this request's window. */
static int wait_for(void *arg, double seconds) {
  return http_wait(arg, seconds);
}

/* Serves a complete request (body received): under /debug/pprof/, or
 * the metrics endpoint `endpoint` (core/metrics.h) when it is not 0. */
static enum MHD_Result route(pprofd__hctx *c, const char *path,
                             unsigned endpoint) {
  pprofd__request rq = {
      .cfg = c->cfg,
      .param = param,
      .wait = wait_for,
      .arg = c,
      .method = c->method,
      .input = c->raw_query,
      .input_len = strlen(c->raw_query),
      .addr = c->h != NULL ? c->h->addr
                           : "(mounted in the host's "
                             "server)",
      .accept = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Accept"),
      .mounted = c->h == NULL,
      .insecure = c->h != NULL && c->h->insecure};
  if (strcmp(c->method, "POST") == 0) {
    if (c->r->too_large)
      return pprofd__go_error(
          c, 413, "request body too large (limit %zu bytes)", c->cfg.max_body);
    rq.input = c->r->body.data != NULL ? c->r->body.data : "";
    rq.input_len = c->r->body.len;
  }
  pprofd__reply rp;
  pprofd__reply_init(&rp);
  if (endpoint == PPROFD__DISABLE_METRICS)
    pprofd__serve_metrics(&rq, &rp);
  else if (endpoint == PPROFD__DISABLE_VARS)
    pprofd__serve_vars(&rq, &rp);
  else
    pprofd__serve(path + PREFIX_LEN, &rq, &rp);
  enum MHD_Result rc = pprofd__respond_reply(c, &rp);
  pprofd__reply_free(&rp);
  return rc;
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

/* The request's Host header, "" when absent. */
static const char *host_of(pprofd__hctx *c) {
  const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
                                              MHD_HTTP_HEADER_HOST);
  return h != NULL ? h : "";
}

/* Whether the request's Host passes the DNS rebinding guard
 * (http/access.h): on pprofd's own server always checked, mounted only
 * when allowed hosts were configured. */
static int host_ok(pprofd__hctx *c) {
  const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
                                              MHD_HTTP_HEADER_HOST);
  return pprofd__host_allowed(h, c->h != NULL ? c->h->addr : NULL,
                              c->cfg.allowed_hosts);
}

/* The client's address as text ("?" when unknown), for log lines. */
static const char *peer_of(pprofd__hctx *c, char *out, size_t len) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  snprintf(out, len, "?");
  if (ci == NULL || ci->client_addr == NULL)
    return out;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
              (socklen_t)len);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
              (socklen_t)len);
  return out;
}

/* Answers a request that did not authenticate (core/auth.h): 401 with a
 * challenge for each scheme configured and a body saying what pprofd
 * wants, or 503 when its credential file cannot be read. */
static enum MHD_Result refuse(pprofd__hctx *c, pprofd__auth_result ar) {
  unsigned schemes = pprofd__auth_schemes(&c->cfg);
  if (ar == PPROFD__AUTH_UNAVAILABLE)
    return pprofd__go_error(
        c, 503,
        "pprofd cannot read its credential file, so it cannot authenticate "
        "anyone until the file is fixed (its stderr says why)");
  const char *hdrs[5] = {NULL};
  size_t n = 0;
  if (schemes & PPROFD__AUTH_BEARER) {
    hdrs[n++] = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
    hdrs[n++] = "Bearer realm=\"pprofd\"";
  }
  if (schemes & PPROFD__AUTH_BASIC) {
    hdrs[n++] = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
    hdrs[n++] = "Basic realm=\"pprofd\", charset=\"UTF-8\"";
  }
  const char *bearer = "a bearer token (Authorization: Bearer TOKEN)";
  const char *basic = "HTTP basic credentials (curl -u USER:PASSWORD, or "
                      "http://USER:PASSWORD@HOST:PORT/ for go tool pprof)";
  const char *why = ar == PPROFD__AUTH_MISSING ? "no credentials"
                    : ar == PPROFD__AUTH_WRONG
                        ? "wrong credentials"
                        : "an Authorization scheme pprofd does not take";
  return pprofd__go_error_hdrs(
      c, 401, hdrs, "unauthorized: %s; pprofd wants %s%s%s", why,
      (schemes & PPROFD__AUTH_BEARER) ? bearer : "",
      schemes == (PPROFD__AUTH_BEARER | PPROFD__AUTH_BASIC) ? " or " : "",
      (schemes & PPROFD__AUTH_BASIC) ? basic : "");
}

/*
 * The request handler shared by pprofd's own daemon and the mounted mode.
 * Called by libmicrohttpd once when the headers are in, again for each
 * piece of body, and once more with no data when the body is complete.
 */
static enum MHD_Result handle_guarded(struct pprofd__http *h,
                                      struct MHD_Connection *conn,
                                      pprofd__hreq *r, const char *url,
                                      const char *method, const char *upload,
                                      size_t *upload_size) {
  pprofd__hctx c;
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
      return pprofd__go_error(
          &c, 503, "too many concurrent requests to pprofd (limit %u)",
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
  if (r->phase == 0 && !host_ok(&c)) {
    rc = pprofd__go_error(
        &c, 421,
        "misdirected request: pprofd does not answer to Host \"%.200s\" "
        "(a guard against DNS rebinding); it answers to localhost, loopback "
        "addresses, its own address and the names in PPROFD_ALLOWED_HOSTS",
        host_of(&c));
    goto out;
  }
  if (r->phase == 0 && h != NULL && h->tls.ca != NULL &&
      !pprofd__tls_client_verified(conn)) {
    rc = pprofd__go_error(&c, 403,
                          "forbidden: pprofd wants a client certificate "
                          "signed by its PPROFD_TLS_CLIENT_CA (mutual TLS)");
    goto out;
  }
  if (r->phase == 0) {
    char peer[INET6_ADDRSTRLEN + 8];
    pprofd__auth_result ar = pprofd__auth_check(
        &c.cfg,
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_AUTHORIZATION),
        method, url, peer_of(&c, peer, sizeof peer));
    if (ar != PPROFD__AUTH_OK) {
      rc = refuse(&c, ar);
      goto out;
    }
  }
  if (r->uri != NULL) {
    if (strlen(r->uri) > URI_MAX) {
      rc = pprofd__go_error(&c, 414, "request URI too long (limit %d bytes)",
                            URI_MAX);
      goto out;
    }
    const char *qm = strchr(r->uri, '?');
    size_t plen = qm != NULL ? (size_t)(qm - r->uri) : strlen(r->uri);
    int bad = 0;
    path = pprofd__path_unescape(r->uri, plen, &bad);
    if (qm != NULL)
      pprofd__buf_puts(&rawq, qm + 1);
    if (path == NULL) {
      rc = bad ? pprofd__go_error(&c, 400, "invalid URL escape in path")
               : MHD_NO;
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
    rc = pprofd__go_error(&c, 414, "request URI too long (limit %d bytes)",
                          URI_MAX);
    goto out;
  }
  c.raw_query = rawq.data;
  if ((c.q = pprofd__query_parse(c.raw_query)) == NULL ||
      (clean = pprofd__path_clean(path)) == NULL) {
    rc = MHD_NO;
    goto out;
  }
  if (strcmp(clean, path) != 0) {
    rc = pprofd__redirect(&c, clean);
    goto out;
  }
  if (strcmp(path, "/debug/pprof") == 0) {
    rc = pprofd__redirect(&c, PREFIX);
    goto out;
  }
  unsigned endpoint = pprofd__metrics_endpoint(path);
  if ((endpoint == 0 && strncmp(path, PREFIX, PREFIX_LEN) != 0) ||
      (endpoint & c.cfg.disable)) {
    rc = pprofd__respond_str(&c, 404, "text/plain; charset=utf-8",
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
    c.status = 405;
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
  rc = route(&c, path, endpoint);
out:
  if (c.status != 0)
    pprofd__reqstats_count(path != NULL ? path : url, c.status);
  pprofd__query_free(c.q);
  pprofd__ifree(path);
  pprofd__ifree(clean);
  pprofd__buf_free(&rawq);
  return rc;
}

/* Handles a request with the heap sampler's guard held, so that what
 * pprofd and its libraries (libdw, zlib, libmicrohttpd) allocate while
 * serving never appears in the heap profile it serves. */
enum MHD_Result pprofd__http_handle(struct pprofd__http *h,
                                    struct MHD_Connection *conn,
                                    pprofd__hreq *r, const char *url,
                                    const char *method, const char *upload,
                                    size_t *upload_size) {
  pprofd__guard_enter();
  int64_t t0 = pprofd__serve_begin();
  enum MHD_Result rc =
      handle_guarded(h, conn, r, url, method, upload, upload_size);
  if (t0 != 0 && r->phase != 1) { /* not waiting for more of a body */
    const char *q = r->uri != NULL ? strchr(r->uri, '?') : NULL;
    pprofd__serve_end(t0, method, url, q != NULL ? q + 1 : NULL);
  }
  pprofd__guard_exit();
  return rc;
}

void pprofd__req_prefork(void) { pprofd__mutex_lock(&live_lock); }

void pprofd__req_postfork_parent(void) { pprofd__mutex_unlock(&live_lock); }

void pprofd__req_postfork_child(void) {
  /* The requests in the set belong to threads that only the parent has. */
  live_head = NULL;
  atomic_store_explicit(&in_flight, 0, memory_order_relaxed);
  pprofd__mutex_unlock(&live_lock);
}
