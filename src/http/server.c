/*
 * server.c - the embedded HTTP server (see server.h): pprofd's own
 * libmicrohttpd daemon, thread per connection, on a socket bound here, and
 * the entry points that mount pprofd in an application's daemon. Both hand
 * each request to http/request.c.
 *
 * HTTPS (http/tls.h) when a certificate and key are configured: the files
 * are read and checked before the daemon starts, and kept while it runs.
 *
 * The exposure guard: an address that is not loopback is served only
 * with authentication configured (credentials, or mutual TLS), or with
 * cfg.allow_insecure (the index page then warns); otherwise start fails
 * with PPROFD_EINSECURE.
 *
 * Limits set on the daemon: connections beyond cfg.max_connections plus a
 * small reserve are closed, idle or slow clients time out after
 * cfg.request_timeout, and each connection has 64 KiB of memory, which
 * bounds the headers.
 */
#include "config.h"

#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ialloc.h"
#include "core/auth.h"
#include "core/metrics.h"
#include "core/runtime.h"
#include "http/access.h"
#include "http/request.h"
#include "pprofd.h"

/* libmicrohttpd's URI log callback: the first sight of a request, with
 * its URI exactly as sent. The return value becomes *req_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  return pprofd__req_new(uri != NULL ? uri : "/");
}

/* libmicrohttpd's access handler for pprofd's own daemon. */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload,
                                 size_t *upload_size, void **req_cls) {
  pprofd__hreq *r = *req_cls;
  if (r == NULL)
    return MHD_NO; /* out of memory when the request arrived */
  return pprofd__http_handle(cls, conn, r, url, method, upload, upload_size);
}

/* libmicrohttpd's completion callback: frees the request state. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
  if (*req_cls != NULL)
    pprofd__req_free(*req_cls);
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
  err = pprofd__tls_load(cfg, &h->tls, NULL, 0);
  if (err != 0) {
    close(fd);
    goto fail;
  }
  local_addr(fd, h->addr, sizeof h->addr);
  /* The exposure guard: argv, addresses and stacks are not for whoever
   * reaches a public port. Checked on the address actually bound, so a
   * name that resolves to loopback passes. Credentials or mutual TLS
   * (client certificates a CA signed) authenticate clients. */
  if (!pprofd__addr_is_loopback(h->addr) && pprofd__auth_schemes(cfg) == 0 &&
      h->tls.ca == NULL) {
    if (!cfg->allow_insecure) {
      close(fd);
      err = PPROFD_EINSECURE;
      goto fail;
    }
    h->insecure = 1;
  }
  /* HTTPS options, when configured; libmicrohttpd reads the texts while
   * it starts. */
  struct MHD_OptionItem tls[4] = {{MHD_OPTION_END, 0, NULL}};
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                   MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
  if (h->tls.cert != NULL) {
    flags |= MHD_USE_TLS;
    tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls.cert};
    tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls.key};
    if (h->tls.ca != NULL)
      tls[2] =
          (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, h->tls.ca};
  }
  h->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, on_access, h, MHD_OPTION_ARRAY, tls,
      MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)(cfg->max_connections + 8), MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)cfg->request_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)(64 << 10), MHD_OPTION_END);
  if (h->daemon == NULL) {
    close(fd);
    err = h->tls.cert != NULL ? PPROFD_ETLS : PPROFD_EHTTP;
    goto fail;
  }
  snprintf(addr, addrlen, "%s", h->addr);
  *out = h;
  return 0;
fail:
  pprofd__tls_free(&h->tls);
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
  pprofd__tls_free(&h->tls);
  pprofd__ifree(h);
}

/* Whether the mounted handler claims url: everything under /debug/pprof,
 * and /debug/vars and /metrics unless the configuration in force
 * disables them (then the application may serve its own). */
static int claims(const char *url) {
  if (strncmp(url, "/debug/pprof", 12) == 0 &&
      (url[12] == '\0' || url[12] == '/'))
    return 1;
  unsigned endpoint = pprofd__metrics_endpoint(url);
  if (endpoint == 0)
    return 0;
  struct pprofd_config cfg;
  pprofd__runtime_config(&cfg);
  return !(cfg.disable & endpoint);
}

int pprofd_mhd_dispatch(struct MHD_Connection *conn, const char *url,
                        const char *method, const char *upload_data,
                        size_t *upload_data_size, void **req_cls,
                        int *mhd_result) {
  if (conn == NULL || url == NULL || method == NULL || req_cls == NULL ||
      mhd_result == NULL || upload_data_size == NULL)
    return 0;
  pprofd__hreq *r = *req_cls;
  if (r == NULL) {
    if (!claims(url))
      return 0;
    if ((r = pprofd__req_new(NULL)) == NULL) {
      *mhd_result = MHD_NO;
      return 1;
    }
    *req_cls = r;
  } else if (!pprofd__req_is_live(r)) {
    return 0;
  }
  *mhd_result = pprofd__http_handle(NULL, conn, r, url, method, upload_data,
                                    upload_data_size);
  return 1;
}

void pprofd_mhd_completed(void **req_cls) {
  if (req_cls == NULL || *req_cls == NULL || !pprofd__req_is_live(*req_cls))
    return;
  pprofd__req_free(*req_cls);
  *req_cls = NULL;
}

void pprofd__http_prefork(void) { pprofd__req_prefork(); }

void pprofd__http_postfork_parent(void) { pprofd__req_postfork_parent(); }

void pprofd__http_postfork_child(struct pprofd__http *h) {
  pprofd__req_postfork_child();
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
