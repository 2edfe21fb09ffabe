/*
 * check_buf.c - unit tests for base/buf.c.
 *
 * Covers growth and NUL termination, the hard cap (exact fit, one byte
 * over, sticky failure, bounded memory), printf into and past the room
 * already allocated, reserve, steal and free, and html escaping checked
 * against outputs of Go's html.EscapeString. Out-of-memory is provoked
 * with impossible sizes, so ASan is told to return NULL for them.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/ialloc.h"
#include "pprofd.h"

#include "../check_run.h"

const char *__asan_default_options(void)
    __attribute__((visibility("default"), used));

/* Lets ASan return NULL for the impossible allocations below; exported
 * despite -fvisibility=hidden so that the ASan runtime can find it. */
const char *__asan_default_options(void) {
  return "allocator_may_return_null=1";
}

/* Appends through the va_list entry point. */
static void vprintf_helper(pprofd__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void vprintf_helper(pprofd__buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pprofd__buf_vprintf(b, fmt, ap);
  va_end(ap);
}

START_TEST(test_init_empty) {
  pprofd__buf b;
  pprofd__buf_init(&b, 100);
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_uint_eq(b.max, 100);
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  pprofd__buf_append(&b, "x", 0);
  ck_assert_ptr_null(b.data);
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  pprofd__buf_free(&b);
  pprofd__buf_free(&b);
  ck_assert_uint_eq(pprofd__ialloc_in_use(), 0);
}
END_TEST

START_TEST(test_append_puts_putc) {
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__buf_append(&b, "ab", 2);
  pprofd__buf_puts(&b, "cde");
  pprofd__buf_putc(&b, 'f');
  pprofd__buf_append(&b, "g\0h", 3);
  ck_assert_uint_eq(b.len, 9);
  ck_assert_mem_eq(b.data, "abcdefg\0h", 10);
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  pprofd__buf_free(&b);
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_uint_eq(b.max, PPROFD__BUF_MAX_DEFAULT);
}
END_TEST

START_TEST(test_growth) {
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  for (int i = 0; i < 100000; i++) {
    pprofd__buf_putc(&b, (char)('a' + i % 26));
    ck_assert_uint_eq(b.data[b.len], '\0');
  }
  ck_assert_uint_eq(b.len, 100000);
  ck_assert_uint_ge(b.cap, b.len + 1);
  for (int i = 0; i < 100000; i++)
    ck_assert_int_eq(b.data[i], 'a' + i % 26);
  ck_assert_uint_eq(strlen(b.data), 100000);
  pprofd__buf_free(&b);
  ck_assert_uint_eq(pprofd__ialloc_in_use(), 0);
}
END_TEST

START_TEST(test_cap_exact_fit) {
  pprofd__buf b;
  pprofd__buf_init(&b, 10);
  pprofd__buf_puts(&b, "0123456789");
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  ck_assert_str_eq(b.data, "0123456789");
  /* Memory never exceeds the cap plus the NUL. */
  ck_assert_uint_le(b.cap, 11);
  pprofd__buf_append(&b, "", 0);
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_cap_exceeded_is_sticky) {
  pprofd__buf b;
  pprofd__buf_init(&b, 10);
  pprofd__buf_puts(&b, "01234");
  pprofd__buf_puts(&b, "567890"); /* 11 bytes: refused whole */
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  ck_assert_uint_eq(b.len, 5);
  ck_assert_mem_eq(b.data, "01234", 5);
  /* Later appends are ignored even when they would fit. */
  pprofd__buf_putc(&b, 'x');
  pprofd__buf_puts(&b, "y");
  pprofd__buf_printf(&b, "%d", 1);
  pprofd__buf_html(&b, "<");
  ck_assert_ptr_null(pprofd__buf_reserve(&b, 1));
  ck_assert_uint_eq(b.len, 5);
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  pprofd__buf_free(&b);
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
}
END_TEST

START_TEST(test_cap_zero) {
  pprofd__buf b;
  pprofd__buf_init(&b, 0);
  pprofd__buf_append(&b, "", 0);
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  pprofd__buf_putc(&b, 'a');
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  ck_assert_ptr_null(b.data);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_huge_append_limit) {
  pprofd__buf b;
  pprofd__buf_init(&b, 100);
  pprofd__buf_puts(&b, "abc");
  /* Sizes that would overflow len + n are a limit error, not a crash. */
  pprofd__buf_append(&b, "x", SIZE_MAX);
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  ck_assert_uint_eq(b.len, 3);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_enomem) {
  pprofd__buf b;
  pprofd__buf_init(&b, SIZE_MAX);
  ck_assert_ptr_null(pprofd__buf_reserve(&b, SIZE_MAX / 4));
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ENOMEM);
  /* The first failure is the one reported. */
  pprofd__buf_putc(&b, 'a');
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ENOMEM);
  pprofd__buf_free(&b);

  pprofd__buf_init(&b, SIZE_MAX);
  ck_assert_ptr_null(pprofd__buf_reserve(&b, SIZE_MAX));
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ENOMEM);
  pprofd__buf_free(&b);
  ck_assert_uint_eq(pprofd__ialloc_in_use(), 0);
}
END_TEST

