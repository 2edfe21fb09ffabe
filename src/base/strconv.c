/*
 * strconv.c - ports of the Go number parsers net/http/pprof relies on
 * (go1.19).
 *
 * Each function follows its Go original step by step, so the odd cases
 * come out the same: strconv.ParseUint reports a range error as soon as
 * the value overflows even if a bad digit follows, "0x" alone is octal 0
 * followed by a bad digit, and underscores are checked only at the end by
 * underscoreOK; strconv.ParseFloat matches "inf", "infinity" and "nan"
 * first and only as the whole string, and readFloat decides the syntax.
 *
 * ParseFloat's decimal conversion is left to strtod, which is correctly
 * rounded as Go is, but strtod depends on the locale's decimal point, so it
 * never sees one: after readFloat has accepted the text, the significant
 * digits (at most 800, the precision of Go's own slow path, plus a sticky
 * digit standing for any non-zero digits dropped) are rewritten as an
 * integer with an exponent, using Go's exponent (which stops accumulating
 * at 10000). Overflow is a range error (+-Inf) and underflow is not, as in
 * Go. Hex floats do not need strtod: atofHex is ported as it is.
 *
 * FormatFloat's shortest form is found the way Go's own fallback finds
 * it: the fewest significant digits (1..17) that read back as the same
 * double. printf's %e gives the correctly rounded digits, and they are
 * read back with strtod as an integer and an exponent, so neither side
 * ever depends on the locale's decimal point; Go's layout is then applied
 * to the digits.
 *
 * All functions are pure, thread-safe and allocate nothing.
 */
#include "config.h"

#include "base/strconv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_SYNTAX (-1)
#define ERR_RANGE (-2)

/* Go's lower(): c's lower-case letter if c is a letter; other characters
 * may map to other non-letters. */
static unsigned char lower(unsigned char c) {
  return (unsigned char)(c | ('x' - 'X'));
}

/* Whether c is an ASCII decimal digit. */
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Go's underscoreOK: underscores may appear only between digits or
 * between a base prefix and a digit. */
static int underscore_ok(const char *s, size_t n) {
  char saw = '^'; /* '^' start, '0' digit or prefix, '_', '!' other */
  size_t i = 0;
  int hex = 0;
  if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
    s++;
    n--;
  }
  if (n >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0'; /* the base prefix counts as a digit */
    hex = lower(s[1]) == 'x';
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_digit(c) || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0')
        return 0;
      saw = '_';
      continue;
    }
    if (saw == '_')
      return 0;
    saw = '!';
  }
  return saw != '_';
}

/* Go's ParseUint(s, base, 64) for base 10 (base0 = 0) or base 0. */
static int parse_uint(const char *s, size_t n, int base0, uint64_t *v) {
  const char *s0 = s;
  size_t n0 = n;
  unsigned base = 10;
  *v = 0;
  if (n == 0)
    return ERR_SYNTAX;
  if (base0 && s[0] == '0') {
    size_t skip = 2;
    if (n >= 3 && lower((unsigned char)s[1]) == 'b') {
      base = 2;
    } else if (n >= 3 && lower((unsigned char)s[1]) == 'o') {
      base = 8;
    } else if (n >= 3 && lower((unsigned char)s[1]) == 'x') {
      base = 16;
    } else {
      base = 8;
      skip = 1;
    }
    s += skip;
    n -= skip;
  }
  /* The smallest number such that cutoff * base overflows. */
  uint64_t cutoff = UINT64_MAX / base + 1;
  int underscores = 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    unsigned d;
    if (c == '_' && base0) {
      underscores = 1;
      continue;
    } else if (is_digit(c)) {
      d = c - '0';
    } else if (lower(c) >= 'a' && lower(c) <= 'z') {
      d = lower(c) - 'a' + 10u;
    } else {
      return ERR_SYNTAX;
    }
    if (d >= base)
      return ERR_SYNTAX;
    if (x >= cutoff) {
      *v = UINT64_MAX;
      return ERR_RANGE;
    }
    x *= base;
    uint64_t x1 = x + d;
    if (x1 < x) {
      *v = UINT64_MAX;
      return ERR_RANGE;
    }
    x = x1;
  }
  if (underscores && !underscore_ok(s0, n0))
    return ERR_SYNTAX;
  *v = x;
  return 0;
}

int pprofd__parse_uint64_base0(const char *s, size_t n, uint64_t *v) {
  return parse_uint(s, n, 1, v);
}

