/*
 * check_custom.c - custom profiles (pprofd_profile_*) and the file API
 * (pprofd_write_profile) that writes any profile kind to a descriptor.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprofd.h"
#include "sample/contention.h"

#include "../check_run.h"

START_TEST(test_names) {
  int err;
  ck_assert_ptr_null(pprofd_profile_new("heap", &err));
  ck_assert_int_eq(err, PPROFD_EINVAL);
  ck_assert_ptr_null(pprofd_profile_new("symbol", &err));
  ck_assert_ptr_null(pprofd_profile_new("", &err));
  ck_assert_ptr_null(pprofd_profile_new("a/b", &err));
  ck_assert_ptr_null(pprofd_profile_new("has space", &err));
  char longname[80];
  memset(longname, 'a', 79);
  longname[79] = '\0';
  ck_assert_ptr_null(pprofd_profile_new(longname, &err));
  pprofd_profile *p = pprofd_profile_new("my.conns-1_x", &err);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(err, 0);
  ck_assert_ptr_null(pprofd_profile_new("my.conns-1_x", &err));
  ck_assert_int_eq(err, PPROFD_EEXIST);
  ck_assert_ptr_eq(pprofd_profile_lookup("my.conns-1_x"), p);
  ck_assert_ptr_null(pprofd_profile_lookup("nope"));
}
END_TEST

START_TEST(test_add_remove) {
  pprofd_profile *p = pprofd_profile_new("keys", NULL);
  static char keys[5000];
  for (int i = 0; i < 5000; i++)
    ck_assert_int_eq(pprofd_profile_add(p, &keys[i], 0), 0);
  ck_assert_uint_eq(pprofd_profile_count(p), 5000);
  ck_assert_int_eq(pprofd_profile_add(p, &keys[7], 0), PPROFD_EEXIST);
  for (int i = 0; i < 5000; i += 2)
    ck_assert_int_eq(pprofd_profile_remove(p, &keys[i]), 0);
  ck_assert_int_eq(pprofd_profile_remove(p, &keys[0]), PPROFD_ENOTFOUND);
  ck_assert_uint_eq(pprofd_profile_count(p), 2500);
  /* Re-adding after removal reuses tombstones correctly. */
  for (int i = 0; i < 5000; i += 2)
    ck_assert_int_eq(pprofd_profile_add(p, &keys[i], 0), 0);
  ck_assert_uint_eq(pprofd_profile_count(p), 5000);
  ck_assert_int_eq(pprofd_profile_add(NULL, keys, 0), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_profile_add(p, NULL, 0), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_profile_add(p, keys, -1), PPROFD_EINVAL);
}
END_TEST

/* Reads everything written to a temporary file. */
static char *write_to_string(const char *name, int debug, int *err,
                             size_t *len) {
  FILE *f = tmpfile();
  *err = pprofd_write_profile(name, fileno(f), debug);
  long n = ftell(f) >= 0 ? lseek(fileno(f), 0, SEEK_END) : 0;
  char *b = calloc(1, (size_t)n + 1);
  ck_assert_int_eq(pread(fileno(f), b, (size_t)n, 0), n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

__attribute__((noinline)) static void open_conn(pprofd_profile *p, void *k) {
  ck_assert_int_eq(pprofd_profile_add(p, k, 0), 0);
}

START_TEST(test_write_profile) {
  pprofd_profile *p = pprofd_profile_new("conns", NULL);
  static char k[3];
  for (volatile int i = 0; i < 3; i++) /* one call site: not unrolled */
    open_conn(p, &k[i]);
  int err;
  size_t len;
  char *t = write_to_string("conns", 1, &err, &len);
  ck_assert_int_eq(err, 0);
  ck_assert_msg(strncmp(t, "conns profile: total 3\n3 @ 0x", 29) == 0, "%s", t);
  ck_assert_ptr_nonnull(strstr(t, "\topen_conn+0x"));
  free(t);
  t = write_to_string("conns", 0, &err, &len);
  ck_assert_int_eq(err, 0);
  ck_assert(len > 20 && (unsigned char)t[0] == 0x1f &&
            (unsigned char)t[1] == 0x8b);
  free(t);
  t = write_to_string("nosuch", 0, &err, &len);
  ck_assert_int_eq(err, PPROFD_ENOPROFILE);
  ck_assert_uint_eq(len, 0);
  free(t);
  /* block is unavailable only where pprofd does not interpose. */
  t = write_to_string("block", 0, &err, &len);
  if (pprofd__contention_unavailable() != NULL) {
    ck_assert_int_eq(err, PPROFD_EUNAVAILABLE);
  } else {
    ck_assert_int_eq(err, 0);
    ck_assert(len > 20 && (unsigned char)t[0] == 0x1f);
  }
  free(t);
  t = write_to_string("cmdline", 0, &err, &len);
  ck_assert_int_eq(err, 0);
  ck_assert_ptr_nonnull(strstr(t, "check_custom"));
  ck_assert(t[len - 1] != '\0');
  free(t);
  ck_assert_int_eq(pprofd_write_profile("conns", -1, 0), PPROFD_EINVAL);
  ck_assert_int_eq(pprofd_write_profile("conns", 1000, 0), PPROFD_EIO);
}
END_TEST

int main(void) {
  Suite *s = suite_create("custom");
  TCase *tc = tcase_create("profiles");
  tcase_add_test(tc, test_names);
  tcase_add_test(tc, test_add_remove);
  tcase_add_test(tc, test_write_profile);
  suite_add_tcase(s, tc);
  return pprofd_check_run(s);
}
