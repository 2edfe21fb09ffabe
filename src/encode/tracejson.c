/*
 * tracejson.c - Chrome trace-event JSON (see tracejson.h).
 *
 * Stack frames: every stack of every event is walked from its outermost
 * frame to its leaf; each (parent node, address, inline depth) is one
 * node of the "stackFrames" tree, found in an open-addressing table, so
 * a stack repeated by a thousand samples is written once. A location
 * with inline frames becomes several nodes, outermost (the function the
 * code was inlined into) first.
 *
 * Event phases used: "M" (thread and process names), "i" (instants,
 * thread scope), "X" (complete events: waits and HTTP requests), "C"
 * (counters, process scope), "B"/"E" (regions), "b"/"e" (async tasks,
 * with an id).
 */
#include "config.h"

#include "encode/tracejson.h"

#include <stdio.h>
#include <string.h>

#include "base/ialloc.h"
#include "base/utf8.h"
#include "pprofd.h"
#include "symbol/symbolize.h"

/* ---- strings ---- */

void pprofd__json_str(pprofd__buf *b, const char *s) {
  pprofd__buf_putc(b, '"');
  const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
  while (*p) {
    unsigned c = *p;
    if (c == '"' || c == '\\') {
      pprofd__buf_putc(b, '\\');
      pprofd__buf_putc(b, (char)c);
      p++;
    } else if (c < 0x20) {
      static const char *const esc[] = {
          [8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r"};
      if (c < 14 && esc[c] != NULL)
        pprofd__buf_puts(b, esc[c]);
      else
        pprofd__buf_printf(b, "\\u%04x", c);
      p++;
    } else {
      int n = pprofd__utf8_len(p);
      if (n == 0) {
        pprofd__buf_puts(b, "\\ufffd");
        p++;
      } else {
        pprofd__buf_append(b, p, (size_t)n);
        p += n;
      }
    }
  }
  pprofd__buf_putc(b, '"');
}

/* ---- the stack-frame tree ---- */

typedef struct node {
  uint64_t parent; /* node id, 0 for a root */
  uint64_t addr;
  int depth; /* inline depth within the location: 0 outermost */
  uint64_t id;
} node;

typedef struct frames {
  node *tab;
  size_t cap, n;
  pprofd__buf *out; /* the "stackFrames" object being written */
  pprofd__symctx *sym;
  int failed;
} frames;

static uint64_t node_hash(uint64_t parent, uint64_t addr, int depth) {
  uint64_t h = parent * 0x9e3779b97f4a7c15ull ^ addr;
  h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ull ^ (uint64_t)depth;
  return h ^ (h >> 29);
}

static int frames_grow(frames *f) {
  size_t cap = f->cap ? f->cap * 2 : 1024;
  node *t = pprofd__icalloc(cap, sizeof *t);
  if (t == NULL)
    return -1;
  for (size_t i = 0; i < f->cap; i++) {
    node *o = &f->tab[i];
    if (o->id == 0)
      continue;
    size_t s = node_hash(o->parent, o->addr, o->depth) & (cap - 1);
    while (t[s].id != 0)
      s = (s + 1) & (cap - 1);
    t[s] = *o;
  }
  pprofd__ifree(f->tab);
  f->tab = t;
  f->cap = cap;
  return 0;
}

/* The basename of a path. */
static const char *base(const char *path) {
  const char *s = strrchr(path, '/');
  return s != NULL ? s + 1 : path;
}

/* Writes one node's entry into "stackFrames". */
static void write_node(frames *f, uint64_t id, uint64_t parent,
                       const pprofd__frame *fr, uint64_t addr) {
  pprofd__buf *b = f->out;
  char name[1024];
  if (fr != NULL && fr->name[0] != '\0' && fr->file[0] != '\0' && fr->line > 0)
    snprintf(name, sizeof name, "%s %s:%lld", fr->name, base(fr->file),
             (long long)fr->line);
  else if (fr != NULL && fr->name[0] != '\0')
    snprintf(name, sizeof name, "%s", fr->name);
  else
    snprintf(name, sizeof name, "0x%llx", (unsigned long long)addr);
  pprofd__buf_printf(b, "%s\n\"%llu\":{\"name\":", f->n > 1 ? "," : "",
                     (unsigned long long)id);
  pprofd__json_str(b, name);
  pprofd__buf_puts(b, ",\"category\":");
  pprofd__json_str(b, fr != NULL && fr->file[0] != '\0' ? fr->file : "?");
  if (parent != 0)
    pprofd__buf_printf(b, ",\"parent\":\"%llu\"", (unsigned long long)parent);
  pprofd__buf_putc(b, '}');
}

/* The node of (parent, addr, depth), written on first sight; 0 when out
 * of memory. */
static uint64_t node_get(frames *f, uint64_t parent, uint64_t addr, int depth,
                         const pprofd__frame *fr) {
  if ((f->n + 1) * 2 > f->cap && frames_grow(f) != 0) {
    f->failed = 1;
    return 0;
  }
  size_t s = node_hash(parent, addr, depth) & (f->cap - 1);
  for (; f->tab[s].id != 0; s = (s + 1) & (f->cap - 1)) {
    node *o = &f->tab[s];
    if (o->parent == parent && o->addr == addr && o->depth == depth)
      return o->id;
  }
  f->n++;
  f->tab[s] = (node){parent, addr, depth, f->n};
  write_node(f, f->n, parent, fr, addr);
  return f->n;
}

/* The leaf node of a stack (leaf first in locs); 0 for none. */
static uint64_t stack_id(frames *f, const uint64_t *locs, uint32_t n) {
  uint64_t parent = 0;
  for (uint32_t i = n; i-- > 0;) {
    pprofd__symres r = {0};
    if (f->sym != NULL)
      pprofd__sym_lookup(f->sym, locs[i], &r);
    if (r.nframes == 0) {
      parent = node_get(f, parent, locs[i], 0, NULL);
    } else {
      /* frames[] is innermost first; the tree goes outermost first. */
      for (int d = 0; d < r.nframes; d++)
        parent = node_get(f, parent, locs[i], d, &r.frames[r.nframes - 1 - d]);
    }
    if (parent == 0)
      return 0;
  }
  return parent;
}

/* ---- events ---- */

/* Microseconds since the window's start, as a JSON number. */
static void put_ts(pprofd__buf *b, const char *key, int64_t ns) {
  pprofd__buf_printf(b, ",\"%s\":%lld.%03lld", key, (long long)(ns / 1000),
                     (long long)((ns < 0 ? -ns : ns) % 1000));
}

/* The common head of an event: phase, pid, tid, ts, name, cat. */
static void head(pprofd__buf *b, const pprofd__trace *t, const pprofd__tev *e,
                 const char *ph, const char *name, const char *cat) {
  pprofd__buf_printf(b, ",\n{\"ph\":\"%s\",\"pid\":%d,\"tid\":%d", ph, t->pid,
                     (int)e->tid);
  put_ts(b, "ts", e->ts - t->start_mono);
  pprofd__buf_puts(b, ",\"name\":");
  pprofd__json_str(b, name);
  pprofd__buf_puts(b, ",\"cat\":");
  pprofd__json_str(b, cat);
}

static void write_event(pprofd__buf *b, const pprofd__trace *t,
                        const pprofd__tev *e, uint64_t sf) {
  switch (e->kind) {
  case PPROFD__TEV_CPU:
    head(b, t, e, "i", "cpu sample", "cpu");
    pprofd__buf_printf(b, ",\"s\":\"t\",\"args\":{\"weight\":%lld}",
                       (long long)e->value);
    break;
  case PPROFD__TEV_WAIT:
    head(b, t, e, "X", e->name, "wait");
    put_ts(b, "dur", e->dur);
    break;
  case PPROFD__TEV_THREAD_START:
    head(b, t, e, "i", "thread start", "thread");
    pprofd__buf_puts(b, ",\"s\":\"t\"");
    break;
  case PPROFD__TEV_THREAD_EXIT:
    head(b, t, e, "i", "thread exit", "thread");
    pprofd__buf_puts(b, ",\"s\":\"t\"");
    break;
  case PPROFD__TEV_HTTP:
    head(b, t, e, "X", e->name, "pprofd");
    put_ts(b, "dur", e->dur);
    if (e->text != NULL) {
      pprofd__buf_puts(b, ",\"args\":{\"query\":");
      pprofd__json_str(b, e->text);
      pprofd__buf_putc(b, '}');
    }
    break;
  case PPROFD__TEV_COUNTER:
    head(b, t, e, "C", e->name, "counter");
    pprofd__buf_printf(b, ",\"args\":{\"value\":%lld}", (long long)e->value);
    break;
  case PPROFD__TEV_REGION_BEGIN:
    head(b, t, e, "B", e->name, "region");
    break;
  case PPROFD__TEV_REGION_END:
    head(b, t, e, "E", e->name != NULL ? e->name : "", "region");
    break;
  case PPROFD__TEV_TASK_BEGIN:
  case PPROFD__TEV_TASK_END:
    head(b, t, e, e->kind == PPROFD__TEV_TASK_BEGIN ? "b" : "e", e->name,
         "task");
    pprofd__buf_printf(b, ",\"id\":\"0x%llx\"", (unsigned long long)e->value);
    break;
  case PPROFD__TEV_LOG:
    head(b, t, e, "i", e->name, "log");
    pprofd__buf_puts(b, ",\"s\":\"t\",\"args\":{\"message\":");
    pprofd__json_str(b, e->text);
    pprofd__buf_putc(b, '}');
    break;
  default:
    return;
  }
  if (sf != 0)
    pprofd__buf_printf(b, ",\"sf\":\"%llu\"", (unsigned long long)sf);
  pprofd__buf_putc(b, '}');
}

/* Thread-name metadata for every tid that has events. */
static void write_names(pprofd__buf *b, const pprofd__trace *t) {
  pprofd__buf_printf(b,
                     "{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"ts\":0,"
                     "\"name\":\"process_name\",\"args\":{\"name\":",
                     t->pid, t->pid);
  pprofd__json_str(b, t->process);
  pprofd__buf_puts(b, "}}");
  for (size_t i = 0; i < t->nthreads; i++) {
    const pprofd__tthread *th = &t->threads[i];
    char name[40];
    if (th->name[0] != '\0')
      snprintf(name, sizeof name, "%.15s (%d)", th->name, (int)th->tid);
    else
      snprintf(name, sizeof name, "thread %d", (int)th->tid);
    pprofd__buf_printf(b,
                       ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"ts\":0,"
                       "\"name\":\"thread_name\",\"args\":{\"name\":",
                       t->pid, (int)th->tid);
    pprofd__json_str(b, name);
    pprofd__buf_puts(b, "}}");
  }
}

int pprofd__tracejson_write(const pprofd__trace *t, int symbolize,
                            pprofd__buf *out) {
  frames f = {0};
  pprofd__buf sf;
  pprofd__buf_init(&sf, out->max);
  f.out = &sf;
  if (symbolize && pprofd__sym_begin(&f.sym) != 0)
    f.sym = NULL;
  pprofd__buf_puts(out, "{\"traceEvents\":[\n");
  write_names(out, t);
  for (size_t i = 0; i < t->nev && !f.failed; i++) {
    const pprofd__tev *e = &t->ev[i];
    uint64_t id = e->nlocs > 0 ? stack_id(&f, e->locs, e->nlocs) : 0;
    write_event(out, t, e, id);
  }
  if (f.sym != NULL)
    pprofd__sym_end(f.sym);
  pprofd__buf_puts(out, "\n],\n\"stackFrames\":{");
  if (sf.data != NULL)
    pprofd__buf_append(out, sf.data, sf.len);
  pprofd__buf_puts(out, "\n},\n\"displayTimeUnit\":\"ms\",\n\"otherData\":{");
  pprofd__buf_printf(out, "\"producer\":\"pprofd %s\"", pprofd_version());
  pprofd__buf_printf(
      out, ",\"windowSeconds\":\"%.3f\",\"startUnixNanos\":\"%lld\"",
      (double)(t->end_mono - t->start_mono) / 1e9, (long long)t->start_wall);
  pprofd__buf_printf(out, ",\"events\":\"%zu\",\"droppedEvents\":\"%lld\"",
                     t->nev, (long long)t->dropped);
  if (t->cpu_hz > 0)
    pprofd__buf_printf(out, ",\"cpuSampling\":\"%d Hz\"", t->cpu_hz);
  else {
    pprofd__buf_puts(out, ",\"cpuSampling\":");
    pprofd__json_str(out, t->cpu_why != NULL ? t->cpu_why : "off");
  }
  pprofd__buf_puts(out, "}\n}\n");
  int err = f.failed ? PPROFD_ENOMEM : pprofd__buf_failed(&sf);
  pprofd__buf_free(&sf);
  pprofd__ifree(f.tab);
  return err != 0 ? err : pprofd__buf_failed(out);
}
