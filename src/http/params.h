/*
 * params.h - Go's parsing rules for the pprof handlers' requests:
 * url.ParseQuery for the query, url.PathUnescape and path.Clean (as
 * ServeMux applies them) for the path. The number parsers the handlers
 * apply to parameter values are Go's strconv (base/strconv.h). Pure
 * functions: thread-safe, no allocation except where a result buffer is
 * returned.
 */
#ifndef PPROFD_HTTP_PARAMS_H
#define PPROFD_HTTP_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "base/strconv.h"

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
/* Go's url.URL.EscapedPath for a path without a RawPath (escape with
 * encodePath): letters, digits and -_.~$&+,/:;=@ stay, every other byte
 * (backslash, ", <, >, %, ?, #, space, control and non-ASCII bytes) becomes %XX
 * in upper-case hex. Returns a new string (NULL when out of memory). */
char *pprofd__path_escape(const char *p);

#endif