START_TEST(test_printf) {
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__buf_printf(&b, "%s=%d", "x", 42);
  ck_assert_str_eq(b.data, "x=42");
  vprintf_helper(&b, " %05.1f|%-3s|%c", 3.14159, "a", 'z');
  ck_assert_str_eq(b.data, "x=42 003.1|a  |z");
  pprofd__buf_printf(&b, "%s", "");
  ck_assert_uint_eq(b.len, strlen("x=42 003.1|a  |z"));
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_printf_long) {
  /* Longer than the room already allocated: formatted a second time. */
  char big[10001];
  memset(big, 'q', 10000);
  big[10000] = '\0';
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__buf_puts(&b, "head:");
  pprofd__buf_printf(&b, "[%s]%d", big, 7);
  ck_assert_uint_eq(b.len, 5 + 1 + 10000 + 2);
  ck_assert_mem_eq(b.data, "head:[qqq", 9);
  ck_assert_str_eq(b.data + b.len - 3, "q]7");
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_printf_room_boundary) {
  /* Output lengths around the exact room left in the block. */
  for (size_t fill = 250; fill < 258; fill++) {
    for (int extra = 0; extra < 4; extra++) {
      pprofd__buf b;
      pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
      for (size_t i = 0; i < fill; i++)
        pprofd__buf_putc(&b, '.');
      pprofd__buf_printf(&b, "%0*d", extra + 1, 5);
      ck_assert_int_eq(pprofd__buf_failed(&b), 0);
      ck_assert_uint_eq(b.len, fill + (size_t)extra + 1);
      ck_assert_int_eq(b.data[b.len - 1], '5');
      ck_assert_int_eq(b.data[b.len], '\0');
      pprofd__buf_free(&b);
    }
  }
}
END_TEST

START_TEST(test_printf_over_cap) {
  pprofd__buf b;
  pprofd__buf_init(&b, 8);
  pprofd__buf_puts(&b, "abc");
  pprofd__buf_printf(&b, "%s", "defgh");
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  ck_assert_str_eq(b.data, "abcdefgh");
  pprofd__buf_free(&b);

  pprofd__buf_init(&b, 8);
  pprofd__buf_puts(&b, "abc");
  pprofd__buf_printf(&b, "%s", "defghi");
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  ck_assert_uint_eq(b.len, 3);
  ck_assert_mem_eq(b.data, "abc", 4);
  pprofd__buf_free(&b);

  /* The same near the cap, where the block is capped at max + 1. */
  pprofd__buf_init(&b, 300);
  for (int i = 0; i < 280; i++)
    pprofd__buf_putc(&b, 'x');
  ck_assert_uint_ge(b.cap, 300);
  pprofd__buf_printf(&b, "%030d", 1);
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  ck_assert_uint_eq(b.len, 280);
  ck_assert_int_eq(b.data[280], '\0');
  pprofd__buf_free(&b);
}
END_TEST

static const struct {
  const char *in;
  const char *want;
} html_cases[] = {
    {"", ""},
    {"abc", "abc"},
    {"&", "&amp;"},
    {"<", "&lt;"},
    {">", "&gt;"},
    {"\"", "&#34;"},
    {"'", "&#39;"},
    {"<script>alert(\"xss\")</script>&'", "&lt;script&gt;alert(&#34;xss&#34;)"
                                          "&lt;/script&gt;&amp;&#39;"},
    {"a&&b<<c>>d\"\"e''f", "a&amp;&amp;b&lt;&lt;c&gt;&gt;d&#34"
                           ";&#34;e&#39;&#39;f"},
    {"h\303\251llo w\303\266rld \342\230"
     "\272",
     "h\303\251llo w\303\266rld \342\230"
     "\272"},
    {"&amp;", "&amp;amp;"},
    {"\t\n"
     "\015",
     "\t\n"
     "\015"},
    {"x'y\"z", "x&#39;y&#34;z"},
    {"no specials at all here", "no specials at all here"},
};