int pprofd__parse_int64(const char *s, int64_t *v) {
  size_t n = s != NULL ? strlen(s) : 0;
  int neg = 0;
  uint64_t un;
  *v = 0;
  if (n == 0)
    return ERR_SYNTAX;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s++;
    n--;
  }
  if (parse_uint(s, n, 0, &un) == ERR_SYNTAX)
    return ERR_SYNTAX;
  const uint64_t cutoff = (uint64_t)1 << 63;
  if (!neg && un >= cutoff) {
    *v = INT64_MAX;
    return ERR_RANGE;
  }
  if (neg && un > cutoff) {
    *v = INT64_MIN;
    return ERR_RANGE;
  }
  if (neg)
    *v = un == cutoff ? INT64_MIN : -(int64_t)un;
  else
    *v = (int64_t)un;
  return 0;
}

/* strconv.Atoi's fast path for short strings gives the same results as
 * its ParseInt(s, 10, 0) slow path, so one function serves both. */
int64_t pprofd__atoi_go(const char *s) {
  int64_t v;
  (void)pprofd__parse_int64(s, &v);
  return v;
}

/* Go's commonPrefixLenIgnoreCase; prefix must be lower case. */
static size_t common_prefix_len(const char *s, size_t n, const char *prefix) {
  size_t m = strlen(prefix);
  if (m > n)
    m = n;
  for (size_t i = 0; i < m; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c + ('a' - 'A'));
    if (c != prefix[i])
      return i;
  }
  return m;
}

/* Go's special(): recognizes a prefix "[+-]inf", "[+-]infinity" or "nan"
 * in any case, storing the value and the prefix length. */
static int special(const char *s, size_t n, double *f, size_t *used) {
  if (n == 0)
    return 0;
  double sign = 1;
  size_t nsign = 0;
  switch (s[0]) {
  case '+':
  case '-':
    if (s[0] == '-')
      sign = -1;
    nsign = 1;
    s++;
    n--;
    /* fall through */
  case 'i':
  case 'I': {
    size_t m = common_prefix_len(s, n, "infinity");
    /* Anything longer than "inf" is ok, but only "infinity" is used
     * whole. */
    if (m > 3 && m < 8)
      m = 3;
    if (m == 3 || m == 8) {
      *f = sign * HUGE_VAL;
      *used = nsign + m;
      return 1;
    }
    break;
  }
  case 'n':
  case 'N':
    if (common_prefix_len(s, n, "nan") == 3) {
      *f = NAN;
      *used = 3;
      return 1;
    }
    break;
  default:
    break;
  }
  return 0;
}

/* What Go's readFloat returns. */
typedef struct {
  uint64_t mantissa;
  long exp;
  int neg;
  int trunc;
  int hex;
  size_t i; /* bytes consumed */
  long dp;  /* decimal point position, the exponent applied */
  int ok;
} float_text;

/* Go's readFloat: reads a decimal or hexadecimal mantissa and exponent
 * from a prefix of s. */
