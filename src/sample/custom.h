/*
 * custom.h - custom profiles (pprofd_profile_new), Go's pprof.NewProfile.
 *
 * A custom profile maps application keys to the stack that added them and
 * is served as a count profile "<name>/count". Profiles live until the
 * process exits (as in Go), so a row can point at one without reference
 * counting. Threads: any thread outside signal context; each profile has
 * its own lock, the list has rt.custom.lock (see core/runtime.h).
 */
#ifndef PPROFD_SAMPLE_CUSTOM_H
#define PPROFD_SAMPLE_CUSTOM_H

#include <stddef.h>

#include "core/profiles.h"

/* Fills up to max rows (one per custom profile, unsorted); returns how
 * many custom profiles exist. */
size_t pprofd__custom_rows(pprofd__kind *rows, size_t max);
/* Fills *row for the custom profile `name`; 0 or PPROFD_ENOPROFILE. */
int pprofd__custom_row(const char *name, pprofd__kind *row);

/* Fork hooks (see core/runtime.h): every profile's lock is held across
 * fork(); the caller holds rt.custom.lock, which keeps the list fixed. */
void pprofd__custom_prefork(void);
void pprofd__custom_postfork(void);

#endif
