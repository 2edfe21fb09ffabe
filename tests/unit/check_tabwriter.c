/*
 * check_tabwriter.c - unit tests for encode/tabwriter.c.
 *
 * The table holds every input of Go's text/tabwriter tests (tabwriter_test
 * .go) plus pprof-shaped text, UTF-8 (valid and malformed), Escape
 * segments, '\v' and '\f', and ragged and pyramid blocks. The expected
 * bytes were produced by Go 1.19's tabwriter.NewWriter(w, 1, 8, 1, '\t',
 * 0) and hard-coded. As in Go's check(), each input is also written byte
 * by byte and in Fibonacci-sized slices, and one writer is reused across
 * flushes. Further tests cover eager flushing, deep column nesting, the
 * output cap and printf.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/ialloc.h"
#include "encode/tabwriter.h"
#include "pprofd.h"

#include "../check_run.h"

/* A Go-generated case; sizeof gives lengths since inputs contain no
 * NUL. */
#define CASE(src, want)                                                        \
  { src, sizeof(src) - 1, want, sizeof(want) - 1 }

static const struct {
  const char *src;
  size_t src_len;
  const char *want;
  size_t want_len;
} cases[] = {
    CASE("", ""),
    CASE("\377\377", "\377\377"),
    CASE("\377\t\377", "\377\t\377"),
    CASE("\377\"foo\t\n"
         "\tbar\"\377",
         "\377\"foo\t\n"
         "\tbar\"\377"),
    CASE("abc\377\tdef", "abc\377\tdef"),
    CASE("\n"
         "\n"
         "\n",
         "\n"
         "\n"
         "\n"),
    CASE("a\n"
         "b\n"
         "c",
         "a\n"
         "b\n"
         "c"),
    CASE("\t", ""),
    CASE("*\t*", "*\t*"),
    CASE("*\t*\n", "*\t*\n"),
    CASE("*\t*\t", "*\t*"),
    CASE("\t\n", "\t\n"),
    CASE("a) foo", "a) foo"),
    CASE("b) foo\tbar", "b) foo\tbar"),
    CASE("c) foo\tbar\t", "c) foo\tbar"),
    CASE("d) foo\tbar\n", "d) foo\tbar\n"),
    CASE("e) foo\tbar\t\n", "e) foo\tbar\t\n"),
    CASE("f) f&lt;o\t<b>bar</b>\t\n", "f) f&lt;o\t<b>bar</b>\t\n"),
    CASE("g) f&lt;o\t<b>bar</b>\t non-terminated entity &amp",
         "g) f&lt;o\t<b>bar</b>\t non-terminated entity &amp"),
    CASE("Hello, world!\n", "Hello, world!\n"),
    CASE("1\t2\t3\t4\n"
         "11\t222\t3333\t44444\n",
         "1\t2\t3\t4\n"
         "11\t222\t3333\t44444\n"),
    CASE("1\t2<!---\014--->\t3\t4\n"
         "11\t222\t3333\t44444\n",
         "1\t2<!---\n"
         "--->\t3\t4\n"
         "11\t222\t3333\t44444\n"),
    CASE("1\t2\t3\t4\01411\t222\t3333\t44444\n", "1\t2\t3\t4\n"
                                                 "11\t222\t3333\t44444\n"),
    CASE("1\t2\t3\t4\n", "1\t2\t3\t4\n"),
    CASE("1\t2\t3\t4\t\n", "1\t2\t3\t4\t\n"),
    CASE("\346\234\254\tb\tc\n"
         "aa\t\346\234\254\346\234\254\346\234\254\tcccc\tddddd\n"
         "aaa\tbbbb\n",
         "\346\234\254\tb\tc\n"
         "aa\t\346\234\254\346\234\254\346\234\254\tcccc\tddddd\n"
         "aaa\tbbbb\n"),
    CASE("a\t\303\250\tc\t\n"
         "aa\t\303\250\303\250\303\250\tcccc\tddddd\t\n"
         "aaa\t\303\250\303\250\303\250\303\250\t\n",
         "a\t\303\250\tc\t\n"
         "aa\t\303\250\303\250\303\250\tcccc\tddddd\t\n"
         "aaa\t\303\250\303\250\303\250\303\250\t\n"),
    CASE("a\tb\tc\n"
         "aa\tbbb\tcccc\n"
         "aaa\tbbbb\n",
         "a\tb\tc\n"
         "aa\tbbb\tcccc\n"
         "aaa\tbbbb\n"),
    CASE("4444\t\346\227\245\346\234\254\350\252\236\t22\t1\t333\n"
         "999999999\t22\n"
         "7\t22\n"
         "\t\t\t88888888\n"
         "\n"
         "666666\t666666\t666666\t4444\n"
         "1\t1\t999999999\t0000000000\n",
         "4444\t\t\346\227\245\346\234\254\350\252\236\t22\t1\t333\n"
         "999999999\t22\n"
         "7\t\t22\n"
         "\t\t\t\t88888888\n"
         "\n"
         "666666\t666666\t666666\t\t4444\n"
         "1\t1\t999999999\t0000000000\n"),
    CASE("4444\t333\t22\t1\t333\n"
         "999999999\t22\n"
         "7\t22\n"
         "\t\t\t88888888\n"
         "\n"
         "666666\t666666\t666666\t4444\n"
         "1\t1\t999999999\t0000000000\n",
         "4444\t\t333\t22\t1\t333\n"
         "999999999\t22\n"
         "7\t\t22\n"
         "\t\t\t\t88888888\n"
         "\n"
         "666666\t666666\t666666\t\t4444\n"
         "1\t1\t999999999\t0000000000\n"),
    CASE("4444\t333\t22\t1\t333\n"
         "999999999\t22\n"
         "7\t22\n"
         "\t\t\t88888888\n"
         "\n"
         "666666\t666666\t666666\t4444\n"
         "1\t1\t<font color=red attr=\346\227\245\346\234\254\350\252\236>"
         "999999999</font>\t0000000000\n",
         "4444\t\t333\t22\t1\t333\n"
         "999999999\t22\n"
         "7\t\t22\n"
         "\t\t\t\t88888888\n"
         "\n"
         "666666\t666666\t666666\t\t\t\t\t\t4444\n"
         "1\t1\t<font color=red attr=\346\227\245\346\234\254\350\252\236>"
         "999999999</font>\t0000000000\n"),
    CASE(".0\t.3\t2.4\t-5.1\t\n"
         "23.0\t12345678.9\t2.4\t-989.4\t\n"
         "5.1\t12.0\t2.4\t-7.0\t\n"
         ".0\t0.0\t332.0\t8908.0\t\n"
         ".0\t-.3\t456.4\t22.1\t\n"
         ".0\t1.2\t44.4\t-13.3\t\t",
         ".0\t.3\t\t2.4\t-5.1\t\n"
         "23.0\t12345678.9\t2.4\t-989.4\t\n"
         "5.1\t12.0\t\t2.4\t-7.0\t\n"
         ".0\t0.0\t\t332.0\t8908.0\t\n"
         ".0\t-.3\t\t456.4\t22.1\t\n"
         ".0\t1.2\t\t44.4\t-13.3\t"),
    CASE("a\t\tb", "a\t\tb"),
    CASE("a\013\013b", "a\t\tb"),
    CASE("a\tb\t\td\n"
         "a\tb\t\td\te\n"
         "a\n"
         "a\tb\tc\td\n"
         "a\tb\tc\td\te\n",
         "a\tb\t\td\n"
         "a\tb\t\td\te\n"
         "a\n"
         "a\tb\tc\td\n"
         "a\tb\tc\td\te\n"),
    CASE("a\013b\013\013d\n"
         "a\013b\013\013d\013e\n"
         "a\n"
         "a\013b\013c\013d\n"
         "a\013b\013c\013d\013e\n",
         "a\tb\t\td\n"
         "a\tb\t\td\te\n"
         "a\n"
         "a\tb\tc\td\n"
         "a\tb\tc\td\te\n"),
    CASE("#\t0x6939c7\tmain.alloc+0x87\t/src/demo/main.go:19\n"
         "#\t0x693969\tmain.main.func4+0x29\t/src/demo/main.go:61\n",
         "#\t0x6939c7\tmain.alloc+0x87\t\t/src/demo/main.go:19\n"
         "#\t0x693969\tmain.main.func4+0x29\t/src/demo/main.go:61\n"),
    CASE("heap profile: 3: 3145728 [3: 3145728] @ heap/1048576\n"
         "1: 1048576 [1: 1048576] @ 0x6939c7 0x693969 0x466f81\n"
         "#\t0x6939c7\tmain.alloc+0x87\t/src/demo/main.go:19\n"
         "#\t0x693969\tmain.main.func4+0x29\t/src/demo/main.go:61\n"
         "\n"
         "2: 2097152 [2: 2097152] @ 0x693a47 0x466f81\n"
         "#\t0x693a46\tmain.leak+0x26\t/src/demo/main.go:33\n"
         "\n"
         "# runtime.MemStats\n"
         "# Alloc = 3170000\n",
         "heap profile: 3: 3145728 [3: 3145728] @ heap/1048576\n"
         "1: 1048576 [1: 1048576] @ 0x6939c7 0x693969 0x466f81\n"
         "#\t0x6939c7\tmain.alloc+0x87\t\t/src/demo/main.go:19\n"
         "#\t0x693969\tmain.main.func4+0x29\t/src/demo/main.go:61\n"
         "\n"
         "2: 2097152 [2: 2097152] @ 0x693a47 0x466f81\n"
         "#\t0x693a46\tmain.leak+0x26\t/src/demo/main.go:33\n"
         "\n"
         "# runtime.MemStats\n"
         "# Alloc = 3170000\n"),
    CASE("1 @ 0x43a1f6 0x4066bc 0x406138 0x6d3d3c 0x46a0e1\n"
         "#\t0x6d3d3b\tnet/http.(*Server).Serve+0x2fb\t/usr/lib/go/src/net"
         "/http/server.go:3089\n"
         "#\t0x46a0e0\truntime.goexit+0x0\t\t\t/usr/lib/go/src/runtime/asm"
         "_amd64.s:1594\n",
         "1 @ 0x43a1f6 0x4066bc 0x406138 0x6d3d3c 0x46a0e1\n"
         "#\t0x6d3d3b\tnet/http.(*Server).Serve+0x2fb\t/usr/lib/go/src/net"
         "/http/server.go:3089\n"
         "#\t0x46a0e0\truntime.goexit+0x0\t\t\t\t/usr/lib/go/src/runtime/a"
         "sm_amd64.s:1594\n"),
    CASE("1234567\tx\n"
         "12345678\tx\n"
         "123456789012345\tx\n"
         "1234567890123456\tx\n",
         "1234567\t\t\tx\n"
         "12345678\t\tx\n"
         "123456789012345\t\tx\n"
         "1234567890123456\tx\n"),
    CASE("\t\tx\n"
         "\ty\n"
         "\n"
         "\ta\tb\n",
         "\t\tx\n"
         "\ty\n"
         "\n"
         "\ta\tb\n"),
    CASE("a\tb\tc", "a\tb\tc"),
    CASE("a\tb\t", "a\tb"),
    CASE("a\t\n", "a\t\n"),
    CASE("\303\251\tx\n"
         "\346\227\245\346\234\254\350\252\236\ty\n"
         "abcdefgh\303\251\tz\n",
         "\303\251\t\tx\n"
         "\346\227\245\346\234\254\350\252\236\t\ty\n"
         "abcdefgh\303\251\tz\n"),
    CASE("\342\202\tx\n"
         "\300\257\ty\n"
         "\355\240\200\tz\n"
         "\364\220\200\200\tw\n"
         "\360\237\230\200\tv\n"
         "\377\376\375\tu\n",
         "\342\202\tx\n"
         "\300\257\ty\n"
         "\355\240\200\tz\n"
         "\364\220\200\200\tw\n"
         "\360\237\230\200\tv\n"
         "\377\376\375\tu\n"),
    CASE("abcdefg\342\tx\n"
         "abcdefg\342\202\tx\n"
         "abcdefg\342\202\254\tx\n",
         "abcdefg\342\tx\n"
         "abcdefg\342\202\tx\n"
         "abcdefg\342\202\254\tx\n"),
    CASE("abcdef\340\200\200\tx\n"
         "a\tx\n",
         "abcdef\340\200\200\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\340\240\200\tx\n"
         "a\tx\n",
         "abcdef\340\240\200\tx\n"
         "a\tx\n"),
    CASE("abcdef\355\237\277\tx\n"
         "a\tx\n",
         "abcdef\355\237\277\tx\n"
         "a\tx\n"),
    CASE("abcdef\355\240\200\tx\n"
         "a\tx\n",
         "abcdef\355\240\200\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\357\277\277\tx\n"
         "a\tx\n",
         "abcdef\357\277\277\tx\n"
         "a\tx\n"),
    CASE("abcdef\341\200\177\tx\n"
         "a\tx\n",
         "abcdef\341\200\177\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\360\217\277\277\tx\n"
         "a\tx\n",
         "abcdef\360\217\277\277\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\360\220\200\200\tx\n"
         "a\tx\n",
         "abcdef\360\220\200\200\tx\n"
         "a\tx\n"),
    CASE("abcdef\364\217\277\277\tx\n"
         "a\tx\n",
         "abcdef\364\217\277\277\tx\n"
         "a\tx\n"),
    CASE("abcdef\364\220\200\200\tx\n"
         "a\tx\n",
         "abcdef\364\220\200\200\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\361\200\200\300\tx\n"
         "a\tx\n",
         "abcdef\361\200\200\300\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\365\200\200\200\tx\n"
         "a\tx\n",
         "abcdef\365\200\200\200\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\301\277\tx\n"
         "a\tx\n",
         "abcdef\301\277\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\302\200\tx\n"
         "a\tx\n",
         "abcdef\302\200\tx\n"
         "a\tx\n"),
    CASE("abcdef\337\300\tx\n"
         "a\tx\n",
         "abcdef\337\300\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\200\tx\n"
         "a\tx\n",
         "abcdef\200\tx\n"
         "a\tx\n"),
    CASE("abcdef\342\202\tx\n"
         "a\tx\n",
         "abcdef\342\202\tx\n"
         "a\t\tx\n"),
    CASE("abcdef\360\237\230\tx\n"
         "a\tx\n",
         "abcdef\360\237\230\tx\n"
         "a\t\tx\n"),
    CASE("a\377b\tc\377\td\n", "a\377b\tc\377\td\n"),
    CASE("abcde\377\377\tx\n"
         "a\tx\n",
         "abcde\377\377\tx\n"
         "a\tx\n"),
    CASE("abcde\377\t\377\tx\n"
         "a\tb\tc\n",
         "abcde\377\t\377\tx\n"
         "a\tb\tc\n"),
    CASE("abcdefg\377\tx", "abcdefg\377\tx"),
    CASE("abcdefghi\377\n"
         "y\tx\n",
         "abcdefghi\377\n"
         "y\tx\n"),
    CASE("abcdefg\377\377\tx\n"
         "a\tx\n",
         "abcdefg\377\377\tx\n"
         "a\tx\n"),
    CASE("abcdef\377X\377\tx\n"
         "a\tx\n",
         "abcdef\377X\377\tx\n"
         "a\tx\n"),
    CASE("abcdef\377\t\n"
         "\377\tx\n"
         "a\tx\n",
         "abcdef\377\t\n"
         "\377\tx\n"
         "a\t\tx\n"),
    CASE("\377abcdefgh\377\tx\n"
         "\377\377\tyy\n",
         "\377abcdefgh\377\tx\n"
         "\377\377\t\tyy\n"),
    CASE("\377\377\tx\n"
         "abcdefgh\tx\n",
         "\377\377\t\tx\n"
         "abcdefgh\tx\n"),
    CASE("ab\377\tcd\n"
         "\te\n",
         "ab\377\tcd\n"
         "\te\n"),
    CASE("\377", "\377"),
    CASE("x\377\t\n"
         "\t\377yyyyyyyyy\tz\n",
         "x\377\t\n"
         "\t\377yyyyyyyyy\tz\n"),
    CASE("a\013b\013c\n", "a\tb\tc\n"),
    CASE("aaaa\013bbbbbbbbbb\tc\n"
         "d\013e\013f\n",
         "aaaa\tbbbbbbbbbb\tc\n"
         "d\te\t\tf\n"),
    CASE("aaaa\014b\tc\n", "aaaa\n"
                           "b\tc\n"),
    CASE("a\tb\014cc\td\n", "a\tb\n"
                            "cc\td\n"),
    CASE("aaaaaaaaaaa\tb\014c\td\n"
         "\014\014",
         "aaaaaaaaaaa\tb\n"
         "c\td\n"
         "\n"
         "\n"),
    CASE("\014", "\n"),
    CASE("\n", "\n"),
    CASE("x", "x"),
    CASE("a\t\n"
         "\t\t\n"
         "\t\t\t\n"
         "b\tc\td\te\n",
         "a\t\n"
         "\t\t\n"
         "\t\t\t\n"
         "b\tc\td\te\n"),
    CASE("a\tb\tc\td\t\n"
         "a\tb\t\n"
         "a\tb\tc\td\t\n",
         "a\tb\tc\td\t\n"
         "a\tb\t\n"
         "a\tb\tc\td\t\n"),
    CASE("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\tb\n"
         "c\td\n",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\tb\n"
         "c\t\t\t\t\t\td\n"),
    CASE("\n"
         "ab\t\n"
         "ab\tab\t\n"
         "ab\tab\tab\t\n"
         "ab\tab\tab\tab\t\n"
         "ab\tab\tab\tab\tab\t\n"
         "abcdefghi\tabcdefghi\tabcdefghi\tabcdefghi\tabcdefghi\tz\n"
         "abcdefghi\tabcdefghi\tabcdefghi\tabcdefghi\tz\n"
         "abcdefghi\tabcdefghi\tabcdefghi\tz\n"
         "abcdefghi\tabcdefghi\tz\n"
         "abcdefghi\tz\n"
         "z\n",
         "\n"
         "ab\t\t\n"
         "ab\t\tab\t\t\n"
         "ab\t\tab\t\tab\t\t\n"
         "ab\t\tab\t\tab\t\tab\t\t\n"
         "ab\t\tab\t\tab\t\tab\t\tab\t\t\n"
         "abcdefghi\tabcdefghi\tabcdefghi\tabcdefghi\tabcdefghi\tz\n"
         "abcdefghi\tabcdefghi\tabcdefghi\tabcdefghi\tz\n"
         "abcdefghi\tabcdefghi\tabcdefghi\tz\n"
         "abcdefghi\tabcdefghi\tz\n"
         "abcdefghi\tz\n"
         "z\n"),
    CASE("\t\t\t\t\t\t\n"
         "x\tx\t\n"
         "xx\txx\txx\txx\txx\txx\txx\txx\txx\t\n"
         "xxx\txxx\txxx\txxx\txxx\t\n"
         "xxxx\txxxx\txxxx\txxxx\txxxx\t\n"
         "xxxxx\txxxxx\txxxxx\txxxxx\txxxxx\txxxxx\txxxxx\t\n"
         "xxxxxx\txxxxxx\txxxxxx\t\n"
         "xxxxxxx\txxxxxxx\txxxxxxx\txxxxxxx\txxxxxxx\txxxxxxx\txxxxxxx\tx"
         "xxxxxx\t\n",
         "\t\t\t\t\t\t\n"
         "x\tx\t\n"
         "xx\txx\txx\txx\txx\txx\txx\txx\txx\t\n"
         "xxx\txxx\txxx\txxx\txxx\t\n"
         "xxxx\txxxx\txxxx\txxxx\txxxx\t\n"
         "xxxxx\txxxxx\txxxxx\txxxxx\txxxxx\txxxxx\txxxxx\t\n"
         "xxxxxx\txxxxxx\txxxxxx\t\n"
         "xxxxxxx\txxxxxxx\txxxxxxx\txxxxxxx\txxxxxxx\txxxxxxx\txxxxxxx\tx"
         "xxxxxx\t\n"),
};

