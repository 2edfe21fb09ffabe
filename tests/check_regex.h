/*
 * check_regex.h - regular expressions in assertions, for every test: one
 * helper, one argument order (the text first, then the pattern).
 */
#ifndef PPROFD_TESTS_CHECK_REGEX_H
#define PPROFD_TESTS_CHECK_REGEX_H

#include <check.h>
#include <regex.h>

/* Whether s matches the POSIX extended regular expression re. Matching is
 * line by line (REG_NEWLINE): ^ and $ also match at each newline in s,
 * and . never matches a newline. A pattern that does not compile fails
 * the test. */
static inline int matches(const char *s, const char *re) {
  regex_t rx;
  ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
  int ok = regexec(&rx, s, 0, NULL, 0) == 0;
  regfree(&rx);
  return ok;
}

#endif
