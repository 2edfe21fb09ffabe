/*
 * tabwriter.c - a port of Go's text/tabwriter (go1.19) for one setting.
 *
 * runtime/pprof always builds its writer as NewWriter(w, 1, 8, 1, '\t', 0),
 * so minwidth, tabwidth, padding and padchar are constants here and the
 * flag-only branches (FilterHTML, StripEscape, AlignRight, Debug,
 * DiscardEmptyColumns, TabIndent) are gone. Everything that flags = 0
 * still does is kept: '\v' and '\f' as terminators, '\f' forcing a flush,
 * Escape (0xff) brackets whose content is passed through untouched, the
 * early flush after a single-cell line, and widths counted in runes with
 * utf8.RuneCount's rule that every byte of a malformed sequence is a rune.
 *
 * State mirrors Go's Writer. All cell text since the last flush is kept in
 * `text` with the terminators stripped; `cells` holds every cell of every
 * line in order and `line_start[i]` is the index of line i's first cell
 * (only the last line can still grow). The current, unterminated cell is
 * `cell`, whose width is known up to text[pos].
 *
 * Go's format() recurses once per column; here the recursion runs on an
 * explicit stack of frames (one per column, sized before formatting from
 * the widest line), so a line with very many cells cannot overflow the C
 * stack and formatting itself cannot fail. The output is byte-identical.
 *
 * Memory is bounded by the output buffer's cap: the formatted output is at
 * least as long as the buffered text plus one byte per cell, minus one, so
 * once the buffered input exceeds out->max + 1 the output could not fit
 * anyway and the writer fails early with PPROFD_ELIMIT. Errors (that one,
 * or PPROFD_ENOMEM) are sticky until the next flush, which records them in
 * the output buffer. Not thread-safe.
 */
#include "config.h"

#include "encode/tabwriter.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/ialloc.h"
#include "pprofd.h"

#define MINWIDTH 1
#define TABWIDTH 8
#define PADDING 1
#define ESCAPE 0xff

/* A segment of text terminated by a tab or a line break. */
typedef struct {
  size_t size; /* in bytes */
  long width;  /* in runes; may be negative as in Go, see end_escape */
} cell;

/* One level of Go's format() recursion: the lines [line0, line1) at the
 * column equal to the frame's depth, and the loop variable `this`. */
typedef struct {
  size_t line0;
  size_t line1;
  size_t this;
} frame;

struct pprofd__tabw {
  pprofd__buf *out;
  int err; /* sticky until the next flush */

  char *text; /* collected text excluding tabs and line breaks */
  size_t text_len;
  size_t text_cap;
  size_t pos;        /* text position up to which cell.width is known */
  cell cur;          /* the current incomplete cell */
  unsigned end_char; /* ESCAPE inside an escaped segment, else 0 */

  cell *cells; /* all terminated cells, line after line */
  size_t ncells;
  size_t cells_cap;
  size_t *line_start; /* index in cells of each line's first cell */
  size_t nlines;
  size_t lines_cap;

  long *widths; /* column widths during formatting, one per frame */
  size_t widths_cap;
  frame *frames;
  size_t nframes;
  size_t frames_cap;
  size_t wpos; /* text position of the next byte to output */
};

/* Grows the array *p of elements of size `size` to hold at least `need`;
 * returns 0, or -1 after recording PPROFD_ENOMEM. */
static int reserve(pprofd__tabw *w, void **p, size_t *cap, size_t need,
                   size_t size) {
  if (need <= *cap)
    return 0;
  size_t ncap = *cap < 16 ? 16 : *cap;
  while (ncap < need && ncap <= (size_t)-1 / 2 / size)
    ncap *= 2;
  if (ncap < need || ncap > (size_t)-1 / size) {
    w->err = PPROFD_ENOMEM;
    return -1;
  }
  void *n = pprofd__irealloc(*p, ncap * size);
  if (n == NULL) {
    w->err = PPROFD_ENOMEM;
    return -1;
  }
  *p = n;
  *cap = ncap;
  return 0;
}

/* Records PPROFD_ELIMIT when holding `more` more text bytes or cells
 * would make the output certainly exceed the output buffer's cap. */
static int over_limit(pprofd__tabw *w, size_t more) {
  size_t held = w->text_len + w->ncells;
  size_t lim = w->out->max == (size_t)-1 ? w->out->max : w->out->max + 1;
  if (more > lim || held > lim - more) {
    w->err = PPROFD_ELIMIT;
    return 1;
  }
  return 0;
}

/* Go's addLine: starts a new, empty line. */
static void add_line(pprofd__tabw *w) {
  if (reserve(w, (void **)&w->line_start, &w->lines_cap, w->nlines + 1,
              sizeof *w->line_start) != 0)
    return;
  w->line_start[w->nlines++] = w->ncells;
}

