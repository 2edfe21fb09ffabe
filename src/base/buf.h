/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * Every response body and encoded profile is built in a pprofd__buf. A
 * buffer that would grow past its cap, or fails to grow, becomes "failed":
 * later appends are ignored and pprofd__buf_failed() reports it, so writers
 * can append freely and check once at the end (curl's dynbuf does the same).
 * Not thread-safe; owned by one request.
 */
#ifndef PPROFD_BASE_BUF_H
#define PPROFD_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

typedef struct pprofd__buf {
  char *data; /* NUL-terminated when len > 0 and not failed */
  size_t len;
  size_t cap; /* allocated */
  size_t max; /* hard cap on len */
  int failed; /* PPROFD_ENOMEM or PPROFD_ELIMIT after a failed append */
} pprofd__buf;

/* The default cap of a response body: 256 MiB. */
#define PPROFD__BUF_MAX_DEFAULT ((size_t)256 << 20)

void pprofd__buf_init(pprofd__buf *b, size_t max);
void pprofd__buf_free(pprofd__buf *b);
/* Hands the data to the caller (to free with pprofd__ifree) and resets b. */
char *pprofd__buf_steal(pprofd__buf *b, size_t *len);
void pprofd__buf_append(pprofd__buf *b, const void *p, size_t n);
void pprofd__buf_puts(pprofd__buf *b, const char *s);
void pprofd__buf_putc(pprofd__buf *b, char c);
void pprofd__buf_printf(pprofd__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pprofd__buf_vprintf(pprofd__buf *b, const char *fmt, va_list ap);
/* Appends s with &, <, >, ", ' escaped as Go's html.EscapeString does. */
void pprofd__buf_html(pprofd__buf *b, const char *s);
/* Ensures room for n more bytes; returns a pointer to them or NULL. */
char *pprofd__buf_reserve(pprofd__buf *b, size_t n);
/* 0, or the error that made the buffer fail. */
int pprofd__buf_failed(const pprofd__buf *b);

#endif