/* Asserts that b holds exactly want[0..n) and has not failed. */
static void assert_out(const pprofd__buf *b, const char *want, size_t n) {
  ck_assert_int_eq(pprofd__buf_failed(b), 0);
  ck_assert_uint_eq(b->len, n);
  if (n > 0)
    ck_assert_mem_eq(b->data, want, n);
}

START_TEST(test_go_table_at_once) {
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, cases[_i].src, cases[_i].src_len);
  pprofd__tabw_flush(w);
  assert_out(&b, cases[_i].want, cases[_i].want_len);
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
  ck_assert_uint_eq(pprofd__ialloc_in_use(), 0);
}
END_TEST

START_TEST(test_go_table_byte_by_byte) {
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  for (size_t i = 0; i < cases[_i].src_len; i++)
    pprofd__tabw_write(w, cases[_i].src + i, 1);
  pprofd__tabw_flush(w);
  assert_out(&b, cases[_i].want, cases[_i].want_len);
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_go_table_fibonacci) {
  const char *src = cases[_i].src;
  size_t n = cases[_i].src_len;
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  /* Slices of 0, 1, 2, 3, ... bytes, as Go's check() writes them. */
  for (size_t i = 0, d = 0; i < n;) {
    pprofd__tabw_write(w, src + i, d);
    i += d;
    d++;
    if (i + d > n)
      d = n - i;
  }
  pprofd__tabw_flush(w);
  assert_out(&b, cases[_i].want, cases[_i].want_len);
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_go_table_printf) {
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_printf(w, "%.*s", (int)cases[_i].src_len, cases[_i].src);
  pprofd__tabw_flush(w);
  assert_out(&b, cases[_i].want, cases[_i].want_len);
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_go_table_reused_writer) {
  /* One writer formats every case in turn, flushing in between. */
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  size_t off = 0;
  for (size_t i = 0; i < PPROFD__ARRAY_SIZE(cases); i++) {
    pprofd__tabw_write(w, cases[i].src, cases[i].src_len);
    pprofd__tabw_flush(w);
    ck_assert_uint_eq(b.len - off, cases[i].want_len);
    if (cases[i].want_len > 0)
      ck_assert_mem_eq(b.data + off, cases[i].want, cases[i].want_len);
    off = b.len;
  }
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_pprof_heap_sample) {
  static const char line1[] =
      "#\t0x6939c7\tmain.alloc+0x87\t/src/demo/main.go:19\n";
  static const char line2[] =
      "#\t0x693969\tmain.main.func4+0x29\t/src/demo/main.go:61\n";
  static const char want[] =
      "#\t0x6939c7\tmain.alloc+0x87\t\t/src/demo/main.go:19\n"
      "#\t0x693969\tmain.main.func4+0x29\t/src/demo/main.go:61\n";
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, line1, strlen(line1));
  pprofd__tabw_write(w, line2, strlen(line2));
  /* Both lines share columns, so nothing is written before the flush. */
  ck_assert_uint_eq(b.len, 0);
  pprofd__tabw_flush(w);
  ck_assert_str_eq(b.data, want);
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_single_cell_line_flushes_early) {
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, "a\tb\n", 4);
  ck_assert_uint_eq(b.len, 0);
  /* A line with one cell cannot change earlier columns: Go writes now. */
  pprofd__tabw_write(w, "c\nddddddddd\te\n", 14);
  ck_assert_str_eq(b.data, "a\tb\nc\n");
  pprofd__tabw_flush(w);
  ck_assert_str_eq(b.data, "a\tb\nc\nddddddddd\te\n");
  /* Flushing with nothing buffered writes nothing. */
  pprofd__tabw_flush(w);
  pprofd__tabw_flush(w);
  ck_assert_str_eq(b.data, "a\tb\nc\nddddddddd\te\n");
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_formfeed_flushes) {
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, "a\tb\fccccccccc\td\n", 17);
  ck_assert_str_eq(b.data, "a\tb\n");
  pprofd__tabw_flush(w);
  ck_assert_str_eq(b.data, "a\tb\nccccccccc\td\n");
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_flush_separates_blocks) {
  /* Columns do not carry across a flush. */
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, "a\tb\n", 4);
  pprofd__tabw_flush(w);
  pprofd__tabw_write(w, "aaaaaaaaaa\tb\n", 13);
  pprofd__tabw_flush(w);
  ck_assert_str_eq(b.data, "a\tb\naaaaaaaaaa\tb\n");
  b.len = 0;
  pprofd__tabw_write(w, "a\tb\naaaaaaaaaa\tb\n", 17);
  pprofd__tabw_flush(w);
  ck_assert_mem_eq(b.data, "a\t\tb\naaaaaaaaaa\tb\n", 18);
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_unflushed_text_is_dropped) {
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, "a\tb\nc\td", 7);
  pprofd__tabw_free(w);
  ck_assert_uint_eq(b.len, 0);
  pprofd__buf_free(&b);
  ck_assert_uint_eq(pprofd__ialloc_in_use(), 0);
}
END_TEST