static void read_float(const char *s, size_t n, float_text *r) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  int underscores = 0;
  memset(r, 0, sizeof *r);
  if (i >= n)
    return;
  if (u[i] == '+') {
    i++;
  } else if (u[i] == '-') {
    r->neg = 1;
    i++;
  }
  uint64_t base = 10;
  int max_mant_digits = 19; /* 10^19 fits in uint64_t */
  unsigned char exp_char = 'e';
  if (i + 2 < n && u[i] == '0' && lower(u[i + 1]) == 'x') {
    base = 16;
    max_mant_digits = 16; /* 16^16 fits in uint64_t */
    i += 2;
    exp_char = 'p';
    r->hex = 1;
  }
  int sawdot = 0, sawdigits = 0;
  long nd = 0, nd_mant = 0, dp = 0;
  for (; i < n; i++) {
    unsigned char c = u[i];
    if (c == '_') {
      underscores = 1;
    } else if (c == '.') {
      if (sawdot)
        break;
      sawdot = 1;
      dp = nd;
    } else if (is_digit(c)) {
      sawdigits = 1;
      if (c == '0' && nd == 0) { /* ignore leading zeros */
        dp--;
        continue;
      }
      nd++;
      if (nd_mant < max_mant_digits) {
        r->mantissa = r->mantissa * base + (c - '0');
        nd_mant++;
      } else if (c != '0') {
        r->trunc = 1;
      }
    } else if (base == 16 && lower(c) >= 'a' && lower(c) <= 'f') {
      sawdigits = 1;
      nd++;
      if (nd_mant < max_mant_digits) {
        r->mantissa = r->mantissa * 16 + (lower(c) - 'a' + 10u);
        nd_mant++;
      } else {
        r->trunc = 1;
      }
    } else {
      break;
    }
  }
  if (!sawdigits)
    return;
  if (!sawdot)
    dp = nd;
  if (base == 16) {
    dp *= 4;
    nd_mant *= 4;
  }
  if (i < n && lower(u[i]) == exp_char) {
    i++;
    if (i >= n)
      return;
    long esign = 1;
    if (u[i] == '+') {
      i++;
    } else if (u[i] == '-') {
      i++;
      esign = -1;
    }
    if (i >= n || !is_digit(u[i]))
      return;
    long e = 0;
    for (; i < n && (is_digit(u[i]) || u[i] == '_'); i++) {
      if (u[i] == '_') {
        underscores = 1;
        continue;
      }
      if (e < 10000) /* a huge exponent only needs to stay huge */
        e = e * 10 + (u[i] - '0');
    }
    dp += e * esign;
  } else if (base == 16) {
    return; /* a hex float must have an exponent */
  }
  if (r->mantissa != 0)
    r->exp = dp - nd_mant;
  if (underscores && !underscore_ok(s, i))
    return;
  r->dp = dp;
  r->i = i;
  r->ok = 1;
}

/* Go's atofHex for float64: rounds the hex mantissa and binary exponent to
 * a double, to nearest even, with denormals; overflow is a range error. */
static int atof_hex(const float_text *r, double *v) {
  const int mantbits = 52, expbits = 11, bias = -1023;
  const long max_exp = (1L << expbits) + bias - 2;
  const long min_exp = bias + 1;
  uint64_t mantissa = r->mantissa;
  long exp = r->exp + mantbits;
  int err = 0;
  /* Bring the mantissa to a leading 1 followed by mantbits + 2 bits. */
  while (mantissa != 0 && mantissa >> (mantbits + 2) == 0) {
    mantissa <<= 1;
    exp--;
  }
  if (r->trunc)
    mantissa |= 1;
  while (mantissa >> (1 + mantbits + 2) != 0) {
    mantissa = mantissa >> 1 | (mantissa & 1);
    exp++;
  }
  /* Denormalize if the exponent is too small (-2 for the round bits). */
  while (mantissa > 1 && exp < min_exp - 2) {
    mantissa = mantissa >> 1 | (mantissa & 1);
    exp++;
  }
  uint64_t round = mantissa & 3;
  mantissa >>= 2;
  round |= mantissa & 1; /* round to even */
  exp += 2;
  if (round == 3) {
    mantissa++;
    if (mantissa == (uint64_t)1 << (1 + mantbits)) {
      mantissa >>= 1;
      exp++;
    }
  }
  if (mantissa >> mantbits == 0) /* denormal or zero */
    exp = bias;
  if (exp > max_exp) {
    mantissa = (uint64_t)1 << mantbits;
    exp = max_exp + 1;
    err = ERR_RANGE;
  }
  uint64_t bits = mantissa & (((uint64_t)1 << mantbits) - 1);
  bits |= (uint64_t)((exp - bias) & ((1L << expbits) - 1)) << mantbits;
  if (r->neg)
    bits |= (uint64_t)1 << mantbits << expbits;
  memcpy(v, &bits, sizeof *v);
  return err;
}

/* Significant digits kept for strtod, as in Go's decimal type. */
#define MAX_DIGITS 800

/* Converts the decimal literal s (already accepted by read_float, whose
 * result is r) with strtod, without a decimal point. */
