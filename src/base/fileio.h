/*
 * fileio.h - the little file I/O pprofd does outside HTTP: reading the
 * small /proc files the samplers consult, and writing a finished profile
 * to the application's file descriptor.
 *
 * Threads: any thread outside signal context. No state.
 */
#ifndef PPROFD_BASE_FILEIO_H
#define PPROFD_BASE_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads at most cap - 1 bytes of path into buf and NUL-terminates it;
 * returns the length, or -1 when the file cannot be opened or read. */
ssize_t pprofd__read_small(const char *path, char *buf, size_t cap);
/* The same, with a relative path resolved from directory dirfd (one
 * path walk saved per file when many files share a directory). */
ssize_t pprofd__read_small_at(int dirfd, const char *path, char *buf,
                              size_t cap);

/* Writes all n bytes of p to fd, retrying on EINTR and short writes.
 * 0, or PPROFD_EIO. */
int pprofd__write_all(int fd, const char *p, size_t n);

#endif
