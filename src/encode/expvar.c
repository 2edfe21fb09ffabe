/*
 * expvar.c - Go's expvar JSON (see expvar.h).
 *
 * The document is written in one pass: the variables arrive sorted and
 * the two built-in ones are merged into their sorted places, as Go's
 * handler sorts every published name together.
 */
#include "config.h"

#include "encode/expvar.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "base/strconv.h"
#include "base/utf8.h"

void pprofd__expvar_json_str(pprofd__buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  pprofd__buf_putc(b, '"');
  for (size_t i = 0; i < n;) {
    unsigned c = p[i];
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        pprofd__buf_putc(b, '\\');
        pprofd__buf_putc(b, (char)c);
      } else if (c == '\n') {
        pprofd__buf_puts(b, "\\n");
      } else if (c == '\r') {
        pprofd__buf_puts(b, "\\r");
      } else if (c == '\t') {
        pprofd__buf_puts(b, "\\t");
      } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        pprofd__buf_append(b, u, sizeof u);
      } else {
        pprofd__buf_putc(b, (char)c);
      }
      i++;
      continue;
    }
    int k = pprofd__utf8_len(p + i);
    if (k == 0 || (size_t)k > n - i) {
      pprofd__buf_puts(b, "\\ufffd");
      i++;
    } else if (k == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
               (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
      pprofd__buf_puts(b, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
      i += 3;
    } else {
      pprofd__buf_append(b, p + i, (size_t)k);
      i += (size_t)k;
    }
  }
  pprofd__buf_putc(b, '"');
}

/* os.Args as json.Marshal writes a []string. */
static void write_cmdline(pprofd__buf *b, const char *s, size_t n) {
  pprofd__buf_putc(b, '[');
  for (size_t i = 0; n > 0 && i <= n;) {
    const char *z = memchr(s + i, '\0', n - i);
    size_t end = z != NULL ? (size_t)(z - s) : n;
    if (i > 0)
      pprofd__buf_putc(b, ',');
    pprofd__expvar_json_str(b, s + i, end - i);
    i = end + 1;
  }
  pprofd__buf_putc(b, ']');
}

/* One "Name":value pair of the memstats object. */
static void field(pprofd__buf *b, int *first, const char *name, uint64_t v) {
  pprofd__buf_printf(b, "%s\"%s\":%" PRIu64, *first ? "" : ",", name, v);
  *first = 0;
}

/* runtime.MemStats as json.Marshal writes it: compact, fields in the
 * struct's order. */
static void write_memstats(pprofd__buf *b, const pprofd__memstats *m) {
  int first = 1;
  pprofd__buf_putc(b, '{');
  if (m->have_sampled)
    field(b, &first, "Alloc", m->alloc);
  if (m->have_heap)
    field(b, &first, "TotalAlloc", m->total_alloc);
  field(b, &first, "Sys", m->sys);
  if (m->have_sampled) {
    field(b, &first, "Mallocs", m->mallocs);
    field(b, &first, "Frees", m->frees);
    field(b, &first, "HeapAlloc", m->alloc);
    field(b, &first, "HeapObjects", m->heap_objects);
  }
  field(b, &first, "LastGC", m->last_gc);
  field(b, &first, "NumGC", m->num_gc);
  field(b, &first, "NumForcedGC", m->num_gc);
  pprofd__buf_putc(b, '}');
}

/* A float as expvar.Float's String: FormatFloat(v, 'g', -1, 64), or
 * null where that would not be JSON. */
static void write_float(pprofd__buf *b, double d) {
  char f[PPROFD__FLOAT_MAX];
  if (!isfinite(d)) {
    pprofd__buf_puts(b, "null");
    return;
  }
  size_t n = pprofd__format_float(d, f);
  pprofd__buf_append(b, f, n);
}

/* One application variable's value. */
static void write_var(pprofd__buf *b, const pprofd__varval *v) {
  switch (v->kind) {
  case PPROFD__VAR_INT:
  case PPROFD__VAR_COUNTER:
    pprofd__buf_printf(b, "%" PRId64, v->i);
    break;
  case PPROFD__VAR_FLOAT:
  case PPROFD__VAR_FUNC:
    write_float(b, v->d);
    break;
  case PPROFD__VAR_STRING:
    pprofd__expvar_json_str(b, v->s, strlen(v->s));
    break;
  }
}

int pprofd__expvar_write(const char *cmdline, size_t len,
                         const pprofd__memstats *m, const pprofd__varval *v,
                         size_t n, pprofd__buf *b) {
  static const char *const builtin[] = {"cmdline", "memstats"};
  size_t bi = 0, vi = 0;
  pprofd__buf_puts(b, "{\n");
  for (int first = 1; bi < 2 || vi < n; first = 0) {
    if (!first)
      pprofd__buf_puts(b, ",\n");
    if (bi < 2 && (vi == n || strcmp(builtin[bi], v[vi].name) < 0)) {
      pprofd__buf_printf(b, "\"%s\": ", builtin[bi]);
      if (bi++ == 0)
        write_cmdline(b, cmdline, len);
      else
        write_memstats(b, m);
    } else {
      pprofd__buf_printf(b, "\"%s\": ", v[vi].name);
      write_var(b, &v[vi++]);
    }
  }
  pprofd__buf_puts(b, "\n}\n");
  return pprofd__buf_failed(b);
}
