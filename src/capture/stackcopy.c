/*
 * stackcopy.c - copy a context in a handler, walk it later (see
 * stackcopy.h).
 *
 * The walker is libunwind's generic build (libunwind-ARCH.so), the one
 * that unwinds address spaces other than its caller's own, loaded
 * privately at run time for the reasons capture/unwind.c gives for the
 * local one. It gets an address space of its own whose accessors serve:
 *   - registers from the copy;
 *   - stack words from the copied window. A stack word the window does
 *     not hold is refused, never read from the live stack, which has
 *     moved on since: the walk ends there, marked as cut;
 *   - other memory (unwind tables, instructions at a PC) directly when it
 *     lies in a loaded object's readable segment, listed once per walk
 *     session, and otherwise through process_vm_readv, which fails
 *     instead of faulting on an address that is not mapped;
 *   - unwind-table lookup (find_proc_info), from the generic build's own
 *     local accessors: dl_iterate_phdr over the process's objects.
 * That address space is used by one walk session at a time, so it can
 * cache unwind rules globally across the threads of one dump; each
 * session flushes that cache, since a library may have been unloaded
 * and another loaded at its address in between.
 */
#include "config.h"

#include "capture/stackcopy.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

/* Not UNW_LOCAL_ONLY: the generic build's names (_U<arch>_...). */
#include <libunwind.h>

#include "capture/unwind.h"
#include "core/ialloc.h"
#include "interpose/real.h"
#include "interpose/thread.h"
#include "pprofd.h"

#define STR2(x) #x
#define STR(x) STR2(x) /* the arch-specific name behind a libunwind macro */

/* The most a copy takes when the end of the thread's stack is known, and
 * when it is not. */
#define WINDOW_KNOWN (256 * 1024)
#define WINDOW_UNKNOWN (64 * 1024)
/* Arena: this much per thread, within these bounds in all. */
#define ARENA_PER_THREAD (64 * 1024)
#define ARENA_MIN (1024 * 1024)
#define ARENA_MAX (64 * 1024 * 1024)
/* What the arena pre-faults per thread, and in all. */
#define PREFAULT_PER_THREAD (8 * 1024)
#define PREFAULT_MAX (8 * 1024 * 1024)
/* How far above its stack pointer an unknown stack may reach: stack
 * words there are refused rather than read live. */
#define STACK_REACH (8 * 1024 * 1024)
/* process_vm_readv granularity: no iovec crosses a 4 KiB boundary, so
 * none crosses a page, whatever the page size. */
#define CHUNK 4096
#define IOV_BATCH 16

/* The initial stack pointer of the main thread (glibc's ld.so). */
extern void *__libc_stack_end __attribute__((weak));

/* Set once process_vm_readv was refused (a seccomp sandbox, say): copies
 * then use memcpy within the bounds known to be mapped. */
static atomic_int vm_read_refused;

ssize_t (*PPROFD__SEAM pprofd__stackcopy_vm_read)(
    pid_t, const struct iovec *, unsigned long, const struct iovec *,
    unsigned long, unsigned long) = process_vm_readv;

int pprofd__stackcopy_arena_init(pprofd__stackcopy_arena *a, size_t nthreads) {
  size_t size = nthreads < ARENA_MAX / ARENA_PER_THREAD
                    ? nthreads * ARENA_PER_THREAD + WINDOW_KNOWN
                    : ARENA_MAX;
  if (size < ARENA_MIN)
    size = ARENA_MIN;
  if (size > ARENA_MAX)
    size = ARENA_MAX;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    memset(a, 0, sizeof *a);
    return PPROFD_ENOMEM;
  }
  a->base = p;
  a->size = size;
  atomic_init(&a->used, 0);
  /* Most copies are a few KiB: fault those pages in here, on the
   * requester's time, not in the handlers, on the host's. */
  size_t warm = nthreads < PREFAULT_MAX / PREFAULT_PER_THREAD
                    ? nthreads * PREFAULT_PER_THREAD
                    : PREFAULT_MAX;
  memset(p, 0, warm < size ? warm : size);
  return 0;
}

void pprofd__stackcopy_arena_free(pprofd__stackcopy_arena *a) {
  if (a->base != NULL)
    munmap(a->base, a->size);
  a->base = NULL;
}

/* Fills c's registers, PC and SP from a signal's ucontext; 0 on an
 * architecture this does not know. */
static int regs_sigsafe(const void *ucontext,
                        pprofd__stackcopy *c) PPROFD__SIGSAFE;
