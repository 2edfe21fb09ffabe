/*
 * threaddump.c - goroutine?debug=2 for C: one readable block per thread
 * (see threaddump.h).
 *
 * Threads: any request thread; reads the dump it is given and the
 * symbolizer's caches.
 */
#include "config.h"

#include "encode/threaddump.h"

#include <stdio.h>
#include <string.h>

#include "symbol/symbolize.h"

/* Appends one frame of the debug=2 dump: "func+0xoff" and an indented
 * "file:line", or "created by func in thread N" and its location. */
static void dump_frame(pprofd__buf *b, pprofd__symctx *sym, uint64_t pc,
                       const char *creator, int created_by) {
  pprofd__symres r = {0};
  if (sym != NULL)
    pprofd__sym_lookup(sym, pc, &r);
  if (r.nframes == 0) {
    pprofd__buf_printf(b, "%s%#llx%s%s\n\t?\n", created_by ? "created by " : "",
                       (unsigned long long)pc, created_by ? " " : "", creator);
    return;
  }
  /* Inline frames each get a line; the created-by line names only the
   * innermost: the function whose source calls pthread_create, inlined
   * or not. */
  int last = created_by ? 1 : r.nframes;
  for (int j = 0; j < last; j++) {
    const pprofd__frame *f = &r.frames[j];
    const char *name = f->name[0] ? f->name : r.symbol;
    if (created_by)
      pprofd__buf_printf(b, "created by %s %s\n", name, creator);
    else
      pprofd__buf_printf(b, "%s+%#llx\n", name,
                         (unsigned long long)r.symbol_offset);
    pprofd__buf_printf(b, "\t%s:%lld\n", f->file[0] ? f->file : "?",
                       (long long)f->line);
  }
}

/* Appends one thread's block of the debug=2 dump. */
static void dump_block(pprofd__buf *b, pprofd__symctx *sym,
                       const pprofd__thread *t) {
  pprofd__buf_printf(b, "thread %d \"", t->tid);
  pprofd__buf_puts(b, t->name);
  pprofd__buf_printf(b, "\" [%s", t->state);
  if (t->syscall[0])
    pprofd__buf_printf(b, ", %s", t->syscall);
  if (t->wchan[0] && strcmp(t->wchan, t->syscall) != 0)
    pprofd__buf_printf(b, ", wchan %s", t->wchan);
  if (!t->captured)
    pprofd__buf_puts(b, ", stack not captured: the thread did not answer");
  else if (t->source == PPROFD__THREAD_FROM_KERNEL)
    pprofd__buf_puts(b, ", stack partial: blocked outside pprofd's wrappers, "
                        "walked from the kernel's SP and PC");
  pprofd__buf_puts(b, "]:\n");
  for (int i = 0; i < t->nlocs; i++)
    dump_frame(b, sym, t->locs[i], "", 0);
  if (t->truncated == PPROFD__STACK_CUT)
    pprofd__buf_puts(b, "...additional frames elided...\n");
  else if (t->truncated == PPROFD__UNWIND_INCOMPLETE)
    pprofd__buf_puts(b, "...stack not walked past its PC...\n");
  if (t->created_at != 0) {
    char creator[32];
    snprintf(creator, sizeof creator, "in thread %d", t->creator_tid);
    dump_frame(b, sym, t->created_at, creator, 1);
  }
}

int pprofd__threaddump_write(const pprofd__thread *t, size_t n,
                             pprofd__buf *out) {
  pprofd__symctx *sym = NULL;
  if (pprofd__sym_begin(&sym) != 0)
    sym = NULL;
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      pprofd__buf_putc(out, '\n');
    dump_block(out, sym, &t[i]);
  }
  if (sym != NULL)
    pprofd__sym_end(sym);
  return pprofd__buf_failed(out);
}
