/*
 * ialloc.h - the library's own memory.
 *
 * Every allocation pprofd makes for itself goes through these functions so
 * that (a) once malloc is interposed, pprofd's memory never shows up in the
 * heap profile it serves and never recurses into the sampler, and (b) the
 * index page can report how much memory pprofd itself holds. Today they
 * forward to the C library and keep a byte count; they are thread-safe and
 * not async-signal-safe.
 */
#ifndef PPROFD_BASE_IALLOC_H
#define PPROFD_BASE_IALLOC_H

#include <stddef.h>

#include "base/common.h"

void *pprofd__ialloc(size_t size) PPROFD__WARN_UNUSED;
void *pprofd__icalloc(size_t n, size_t size) PPROFD__WARN_UNUSED;
/* Grows or shrinks p (which may be NULL); NULL on failure, p untouched. */
void *pprofd__irealloc(void *p, size_t size) PPROFD__WARN_UNUSED;
void pprofd__ifree(void *p);
/* A copy of s (NULL when s is NULL or memory is exhausted). */
char *pprofd__istrdup(const char *s) PPROFD__WARN_UNUSED;
char *pprofd__istrndup(const char *s, size_t n) PPROFD__WARN_UNUSED;
/* Bytes currently held by pprofd through these functions. */
size_t pprofd__ialloc_in_use(void);

#endif
