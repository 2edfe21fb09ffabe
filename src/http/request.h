/*
 * request.h - the HTTP layer's own types: a request's state and what a
 * handler needs about it (internal to http/).
 *
 * server.c runs the daemon and its callbacks; request.c turns a request
 * into a call of the render path (core/render.h), after Go's routing rules
 * and limits; respond.c queues libmicrohttpd responses (Go's error helper
 * and redirects included).
 */
#ifndef PPROFD_HTTP_REQUEST_H
#define PPROFD_HTTP_REQUEST_H

#include <stddef.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "core/conf.h"
#include "core/render.h"
#include "http/params.h"
#include "http/tls.h"

#define URI_MAX 8192
#define PREFIX "/debug/pprof/"
#define PREFIX_LEN (sizeof PREFIX - 1)

struct pprofd__http {
  struct MHD_Daemon *daemon;
  int stop_pipe[2]; /* written once at stop: wakes waiting handlers */
  struct pprofd_config cfg;
  char addr[PPROFD__ADDR_MAX];
  int insecure;    /* not loopback, no authentication (allow_insecure) */
  pprofd__tls tls; /* the PEM texts while serving HTTPS */
};

/* One request's state, created by the URI log callback (or by
 * pprofd_mhd_dispatch) and freed when the request completes. */
typedef struct pprofd__hreq {
  struct pprofd__hreq *next, *prev; /* the set of live requests */
  char *uri;                        /* raw, as sent; NULL when mounted */
  pprofd__buf body;                 /* POST body of /symbol */
  int phase;                        /* 0 new, 1 receiving a body */
  int counted;                      /* holds a slot of max_connections */
  int too_large;                    /* the body passed max_body */
} pprofd__hreq;

/* What a handler needs about its request. */
typedef struct pprofd__hctx {
  struct pprofd__http *h; /* NULL when mounted */
  struct MHD_Connection *conn;
  struct pprofd_config cfg;
  pprofd__hreq *r;
  const char *method;
  const char *raw_query; /* after '?', never NULL */
  pprofd__query *q;
  unsigned status; /* of the response queued, 0 before one is */
} pprofd__hctx;

/* Response flags: X-Content-Type-Options: nosniff; Go's X-Go-Pprof: 1. */
enum { F_NOSNIFF = 1, F_GOERR = 2 };

/* request.c */

/* A new request state, linked into the live set; NULL when out of
 * memory. */
pprofd__hreq *pprofd__req_new(const char *uri);
/* Whether p is a live request of ours. */
int pprofd__req_is_live(const void *p);
/* Unlinks and frees a request, releasing its in-flight slot. */
void pprofd__req_free(pprofd__hreq *r);
/* Fork hooks for the set of live requests (see server.h); the child
 * forgets the parent's requests. */
void pprofd__req_prefork(void);
void pprofd__req_postfork_parent(void);
void pprofd__req_postfork_child(void);
/* Handles one call of libmicrohttpd's access handler for request r, for
 * pprofd's daemon (h) or mounted in the application's (h NULL). */
enum MHD_Result pprofd__http_handle(struct pprofd__http *h,
                                    struct MHD_Connection *conn,
                                    pprofd__hreq *r, const char *url,
                                    const char *method, const char *upload,
                                    size_t *upload_size);

/* respond.c */

/* Queues a response that takes ownership of data (an ialloc block). */
enum MHD_Result pprofd__respond(pprofd__hctx *c, unsigned status,
                                const char *ctype, char *data, size_t len,
                                int flags, const char *filename);
/* Queues a copy of a C string as the body. */
enum MHD_Result pprofd__respond_str(pprofd__hctx *c, unsigned status,
                                    const char *ctype, const char *body,
                                    int flags);
/* Queues a finished buffer (or 500 if it failed). */
enum MHD_Result pprofd__respond_buf(pprofd__hctx *c, unsigned status,
                                    const char *ctype, pprofd__buf *b,
                                    int flags, const char *filename);
/* Go's pprof error helper: status, message + "\n", X-Go-Pprof: 1. */
enum MHD_Result pprofd__go_error(pprofd__hctx *c, unsigned status,
                                 const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with extra headers: hdrs holds name, value, ..., NULL. */
enum MHD_Result pprofd__go_error_hdrs(pprofd__hctx *c, unsigned status,
                                      const char *const *hdrs, const char *fmt,
                                      ...)
    __attribute__((format(printf, 4, 5)));
/* Go's http.Redirect with 301 to path (the query kept). */
enum MHD_Result pprofd__redirect(pprofd__hctx *c, const char *path);
/* Queues what the render path replied (nothing when the client left). */
enum MHD_Result pprofd__respond_reply(pprofd__hctx *c, pprofd__reply *rp);

#endif
