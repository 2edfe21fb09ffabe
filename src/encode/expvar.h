/*
 * expvar.h - /debug/vars in the shape of Go's expvar handler.
 *
 * Go's expvarHandler writes "{\n", then every published variable as
 * `"name": <JSON value>`, sorted by name and separated by ",\n", then
 * "\n}\n". Two variables are always published: `cmdline`, os.Args as a
 * JSON array of strings, and `memstats`, runtime.MemStats as one compact
 * JSON object whose keys are the struct's field names in its order. Here
 * memstats carries only the fields a C program has figures for
 * (model/metrics.h); the application's variables follow Go's Var
 * String() methods: integers in decimal, floats as strconv.FormatFloat(v,
 * 'g', -1, 64), strings as encoding/json writes them (with its HTML-safe
 * escapes). One difference, so that the body stays JSON: a float that is
 * NaN or infinite is written `null`, where Go writes invalid JSON.
 *
 * Pure functions over their arguments: any thread.
 */
#ifndef PPROFD_ENCODE_EXPVAR_H
#define PPROFD_ENCODE_EXPVAR_H

#include <stddef.h>

#include "base/buf.h"
#include "base/common.h"
#include "model/metrics.h"

/* Appends the document: cmdline (argv joined by NUL bytes, as
 * /debug/pprof/cmdline serves it, len bytes), memstats m, and the
 * variables v[0..n), which must be sorted by name (byte-wise) and named
 * neither cmdline nor memstats. PPROFD_ENOMEM, PPROFD_ELIMIT from the
 * buffer, else 0. */
int pprofd__expvar_write(const char *cmdline, size_t len,
                         const pprofd__memstats *m, const pprofd__varval *v,
                         size_t n, pprofd__buf *out) PPROFD__WARN_UNUSED;

/* Appends s as encoding/json.Marshal writes a Go string: `"`, `\` and
 * the control characters escaped (\n, \r, \t, else \u00XX), `<`, `>`,
 * `&`, U+2028 and U+2029 as \u escapes, and bytes that are not UTF-8 as
 * \ufffd. s is n bytes and may hold NULs; the byte after them must be
 * readable (a NUL or other ASCII byte ends a multi-byte sequence there). */
void pprofd__expvar_json_str(pprofd__buf *b, const char *s, size_t n);

#endif
