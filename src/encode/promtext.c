/*
 * promtext.c - Prometheus's text format 0.0.4 and OpenMetrics 1.0.0
 * (see promtext.h).
 *
 * The layouts follow client_golang's expfmt writers line for line (HELP,
 * then TYPE, then the samples; no UNIT, no timestamps, no `_created`
 * samples), since that is what every scraper has been tested against.
 * Content negotiation is a small Accept parser: media ranges separated
 * by commas, parameters by semicolons, `q` read with Go's ParseFloat
 * rules so that the locale never matters.
 */
#include "config.h"

#include "encode/promtext.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/strconv.h"
#include "base/utf8.h"

#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CT_OPENMETRICS                                                         \
  "application/openmetrics-text; version=1.0.0; charset=utf-8"

const char *pprofd__promtext_ctype(enum pprofd__promfmt f) {
  return f == PPROFD__PROM_OPENMETRICS ? CT_OPENMETRICS : CT_TEXT;
}

/* ---- negotiation ---- */

/* Trims spaces and tabs from both ends of [*s, *e). */
static void trim(const char **s, const char **e) {
  while (*s < *e && (**s == ' ' || **s == '\t'))
    (*s)++;
  while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
    (*e)--;
}

/* Whether [s, e) is word, ignoring case. */
static int is(const char *s, const char *e, const char *word) {
  size_t n = strlen(word);
  return (size_t)(e - s) == n && strncasecmp(s, word, n) == 0;
}

/* One media range: what it matches and how much it is wanted. */
typedef struct range {
  int om;       /* matches OpenMetrics */
  int text;     /* matches the text format */
  int specific; /* 2 type/subtype, 1 type/ *, 0 * / * */
  double q;
} range;

/* Reads the media range [s, e). */
static range parse_range(const char *s, const char *e) {
  range r = {0, 0, 0, 1.0};
  const char *semi = memchr(s, ';', (size_t)(e - s));
  const char *te = semi != NULL ? semi : e, *ts = s;
  trim(&ts, &te);
  const char *version = NULL, *ve = NULL;
  for (const char *p = semi; p != NULL && p < e;) {
    const char *ps = p + 1;
    const char *pe = memchr(ps, ';', (size_t)(e - ps));
    p = pe;
    if (pe == NULL)
      pe = e;
    const char *eq = memchr(ps, '=', (size_t)(pe - ps));
    if (eq == NULL)
      continue;
    const char *ks = ps, *ke = eq, *vs = eq + 1, *vend = pe;
    trim(&ks, &ke);
    trim(&vs, &vend);
    if (vend - vs >= 2 && *vs == '"' && vend[-1] == '"') {
      vs++;
      vend--;
    }
    if (is(ks, ke, "q")) {
      char q[32];
      size_t n = (size_t)(vend - vs);
      double v;
      if (n < sizeof q) {
        memcpy(q, vs, n);
        q[n] = '\0';
        if (pprofd__parse_float64(q, &v) == 0 && v >= 0 && v <= 1)
          r.q = v;
      }
    } else if (is(ks, ke, "version")) {
      version = vs;
      ve = vend;
    }
  }
  if (is(ts, te, "application/openmetrics-text")) {
    r.om =
        version == NULL || is(version, ve, "1.0.0") || is(version, ve, "0.0.1");
    r.specific = 2;
  } else if (is(ts, te, "text/plain")) {
    r.text = version == NULL || is(version, ve, "0.0.4");
    r.specific = 2;
  } else if (is(ts, te, "text/*")) {
    r.text = 1;
    r.specific = 1;
  } else if (is(ts, te, "*/*")) {
    r.text = 1;
  }
  return r;
}

/* Whether a ranks above b (a came later in the header). */
static int better(const range *a, const range *b) {
  if (a->q != b->q)
    return a->q > b->q;
  return a->specific > b->specific;
}