static int regs_sigsafe(const void *ucontext, pprofd__stackcopy *c) {
  const ucontext_t *uc = ucontext;
  memset(c->regs, 0, sizeof c->regs);
#if defined(__x86_64__)
  /* libunwind's x86-64 numbering is DWARF's. */
  static const int map[17] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI,
                              REG_RDI, REG_RBP, REG_RSP, REG_R8,  REG_R9,
                              REG_R10, REG_R11, REG_R12, REG_R13, REG_R14,
                              REG_R15, REG_RIP};
  for (int i = 0; i < 17; i++)
    c->regs[i] = (uint64_t)uc->uc_mcontext.gregs[map[i]];
  c->pc = c->regs[UNW_X86_64_RIP];
  c->sp = c->regs[UNW_X86_64_RSP];
  return 1;
#elif defined(__aarch64__)
  for (int i = 0; i < 31; i++)
    c->regs[i] = uc->uc_mcontext.regs[i];
  c->regs[UNW_AARCH64_SP] = uc->uc_mcontext.sp;
  c->regs[UNW_AARCH64_PC] = uc->uc_mcontext.pc;
  c->regs[UNW_AARCH64_PSTATE] = uc->uc_mcontext.pstate;
  c->pc = uc->uc_mcontext.pc;
  c->sp = uc->uc_mcontext.sp;
  return 1;
#else
  (void)uc;
  c->pc = c->sp = 0;
  return 0;
#endif
}

/* Copies up to len bytes at from into to with process_vm_readv, stopping
 * at the first page that cannot be read. Returns the bytes copied, or -1
 * when the call itself is refused. */
static ssize_t vm_copy_sigsafe(void *to, uint64_t from,
                               size_t len) PPROFD__SIGSAFE;
static ssize_t vm_copy_sigsafe(void *to, uint64_t from, size_t len) {
  pid_t pid = getpid();
  size_t done = 0;
  while (done < len) {
    struct iovec local, remote[IOV_BATCH];
    size_t batch = 0;
    int k = 0;
    while (k < IOV_BATCH && done + batch < len) {
      uint64_t at = from + done + batch;
      size_t take = CHUNK - (size_t)(at % CHUNK);
      if (take > len - done - batch)
        take = len - done - batch;
      remote[k].iov_base = (void *)(uintptr_t)at;
      remote[k].iov_len = take;
      batch += take;
      k++;
    }
    local.iov_base = (unsigned char *)to + done;
    local.iov_len = batch;
    ssize_t got =
        pprofd__stackcopy_vm_read(pid, &local, 1, remote, (unsigned long)k, 0);
    if (got < 0)
      return errno == EFAULT || done > 0 ? (ssize_t)done : -1;
    done += (size_t)got;
    if ((size_t)got < batch)
      break; /* an unreadable page */
  }
  return (ssize_t)done;
}

int pprofd__stackcopy_take_sigsafe(const void *ucontext, pprofd__stackcopy *c,
                                   pprofd__stackcopy_arena *a,
                                   uint64_t stack_lo, uint64_t stack_hi) {
  c->stack = NULL;
  c->len = 0;
  c->limit = 0;
  c->clipped = 0;
  if (!regs_sigsafe(ucontext, c))
    return 0;
  uint64_t sp = c->sp;
  int known = stack_hi != 0 && sp >= stack_lo && sp < stack_hi;
  /* glibc puts a thread's descriptor (pthread_self) at the top of its
   * stack block, above its static TLS: the frames lie between SP and it,
   * and the 2 KiB descriptor above need not be copied. Not so for the
   * main thread, whose frames end at __libc_stack_end. */
  uint64_t self = (uint64_t)(uintptr_t)pthread_self();
  uint64_t main_end = &__libc_stack_end != NULL
                          ? (uint64_t)(uintptr_t)__libc_stack_end + 64
                          : 0;
  if (known)
    c->limit = self > sp && self < stack_hi ? self : stack_hi;
  else if (self > sp && self - sp <= STACK_REACH)
    c->limit = self;
  else if (main_end > sp && main_end - sp <= STACK_REACH)
    c->limit = main_end;
  size_t want = c->limit != 0 ? (size_t)(c->limit - sp) : WINDOW_UNKNOWN;
  if (want > WINDOW_KNOWN) {
    want = WINDOW_KNOWN;
    c->clipped = 1;
  }
  if (a == NULL || a->base == NULL)
    return 1;
  /* Relaxed: the arena's memory is published with the slot's state. */
  size_t off = atomic_fetch_add_explicit(&a->used, (want + 15) & ~(size_t)15,
                                         memory_order_relaxed);
  if (off >= a->size)
    return 1; /* the arena is spent: registers only */
  if (want > a->size - off) {
    want = a->size - off;
    c->clipped = 1;
  }
  unsigned char *to = a->base + off;
  ssize_t got = -1;
  if (!atomic_load_explicit(&vm_read_refused, memory_order_relaxed)) {
    got = vm_copy_sigsafe(to, sp, want);
    if (got < 0)
      atomic_store_explicit(&vm_read_refused, 1, memory_order_relaxed);
  }
  if (got < 0) {
    /* Only [SP, stack_hi) of a stack the requester knew is surely
     * mapped: the thread's own, live stack. */
    got = 0;
    if (known) {
      memcpy(to, (const void *)(uintptr_t)sp, want);
      got = (ssize_t)want;
    }
  }
  c->stack = to;
  c->len = (size_t)got;
  return 1;
}

