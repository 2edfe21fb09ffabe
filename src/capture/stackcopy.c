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
 *   - other memory (unwind tables, instructions at a PC) through
 *     /proc/self/mem, a page at a time with a small cache: a read of an
 *     address that is no longer mapped (a library unloaded meanwhile)
 *     fails instead of faulting;
 *   - unwind-table lookup (find_proc_info) from the executable mappings
 *     of /proc/self/maps, each object's program headers and its
 *     .eh_frame_hdr search table, read through /proc/self/mem: never
 *     dl_iterate_phdr, so a walk does not need the loader lock, and a
 *     thread wedged inside the loader (holding it) cannot hang a dump.
 * That address space is used by one walk session at a time, so it can
 * cache unwind rules globally across the threads of one dump; each
 * session flushes that cache, since a library may have been unloaded
 * and another loaded at its address in between.
 *
 * Handlers copy with pread on /proc/self/mem too, which stops at the
 * first unmapped page. Not process_vm_readv: seccomp allow-lists
 * (systemd's SystemCallFilter= among them) often leave it out and kill
 * the process that calls it; pread and openat they always allow.
 */
#include "config.h"

#include "capture/stackcopy.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* Not UNW_LOCAL_ONLY: the generic build's names (_U<arch>_...). */
#include <libunwind.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "capture/unwind.h"
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
/* The walker's cache of process memory: PAGES pages of PAGE bytes. */
#define PAGE 4096
#define PAGES 64

/* The initial stack pointer of the main thread (glibc's ld.so). */
extern void *__libc_stack_end __attribute__((weak));

static int open_mem(void) {
  return open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
}

int (*PPROFD__SEAM pprofd__stackcopy_open_mem)(void) = open_mem;

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
    a->memfd = -1;
    return PPROFD_ENOMEM;
  }
  a->memfd = pprofd__stackcopy_open_mem();
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
  if (a->memfd >= 0)
    close(a->memfd);
  a->memfd = -1;
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

uint64_t pprofd__stackcopy_limit_sigsafe(uint64_t sp) {
  /* glibc puts a thread's descriptor (pthread_self) at the top of its
   * stack block, its own or one given with pthread_attr_setstack, above
   * its static TLS; the main thread's stack ends at __libc_stack_end. */
  uint64_t self = (uint64_t)(uintptr_t)pthread_self();
  uint64_t main_end = &__libc_stack_end != NULL
                          ? (uint64_t)(uintptr_t)__libc_stack_end + 64
                          : 0;
  if (self > sp && self - sp <= STACK_REACH)
    return self;
  if (main_end > sp && main_end - sp <= STACK_REACH)
    return main_end;
  return 0;
}

void pprofd__stackcopy_copy_window(pprofd__stackcopy *c, uint64_t limit,
                                   pprofd__stackcopy_arena *a) {
  /* Where the stack ends only sizes the copy: pread stops at an unmapped
   * page, so a wrong guess copies too much or too little, nothing
   * worse. */
  uint64_t sp = c->sp;
  c->stack = NULL;
  c->len = 0;
  c->limit = limit > sp && limit - sp <= STACK_REACH ? limit : 0;
  size_t want = c->limit != 0 ? (size_t)(c->limit - sp) : WINDOW_UNKNOWN;
  if (want > WINDOW_KNOWN)
    want = WINDOW_KNOWN;
  if (a == NULL || a->base == NULL || a->memfd < 0)
    return; /* registers only */
  /* Relaxed: the arena's memory is published with the slot's state. */
  size_t off = atomic_fetch_add_explicit(&a->used, (want + 15) & ~(size_t)15,
                                         memory_order_relaxed);
  if (off >= a->size)
    return; /* the arena is spent: registers only */
  if (want > a->size - off)
    want = a->size - off;
  unsigned char *to = a->base + off;
  ssize_t got = pread(a->memfd, to, want, (off_t)sp);
  c->stack = to;
  c->len = got > 0 ? (size_t)got : 0;
}

int pprofd__stackcopy_take_sigsafe(const void *ucontext, pprofd__stackcopy *c,
                                   pprofd__stackcopy_arena *a) {
  c->stack = NULL;
  c->len = 0;
  c->limit = 0;
  if (!regs_sigsafe(ucontext, c))
    return 0;
  pprofd__stackcopy_copy_window(c, pprofd__stackcopy_limit_sigsafe(c->sp), a);
  return 1;
}

