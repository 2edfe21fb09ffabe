/*
 * strconv.h - Go's strconv number parsers, as net/http/pprof's handlers
 * apply them to query parameters and symbolz requests: ParseInt(s, 10,
 * 64), Atoi, ParseUint(s, 0, 64) and ParseFloat(s, 64). Clients rely on
 * the exact edge cases (a bad `seconds` silently becomes 30 on /profile
 * but is a 400 on /heap), so these are ports of Go's rules, not
 * approximations. And one formatter, FormatFloat(v, 'g', -1, 64), the
 * number syntax of Go's expvar floats and of Prometheus's exposition
 * formats. Pure functions: thread-safe, no allocation.
 */
#ifndef PPROFD_BASE_STRCONV_H
#define PPROFD_BASE_STRCONV_H

#include <stddef.h>
#include <stdint.h>

/* strconv.ParseInt(s, 10, 64): optional sign, decimal digits only.
 * Returns 0 and sets *v on success; -1 on a syntax error (*v = 0); -2 on
 * overflow (*v clamped to INT64_MIN/INT64_MAX, as Go returns). */
int pprofd__parse_int64(const char *s, int64_t *v);
/* strconv.Atoi(s) with the error ignored, as the handlers use it:
 * the value, 0 on a syntax error, the clamped value on overflow. */
int64_t pprofd__atoi_go(const char *s);
/* strconv.ParseUint(s, 0, 64): base from prefix (0x, 0o, 0b, leading 0
 * octal), underscores only as Go allows. 0 ok; -1 syntax (*v = 0); -2
 * overflow (*v = UINT64_MAX). s is n bytes, not NUL-terminated. */
int pprofd__parse_uint64_base0(const char *s, size_t n, uint64_t *v);
/* strconv.ParseFloat(s, 64), including Go's "inf"/"infinity"/"nan" words,
 * hex floats and underscores. 0 ok; -1 syntax; -2 range (*v = +-Inf). */
int pprofd__parse_float64(const char *s, double *v);

/* Room for any pprofd__format_float result, NUL included. */
#define PPROFD__FLOAT_MAX 32
/* strconv.FormatFloat(v, 'g', -1, 64): the shortest decimal that reads
 * back as v, in %e form when its exponent is below -4 or at least 6
 * ("0.001", "123456", "1.234567e+06", "1e-05"), and "NaN", "+Inf",
 * "-Inf". Independent of the locale. Writes out, returns its length. */
size_t pprofd__format_float(double v, char out[PPROFD__FLOAT_MAX]);

#endif