/* Appends n copies of s to b, failing the test if b fails. */
static void repeat(pprofd__buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    pprofd__buf_puts(b, s);
  ck_assert_int_eq(pprofd__buf_failed(b), 0);
}

START_TEST(test_many_cells_one_line) {
  /* 100000 columns: the format recursion must not use the C stack. Each
   * "a" cell is 2 wide, rounded to 8: one tab, so output equals input. */
  pprofd__buf in, out;
  pprofd__buf_init(&in, PPROFD__BUF_MAX_DEFAULT);
  pprofd__buf_init(&out, PPROFD__BUF_MAX_DEFAULT);
  repeat(&in, "a\t", 100000);
  pprofd__buf_puts(&in, "end\n");
  repeat(&in, "a\t", 99999);
  pprofd__buf_puts(&in, "end\n");
  pprofd__tabw *w = pprofd__tabw_new(&out);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, in.data, in.len);
  pprofd__tabw_flush(w);
  assert_out(&out, in.data, in.len);
  pprofd__tabw_free(w);
  pprofd__buf_free(&in);
  pprofd__buf_free(&out);
}
END_TEST

START_TEST(test_pyramid) {
  /* Lines with 0..1999 cells nest 2000 column blocks. */
  pprofd__buf in, out;
  pprofd__buf_init(&in, PPROFD__BUF_MAX_DEFAULT);
  pprofd__buf_init(&out, PPROFD__BUF_MAX_DEFAULT);
  for (size_t j = 0; j < 2000; j++) {
    repeat(&in, "ab\t", j);
    pprofd__buf_putc(&in, '\n');
  }
  pprofd__tabw *w = pprofd__tabw_new(&out);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, in.data, in.len);
  pprofd__tabw_flush(w);
  assert_out(&out, in.data, in.len);
  pprofd__tabw_free(w);
  pprofd__buf_free(&in);
  pprofd__buf_free(&out);
}
END_TEST