static int atof_decimal(const char *s, size_t n, const float_text *r,
                        double *v) {
  char digits[1 + MAX_DIGITS + 1 + 24];
  size_t nb = 0;
  long nd = 0;
  int sticky = 0;
  if (r->neg)
    digits[nb++] = '-';
  size_t first = nb;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == 'e' || c == 'E')
      break;
    if (!is_digit((unsigned char)c) || (c == '0' && nd == 0))
      continue; /* sign, '.', '_' or a leading zero */
    nd++;
    if (nb - first < MAX_DIGITS)
      digits[nb++] = c;
    else if (c != '0')
      sticky = 1;
  }
  if (nd == 0) {
    *v = r->neg ? -0.0 : 0.0;
    return 0;
  }
  if (sticky)
    digits[nb++] = '1';
  /* The value is 0.DIGITS times 10^dp, so DIGITS times 10^(dp - count);
   * past +-999999 the result is 0 or Inf whatever the digits. */
  long x = r->dp - (long)(nb - first);
  if (x > 999999)
    x = 999999;
  if (x < -999999)
    x = -999999;
  snprintf(digits + nb, sizeof digits - nb, "e%ld", x);
  int saved = errno;
  *v = strtod(digits, NULL);
  errno = saved;
  return isinf(*v) ? ERR_RANGE : 0;
}

int pprofd__parse_float64(const char *s, double *v) {
  size_t n = s != NULL ? strlen(s) : 0;
  size_t used;
  float_text r;
  *v = 0;
  if (special(s, n, v, &used)) {
    if (used == n)
      return 0;
    *v = 0;
    return ERR_SYNTAX;
  }
  read_float(s, n, &r);
  if (!r.ok || r.i != n)
    return ERR_SYNTAX;
  if (r.hex)
    return atof_hex(&r, v);
  return atof_decimal(s, n, &r, v);
}

/* The p significant digits of v (finite, non-zero) correctly rounded,
 * into dig (no sign, no point); returns the decimal exponent of the
 * first digit. */
static int digits_of(double v, int p, char *dig) {
  char e[48];
  snprintf(e, sizeof e, "%.*e", p - 1, fabs(v));
  /* d[<point>ddd]e<sign>dd, whatever the locale's point is. */
  const char *q = e;
  int n = 0;
  for (; *q && *q != 'e'; q++)
    if (*q >= '0' && *q <= '9')
      dig[n++] = *q;
  dig[n] = '\0';
  return *q == 'e' ? atoi(q + 1) : 0;
}

/* Whether the digits dig with first-digit exponent x read back as v. */
static int reads_back(double v, const char *dig, int x) {
  char t[64];
  snprintf(t, sizeof t, "%s%se%d", v < 0 ? "-" : "", dig,
           x - (int)strlen(dig) + 1);
  return strtod(t, NULL) == v;
}

size_t pprofd__format_float(double v, char out[PPROFD__FLOAT_MAX]) {
  if (isnan(v))
    return (size_t)snprintf(out, PPROFD__FLOAT_MAX, "NaN");
  if (isinf(v))
    return (size_t)snprintf(out, PPROFD__FLOAT_MAX, v > 0 ? "+Inf" : "-Inf");
  if (v == 0)
    return (size_t)snprintf(out, PPROFD__FLOAT_MAX, signbit(v) ? "-0" : "0");
  char dig[24];
  int x;
  if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v) {
    /* An integer below 2^53: its own digits are exact and shortest once
     * trailing zeros go. */
    int n = snprintf(dig, sizeof dig, "%lld", (long long)fabs(v));
    x = n - 1;
    while (n > 1 && dig[n - 1] == '0')
      dig[--n] = '\0';
  } else {
    /* Round-tripping is monotone in the digit count: bisect 1..17. */
    int lo = 1, hi = 17;
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      x = digits_of(v, mid, dig);
      if (reads_back(v, dig, x))
        hi = mid;
      else
        lo = mid + 1;
    }
    x = digits_of(v, lo, dig);
  }
  int nd = (int)strlen(dig);
  char *o = out;
  if (v < 0)
    *o++ = '-';
  if (x < -4 || x >= 6) { /* Go's fmtE: d[.ddd]e±dd */
    *o++ = dig[0];
    if (nd > 1) {
      *o++ = '.';
      memcpy(o, dig + 1, (size_t)nd - 1);
      o += nd - 1;
    }
    o += sprintf(o, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    return (size_t)(o - out);
  }
  /* Go's fmtF: the integer part (or 0), then the rest after a point. */
  int dp = x + 1; /* digits before the point */
  if (dp <= 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -dp; i++)
      *o++ = '0';
    memcpy(o, dig, (size_t)nd);
    o += nd;
  } else {
    for (int i = 0; i < dp; i++)
      *o++ = i < nd ? dig[i] : '0';
    if (nd > dp) {
      *o++ = '.';
      memcpy(o, dig + dp, (size_t)(nd - dp));
      o += nd - dp;
    }
  }
  *o = '\0';
  return (size_t)(o - out);
}
