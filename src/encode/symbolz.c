/*
 * symbolz.c - the symbolz reply (see symbolz.h).
 */
#include "config.h"

#include "encode/symbolz.h"

#include <string.h>

#include "base/strconv.h"
#include "symbol/symbolize.h"

int pprofd__symbolz_write(const char *in, size_t inlen, pprofd__buf *b) {
  pprofd__buf_puts(b, "num_symbols: 1\n");
  pprofd__symctx *sym = NULL;
  if (inlen > 0 && pprofd__sym_begin(&sym) != 0)
    sym = NULL;
  size_t i = 0;
  while (sym != NULL && i <= inlen) {
    const char *w = in + i;
    const char *plus = memchr(w, '+', inlen - i);
    size_t wl = plus != NULL ? (size_t)(plus - w) : inlen - i;
    uint64_t pc = 0;
    (void)pprofd__parse_uint64_base0(w, wl, &pc);
    /* Go ignores the error: a syntax error gives 0 (skipped) and an
     * overflow gives the maximum, which resolves to nothing. */
    if (pc != 0) {
      pprofd__symres r;
      pprofd__sym_lookup(sym, pc, &r);
      const char *name = r.symbol;
      if (name[0] == '\0' && r.nframes > 0)
        name = r.frames[r.nframes - 1].system_name;
      if (name[0] != '\0' || r.nframes > 0)
        pprofd__buf_printf(b, "%#llx %s\n", (unsigned long long)pc, name);
    }
    i += wl + 1;
  }
  if (sym != NULL)
    pprofd__sym_end(sym);
  return pprofd__buf_failed(b);
}
