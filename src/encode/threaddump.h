/*
 * threaddump.h - the full thread dump (goroutine?debug=2): for each
 * thread, "thread TID "NAME" [state, syscall, wchan]:", then its frames as
 * "func+0xoff" and an indented "file:line" (one line per inlined frame),
 * "...additional frames elided..." when the stack was cut, and "created
 * by FUNC in thread N" with its location when the registry knows the
 * creator. Blocks are separated by a blank line, the requester first.
 */
#ifndef PPROFD_ENCODE_THREADDUMP_H
#define PPROFD_ENCODE_THREADDUMP_H

#include <stddef.h>

#include "base/buf.h"
#include "base/common.h"
#include "model/threaddump.h"

/* Writes the n threads of a dump (symbolizing when it can). */
int pprofd__threaddump_write(const pprofd__thread *t, size_t n,
                             pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