/* ---- the walker: request threads only ---- */

typedef struct seg {
  uint64_t lo, hi;
} seg;

static struct {
  pthread_mutex_t lock; /* one walk session at a time */
  pthread_once_t once;
  const char *why; /* why copies cannot be walked, NULL when they can */
  unw_addr_space_t as;
  __typeof__(unw_init_remote) *init_remote;
  __typeof__(unw_step) *step;
  __typeof__(unw_get_reg) *get_reg;
  __typeof__(unw_is_signal_frame) *is_signal_frame;
  __typeof__(unw_flush_cache) *flush_cache;
  seg *segs; /* readable segments of loaded objects, by address */
  size_t nsegs, capsegs;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .once = PTHREAD_ONCE_INIT};

/* One walk's accessor argument. */
typedef struct walk_arg {
  const pprofd__stackcopy *c;
  int past_window; /* a stack word beyond the copy was asked for */
} walk_arg;

static int in_segs(uint64_t addr, size_t len) {
  size_t lo = 0, hi = w.nsegs;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (w.segs[mid].hi <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < w.nsegs && w.segs[lo].lo <= addr && addr + len <= w.segs[lo].hi;
}

static int acc_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
                   int write, void *arg) {
  (void)as;
  walk_arg *wa = arg;
  const pprofd__stackcopy *c = wa->c;
  if (write)
    return -UNW_EINVAL;
  if (addr >= c->sp && addr - c->sp + sizeof *val <= c->len) {
    memcpy(val, c->stack + (addr - c->sp), sizeof *val);
    return 0;
  }
  if (in_segs(addr, sizeof *val)) {
    memcpy(val, (const void *)(uintptr_t)addr, sizeof *val);
    return 0;
  }
  uint64_t top = c->limit != 0 ? c->limit : c->sp + STACK_REACH;
  if (addr + WINDOW_UNKNOWN >= c->sp && addr < top) {
    wa->past_window |= addr >= c->sp;
    return -UNW_EINVAL; /* the stack, but not the copy of it */
  }
  if (atomic_load_explicit(&vm_read_refused, memory_order_relaxed))
    return -UNW_EINVAL;
  struct iovec local = {val, sizeof *val};
  struct iovec remote = {(void *)(uintptr_t)addr, sizeof *val};
  return pprofd__stackcopy_vm_read(getpid(), &local, 1, &remote, 1, 0) ==
                 (ssize_t)sizeof *val
             ? 0
             : -UNW_EINVAL;
}

static int acc_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
                   int write, void *arg) {
  (void)as;
  const walk_arg *wa = arg;
  if (write || reg < 0 || reg >= PPROFD__STACKCOPY_NREGS)
    return -UNW_EBADREG;
  *val = wa->c->regs[reg];
  return 0;
}

static int acc_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val,
                     int write, void *arg) {
  (void)as, (void)reg, (void)val, (void)write, (void)arg;
  return -UNW_EBADREG;
}

static int acc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg) {
  (void)as, (void)c, (void)arg;
  return -UNW_EINVAL;
}

static int acc_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
                         size_t len, unw_word_t *off, void *arg) {
  (void)as, (void)addr, (void)buf, (void)len, (void)off, (void)arg;
  return -UNW_ENOINFO; /* names come from the symbolizer */
}

