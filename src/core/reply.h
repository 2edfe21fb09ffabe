/*
 * reply.h - a request for a page or profile, as the render path sees it,
 * and the reply it builds (see render.h). Any thread.
 */
#ifndef PPROFD_CORE_REPLY_H
#define PPROFD_CORE_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "core/conf.h"

/* What a request asks. */
typedef struct pprofd__request {
  struct pprofd_config cfg; /* the configuration in force */
  /* The first value of query parameter key ("" when present without a
   * value), NULL when absent. */
  const char *(*param)(void *arg, const char *key);
  /* Waits up to seconds: 0 after the full wait, 1 when the client is gone
   * (nothing will read a reply), 2 when the server is stopping. NULL when
   * the caller cannot wait (pprofd_write_profile): windows are refused. */
  int (*wait)(void *arg, double seconds);
  void *arg;
  const char *method; /* "GET", "HEAD" or "POST" */
  const char *input;  /* symbol: the raw query (GET) or the body (POST) */
  size_t input_len;
  const char *addr;   /* where the server listens, for the index page */
  const char *accept; /* the Accept header, NULL when absent (/metrics) */
  int mounted;        /* served by the application's own server */
  int insecure; /* served on a non-loopback address without authentication */
} pprofd__request;

/* What the reply is. */
typedef struct pprofd__reply {
  unsigned status;   /* 200, or Go's status for the error */
  int err;           /* 0, or the PPROFD_E* code behind the error */
  int go_error;      /* the body is Go's error text (X-Go-Pprof: 1) */
  int gone;          /* the client left during the window: send nothing */
  const char *ctype; /* Content-Type */
  char filename[96]; /* Content-Disposition attachment name, "" none */
  pprofd__buf body;  /* initialized by pprofd__reply_init */
} pprofd__reply;

void pprofd__reply_init(pprofd__reply *rp);
void pprofd__reply_free(pprofd__reply *rp);
/* Replies Go's 400 "<what> duration exceeds the server's limit of N
 * seconds" when seconds passes cfg's max_seconds; returns whether it
 * did. */
int pprofd__reply_over_limit(pprofd__reply *rp, const struct pprofd_config *cfg,
                             double seconds, const char *what);
/* Replaces the body by Go's pprof error: fmt's text and a newline, with
 * status and the PPROFD_E* code err. */
void pprofd__reply_error(pprofd__reply *rp, unsigned status, int err,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
