/*
 * promtext.h - a metric set (model/metrics.h) in Prometheus's exposition
 * formats, and the choice between them.
 *
 * Two formats, as Prometheus's own client libraries write them:
 *   - the text format 0.0.4 (`text/plain; version=0.0.4`): per family a
 *     `# HELP` line (backslash and newline escaped), a `# TYPE` line, then
 *     its samples, `name{label="value",...} value`;
 *   - OpenMetrics 1.0.0 (`application/openmetrics-text`): the same, but a
 *     counter's family is named without its `_total` suffix, which only
 *     its samples carry, HELP escapes double quotes too, and the
 *     exposition ends with `# EOF`.
 * Label values escape backslash, double quote and newline; bytes that are
 * not UTF-8 become U+FFFD in HELP texts and label values, which both
 * formats require to be UTF-8. Integers are written exactly, floats as
 * Go's strconv.FormatFloat(v, 'g', -1, 64) with NaN, +Inf and -Inf.
 * Families without samples are left out.
 *
 * Pure functions over their arguments: any thread.
 */
#ifndef PPROFD_ENCODE_PROMTEXT_H
#define PPROFD_ENCODE_PROMTEXT_H

#include "base/buf.h"
#include "base/common.h"
#include "model/metrics.h"

enum pprofd__promfmt { PPROFD__PROM_TEXT, PPROFD__PROM_OPENMETRICS };

/* The format to answer an Accept header with (NULL: no header):
 * OpenMetrics when the header ranks `application/openmetrics-text`
 * (version 1.0.0, 0.0.1 or none) above every range the text format
 * matches (`text/plain` of version 0.0.4 or none, text with any subtype,
 * any type at all) by q value, then by how specific the range is, then
 * by order; the text format otherwise, also when nothing matches (as
 * client_golang does). */
enum pprofd__promfmt pprofd__promtext_negotiate(const char *accept);

/* The Content-Type of format f. */
const char *pprofd__promtext_ctype(enum pprofd__promfmt f);

/* Appends the set in format f to out. The set's own failure, else
 * the buffer's (PPROFD_ENOMEM, PPROFD_ELIMIT), else 0. */
int pprofd__promtext_write(const pprofd__mset *s, enum pprofd__promfmt f,
                           pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
