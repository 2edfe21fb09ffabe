/*
 * utf8.h - recognizing UTF-8, for the writers whose formats require it
 * (JSON, the Prometheus formats) and must replace what is not.
 *
 * Pure and allocation-free: any thread, any context.
 */
#ifndef PPROFD_BASE_UTF8_H
#define PPROFD_BASE_UTF8_H

/* The length of the well-formed UTF-8 sequence at s (1..4; 1 for ASCII,
 * including NUL), or 0 when the bytes there are not one: a stray or
 * missing continuation byte, an overlong form, a surrogate or a code
 * point past U+10FFFF. Reads no further than the first byte that
 * disqualifies the sequence, so a NUL-terminated string is never
 * overrun. */
static inline int pprofd__utf8_len(const unsigned char *s) {
  unsigned c = s[0];
  int n;
  unsigned min;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  unsigned cp = c & (0x7f >> n);
  for (int i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

#endif