START_TEST(test_wide_column) {
  /* A 20-rune cell makes the column 24 wide: 3 tabs after "a". */
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, "a\tx\n", 4);
  pprofd__tabw_write(w,
                     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                     "0123456789abcde\tx\n",
                     28);
  pprofd__tabw_flush(w);
  ck_assert_str_eq(b.data, "a\t\t\tx\n"
                           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                           "0123456789abcde\tx\n");
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_printf_long) {
  char name[600];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  pprofd__buf b;
  pprofd__buf_init(&b, PPROFD__BUF_MAX_DEFAULT);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_printf(w, "#\t%#x\t%s\t%s:%d\n", 0x10u, name, "f.c", 3);
  pprofd__tabw_printf(w, "#\t%#x\t%s\t%s:%d\n", 0x20u, "g", "g.c", 4);
  pprofd__tabw_flush(w);
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  /* Column 2 is 600 wide: "g" is followed by ceil(599 / 8) tabs. */
  const char *second = strchr(b.data, '\n') + 1;
  ck_assert_int_eq(strncmp(second, "#\t0x20\tg\t", 9), 0);
  ck_assert_uint_eq(strspn(second + 8, "\t"), 75);
  ck_assert_str_eq(second + 8 + 75, "g.c:4\n");
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_output_cap) {
  static const char src[] =
      "#\t0x6939c7\tmain.alloc+0x87\t/src/demo/main.go:19\n"
      "#\t0x693969\tmain.main.func4+0x29\t/src/demo/main.go:61\n";
  const size_t want_len = sizeof src; /* one tab more than the input */
  pprofd__buf b;

  /* An output of exactly max bytes fits. */
  pprofd__buf_init(&b, want_len);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, src, sizeof src - 1);
  pprofd__tabw_flush(w);
  ck_assert_int_eq(pprofd__buf_failed(&b), 0);
  ck_assert_uint_eq(b.len, want_len);
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);

  /* One byte less does not. */
  pprofd__buf_init(&b, want_len - 1);
  w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  pprofd__tabw_write(w, src, sizeof src - 1);
  pprofd__tabw_flush(w);
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
}
END_TEST

