/*
 * tracejson.h - the execution trace's Chrome trace-event JSON encoding.
 *
 * A trace is what /debug/pprof/trace recorded for its window: a list of
 * events on per-thread tracks (CPU samples, lock waits, thread starts and
 * exits, pprofd's HTTP requests, user regions, tasks and logs), process
 * counters, and the names of the threads (model/trace.h). sample/trace.c
 * fills it; this encoder writes the JSON object format that Perfetto UI,
 * chrome://tracing and speedscope open:
 *
 *   {"traceEvents":[...], "stackFrames":{...}, "displayTimeUnit":"ms",
 *    "otherData":{...}}
 *
 * Stacks are symbolized here and written once each, as a tree of frames
 * in "stackFrames" (innermost frame a leaf, inline frames as nodes of
 * their own); an event refers to its stack's leaf with "sf". Timestamps
 * are microseconds since the start of the window. Every string is
 * escaped, and bytes that are not UTF-8 become U+FFFD, so the output is
 * always valid JSON.
 *
 * Threads: a trace belongs to the request that built it.
 */
#ifndef PPROFD_ENCODE_TRACEJSON_H
#define PPROFD_ENCODE_TRACEJSON_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "model/trace.h"

/* Writes t as Chrome trace-event JSON (symbolizing when symbolize is
 * set, else frames are hex addresses). PPROFD_ENOMEM, PPROFD_ELIMIT (the
 * output outgrew the buffer's cap). */
int pprofd__tracejson_write(const pprofd__trace *t, int symbolize,
                            pprofd__buf *out) PPROFD__WARN_UNUSED;

/* Appends s as a JSON string literal (quotes included), escaping what
 * JSON requires and replacing bytes that are not UTF-8 with U+FFFD. */
void pprofd__json_str(pprofd__buf *b, const char *s);

#endif
