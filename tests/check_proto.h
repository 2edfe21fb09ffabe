/*
 * check_proto.h - decoding what the encoder wrote, for the unit tests:
 * a snapshot is encoded, its gzip framing checked against Go's (magic,
 * deflate, mtime 0, XFL 4, OS 255), gunzipped and unpacked with the
 * generated protobuf-c code.
 */
#ifndef PPROFD_TESTS_CHECK_PROTO_H
#define PPROFD_TESTS_CHECK_PROTO_H

#include <check.h>

#include "encode/pprof.h"
#include "encode/profile.pb-c.h"

#include "check_gunzip.h"

typedef Perftools__Profiles__Profile PP;

/* Encodes s (symbolized or not) and decodes it back; fails the test on
 * any error. Free the result with perftools__profiles__profile__free_unpacked.
 */
static inline PP *proto_roundtrip(const pprofd__snapshot *s, int symbolize) {
  pprofd__buf out, raw;
  pprofd__buf_init(&out, 64 << 20);
  pprofd__buf_init(&raw, 64 << 20);
  ck_assert_int_eq(pprofd__pprof_encode(s, symbolize, &out), 0);
  ck_assert_uint_ge(out.len, 18);
  const unsigned char *g = (const unsigned char *)out.data;
  ck_assert(g[0] == 0x1f && g[1] == 0x8b && g[2] == 8 && g[3] == 0);
  ck_assert(g[4] == 0 && g[5] == 0 && g[6] == 0 && g[7] == 0);
  ck_assert_uint_eq(g[8], 4);
  ck_assert_uint_eq(g[9], 255);
  ck_assert_int_eq(check_gunzip(out.data, out.len, &raw), 0);
  PP *p = perftools__profiles__profile__unpack(NULL, raw.len,
                                               (const uint8_t *)raw.data);
  ck_assert_ptr_nonnull(p);
  pprofd__buf_free(&out);
  pprofd__buf_free(&raw);
  return p;
}

/* String table entry i, failing the test when out of range. */
static inline const char *proto_str(const PP *p, int64_t i) {
  ck_assert(i >= 0 && (size_t)i < p->n_string_table);
  return p->string_table[i];
}

#endif
