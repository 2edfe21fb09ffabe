/*
 * params.h - Go's parsing rules for the pprof handlers' inputs.
 *
 * net/http/pprof reads its parameters with url.ParseQuery, strconv.Atoi,
 * strconv.ParseInt(s, 10, 64), strconv.ParseUint(s, 0, 64) and
 * strconv.ParseFloat(s, 64), and ServeMux cleans paths with path.Clean.
 * Clients rely on the exact edge cases (a bad `seconds` silently becomes
 * 30 on /profile but is a 400 on /heap), so these are ports of Go's rules,
 * not approximations. Pure functions: thread-safe, no allocation except
 * where a result buffer is returned.
 */
#ifndef PPROFD_HTTP_PARAMS_H
#define PPROFD_HTTP_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

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

/* A decoded query: url.ParseQuery semantics (pairs split on '&', a pair
 * containing ';' or a bad %-escape is skipped, '+' means space, first
 * value of a key wins on lookup). */
typedef struct pprofd__query pprofd__query;

/* Parses raw (the part after '?', may be NULL or ""). NULL when out of
 * memory. At most 256 pairs are kept; the rest are ignored. */
pprofd__query *pprofd__query_parse(const char *raw);
/* The first value of key ("" when the key is present without '='), or NULL
 * when absent. Valid until pprofd__query_free. */
const char *pprofd__query_get(const pprofd__query *q, const char *key);
void pprofd__query_free(pprofd__query *q);

/* url.PathUnescape-style %XX decoding of a path into a new string; NULL on
 * a bad escape or out of memory (*bad set to 1 for a bad escape). */
char *pprofd__path_unescape(const char *s, size_t n, int *bad);
/* path.Clean as ServeMux applies it (a trailing slash is kept). Returns a
 * new string (NULL when out of memory). */
char *pprofd__path_clean(const char *p);

#endif
