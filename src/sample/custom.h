/*
 * custom.h - custom profiles (pprofd_profile_new), Go's pprof.NewProfile.
 *
 * A custom profile maps application keys to the stack that added them and
 * is served as a count profile "<name>/count". Profiles live until the
 * process exits (as in Go), so a row can point at one without reference
 * counting. Threads: any thread outside signal context; each profile has
 * its own lock, and the list of profiles one lock that ranks above them.
 * The profile table (core/profiles.c) turns each one into a row.
 */
#ifndef PPROFD_SAMPLE_CUSTOM_H
#define PPROFD_SAMPLE_CUSTOM_H

#include <stddef.h>

#include "base/common.h"
#include "model/snapshot.h"
#include "pprofd.h"

/* Creates the profile `name` (letters, digits, '.', '_', '-'; at most 64
 * bytes). The caller has checked that no built-in profile has that name.
 * NULL with *err (when err is not NULL) PPROFD_EINVAL, PPROFD_EEXIST or
 * PPROFD_ENOMEM. */
pprofd_profile *pprofd__custom_create(const char *name, int *err);
/* Stores up to max profiles (newest first) in out; returns how many
 * exist. */
size_t pprofd__custom_list(pprofd_profile **out, size_t max);
/* The profile's name. */
const char *pprofd__custom_name(const pprofd_profile *p);
/* Fills s with p as a count profile, one sample per distinct stack,
 * sorted by count, descending. */
int pprofd__custom_collect(pprofd_profile *p,
                           pprofd__snapshot *s) PPROFD__WARN_UNUSED;

/* Fork hooks (see core/runtime.h): the list's lock, then every
 * profile's, are held across fork(). */
void pprofd__custom_prefork(void);
void pprofd__custom_postfork(void);

#endif