void pprofd__stackcopy_from_saved(pprofd__stackcopy *c, uint64_t pc,
                                  uint64_t sp, const uint64_t *saved,
                                  size_t nsaved) {
  memset(c, 0, sizeof *c);
  c->pc = pc;
  c->sp = sp;
#if defined(__x86_64__)
  static const int map[] = {UNW_X86_64_RBX, UNW_X86_64_RBP, UNW_X86_64_R12,
                            UNW_X86_64_R13, UNW_X86_64_R14, UNW_X86_64_R15};
  c->regs[UNW_X86_64_RIP] = pc;
  c->regs[UNW_X86_64_RSP] = sp;
#elif defined(__aarch64__)
  static const int map[] = {UNW_AARCH64_X19, UNW_AARCH64_X20, UNW_AARCH64_X21,
                            UNW_AARCH64_X22, UNW_AARCH64_X23, UNW_AARCH64_X24,
                            UNW_AARCH64_X25, UNW_AARCH64_X26, UNW_AARCH64_X27,
                            UNW_AARCH64_X28, UNW_AARCH64_X29, UNW_AARCH64_X30};
  c->regs[UNW_AARCH64_PC] = pc;
  c->regs[UNW_AARCH64_SP] = sp;
#else
  static const int map[] = {0};
  nsaved = 0;
#endif
  for (size_t i = 0; saved != NULL && i < nsaved && i < PPROFD__ARRAY_SIZE(map);
       i++)
    c->regs[map[i]] = saved[i];
}

/* ---- the walker: request threads only ---- */

/* libunwind's search of a remote .eh_frame_hdr table (exported, used by
 * its ptrace and coredump unwinders, but in no public header). */
typedef int (*search_table_fn)(unw_addr_space_t as, unw_word_t ip,
                               unw_dyn_info_t *di, unw_proc_info_t *pi,
                               int need_unwind_info, void *arg);

static struct {
  pthread_mutex_t lock; /* one walk session at a time */
  pthread_once_t once;
  const char *why; /* why copies cannot be walked, NULL when they can */
  unw_addr_space_t as;
  __typeof__(unw_init_remote) *init_remote;
  __typeof__(unw_step) *step;
  __typeof__(unw_get_reg) *get_reg;
  __typeof__(unw_flush_cache) *flush_cache;
  search_table_fn search_table;
  int memfd;        /* /proc/self/mem during a session, else -1 */
  struct obj *objs; /* executable mappings, by address, during a session */
  size_t nobjs;
  struct {
    uint64_t page; /* address / PAGE + 1; 0 when empty */
    unsigned char bytes[PAGE];
  } cache[PAGES];
} w = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .once = PTHREAD_ONCE_INIT, .memfd = -1};
PPROFD__LOCK_RANK(stackcopy, &w.lock, PPROFD__RANK_STACKCOPY);

/* An executable mapping and its object's unwind search table. */
typedef struct obj {
  uint64_t lo, hi;   /* the mapping */
  uint64_t hdr;      /* .eh_frame_hdr, 0 when the object has none */
  uint64_t table;    /* its binary search table */
  uint64_t nentries; /* entries in it (two 32-bit words each) */
} obj;

/* One walk's accessor argument. */
typedef struct walk_arg {
  const pprofd__stackcopy *c;
  int past_window; /* a stack word beyond the copy was asked for */
} walk_arg;

/* Reads len bytes of process memory at addr through the page cache; 0,
 * or -1 when some byte is not mapped. */
