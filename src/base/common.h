/*
 * common.h - macros every pprofd source file shares.
 *
 * Annotations: PPROFD__SIGSAFE marks a function that may run in a signal
 * handler (its name ends in _sigsafe, and it takes no lock and allocates
 * nothing); PPROFD__WARN_UNUSED marks fallible internal functions whose
 * result must be checked.
 */
#ifndef PPROFD_BASE_COMMON_H
#define PPROFD_BASE_COMMON_H

#include <stddef.h>

#define PPROFD__WARN_UNUSED __attribute__((warn_unused_result))
#define PPROFD__SIGSAFE /* async-signal-safe: no locks, no allocation */
#define PPROFD__UNUSED __attribute__((unused))
#define PPROFD__LIKELY(x) __builtin_expect(!!(x), 1)
#define PPROFD__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PPROFD__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Test seams (STYLE 13): a function pointer a test must be able to replace
 * is declared with PPROFD__SEAM; it is const in release builds and writable
 * when the library is compiled for the unit tests (PPROFD_TEST_BUILD).
 */
#ifdef PPROFD_TEST_BUILD
#define PPROFD__SEAM
#else
#define PPROFD__SEAM const
#endif

#endif