enum pprofd__promfmt pprofd__promtext_negotiate(const char *accept) {
  if (accept == NULL)
    return PPROFD__PROM_TEXT;
  range best = {0, 0, 0, 0};
  int have = 0;
  for (const char *p = accept; *p;) {
    const char *e = strchr(p, ',');
    if (e == NULL)
      e = p + strlen(p);
    range r = parse_range(p, e);
    if ((r.om || r.text) && r.q > 0 && (!have || better(&r, &best))) {
      best = r;
      have = 1;
    }
    p = *e ? e + 1 : e;
  }
  return have && best.om ? PPROFD__PROM_OPENMETRICS : PPROFD__PROM_TEXT;
}

/* ---- writing ---- */

/* Appends s escaped: backslash and newline always, double quotes when
 * quote is set; bytes that are not UTF-8 become U+FFFD. */
static void escaped(pprofd__buf *b, const char *s, int quote) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    int n = pprofd__utf8_len(p);
    if (n == 0) {
      pprofd__buf_puts(b, "\xef\xbf\xbd");
      p++;
    } else if (*p == '\\') {
      pprofd__buf_puts(b, "\\\\");
      p++;
    } else if (*p == '\n') {
      pprofd__buf_puts(b, "\\n");
      p++;
    } else if (*p == '"' && quote) {
      pprofd__buf_puts(b, "\\\"");
      p++;
    } else {
      pprofd__buf_append(b, p, (size_t)n);
      p += n;
    }
  }
}

/* Appends a sample's value. */
static void value(pprofd__buf *b, const pprofd__msample *m) {
  char v[PPROFD__FLOAT_MAX];
  if (m->is_float) {
    size_t n = pprofd__format_float(m->d, v);
    pprofd__buf_append(b, v, n);
  } else {
    int n = snprintf(v, sizeof v, "%lld", (long long)m->i);
    pprofd__buf_append(b, v, (size_t)n);
  }
}

/* Appends one sample line: name (family name plus suffix), labels and
 * value. */
static void sample(pprofd__buf *b, const char *fam, size_t famlen,
                   const char *suffix, const pprofd__msample *m) {
  pprofd__buf_append(b, fam, famlen);
  pprofd__buf_puts(b, suffix);
  for (unsigned i = 0; i < m->nlabels && i < PPROFD__MLABELS; i++) {
    pprofd__buf_putc(b, i == 0 ? '{' : ',');
    pprofd__buf_puts(b, m->lname[i]);
    pprofd__buf_puts(b, "=\"");
    escaped(b, m->lvalue[i] != NULL ? m->lvalue[i] : "", 1);
    pprofd__buf_putc(b, '"');
  }
  if (m->nlabels > 0)
    pprofd__buf_putc(b, '}');
  pprofd__buf_putc(b, ' ');
  value(b, m);
  pprofd__buf_putc(b, '\n');
}

int pprofd__promtext_write(const pprofd__mset *s, enum pprofd__promfmt f,
                           pprofd__buf *b) {
  if (s->failed)
    return s->failed;
  int om = f == PPROFD__PROM_OPENMETRICS;
  for (size_t i = 0; i < s->nfam; i++) {
    const pprofd__mfamily *fa = &s->fam[i];
    if (fa->n == 0)
      continue;
    size_t len = strlen(fa->name);
    const char *suffix = "";
    /* OpenMetrics names a counter's family without `_total`. */
    if (om && fa->type == PPROFD__MCOUNTER) {
      if (len > 6 && strcmp(fa->name + len - 6, "_total") == 0)
        len -= 6;
      suffix = "_total";
    }
    if (fa->help != NULL) {
      pprofd__buf_puts(b, "# HELP ");
      pprofd__buf_append(b, fa->name, len);
      pprofd__buf_putc(b, ' ');
      escaped(b, fa->help, om);
      pprofd__buf_putc(b, '\n');
    }
    pprofd__buf_puts(b, "# TYPE ");
    pprofd__buf_append(b, fa->name, len);
    pprofd__buf_puts(b,
                     fa->type == PPROFD__MCOUNTER ? " counter\n" : " gauge\n");
    for (size_t k = 0; k < fa->n; k++)
      sample(b, fa->name, len, suffix, &s->smp[fa->first + k]);
  }
  if (om)
    pprofd__buf_puts(b, "# EOF\n");
  return pprofd__buf_failed(b);
}