static int read_mem(uint64_t addr, void *out, size_t len) {
  unsigned char *o = out;
  while (len > 0) {
    uint64_t page = addr / PAGE;
    size_t at = (size_t)(addr % PAGE);
    size_t take = len < PAGE - at ? len : PAGE - at;
    __typeof__(w.cache[0]) *e = &w.cache[page % PAGES];
    if (e->page != page + 1) {
      if (w.memfd < 0 || pread(w.memfd, e->bytes, PAGE, (off_t)(page * PAGE)) !=
                             (ssize_t)PAGE) {
        e->page = 0;
        return -1;
      }
      e->page = page + 1;
    }
    memcpy(o, e->bytes + at, take);
    o += take;
    addr += take;
    len -= take;
  }
  return 0;
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
  uint64_t top = c->limit != 0 ? c->limit : c->sp + STACK_REACH;
  uint64_t bottom = c->sp > WINDOW_UNKNOWN ? c->sp - WINDOW_UNKNOWN : 0;
  if (addr >= bottom && addr < top) {
    wa->past_window |= addr >= c->sp;
    return -UNW_EINVAL; /* the stack, but not the copy of it */
  }
  return read_mem(addr, val, sizeof *val) == 0 ? 0 : -UNW_EINVAL;
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

/* The executable mapping holding ip, or NULL. */
static const obj *find_obj(uint64_t ip) {
  size_t lo = 0, hi = w.nobjs;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (w.objs[mid].hi <= ip)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < w.nobjs && w.objs[lo].lo <= ip ? &w.objs[lo] : NULL;
}

static int acc_find_proc_info(unw_addr_space_t as, unw_word_t ip,
                              unw_proc_info_t *pi, int need_unwind_info,
                              void *arg) {
  const obj *o = find_obj(ip);
  if (o == NULL || o->hdr == 0)
    return -UNW_ENOINFO;
  unw_dyn_info_t di;
  memset(&di, 0, sizeof di);
  di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
  di.start_ip = o->lo;
  di.end_ip = o->hi;
  di.u.rti.segbase = o->hdr;
  di.u.rti.table_data = o->table;
  di.u.rti.table_len = o->nentries * 8 / sizeof(unw_word_t);
  return w.search_table(as, ip, &di, pi, need_unwind_info, arg);
}

/* Fills o's unwind table from the ELF image whose file offset 0 is
 * mapped at base (read through /proc/self/mem, validated). */
static void find_table(obj *o, uint64_t base) {
  ElfW(Ehdr) eh;
  o->hdr = 0;
  if (read_mem(base, &eh, sizeof eh) != 0 ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum > 256)
    return;
  uint64_t min_vaddr = UINT64_MAX, hdr_vaddr = 0;
  for (int i = 0; i < eh.e_phnum; i++) {
    ElfW(Phdr) ph;
    if (read_mem(base + eh.e_phoff + (uint64_t)i * sizeof ph, &ph, sizeof ph) !=
        0)
      return;
    if (ph.p_type == PT_LOAD && ph.p_vaddr < min_vaddr)
      min_vaddr = ph.p_vaddr;
    if (ph.p_type == PT_GNU_EH_FRAME)
      hdr_vaddr = ph.p_vaddr;
  }
  if (hdr_vaddr == 0 || min_vaddr == UINT64_MAX)
    return;
  uint64_t bias = base - (min_vaddr & ~(uint64_t)(PAGE - 1));
  uint64_t hdr = bias + hdr_vaddr;
  /* version 1; eh_frame_ptr's encoding; fde_count's (udata4); the
   * table's (datarel sdata4): what every linker writes, and what
   * libunwind's remote search reads. */
  unsigned char h[4];
  if (read_mem(hdr, h, sizeof h) != 0 || h[0] != 1 || h[2] != 0x03 ||
      h[3] != 0x3b)
    return;
  size_t ptr_size;
  switch (h[1] & 0x0f) {
  case 0x02: /* udata2 */
  case 0x0a: /* sdata2 */
    ptr_size = 2;
    break;
  case 0x03: /* udata4 */
  case 0x0b: /* sdata4 */
    ptr_size = 4;
    break;
  case 0x04: /* udata8 */
  case 0x0c: /* sdata8 */
    ptr_size = 8;
    break;
  default:
    return;
  }
  uint32_t count;
  if (read_mem(hdr + 4 + ptr_size, &count, sizeof count) != 0 || count == 0)
    return;
  o->hdr = hdr;
  o->table = hdr + 4 + ptr_size + 4;
  o->nentries = count;
}

/* Lists the executable mappings with their unwind tables. */
static void list_objs(void) {
  FILE *f = fopen("/proc/self/maps", "re");
  if (f == NULL)
    return;
  size_t cap = 0;
  char line[512];
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long long lo, hi, off;
    char perms[8];
    if (sscanf(line, "%llx-%llx %7s %llx", &lo, &hi, perms, &off) != 4 ||
        perms[2] != 'x')
      continue;
    if (w.nobjs == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      obj *no = pprofd__irealloc(w.objs, ncap * sizeof *no);
      if (no == NULL)
        break;
      w.objs = no;
      cap = ncap;
    }
    obj *o = &w.objs[w.nobjs++];
    o->lo = lo;
    o->hi = hi;
    /* Where file offset 0 would be: the ELF header, for every layout
     * that maps its code at the same distance from its file offset as
     * its first segment (all the GNU and LLVM linkers write). */
    find_table(o, lo - off);
  }
  fclose(f);
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
  w.flush_cache = (__typeof__(w.flush_cache))dlsym(h, STR(unw_flush_cache));
  w.search_table =
      (search_table_fn)dlsym(h, STR(UNW_OBJ(dwarf_search_unwind_table)));
  if (create == NULL || get_acc == NULL || policy == NULL || local == NULL ||
      w.init_remote == NULL || w.step == NULL || w.get_reg == NULL ||
      w.flush_cache == NULL || w.search_table == NULL) {
    w.why = "libunwind's remote unwinder lacks a function pprofd needs";
    dlclose(h);
    return;
  }
  /* libunwind 1.8 appended members to unw_accessors_t and copies its own
   * size: a zeroed tail longer than any of them makes those NULL (the
   * defaults) whatever headers this was built with. */
  union {
    unw_accessors_t acc;
    unsigned char room[sizeof(unw_accessors_t) + 256];
  } u;
  memset(&u, 0, sizeof u);
  u.acc = *get_acc(*local);
  u.acc.access_mem = acc_mem;
  u.acc.access_reg = acc_reg;
  u.acc.access_fpreg = acc_fpreg;
  u.acc.resume = acc_resume;
  u.acc.get_proc_name = acc_proc_name;
  u.acc.find_proc_info = acc_find_proc_info;
  w.as = create(&u.acc, 0);
  if (w.as == NULL) {
    w.why = "libunwind cannot make an address space";
    return;
  }
  (void)policy(w.as, UNW_CACHE_GLOBAL);
}

