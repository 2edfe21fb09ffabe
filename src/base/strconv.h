/*
 * strconv.h - Go's strconv number parsers, as net/http/pprof's handlers
 * apply them to query parameters and symbolz requests: ParseInt(s, 10,
 * 64), Atoi, ParseUint(s, 0, 64) and ParseFloat(s, 64). Clients rely on
 * the exact edge cases (a bad `seconds` silently becomes 30 on /profile
 * but is a 400 on /heap), so these are ports of Go's rules, not
 * approximations. Pure functions: thread-safe, no allocation.
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

#endif
