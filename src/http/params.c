/*
 * params.c - Go's url.ParseQuery, url.PathUnescape, path.Clean and
 * url.URL.EscapedPath as net/http/pprof and ServeMux apply them (go1.19).
 *
 * url.ParseQuery decodes in place in one block holding the query and its
 * pair table. C strings cannot hold a NUL byte, so a key or value that
 * decodes to one (%00) is treated as a bad escape and skipped; likewise a
 * path containing %00 is a bad escape. Go would keep such a string, but
 * every use pprof makes of it would then fail or find nothing, whereas a
 * truncated C string could wrongly match.
 *
 * All functions are pure and thread-safe; only the query, the unescaped,
 * cleaned and escaped paths are allocated (with ialloc).
 */
#include "config.h"

#include "http/params.h"

#include <string.h>

#include "base/ialloc.h"

/* Whether c is a decimal digit. */
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* The most pairs a query keeps. */
#define MAX_PAIRS 256

struct pprofd__query {
  size_t n;
  struct {
    const char *key;
    const char *val;
  } pair[MAX_PAIRS];
  char text[]; /* the raw query, decoded in place */
};

/* Whether c is a hex digit (Go's ishex). */
static int is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Go's unhex for a valid hex digit. */
static unsigned unhex(unsigned char c) {
  if (is_digit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10u;
  return c - 'A' + 10u;
}

/* Go's unescape for query components (plus = 1: '+' is a space) or paths,
 * decoding s[0..n) into dst (which may be s itself) and NUL-terminating
 * it. Returns -1 without decoding on a bad %-escape or a NUL byte. */
static int unescape(const char *s, size_t n, char *dst, int plus) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\0')
      return -1;
    if (s[i] != '%')
      continue;
    if (n - i < 3 || !is_hex((unsigned char)s[i + 1]) ||
        !is_hex((unsigned char)s[i + 2]))
      return -1;
    if (s[i + 1] == '0' && s[i + 2] == '0')
      return -1;
    i += 2;
  }
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      dst[w++] = (char)(unhex((unsigned char)s[i + 1]) << 4 |
                        unhex((unsigned char)s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus) {
      dst[w++] = ' ';
    } else {
      dst[w++] = s[i];
    }
  }
  dst[w] = '\0';
  return 0;
}

pprofd__query *pprofd__query_parse(const char *raw) {
  size_t len = raw != NULL ? strlen(raw) : 0;
  pprofd__query *q = pprofd__ialloc(sizeof *q + len + 1);
  if (q == NULL)
    return NULL;
  q->n = 0;
  if (len > 0)
    memcpy(q->text, raw, len);
  q->text[len] = '\0';
  char *p = q->text, *end = q->text + len;
  while (p < end && q->n < MAX_PAIRS) {
    char *seg = p;
    char *amp = memchr(p, '&', (size_t)(end - p));
    size_t seglen = (size_t)((amp != NULL ? amp : end) - seg);
    p = amp != NULL ? amp + 1 : end;
    if (seglen == 0 || memchr(seg, ';', seglen) != NULL)
      continue; /* Go: "invalid semicolon separator in query" */
    char *eq = memchr(seg, '=', seglen);
    size_t klen = eq != NULL ? (size_t)(eq - seg) : seglen;
    if (unescape(seg, klen, seg, 1) != 0)
      continue;
    const char *val = "";
    if (eq != NULL) {
      if (unescape(eq + 1, seglen - klen - 1, eq + 1, 1) != 0)
        continue;
      val = eq + 1;
    }
    q->pair[q->n].key = seg;
    q->pair[q->n].val = val;
    q->n++;
  }
  return q;
}

const char *pprofd__query_get(const pprofd__query *q, const char *key) {
  if (q == NULL || key == NULL)
    return NULL;
  for (size_t i = 0; i < q->n; i++)
    if (strcmp(q->pair[i].key, key) == 0)
      return q->pair[i].val;
  return NULL;
}

void pprofd__query_free(pprofd__query *q) { pprofd__ifree(q); }

char *pprofd__path_unescape(const char *s, size_t n, int *bad) {
  if (bad != NULL)
    *bad = 0;
  if (n == (size_t)-1)
    return NULL;
  char *d = pprofd__ialloc(n + 1);
  if (d == NULL)
    return NULL;
  if (unescape(s, n, d, 0) != 0) {
    pprofd__ifree(d);
    if (bad != NULL)
      *bad = 1;
    return NULL;
  }
  return d;
}

/* Go's path.Clean of p[0..n) into out, which has room for n + 1 bytes
 * (Clean never lengthens a path except "" to "."); returns the length. */
static size_t clean(const char *p, size_t n, char *out) {
  if (n == 0) {
    out[0] = '.';
    return 1;
  }
  int rooted = p[0] == '/';
  size_t r = 0, w = 0, dotdot = 0;
  if (rooted) {
    out[w++] = '/';
    r = dotdot = 1;
  }
  while (r < n) {
    if (p[r] == '/') {
      r++; /* empty element */
    } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
      r++; /* "." element */
    } else if (p[r] == '.' && p[r + 1] == '.' &&
               (r + 2 == n || p[r + 2] == '/')) {
      /* ".." element: remove up to the last slash */
      r += 2;
      if (w > dotdot) {
        w--;
        while (w > dotdot && out[w] != '/')
          w--;
      } else if (!rooted) {
        /* cannot backtrack, but not rooted, so keep the ".." */
        if (w > 0)
          out[w++] = '/';
        out[w++] = '.';
        out[w++] = '.';
        dotdot = w;
      }
    } else {
      /* a real element: add a slash if needed, then copy it */
      if ((rooted && w != 1) || (!rooted && w != 0))
        out[w++] = '/';
      for (; r < n && p[r] != '/'; r++)
        out[w++] = p[r];
    }
  }
  if (w == 0)
    out[w++] = '.';
  return w;
}

/* net/http's cleanPath: roots p, applies path.Clean and puts back a
 * trailing slash that Clean removed. */
char *pprofd__path_clean(const char *p) {
  size_t n = p != NULL ? strlen(p) : 0;
  if (n >= (size_t)-4)
    return NULL;
  /* Room for a leading slash, the result, a trailing slash and NUL. */
  char *rooted = pprofd__ialloc(n + 2);
  char *out = pprofd__ialloc(n + 3);
  if (rooted == NULL || out == NULL) {
    pprofd__ifree(rooted);
    pprofd__ifree(out);
    return NULL;
  }
  size_t m = 0;
  if (n == 0 || p[0] != '/')
    rooted[m++] = '/';
  if (n > 0)
    memcpy(rooted + m, p, n);
  m += n;
  size_t w = clean(rooted, m, out);
  if (rooted[m - 1] == '/' && !(w == 1 && out[0] == '/'))
    out[w++] = '/';
  out[w] = '\0';
  pprofd__ifree(rooted);
  return out;
}

/* Whether Go's shouldEscape(c, encodePath) holds. */
static int path_must_escape(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9'))
    return 0;
  return strchr("-_.~$&+,/:;=@", c) == NULL || c == '\0';
}

char *pprofd__path_escape(const char *p) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(p), extra = 0;
  for (size_t i = 0; i < n; i++)
    extra += path_must_escape((unsigned char)p[i]) ? 2 : 0;
  char *out = pprofd__ialloc(n + extra + 1);
  if (out == NULL)
    return NULL;
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (path_must_escape(c)) {
      out[w++] = '%';
      out[w++] = hex[c >> 4];
      out[w++] = hex[c & 15];
    } else {
      out[w++] = (char)c;
    }
  }
  out[w] = '\0';
  return out;
}