START_TEST(test_buffered_input_is_bounded) {
  /* Text that can never fit is refused while buffering, not at flush. */
  pprofd__buf b;
  pprofd__buf_init(&b, 1000);
  pprofd__tabw *w = pprofd__tabw_new(&b);
  ck_assert_ptr_nonnull(w);
  for (int i = 0; i < 100000; i++)
    pprofd__tabw_write(w, "xx\t", 3);
  ck_assert_uint_lt(pprofd__ialloc_in_use(), 64 * 1024);
  pprofd__tabw_flush(w);
  ck_assert_int_eq(pprofd__buf_failed(&b), PPROFD_ELIMIT);
  pprofd__tabw_free(w);
  pprofd__buf_free(&b);
  ck_assert_uint_eq(pprofd__ialloc_in_use(), 0);
}
END_TEST

static Suite *tabwriter_suite(void) {
  Suite *s = suite_create("tabwriter");
  TCase *tc = tcase_create("go");
  int n = (int)PPROFD__ARRAY_SIZE(cases);
  tcase_add_loop_test(tc, test_go_table_at_once, 0, n);
  tcase_add_loop_test(tc, test_go_table_byte_by_byte, 0, n);
  tcase_add_loop_test(tc, test_go_table_fibonacci, 0, n);
  tcase_add_loop_test(tc, test_go_table_printf, 0, n);
  tcase_add_test(tc, test_go_table_reused_writer);
  tcase_add_test(tc, test_pprof_heap_sample);
  suite_add_tcase(s, tc);
  tc = tcase_create("behaviour");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_single_cell_line_flushes_early);
  tcase_add_test(tc, test_formfeed_flushes);
  tcase_add_test(tc, test_flush_separates_blocks);
  tcase_add_test(tc, test_unflushed_text_is_dropped);
  tcase_add_test(tc, test_many_cells_one_line);
  tcase_add_test(tc, test_pyramid);
  tcase_add_test(tc, test_wide_column);
  tcase_add_test(tc, test_printf_long);
  tcase_add_test(tc, test_output_cap);
  tcase_add_test(tc, test_buffered_input_is_bounded);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(tabwriter_suite()); }