/* Loads the generic libunwind and makes the address space. */
static void load(void) {
  void *h = dlopen(PPROFD_UNWIND_REMOTE_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    w.why = "libunwind's remote unwinder (" PPROFD_UNWIND_REMOTE_SONAME
            ") cannot be loaded";
    return;
  }
  __typeof__(unw_create_addr_space) *create =
      (__typeof__(create))dlsym(h, STR(unw_create_addr_space));
  __typeof__(unw_get_accessors) *get_acc =
      (__typeof__(get_acc))dlsym(h, STR(unw_get_accessors));
  __typeof__(unw_set_caching_policy) *policy =
      (__typeof__(policy))dlsym(h, STR(unw_set_caching_policy));
  unw_addr_space_t *local =
      (unw_addr_space_t *)dlsym(h, STR(unw_local_addr_space));
  w.init_remote = (__typeof__(w.init_remote))dlsym(h, STR(unw_init_remote));
  w.step = (__typeof__(w.step))dlsym(h, STR(unw_step));
  w.get_reg = (__typeof__(w.get_reg))dlsym(h, STR(unw_get_reg));
  w.is_signal_frame =
      (__typeof__(w.is_signal_frame))dlsym(h, STR(unw_is_signal_frame));
  w.flush_cache = (__typeof__(w.flush_cache))dlsym(h, STR(unw_flush_cache));
  if (create == NULL || get_acc == NULL || policy == NULL || local == NULL ||
      w.init_remote == NULL || w.step == NULL || w.get_reg == NULL ||
      w.is_signal_frame == NULL || w.flush_cache == NULL) {
    w.why = "libunwind's remote unwinder lacks a function pprofd needs";
    return;
  }
  unw_accessors_t acc = *get_acc(*local);
  acc.access_mem = acc_mem;
  acc.access_reg = acc_reg;
  acc.access_fpreg = acc_fpreg;
  acc.resume = acc_resume;
  acc.get_proc_name = acc_proc_name;
  w.as = create(&acc, 0);
  if (w.as == NULL) {
    w.why = "libunwind cannot make an address space";
    return;
  }
  (void)policy(w.as, UNW_CACHE_GLOBAL);
}

static int add_segs(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size, (void)data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R) || ph->p_memsz == 0)
      continue;
    if (w.nsegs == w.capsegs) {
      size_t cap = w.capsegs ? w.capsegs * 2 : 64;
      seg *ns = pprofd__irealloc(w.segs, cap * sizeof *ns);
      if (ns == NULL)
        return 1; /* stop: the rest goes through process_vm_readv */
      w.segs = ns;
      w.capsegs = cap;
    }
    uint64_t lo = info->dlpi_addr + ph->p_vaddr;
    w.segs[w.nsegs++] = (seg){lo, lo + ph->p_memsz};
  }
  return 0;
}

static int cmp_seg(const void *a, const void *b) {
  const seg *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

const char *pprofd__stackcopy_walk_begin(void) {
  pprofd__mutex_lock(&w.lock);
  pthread_once(&w.once, load);
  if (w.why != NULL)
    return w.why;
  w.flush_cache(w.as, 0, 0);
  w.nsegs = 0;
  dl_iterate_phdr(add_segs, NULL);
  qsort(w.segs, w.nsegs, sizeof *w.segs, cmp_seg);
  return NULL;
}

void pprofd__stackcopy_walk_end(void) {
  pprofd__ifree(w.segs);
  w.segs = NULL;
  w.nsegs = w.capsegs = 0;
  pprofd__mutex_unlock(&w.lock);
}

int pprofd__stackcopy_walk(const pprofd__stackcopy *c, uint64_t *locs, int max,
                           int *truncated) {
  *truncated = 0;
  if (max <= 0 || c->pc == 0)
    return 0;
  locs[0] = c->pc;
  walk_arg wa = {c, 0};
  unw_cursor_t cur;
  if (w.why != NULL || w.init_remote(&cur, w.as, &wa) < 0) {
    *truncated = PPROFD__UNWIND_INCOMPLETE;
    return 1;
  }
  /* The walk may enter the loader (dl_iterate_phdr): a SIGPROF on this
   * thread meanwhile records its leaf alone (sample/cpu.c). */
  pprofd__thread_loader_mark_sigsafe(1);
  int n = 1;
  for (;;) {
    /* After a signal frame comes an interrupted PC, not a return
     * address. */
    int after_signal = w.is_signal_frame(&cur) > 0;
    int r = w.step(&cur);
    if (r <= 0) {
      if (r < 0 && wa.past_window)
        *truncated = 1;
      break;
    }
    unw_word_t ip;
    if (w.get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
      break;
    if (n == max) {
      *truncated = 1;
      break;
    }
    locs[n++] = after_signal ? ip : ip - 1;
  }
  pprofd__thread_loader_mark_sigsafe(-1);
  return n;
}

void pprofd__stackcopy_prefork(void) { pprofd__mutex_lock(&w.lock); }

void pprofd__stackcopy_postfork_parent(void) { pprofd__mutex_unlock(&w.lock); }

void pprofd__stackcopy_postfork_child(void) { pprofd__mutex_unlock(&w.lock); }
