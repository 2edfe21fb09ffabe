/*
 * check_run.h - the one way every Check suite is run: all tests in the
 * default fork mode (a fresh process, hence a fresh pprofd singleton, per
 * test), Check's normal summary on stdout, exit status 0 only when every
 * test passed.
 */
#ifndef PPROFD_TESTS_CHECK_RUN_H
#define PPROFD_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int pprofd_check_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
