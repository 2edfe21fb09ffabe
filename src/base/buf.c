/*
 * buf.c - a growable byte buffer with a hard size cap (see buf.h).
 *
 * The bytes live in one ialloc block, data[0..cap), of which data[0..len)
 * is content and data[len] is always a NUL once anything was allocated, so
 * text can be handed to string functions without a copy. Growth doubles
 * the block (starting at 256 bytes) but never allocates more than max + 1
 * bytes, so the cap bounds memory as well as content.
 *
 * Failure is sticky and comes in two kinds: PPROFD_ELIMIT when an append
 * would take len past max, PPROFD_ENOMEM when the block cannot grow. A
 * failed append adds nothing (no partial writes), and every later append
 * is ignored, so a writer may append freely and check once at the end.
 */
#include "config.h"

#include "base/buf.h"

#include <stdio.h>
#include <string.h>

#include "base/ialloc.h"
#include "pprofd.h"

#define MIN_ALLOC 256

void pprofd__buf_init(pprofd__buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
  b->failed = 0;
}

void pprofd__buf_free(pprofd__buf *b) {
  pprofd__ifree(b->data);
  pprofd__buf_init(b, b->max);
}

/* Marks b as failed with err unless it already failed; returns NULL so
 * callers can "return fail(b, err)". */
static char *fail(pprofd__buf *b, int err) {
  if (b->failed == 0)
    b->failed = err;
  return NULL;
}

/* Makes room for n more content bytes plus the NUL; returns where they go,
 * or NULL after marking b failed. */
static char *grow(pprofd__buf *b, size_t n) {
  if (b->failed != 0)
    return NULL;
  if (n > b->max || b->len > b->max - n)
    return fail(b, PPROFD_ELIMIT);
  size_t need = b->len + n;
  if (need == (size_t)-1)
    return fail(b, PPROFD_ENOMEM);
  need++; /* the terminating NUL */
  if (need > b->cap) {
    size_t ncap = b->cap < MIN_ALLOC ? MIN_ALLOC : b->cap;
    while (ncap < need && ncap <= (size_t)-1 / 2)
      ncap *= 2;
    if (ncap < need)
      ncap = need;
    /* Never hold more than the cap can use. */
    if (b->max < (size_t)-1 && ncap > b->max + 1)
      ncap = b->max + 1;
    char *p = pprofd__irealloc(b->data, ncap);
    if (p == NULL)
      return fail(b, PPROFD_ENOMEM);
    b->data = p;
    b->cap = ncap;
  }
  return b->data + b->len;
}

char *pprofd__buf_steal(pprofd__buf *b, size_t *len) {
  char *p = NULL;
  size_t n = 0;
  if (b->failed != 0) {
    /* The content is incomplete; the failure stays recorded in b. */
    pprofd__ifree(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
  } else {
    if (b->data == NULL) {
      /* Nothing was appended: hand out an empty string, not NULL, since a
       * NULL pointer return means out of memory. */
      b->data = pprofd__ialloc(1);
      if (b->data != NULL)
        b->data[0] = '\0';
    }
    p = b->data;
    n = p != NULL ? b->len : 0;
    pprofd__buf_init(b, b->max);
  }
  if (len != NULL)
    *len = n;
  return p;
}

void pprofd__buf_append(pprofd__buf *b, const void *p, size_t n) {
  if (n == 0)
    return;
  char *dst = grow(b, n);
  if (dst == NULL)
    return;
  memcpy(dst, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void pprofd__buf_puts(pprofd__buf *b, const char *s) {
  pprofd__buf_append(b, s, strlen(s));
}

void pprofd__buf_putc(pprofd__buf *b, char c) { pprofd__buf_append(b, &c, 1); }

void pprofd__buf_printf(pprofd__buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pprofd__buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void pprofd__buf_vprintf(pprofd__buf *b, const char *fmt, va_list ap) {
  if (b->failed != 0)
    return;
  /* First try to format into whatever room is already allocated. */
  size_t room = b->cap > b->len ? b->cap - b->len : 0;
  char probe[1];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(room > 0 ? b->data + b->len : probe,
                    room > 0 ? room : sizeof probe, fmt, ap2);
  va_end(ap2);
  if (n < 0) {
    /* Only an output longer than INT_MAX makes vsnprintf fail here. */
    fail(b, PPROFD_ELIMIT);
    if (room > 0)
      b->data[b->len] = '\0';
    return;
  }
  if ((size_t)n < room && (size_t)n <= b->max - b->len) {
    b->len += (size_t)n;
    return;
  }
  /* Too long for the block (or for the cap): grow, then format again. */
  if (room > 0)
    b->data[b->len] = '\0';
  char *dst = grow(b, (size_t)n);
  if (dst == NULL)
    return;
  va_copy(ap2, ap);
  vsnprintf(dst, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  b->len += (size_t)n;
}

void pprofd__buf_html(pprofd__buf *b, const char *s) {
  const char *run = s;
  for (; *s != '\0'; s++) {
    const char *esc;
    switch (*s) {
    case '&':
      esc = "&amp;";
      break;
    case '<':
      esc = "&lt;";
      break;
    case '>':
      esc = "&gt;";
      break;
    case '"':
      esc = "&#34;";
      break;
    case '\'':
      esc = "&#39;";
      break;
    default:
      continue;
    }
    pprofd__buf_append(b, run, (size_t)(s - run));
    pprofd__buf_puts(b, esc);
    run = s + 1;
  }
  pprofd__buf_append(b, run, (size_t)(s - run));
}

char *pprofd__buf_reserve(pprofd__buf *b, size_t n) {
  char *dst = grow(b, n);
  if (dst == NULL)
    return NULL;
  /* Zeroing the region keeps data NUL-terminated however many of the n
   * bytes the caller writes before adding that count to len. */
  memset(dst, 0, n + 1);
  return dst;
}

int pprofd__buf_failed(const pprofd__buf *b) { return b->failed; }