START_TEST(test_html) {
  const char *in = html_cases[_i].in;
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__buf_puts(&b, "[");
  pprofd__buf_html(&b, in);
  pprofd__buf_puts(&b, "]");
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  ck_assert_uint_eq(b.len, strlen(html_cases[_i].want) + 2);
  ck_assert_mem_eq(b.data + 1, html_cases[_i].want, b.len - 2);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_html_over_cap) {
  pprofd__buf b;
  pprofd__buf_init(&b, 6);
  pprofd__buf_html(&b, "a<b"); /* "a&lt;b" is exactly 6 bytes */
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  ck_assert_str_eq(b.data, "a&lt;b");
  pprofd__buf_free(&b);
  pprofd__buf_init(&b, 6);
  pprofd__buf_html(&b, "a<b'");
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_reserve) {
  pprofd__buf b;
  pprofd__buf_init(&b, 20);
  pprofd__buf_puts(&b, "ab");
  char *p = pprofd__buf_reserve(&b, 10);
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_eq(p, b.data + 2);
  ck_assert_uint_eq(b.len, 2);
  memcpy(p, "xyz", 3); /* fewer bytes than reserved */
  b.len += 3;
  ck_assert_str_eq(b.data, "abxyz");
  p = pprofd__buf_reserve(&b, 0);
  ck_assert_ptr_eq(p, b.data + 5);
  p = pprofd__buf_reserve(&b, 15);
  ck_assert_ptr_nonnull(p);
  memcpy(p, "0123456789abcde", 15);
  b.len += 15;
  ck_assert_str_eq(b.data, "abxyz0123456789abcde");
  ck_assert_ptr_null(pprofd__buf_reserve(&b, 1));
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_steal) {
  pprofd__buf b;
  size_t len = 99;
  pprofd__buf_init(&b, 100);
  pprofd__buf_puts(&b, "hello");
  char *p = pprofd__buf_steal(&b, &len);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(len, 5);
  ck_assert_str_eq(p, "hello");
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_uint_eq(b.max, 100);
  pprofd__ifree(p);

  /* The buffer is usable again, and an empty one yields "". */
  pprofd__buf_puts(&b, "again");
  ck_assert_str_eq(b.data, "again");
  pprofd__buf_free(&b);
  p = pprofd__buf_steal(&b, &len);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(len, 0);
  ck_assert_str_eq(p, "");
  pprofd__ifree(p);
  p = pprofd__buf_steal(&b, NULL);
  ck_assert_ptr_nonnull(p);
  pprofd__ifree(p);
  ck_assert_uint_eq(pprofd__ialloc_in_use(), 0);
}
END_TEST

START_TEST(test_steal_failed) {
  pprofd__buf b;
  size_t len = 99;
  pprofd__buf_init(&b, 4);
  pprofd__buf_puts(&b, "abc");
  pprofd__buf_puts(&b, "de");
  ck_assert_ptr_null(pprofd__buf_steal(&b, &len));
  ck_assert_uint_eq(len, 0);
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  ck_assert_ptr_null(b.data);
  pprofd__buf_free(&b);
  ck_assert_uint_eq(pprofd__ialloc_in_use(), 0);
}
END_TEST

static Suite *buf_suite(void) {
  Suite *s = suite_create("buf");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_init_empty);
  tcase_add_test(tc, test_append_puts_putc);
  tcase_add_test(tc, test_growth);
  tcase_add_test(tc, test_cap_exact_fit);
  tcase_add_test(tc, test_cap_exceeded_is_sticky);
  tcase_add_test(tc, test_cap_zero);
  tcase_add_test(tc, test_huge_append_limit);
  tcase_add_test(tc, test_enomem);
  tcase_add_test(tc, test_printf);
  tcase_add_test(tc, test_printf_long);
  tcase_add_test(tc, test_printf_room_boundary);
  tcase_add_test(tc, test_printf_over_cap);
  tcase_add_loop_test(tc, test_html, 0, (int)PPROFD__ARRAY_SIZE(html_cases));
  tcase_add_test(tc, test_html_over_cap);
  tcase_add_test(tc, test_reserve);
  tcase_add_test(tc, test_steal);
  tcase_add_test(tc, test_steal_failed);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(buf_suite()); }