/* Go's reset: forgets all buffered text and starts an empty first line. */
static void reset(pprofd__tabw *w) {
  w->text_len = 0;
  w->pos = 0;
  w->cur.size = 0;
  w->cur.width = 0;
  w->end_char = 0;
  w->ncells = 0;
  w->nlines = 0;
  w->nframes = 0;
  add_line(w);
}

pprofd__tabw *pprofd__tabw_new(pprofd__buf *out) {
  pprofd__tabw *w = pprofd__icalloc(1, sizeof *w);
  if (w == NULL)
    return NULL;
  w->out = out;
  reset(w);
  if (w->err != 0) {
    pprofd__tabw_free(w);
    return NULL;
  }
  return w;
}

void pprofd__tabw_free(pprofd__tabw *w) {
  if (w == NULL)
    return;
  pprofd__ifree(w->text);
  pprofd__ifree(w->cells);
  pprofd__ifree(w->line_start);
  pprofd__ifree(w->widths);
  pprofd__ifree(w->frames);
  pprofd__ifree(w);
}

/* Go's utf8.RuneCount: a valid sequence is one rune, and so is each byte
 * that does not start one (bad lead byte, overlong form, surrogate, value
 * above U+10FFFF, or a truncated sequence). */
static long rune_count(const unsigned char *s, size_t n) {
  long count = 0;
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t size = 1;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
      size = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      size = 3;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed)
        hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      size = 4;
      if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
    }
    if (size > 1) {
      if (n - i < size || s[i + 1] < lo || s[i + 1] > hi)
        size = 1;
      for (size_t k = 2; k < size; k++)
        if (s[i + k] < 0x80 || s[i + k] > 0xbf)
          size = 1;
    }
    i += size;
    count++;
  }
  return count;
}

/* Go's append: adds n bytes of text to the current cell. */
static void append_text(pprofd__tabw *w, const char *p, size_t n) {
  if (n == 0 || w->err != 0 || over_limit(w, n))
    return;
  if (reserve(w, (void **)&w->text, &w->text_cap, w->text_len + n, 1) != 0)
    return;
  memcpy(w->text + w->text_len, p, n);
  w->text_len += n;
  w->cur.size += n;
}

/* Go's updateWidth: counts the runes of the current cell up to the end of
 * the text. */
static void update_width(pprofd__tabw *w) {
  if (w->text_len > w->pos)
    w->cur.width += rune_count((const unsigned char *)w->text + w->pos,
                               w->text_len - w->pos);
  w->pos = w->text_len;
}

/* Go's endEscape for an Escape segment: the two Escape bytes, counted as
 * runes by update_width, do not count towards the width. A segment cut
 * short by a flush has only one, hence a width that may go negative; such
 * a cell is always the last of its line, which no column uses. */
static void end_escape(pprofd__tabw *w) {
  update_width(w);
  w->cur.width -= 2;
  w->pos = w->text_len;
  w->end_char = 0;
}

/* Go's terminateCell: appends the current cell to the last line and
 * returns how many cells that line now has. */
static size_t terminate_cell(pprofd__tabw *w) {
  if (w->err != 0 || over_limit(w, 1) ||
      reserve(w, (void **)&w->cells, &w->cells_cap, w->ncells + 1,
              sizeof *w->cells) != 0)
    return 0;
  w->cells[w->ncells++] = w->cur;
  w->cur.size = 0;
  w->cur.width = 0;
  return w->ncells - w->line_start[w->nlines - 1];
}

/* The number of cells of line i. */
static size_t line_cells(const pprofd__tabw *w, size_t i) {
  size_t end = i + 1 < w->nlines ? w->line_start[i + 1] : w->ncells;
  return end - w->line_start[i];
}

/* Go's writePadding with padchar '\t': rounds the cell width up to a
 * multiple of the tab width and fills the gap with whole tabs. */
static void write_padding(pprofd__tabw *w, long textw, long cellw) {
  static const char tabs[] = "\t\t\t\t\t\t\t\t";
  cellw = (cellw + TABWIDTH - 1) / TABWIDTH * TABWIDTH;
  long n = (cellw - textw + TABWIDTH - 1) / TABWIDTH;
  for (; n > 8; n -= 8)
    pprofd__buf_append(w->out, tabs, 8);
  if (n > 0)
    pprofd__buf_append(w->out, tabs, (size_t)n);
}

/* Go's writeLines: outputs lines [line0, line1) with the column widths
 * known so far, padding every cell that has a width. */
