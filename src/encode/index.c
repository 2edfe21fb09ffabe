/*
 * index.c - the index page (see index.h).
 *
 * The Go part is written from the template captured in the spec: Go's
 * html/template escapes names and descriptions, and the href is the name
 * path-escaped (our names never need escaping: built-in names are plain
 * and custom names are limited to [A-Za-z0-9._-]).
 */
#include "config.h"

#include "encode/index.h"

static const char head[] =
    "<html>\n"
    "<head>\n"
    "<title>/debug/pprof/</title>\n"
    "<style>\n"
    ".profile-name{\n"
    "\tdisplay:inline-block;\n"
    "\twidth:6rem;\n"
    "}\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "/debug/pprof/\n"
    "<br>\n"
    "<p>Set debug=1 as a query parameter to export in legacy text format</p>\n"
    "<br>\n"
    "Types of profiles available:\n"
    "<table>\n"
    "<thead><td>Count</td><td>Profile</td></thead>\n";

/* One row of the pprofd configuration table. */
static void setting_row(pprofd__buf *b, const pprofd__index_setting *st) {
  pprofd__buf_puts(b, "<tr><td>");
  pprofd__buf_html(b, st->key);
  pprofd__buf_puts(b, "</td><td>");
  pprofd__buf_html(b, st->value != NULL ? st->value : "");
  pprofd__buf_puts(b, "</td></tr>\n");
}

/* One item of the list of pprofd's other endpoints. */
static void link_item(pprofd__buf *b, const pprofd__index_link *l) {
  pprofd__buf_puts(b, "<li>");
  if (l->on) {
    pprofd__buf_puts(b, "<a href=\"");
    pprofd__buf_html(b, l->href);
    pprofd__buf_puts(b, "\">");
    pprofd__buf_html(b, l->path);
    pprofd__buf_puts(b, "</a>: ");
  } else {
    pprofd__buf_html(b, l->path);
    pprofd__buf_puts(b, " (off): ");
  }
  pprofd__buf_html(b, l->desc);
  pprofd__buf_puts(b, "</li>\n");
}

int pprofd__index_html(const pprofd__index_row *rows, size_t n,
                       const pprofd__index_setting *set, size_t nset,
                       const pprofd__index_link *links, size_t nlinks,
                       const char *version, pprofd__buf *b) {
  pprofd__buf_puts(b, head);
  for (size_t i = 0; i < n; i++) {
    pprofd__buf_printf(b, "<tr><td>%lld</td><td><a href='%s?debug=1'>",
                       (long long)rows[i].count, rows[i].name);
    pprofd__buf_html(b, rows[i].name);
    pprofd__buf_puts(b, "</a></td></tr>\n");
  }
  pprofd__buf_puts(b, "</table>\n"
                      "<a href=\"goroutine?debug=2\">full goroutine stack "
                      "dump</a>\n"
                      "<br>\n"
                      "<p>\n"
                      "Profile Descriptions:\n"
                      "<ul>\n");
  for (size_t i = 0; i < n; i++) {
    pprofd__buf_puts(b, "<li><div class=profile-name>");
    pprofd__buf_html(b, rows[i].name);
    pprofd__buf_puts(b, ": </div> ");
    pprofd__buf_html(b, rows[i].desc);
    pprofd__buf_puts(b, "</li>\n");
  }
  pprofd__buf_puts(b, "</ul>\n</p>\n");
  pprofd__buf_printf(b, "<p>\npprofd %s configuration:\n<table>\n", version);
  for (size_t i = 0; i < nset; i++)
    setting_row(b, &set[i]);
  pprofd__buf_puts(b, "</table>\n</p>\n");
  if (nlinks > 0) {
    pprofd__buf_puts(b, "<p>\nRuntime metrics:\n<ul>\n");
    for (size_t i = 0; i < nlinks; i++)
      link_item(b, &links[i]);
    pprofd__buf_puts(b, "</ul>\n</p>\n");
  }
  pprofd__buf_puts(b, "</body>\n</html>");
  return pprofd__buf_failed(b);
}
