/*
 * reply.c - building replies (see reply.h).
 */
#include "config.h"

#include "core/reply.h"

#include <stdarg.h>
#include <string.h>

#include "pprofd.h"

#define TEXT_PLAIN "text/plain; charset=utf-8"

void pprofd__reply_init(pprofd__reply *rp) {
  memset(rp, 0, sizeof *rp);
  rp->status = 200;
  rp->ctype = TEXT_PLAIN;
  pprofd__buf_init(&rp->body, PPROFD__BUF_MAX_DEFAULT);
}

void pprofd__reply_free(pprofd__reply *rp) { pprofd__buf_free(&rp->body); }

void pprofd__reply_error(pprofd__reply *rp, unsigned status, int err,
                         const char *fmt, ...) {
  pprofd__buf_free(&rp->body);
  pprofd__buf_init(&rp->body, 4096);
  va_list ap;
  va_start(ap, fmt);
  pprofd__buf_vprintf(&rp->body, fmt, ap);
  va_end(ap);
  pprofd__buf_putc(&rp->body, '\n');
  rp->status = status;
  rp->err = err != 0 ? err : PPROFD_EIO;
  rp->go_error = 1;
  rp->ctype = TEXT_PLAIN;
  rp->filename[0] = '\0';
}

int pprofd__reply_over_limit(pprofd__reply *rp, const struct pprofd_config *cfg,
                             double seconds, const char *what) {
  if (seconds <= (double)cfg->max_seconds)
    return 0;
  pprofd__reply_error(rp, 400, PPROFD_ELIMIT,
                      "%s duration exceeds the server's limit of %u seconds",
                      what, cfg->max_seconds);
  return 1;
}
