/*
 * procfs.h - reading the small /proc files the samplers consult.
 *
 * Threads: any thread outside signal context. No state.
 */
#ifndef PPROFD_CORE_PROCFS_H
#define PPROFD_CORE_PROCFS_H

#include <stddef.h>
#include <sys/types.h>

/* Reads at most cap - 1 bytes of path into buf and NUL-terminates it;
 * returns the length, or -1 when the file cannot be opened or read. */
ssize_t pprofd__read_small(const char *path, char *buf, size_t cap);

#endif