static void write_lines(pprofd__tabw *w, size_t line0, size_t line1) {
  size_t nwidths = w->nframes - 1;
  for (size_t i = line0; i < line1; i++) {
    const cell *line = w->cells + w->line_start[i];
    size_t n = line_cells(w, i);
    for (size_t j = 0; j < n; j++) {
      const cell *c = &line[j];
      if (c->size > 0) {
        pprofd__buf_append(w->out, w->text + w->wpos, c->size);
        w->wpos += c->size;
      }
      if (j < nwidths)
        write_padding(w, c->width, w->widths[j]);
    }
    if (i + 1 == w->nlines) {
      /* The last buffered line has no newline: write what is left. */
      if (w->cur.size > 0) {
        pprofd__buf_append(w->out, w->text + w->wpos, w->cur.size);
        w->wpos += w->cur.size;
      }
    } else {
      pprofd__buf_putc(w->out, '\n');
    }
  }
}

/* Go's format(0, 0, len(lines)) with the recursion unrolled: each frame
 * scans its lines for the first one with a cell in the frame's column,
 * writes the lines before it, measures the block of lines that have that
 * column, and descends into the block with the block's width pushed. */
static void format_all(pprofd__tabw *w) {
  w->wpos = 0;
  w->nframes = 1;
  w->frames[0] = (frame){0, w->nlines, 0};
  while (w->nframes > 0) {
    size_t column = w->nframes - 1;
    frame *f = &w->frames[column];
    int descend = 0;
    for (; f->this < f->line1; f->this ++) {
      /* The last cell of a line is not part of a column. */
      if (column + 1 >= line_cells(w, f->this))
        continue;
      write_lines(w, f->line0, f->this);
      f->line0 = f->this;
      long width = MINWIDTH;
      for (; f->this < f->line1; f->this ++) {
        if (column + 1 >= line_cells(w, f->this))
          break;
        const cell *c = &w->cells[w->line_start[f->this] + column];
        if (c->width + PADDING > width)
          width = c->width + PADDING;
      }
      w->widths[column] = width;
      w->frames[w->nframes++] = (frame){f->line0, f->this, f->line0};
      descend = 1;
      break;
    }
    if (descend)
      continue;
    write_lines(w, f->line0, f->line1);
    w->nframes--;
    if (w->nframes > 0) {
      /* Back in the caller: skip past the block just formatted. */
      f = &w->frames[w->nframes - 1];
      f->line0 = f->this;
      f->this ++;
    }
  }
}

/* Go's flushNoDefers: terminates the pending cell, formats and writes all
 * buffered lines, and resets. An error since the last flush is recorded
 * in the output buffer instead. */
static void flush(pprofd__tabw *w) {
  if (w->err == 0 && w->cur.size > 0) {
    if (w->end_char != 0)
      end_escape(w); /* an unterminated escape counts as complete */
    terminate_cell(w);
  }
  if (w->err == 0) {
    size_t depth = 1;
    for (size_t i = 0; i < w->nlines; i++)
      if (line_cells(w, i) > depth)
        depth = line_cells(w, i);
    if (reserve(w, (void **)&w->frames, &w->frames_cap, depth,
                sizeof *w->frames) == 0 &&
        reserve(w, (void **)&w->widths, &w->widths_cap, depth,
                sizeof *w->widths) == 0)
      format_all(w);
  }
  if (w->err != 0 && w->out->failed == 0)
    w->out->failed = w->err;
  w->err = 0;
  reset(w);
}

void pprofd__tabw_write(pprofd__tabw *w, const char *s, size_t n) {
  size_t start = 0; /* first byte of s not yet appended */
  for (size_t i = 0; i < n && w->err == 0; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (w->end_char == 0) {
      switch (ch) {
      case '\t':
      case '\v':
      case '\n':
      case '\f': {
        append_text(w, s + start, i - start);
        update_width(w);
        start = i + 1;
        size_t ncells = terminate_cell(w);
        if (ch == '\n' || ch == '\f') {
          add_line(w);
          /* A line with one cell cannot affect the columns of the lines
           * after it, so everything so far can be written out now. */
          if (ch == '\f' || ncells == 1)
            flush(w);
        }
        break;
      }
      case ESCAPE:
        append_text(w, s + start, i - start);
        update_width(w);
        start = i;
        w->end_char = ESCAPE;
        break;
      default:
        break;
      }
    } else if (ch == w->end_char) {
      append_text(w, s + start, i + 1 - start);
      start = i + 1;
      end_escape(w);
    }
  }
  if (w->err == 0)
    append_text(w, s + start, n - start);
}

void pprofd__tabw_printf(pprofd__tabw *w, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    w->err = PPROFD_ELIMIT;
    return;
  }
  if ((size_t)n < sizeof small) {
    pprofd__tabw_write(w, small, (size_t)n);
    return;
  }
  char *big = pprofd__ialloc((size_t)n + 1);
  if (big == NULL) {
    w->err = PPROFD_ENOMEM;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  pprofd__tabw_write(w, big, (size_t)n);
  pprofd__ifree(big);
}

void pprofd__tabw_flush(pprofd__tabw *w) { flush(w); }
