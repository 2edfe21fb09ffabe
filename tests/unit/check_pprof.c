/*
 * check_pprof.c - the profile.proto encoder, on stacks captured from this
 * test program: symbolized locations with names, files and lines, dense
 * IDs, mappings with build-ids, labels, and Go's gzip framing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "capture/unwind.h"
#include "encode/pprof.h"
#include "encode/profile.pb-c.h"
#include "pprofd.h"

#include "../check_proto.h"
#include "../check_run.h"

static int leaf_line, mid_line;

/* Captures the stack of its caller. */
__attribute__((noinline)) static int grab(uint64_t *locs, int max) {
  int n = pprofd__unwind_here(locs, max, 0);
  __asm__ volatile("" ::: "memory");
  return n;
}

/* Captures the stack two frames deep, recording the call lines. */
__attribute__((noinline)) static int leaf_capture(uint64_t *locs, int max) {
  leaf_line = __LINE__ + 1;
  int n = grab(locs, max);
  __asm__ volatile("" ::: "memory"); /* keep the call out of tail position */
  return n;
}

__attribute__((noinline)) static int mid_capture(uint64_t *locs, int max) {
  mid_line = __LINE__ + 1;
  int n = leaf_capture(locs, max);
  __asm__ volatile("" ::: "memory");
  return n;
}

/* Encodes s and decodes it back. */
static PP *roundtrip(const pprofd__snapshot *s, int symbolize) {
  return proto_roundtrip(s, symbolize);
}

static const char *str(const PP *p, int64_t i) { return proto_str(p, i); }

/* The function name of a location's outermost line. */
static const char *loc_func(const PP *p, uint64_t id) {
  const Perftools__Profiles__Location *l = p->location[id - 1];
  ck_assert_uint_gt(l->n_line, 0);
  return str(p, p->function[l->line[l->n_line - 1]->function_id - 1]->name);
}

static const pprofd__vtype heap_types[] = {{"alloc_objects", "count"},
                                           {"alloc_space", "bytes"},
                                           {"inuse_objects", "count"},
                                           {"inuse_space", "bytes"}};

START_TEST(test_symbolized_stacks) {
  uint64_t locs[64];
  int n = mid_capture(locs, 64);
  ck_assert_int_ge(n, 3);
  pprofd__snapshot s;
  pprofd__snap_init(&s);
  pprofd__snap_set_types(&s, heap_types, 4);
  s.period_type = (pprofd__vtype){"space", "bytes"};
  s.period = 524288;
  s.default_type = 1;
  s.duration_nanos = 5;
  int64_t v[4] = {128, 526338, 0, 0};
  pprofd__label lb[2] = {{"bytes", NULL, 4096}, {"thread", "main", 0}};
  ck_assert_ptr_nonnull(pprofd__snap_add(&s, locs, (size_t)n, v, lb, 2));
  ck_assert_ptr_nonnull(
      pprofd__snap_add(&s, locs + 1, (size_t)n - 1, v, NULL, 0));
  PP *p = roundtrip(&s, 1);
  ck_assert_str_eq(p->string_table[0], "");
  ck_assert_uint_eq(p->n_sample_type, 4);
  ck_assert_str_eq(str(p, p->sample_type[3]->type), "inuse_space");
  ck_assert_str_eq(str(p, p->period_type->type), "space");
  ck_assert_int_eq(p->period, 524288);
  ck_assert_str_eq(str(p, p->default_sample_type), "alloc_space");
  ck_assert_int_eq(p->time_nanos, s.time_nanos);
  ck_assert_int_eq(p->duration_nanos, 5);
  ck_assert_uint_eq(p->n_sample, 2);
  /* Locations are shared by address, with dense IDs in first-use order. */
  ck_assert_uint_eq(p->n_location, (size_t)n);
  for (size_t i = 0; i < p->n_location; i++) {
    ck_assert_uint_eq(p->location[i]->id, i + 1);
    ck_assert_uint_eq(p->location[i]->address, locs[i]);
  }
  ck_assert_uint_eq(p->sample[1]->location_id[0], 2);
  for (size_t i = 0; i < p->n_function; i++)
    ck_assert_uint_eq(p->function[i]->id, i + 1);
  for (size_t i = 0; i < p->n_mapping; i++)
    ck_assert_uint_eq(p->mapping[i]->id, i + 1);
  /* Names, files and lines of this file's functions. */
  const Perftools__Profiles__Sample *s0 = p->sample[0];
  ck_assert_str_eq(loc_func(p, s0->location_id[0]), "leaf_capture");
  ck_assert_str_eq(loc_func(p, s0->location_id[1]), "mid_capture");
  ck_assert_str_eq(loc_func(p, s0->location_id[2]),
                   "test_symbolized_stacks_fn");
  const Perftools__Profiles__Location *l0 = p->location[0];
  const Perftools__Profiles__Line *ln = l0->line[l0->n_line - 1];
  ck_assert_int_eq(ln->line, leaf_line);
  const Perftools__Profiles__Function *f = p->function[ln->function_id - 1];
  ck_assert(strstr(str(p, f->filename), "tests/unit/check_pprof.c") != NULL);
  ck_assert_str_eq(str(p, f->system_name), "leaf_capture");
  ck_assert_int_eq(f->start_line, leaf_line - 2);
  const Perftools__Profiles__Location *l1 = p->location[1];
  ck_assert_int_eq(l1->line[l1->n_line - 1]->line, mid_line);
  /* Labels: numeric without unit, and string. */
  ck_assert_uint_eq(s0->n_label, 2);
  ck_assert_str_eq(str(p, s0->label[0]->key), "bytes");
  ck_assert_int_eq(s0->label[0]->num, 4096);
  ck_assert_int_eq(s0->label[0]->str, 0);
  ck_assert_str_eq(str(p, s0->label[1]->str), "main");
  ck_assert_int_eq(s0->value[1], 526338);
  /* mapping[0] is this executable, fully symbolized, with a build-id. */
  const Perftools__Profiles__Mapping *m = p->mapping[0];
  ck_assert(strstr(str(p, m->filename), "check_pprof") != NULL);
  ck_assert_uint_eq(strlen(str(p, m->build_id)), 40);
  ck_assert_uint_eq(l0->mapping_id, 1);
  ck_assert(m->has_functions); /* _start has no DWARF: no has_filenames */
  ck_assert(m->memory_start <= locs[0] && locs[0] < m->memory_limit);
  perftools__profiles__profile__free_unpacked(p, NULL);
  pprofd__snap_free(&s);
}
END_TEST

