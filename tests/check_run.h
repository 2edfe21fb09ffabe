/*
 * check_run.h - the one way every Check suite is run: all tests in the
 * default fork mode (a fresh process, hence a fresh pprofd singleton, per
 * test), Check's normal summary on stdout, exit status 0 only when every
 * test passed, and 77 (the automake harness's "skipped") when the feature
 * a suite tests is unavailable in this build or on this host.
 */
#ifndef PPROFD_TESTS_CHECK_RUN_H
#define PPROFD_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs every test of s; EXIT_SUCCESS only when all of them passed. */
static inline int pprofd_check_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The main() of a suite whose feature may be missing: asks unavailable()
 * why it cannot run; when it gives a reason, prints "SKIP: <what>: <why>"
 * and returns 77, otherwise runs the suite that make_suite() builds.
 * stdout is made line-buffered first, so that nothing printed before Check
 * forks a test is printed again by the child. */
static inline int pprofd_check_run_unless(const char *(*unavailable)(void),
                                          const char *what,
                                          Suite *(*make_suite)(void)) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *why = unavailable();
  if (why != NULL) {
    printf("SKIP: %s: %s\n", what, why);
    return 77;
  }
  return pprofd_check_run(make_suite());
}

#endif