const char *pprofd__stackcopy_init(void) {
  pthread_once(&w.once, load);
  return w.why;
}

const char *pprofd__stackcopy_walk_begin(void) {
  /* Loaded before the lock: dlopen takes the loader lock, which a
   * fork() may be waiting on while holding ours. */
  pthread_once(&w.once, load);
  pprofd__mutex_lock(&w.lock);
  if (w.why != NULL)
    return w.why;
  w.flush_cache(w.as, 0, 0);
  for (size_t i = 0; i < PAGES; i++)
    w.cache[i].page = 0;
  w.memfd = pprofd__stackcopy_open_mem();
  w.nobjs = 0;
  list_objs();
  return NULL;
}

void pprofd__stackcopy_walk_end(void) {
  if (w.memfd >= 0)
    close(w.memfd);
  w.memfd = -1;
  pprofd__ifree(w.objs);
  w.objs = NULL;
  w.nobjs = 0;
  pprofd__mutex_unlock(&w.lock);
}

/* Whether pc is the signal-return trampoline (glibc's __restore_rt):
 * the frame after it is an interrupted context whose PC is exact. */
static int is_sigreturn(uint64_t pc) {
#if defined(__x86_64__)
  static const unsigned char code[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00,
                                       0x00, 0x00, 0x0f, 0x05};
#elif defined(__aarch64__)
  static const unsigned char code[] = {0x68, 0x11, 0x80, 0xd2,
                                       0x01, 0x00, 0x00, 0xd4};
#else
  static const unsigned char code[] = {0};
  (void)pc;
  return 0;
#endif
  unsigned char got[sizeof code];
  return read_mem(pc, got, sizeof got) == 0 &&
         memcmp(got, code, sizeof code) == 0;
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
  int n = 1;
  int after_signal = is_sigreturn(c->pc);
  for (;;) {
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
    /* A return address is one past its call; the trampoline's own
     * address and an interrupted PC are exact. */
    int trampoline = is_sigreturn(ip);
    locs[n++] = after_signal || trampoline ? ip : ip - 1;
    after_signal = trampoline;
  }
  if (n == 1 && c->len == 0)
    *truncated = PPROFD__UNWIND_INCOMPLETE; /* no stack was copied */
  return n;
}

/* fork() does not wait for a walk session (a dump's walks are request
 * work); a child forked during one cannot walk, its session's state being
 * mid-way. */
void pprofd__stackcopy_postfork_child(void) {
  if (pprofd__mutex_reclaim_in_child(&w.lock))
    return;
  w.memfd = -1;
  w.why = "a fork happened while a thread dump was walking stacks";
}
