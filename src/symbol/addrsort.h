/*
 * addrsort.h - arrays of records keyed by a code address: sorted in place
 * and searched by address.
 *
 * Owns nothing: the caller's array holds records of one size whose first
 * member is a uint64_t address (a symbol's start, a function range's low
 * end, a mapping's start). The sort is a heap sort, which allocates
 * nothing (qsort may call malloc), and is not stable: records that must
 * keep an order among equal addresses say so through their `less`.
 *
 * Threads: pure functions over the caller's memory; any thread outside
 * signal context.
 */
#ifndef PPROFD_SYMBOL_ADDRSORT_H
#define PPROFD_SYMBOL_ADDRSORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* Orders records: nonzero when a sorts before b. */
typedef int (*pprofd__addrsort_less)(const void *a, const void *b);

/* Sorts the n records of `size` bytes at v by `less`, in place, without
 * allocating. */
void pprofd__addrsort_sort(void *v, size_t n, size_t size,
                           pprofd__addrsort_less less);
/* In the n records of `size` bytes at v, sorted by address, the number of
 * leading records whose address is at most addr: the one holding addr, if
 * any, is at most that index minus one. O(log n). */
size_t pprofd__addrsort_upto(const void *v, size_t n, size_t size,
                             uint64_t addr);

#endif