START_TEST(test_unsymbolized) {
  uint64_t locs[64];
  int n = mid_capture(locs, 64);
  pprofd__snapshot s;
  pprofd__snap_init_count(&s, "things");
  int64_t one = 1;
  pprofd__snap_add(&s, locs, (size_t)n, &one, NULL, 0);
  PP *p = roundtrip(&s, 0);
  ck_assert_uint_eq(p->n_function, 0);
  ck_assert_uint_eq(p->n_location, (size_t)n);
  for (size_t i = 0; i < p->n_location; i++)
    ck_assert_uint_eq(p->location[i]->n_line, 0);
  for (size_t i = 0; i < p->n_mapping; i++)
    ck_assert(!p->mapping[i]->has_functions);
  ck_assert_str_eq(str(p, p->sample_type[0]->type), "things");
  ck_assert_int_eq(p->default_sample_type, 0);
  perftools__profiles__profile__free_unpacked(p, NULL);
  pprofd__snap_free(&s);
}
END_TEST

START_TEST(test_unknown_address) {
  uint64_t locs[] = {0x10, 0x18};
  pprofd__snapshot s;
  pprofd__snap_init_count(&s, "things");
  int64_t one = 1;
  pprofd__snap_add(&s, locs, 2, &one, NULL, 0);
  PP *p = roundtrip(&s, 1);
  ck_assert_uint_eq(p->n_location, 2);
  ck_assert_uint_eq(p->location[0]->n_line, 0);
  ck_assert_uint_eq(p->location[0]->mapping_id, 0);
  ck_assert_uint_eq(p->location[1]->address, 0x18);
  perftools__profiles__profile__free_unpacked(p, NULL);
  pprofd__snap_free(&s);
}
END_TEST

START_TEST(test_many_samples_and_cap) {
  pprofd__snapshot s;
  pprofd__snap_init_count(&s, "things");
  int64_t one = 1;
  for (uint64_t i = 0; i < 20000; i++) {
    uint64_t locs[] = {0x100000 + i * 16, 0x200000 + (i % 7) * 16};
    pprofd__snap_add(&s, locs, 2, &one, NULL, 0);
  }
  PP *p = roundtrip(&s, 1);
  ck_assert_uint_eq(p->n_sample, 20000);
  ck_assert_uint_eq(p->n_location, 20007);
  perftools__profiles__profile__free_unpacked(p, NULL);
  pprofd__buf small;
  pprofd__buf_init(&small, 1024);
  ck_assert_int_eq(pprofd__pprof_encode(&s, 1, &small), PPROFD_ELIMIT);
  pprofd__buf_free(&small);
  pprofd__snap_free(&s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("pprof");
  TCase *tc = tcase_create("encode");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_symbolized_stacks);
  tcase_add_test(tc, test_unsymbolized);
  tcase_add_test(tc, test_unknown_address);
  tcase_add_test(tc, test_many_samples_and_cap);
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
