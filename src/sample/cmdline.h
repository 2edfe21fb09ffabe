/*
 * cmdline.h - the program's command line, as /debug/pprof/cmdline serves it.
 *
 * argv joined by NUL bytes with no trailing NUL or newline, exactly as
 * Go's handler writes os.Args. Read from /proc/self/cmdline at request
 * time, so programs that rewrite their title show what `ps` shows.
 * Threads: any thread outside signal context.
 */
#ifndef PPROFD_SAMPLE_CMDLINE_H
#define PPROFD_SAMPLE_CMDLINE_H

#include "base/buf.h"
#include "base/common.h"

/* Appends the command line to out. PPROFD_EIO if it cannot be read. */
int pprofd__cmdline(pprofd__buf *out) PPROFD__WARN_UNUSED;

/* Test seam: the file read (default "/proc/self/cmdline"). */
extern const char *PPROFD__SEAM pprofd__cmdline_path;

#endif
