/*
 * pprof.h - snapshots to gzipped profile.proto (protobuf-c's only home).
 *
 * The encoder follows Go's conventions and the stricter scrapers' rules:
 * string_table[0] is "", mapping/location/function IDs are dense and
 * sequential in array order (Parca rejects anything else), one Location per
 * distinct address with all its inline frames as Lines (innermost first),
 * one Mapping per executable /proc/self/maps entry with the main
 * executable first and GNU build-ids, and has_functions / has_filenames /
 * has_line_numbers / has_inline_frames set on a mapping only when they
 * hold for every location in it.
 *
 * Threads: any request thread; it takes the symbolizer lock while it runs.
 */
#ifndef PPROFD_ENCODE_PPROF_H
#define PPROFD_ENCODE_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "model/snapshot.h"

/* Encodes s as profile.proto and appends it gzipped to out. With
 * symbolize 0, locations carry addresses and mappings only, for clients
 * that symbolize themselves. PPROFD_ENOMEM, PPROFD_ELIMIT, PPROFD_EIO. */
int pprofd__pprof_encode(const pprofd__snapshot *s, int symbolize,
                         pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
