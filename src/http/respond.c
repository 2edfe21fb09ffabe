/*
 * respond.c - queuing libmicrohttpd responses (see request.h): bodies
 * allocated with ialloc and freed by libmicrohttpd, Go's pprof error
 * helper (text/plain, X-Go-Pprof: 1, nosniff, no Content-Disposition,
 * message and a newline; pprof prints that body to its user), and Go's
 * 301 redirects.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/ialloc.h"
#include "http/request.h"
#include "pprofd.h"

/* Queues a response that takes ownership of data (an ialloc block),
 * with the extra headers hdrs (name, value, ..., NULL; or NULL). */
static enum MHD_Result respond_hdrs(pprofd__hctx *c, unsigned status,
                                    const char *ctype, char *data, size_t len,
                                    int flags, const char *filename,
                                    const char *const *hdrs) {
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
  for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL && hdrs[i + 1] != NULL;
       i += 2)
    MHD_add_response_header(resp, hdrs[i], hdrs[i + 1]);
  enum MHD_Result rc = MHD_queue_response(c->conn, status, resp);
  MHD_destroy_response(resp);
  c->status = status;
  return rc;
}

enum MHD_Result pprofd__respond(pprofd__hctx *c, unsigned status,
                                const char *ctype, char *data, size_t len,
                                int flags, const char *filename) {
  return respond_hdrs(c, status, ctype, data, len, flags, filename, NULL);
}

/* Queues a copy of a C string as the body. */
enum MHD_Result pprofd__respond_str(pprofd__hctx *c, unsigned status,
                                    const char *ctype, const char *body,
                                    int flags) {
  size_t n = strlen(body);
  char *d = pprofd__ialloc(n + 1);
  if (d == NULL)
    return MHD_NO;
  memcpy(d, body, n + 1);
  return pprofd__respond(c, status, ctype, d, n, flags, NULL);
}

/* Go's pprof error helper: status, message + "\n", X-Go-Pprof: 1. */
enum MHD_Result pprofd__go_error(pprofd__hctx *c, unsigned status,
                                 const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Go's error helper with extra headers (see respond_hdrs). */
static enum MHD_Result vgo_error(pprofd__hctx *c, unsigned status,
                                 const char *const *hdrs, const char *fmt,
                                 va_list ap) {
  pprofd__buf b;
  pprofd__buf_init(&b, 4096);
  pprofd__buf_vprintf(&b, fmt, ap);
  pprofd__buf_putc(&b, '\n');
  if (pprofd__buf_failed(&b)) {
    pprofd__buf_free(&b);
    return MHD_NO;
  }
  size_t len;
  char *d = pprofd__buf_steal(&b, &len);
  return respond_hdrs(c, status, "text/plain; charset=utf-8", d, len,
                      F_NOSNIFF | F_GOERR, NULL, hdrs);
}

enum MHD_Result pprofd__go_error(pprofd__hctx *c, unsigned status,
                                 const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  enum MHD_Result rc = vgo_error(c, status, NULL, fmt, ap);
  va_end(ap);
  return rc;
}

enum MHD_Result pprofd__go_error_hdrs(pprofd__hctx *c, unsigned status,
                                      const char *const *hdrs, const char *fmt,
                                      ...) {
  va_list ap;
  va_start(ap, fmt);
  enum MHD_Result rc = vgo_error(c, status, hdrs, fmt, ap);
  va_end(ap);
  return rc;
}

enum MHD_Result pprofd__respond_buf(pprofd__hctx *c, unsigned status,
                                    const char *ctype, pprofd__buf *b,
                                    int flags, const char *filename) {
  int err = pprofd__buf_failed(b);
  if (err != 0) {
    pprofd__buf_free(b);
    return pprofd__go_error(c, 500, "could not write the response: %s",
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
  return pprofd__respond(c, status, ctype, d, len, flags, filename);
}

/* Go's http.Redirect with 301 (the body only for GET). The Location is
 * built as ServeMux builds it, url.URL{Path: path, RawQuery: query}
 * .String(): the path escaped, so that a path that decoded to
 * "/\evil.example/" (from "/%5Cevil.example/./") redirects to
 * "/%5Cevil.example/" rather than to a URL a browser reads as another
 * host. The query goes back as the client sent it. */
enum MHD_Result pprofd__redirect(pprofd__hctx *c, const char *path) {
  pprofd__buf loc, body;
  char *escaped = pprofd__path_escape(path);
  if (escaped == NULL)
    return MHD_NO;
  pprofd__buf_init(&loc, URI_MAX * 4);
  pprofd__buf_puts(&loc, escaped);
  pprofd__ifree(escaped);
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
    c->status = 301;
  } else {
    pprofd__ifree(d);
  }
  pprofd__buf_free(&loc);
  pprofd__buf_free(&body);
  return rc;
}

enum MHD_Result pprofd__respond_reply(pprofd__hctx *c, pprofd__reply *rp) {
  if (rp->gone)
    return MHD_NO; /* the client is gone: nobody reads a response */
  int flags = F_NOSNIFF | (rp->go_error ? F_GOERR : 0);
  return pprofd__respond_buf(c, rp->status, rp->ctype, &rp->body, flags,
                             rp->filename[0] ? rp->filename : NULL);
}
