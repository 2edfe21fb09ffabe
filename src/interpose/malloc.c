/*
 * malloc.c - the interposed malloc family (see malloc.h).
 *
 * Fast paths. An unsampled malloc pays one subtraction from the thread's
 * countdown (initial-exec TLS, see sample/heap.h) and a branch, then
 * tail-calls the real function. An unsampled free pays one test of the
 * pointer's low 12 bits and a branch: every sampled block is allocated
 * 4096-aligned (PPROFD__SAMPLE_ALIGN), so a pointer that is not cannot be
 * sampled, and only 4096-aligned pointers (NULL, the bootstrap arena,
 * sampled blocks and the rare block that happens to be aligned) go on to
 * a lock-free lookup in the sampled-pointer table. There is no header in
 * front of a sampled block, so malloc_usable_size, realloc and the
 * aligned allocators keep the real allocator's behaviour unchanged, and
 * free never reads memory it does not own (safe under any host allocator,
 * not just glibc's). The price is alignment slack on sampled blocks only:
 * about one in 512 KiB allocated at the default rate.
 *
 * The choice was measured against the alternatives DESIGN lists: a bitmap
 * looked up on every free costs ~26 instructions per pair and misses
 * cache; a magic header read at p-8 is deterministic only under glibc (a
 * host allocator's block may start a page whose predecessor is unmapped).
 *
 * Real functions. The first call of any wrapper resolves every real
 * function with dlsym(RTLD_NEXT) (a host allocator linked after pprofd,
 * e.g. jemalloc, keeps working). dlsym itself allocates; those calls, and
 * any made by the resolving thread meanwhile, are served from a static
 * bootstrap arena whose blocks are 4096-aligned (so free() sees them and
 * ignores them) and never reused. Other threads wait for the resolution.
 * The function pointers start as bootstrap stubs and are written once;
 * a reader sees the stub or the real function, both valid, so they are
 * plain pointers read without a fence on the hot path.
 *
 * Every wrapper and slow path lives in the "pprofd_hook" text section:
 * the sampler drops leading frames in that section, so a recorded stack
 * starts at the caller of malloc whatever the compiler inlined.
 */
#include "config.h"

#ifdef PPROFD_ENABLE_INTERPOSE

#include "interpose/malloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/libc.h"
#include "sample/heap.h"

#define ALIGN_MASK ((uintptr_t)PPROFD__SAMPLE_ALIGN - 1)

/* glibc no longer declares these; we export them all the same. */
void cfree(void *p);
void *pvalloc(size_t n);
void *valloc(size_t n);
void *memalign(size_t a, size_t n);
void *reallocarray(void *p, size_t n, size_t m);
size_t malloc_usable_size(void *p);

typedef struct real_fns {
  void *(*malloc)(size_t);
  void *(*calloc)(size_t, size_t);
  void *(*realloc)(void *, size_t);
  void (*free)(void *);
  int (*posix_memalign)(void **, size_t, size_t);
  void *(*memalign)(size_t, size_t);
  void *(*aligned_alloc)(size_t, size_t);
  size_t (*usable)(void *);
} real_fns;

static void *boot_malloc(size_t n);
static void *boot_calloc(size_t n, size_t m);
static void *boot_realloc(void *p, size_t n);
static void boot_free(void *p);
static int boot_posix_memalign(void **out, size_t a, size_t n);
static void *boot_memalign(size_t a, size_t n);
static void *boot_aligned_alloc(size_t a, size_t n);
static size_t boot_usable(void *p);

/* The functions we forward to; stubs until resolve() has run. */
static real_fns real = {
    boot_malloc,         boot_calloc,   boot_realloc,       boot_free,
    boot_posix_memalign, boot_memalign, boot_aligned_alloc, boot_usable,
};

/* 0 unresolved, 1 resolving, 2 resolved. */
static atomic_int resolve_state;
static __thread int tls_resolving __attribute__((tls_model("initial-exec")));

/*
 * The bootstrap arena: BOOT_PAGES blocks' worth of 4096-byte units, bump
 * allocated, never freed. A block's size is kept per starting unit so
 * that realloc and malloc_usable_size work on it.
 */
#define BOOT_UNITS 256
static unsigned char boot_arena[BOOT_UNITS * PPROFD__SAMPLE_ALIGN]
    __attribute__((aligned(PPROFD__SAMPLE_ALIGN)));
static atomic_size_t boot_next; /* next free unit */
static size_t boot_size[BOOT_UNITS];

/* Whether p is in the bootstrap arena. */
static int in_boot(const void *p) {
  uintptr_t a = (uintptr_t)p, b = (uintptr_t)boot_arena;
  return a >= b && a < b + sizeof boot_arena;
}

/* A zeroed block from the arena, aligned to max(a, 4096); NULL if full. */
static void *boot_alloc(size_t n, size_t a) {
  size_t units = n / PPROFD__SAMPLE_ALIGN + 1;
  size_t au = a > PPROFD__SAMPLE_ALIGN ? a / PPROFD__SAMPLE_ALIGN : 1;
  if (n > sizeof boot_arena || au > BOOT_UNITS)
    return NULL;
  /* Relaxed: the counter hands out disjoint ranges; no data depends on
   * its order beyond the range itself. */
  size_t cur = atomic_load_explicit(&boot_next, memory_order_relaxed);
  for (;;) {
    size_t start = (cur + au - 1) / au * au;
    if (start + units > BOOT_UNITS)
      return NULL;
    if (atomic_compare_exchange_weak_explicit(&boot_next, &cur, start + units,
                                              memory_order_relaxed,
                                              memory_order_relaxed)) {
      boot_size[start] = n;
      return boot_arena + start * PPROFD__SAMPLE_ALIGN;
    }
  }
}

/* The size asked for a bootstrap block. */
static size_t boot_block_size(const void *p) {
  size_t u = ((uintptr_t)p - (uintptr_t)boot_arena) / PPROFD__SAMPLE_ALIGN;
  return boot_size[u];
}

size_t pprofd__malloc_boot_bytes(void) {
  size_t u = atomic_load_explicit(&boot_next, memory_order_relaxed);
  return u * PPROFD__SAMPLE_ALIGN;
}

/* Looks name up after this library, then as glibc's __libc_ name. */
static void *find(const char *name, const char *libc_name) {
  void *f = dlsym(RTLD_NEXT, name);
  if (f == NULL && libc_name != NULL)
    f = dlsym(RTLD_DEFAULT, libc_name);
  return f;
}

/* Resolves the real functions once. Returns 1 when they are usable, 0
 * when the caller is the resolving thread (nested, from dlsym) and must
 * use the arena. */
static int resolve(void) {
  /* Acquire pairs with the release below: a thread that sees 2 sees
   * every pointer written before it. */
  int st = atomic_load_explicit(&resolve_state, memory_order_acquire);
  if (st == 2)
    return 1;
  if (tls_resolving)
    return 0;
  int expected = 0;
  if (atomic_compare_exchange_strong_explicit(&resolve_state, &expected, 1,
                                              memory_order_acq_rel,
                                              memory_order_acquire)) {
    tls_resolving = 1;
    real_fns r;
    r.malloc = (void *(*)(size_t))find("malloc", "__libc_malloc");
    r.calloc = (void *(*)(size_t, size_t))find("calloc", "__libc_calloc");
    r.realloc = (void *(*)(void *, size_t))find("realloc", "__libc_realloc");
    r.free = (void (*)(void *))find("free", "__libc_free");
    r.posix_memalign =
        (int (*)(void **, size_t, size_t))find("posix_memalign", NULL);
    r.memalign = (void *(*)(size_t, size_t))find("memalign", "__libc_memalign");
    r.aligned_alloc = (void *(*)(size_t, size_t))find("aligned_alloc", NULL);
    r.usable = (size_t(*)(void *))find("malloc_usable_size", NULL);
    tls_resolving = 0;
    if (r.malloc == NULL || r.calloc == NULL || r.realloc == NULL ||
        r.free == NULL || r.memalign == NULL) {
      /* No allocator to forward to: keep serving from the arena. */
      tls_resolving = 1;
      return 0;
    }
    real = r;
    atomic_store_explicit(&resolve_state, 2, memory_order_release);
    return 1;
  }
  while (atomic_load_explicit(&resolve_state, memory_order_acquire) != 2)
    sched_yield();
  return 1;
}

static void *boot_malloc(size_t n) {
  return resolve() ? real.malloc(n) : boot_alloc(n, 16);
}

static void *boot_calloc(size_t n, size_t m) {
  size_t t;
  if (__builtin_mul_overflow(n, m, &t))
    return NULL;
  return resolve() ? real.calloc(n, m) : boot_alloc(t, 16);
}

static void *boot_realloc(void *p, size_t n) {
  if (resolve())
    return real.realloc(p, n);
  void *q = boot_alloc(n, 16);
  if (q != NULL && p != NULL)
    memcpy(q, p, n); /* p is an arena block: nothing else exists yet */
  return q;
}

static void boot_free(void *p) {
  if (resolve())
    real.free(p);
}

static int boot_posix_memalign(void **out, size_t a, size_t n) {
  if (resolve()) {
    if (real.posix_memalign != NULL)
      return real.posix_memalign(out, a, n);
    void *p = real.memalign(a, n);
    if (p == NULL)
      return ENOMEM;
    *out = p;
    return 0;
  }
  void *p = boot_alloc(n, a);
  if (p == NULL)
    return ENOMEM;
  *out = p;
  return 0;
}

static void *boot_memalign(size_t a, size_t n) {
  return resolve() ? real.memalign(a, n) : boot_alloc(n, a);
}

static void *boot_aligned_alloc(size_t a, size_t n) {
  if (!resolve())
    return boot_alloc(n, a);
  return real.aligned_alloc != NULL ? real.aligned_alloc(a, n)
                                    : real.memalign(a, n);
}

static size_t boot_usable(void *p) { return 0; }

/* The real posix_memalign, or memalign when the allocator has none. */
static void *real_aligned(size_t a, size_t n) {
  if (real.posix_memalign == boot_posix_memalign || real.posix_memalign) {
    void *p = NULL;
    int e = real.posix_memalign(&p, a, n);
    return e == 0 ? p : NULL;
  }
  return real.memalign(a, n);
}

/* Allocates a sampled block (4096-aligned, or to `a` if larger), zeroed
 * when asked, and records it. errno is kept on success and ENOMEM on
 * failure. */
static PPROFD__HOOK void *sample_alloc(size_t n, size_t a, int zero) {
  int saved = errno;
  pprofd__guard_enter();
  void *p = real_aligned(a > PPROFD__SAMPLE_ALIGN ? a : PPROFD__SAMPLE_ALIGN,
                         n ? n : 1);
  if (p != NULL) {
    if (zero)
      memset(p, 0, n);
    pprofd__heap_record(p, n);
  }
  pprofd__guard_exit();
  errno = p != NULL ? saved : ENOMEM;
  return p;
}

/* Whether a is an alignment the sampled path can honour. */
static int pow2(size_t a) {
  return a != 0 && (a & (a - 1)) == 0 && a <= ((size_t)1 << 30);
}

/* The countdown ran out on a malloc of n bytes. */
static PPROFD__HOOK void *malloc_slow(size_t n) {
  if (pprofd__heap_slow(n))
    return sample_alloc(n, 0, 0);
  return real.malloc(n);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void *malloc(size_t n) {
  if (PPROFD__UNLIKELY(pprofd__heap_take(n)))
    return malloc_slow(n);
  return real.malloc(n);
}

/* The free of a 4096-aligned pointer (or NULL). */
static PPROFD__HOOK void free_slow(void *p) {
  if (p == NULL || in_boot(p))
    return;
  if (pprofd__heap_is_sampled(p))
    (void)pprofd__heap_forget(p, NULL);
  real.free(p);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void free(void *p) {
  if (PPROFD__UNLIKELY(((uintptr_t)p & ALIGN_MASK) == 0)) {
    free_slow(p);
    return;
  }
  real.free(p);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void cfree(void *p) { free(p); }

/* The countdown ran out on a calloc of t = n * m bytes. */
static PPROFD__HOOK void *calloc_slow(size_t n, size_t m, size_t t) {
  if (pprofd__heap_slow(t))
    return sample_alloc(t, 0, 1);
  return real.calloc(n, m);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void *calloc(size_t n, size_t m) {
  size_t t;
  if (PPROFD__UNLIKELY(__builtin_mul_overflow(n, m, &t)))
    return real.calloc(n, m); /* fails with ENOMEM as it should */
  if (PPROFD__UNLIKELY(pprofd__heap_take(t)))
    return calloc_slow(n, m, t);
  return real.calloc(n, m);
}

/* realloc when the countdown ran out or p is NULL or 4096-aligned. The
 * countdown has been charged n bytes. A sampled old or new block makes
 * realloc a free plus an allocation, as jemalloc and tcmalloc count it. */
static PPROFD__HOOK void *realloc_slow(void *p, size_t n) {
  if (PPROFD__UNLIKELY(n > PTRDIFF_MAX)) {
    /* Bound to fail, and it wrapped the countdown: undo the charge. (A
     * malloc of such a size also wraps it, by 2^64 - n bytes, which the
     * fast path does not check; it only delays the next sample.) */
    pprofd__tls_heap.left = (int64_t)((uint64_t)pprofd__tls_heap.left + n);
    return real.realloc(p, n);
  }
  int sample_new = pprofd__tls_heap.left <= 0 ? pprofd__heap_slow(n) : 0;
  if (p == NULL)
    return sample_new ? sample_alloc(n, 0, 0) : real.malloc(n);
  if (in_boot(p)) {
    if (n == 0)
      return NULL;
    void *q = sample_new ? sample_alloc(n, 0, 0) : real.malloc(n);
    if (q != NULL) {
      size_t old = boot_block_size(p);
      memcpy(q, p, old < n ? old : n);
    }
    return q;
  }
  int sampled_old =
      ((uintptr_t)p & ALIGN_MASK) == 0 && pprofd__heap_is_sampled(p);
  if (!sample_new && !sampled_old)
    return real.realloc(p, n);
  if (!sample_new || n == 0) {
    /* Forget before the real call: once p is freed, its address may be
     * handed out and sampled again by another thread. */
    pprofd__heap_cookie c;
    (void)pprofd__heap_forget(p, &c);
    void *q = real.realloc(p, n);
    if (q == NULL && n != 0)
      pprofd__heap_unforget(p, &c);
    return q;
  }
  void *q = sample_alloc(n, 0, 0);
  if (q == NULL)
    return NULL;
  size_t old = real.usable != NULL ? real.usable(p) : 0;
  if (old == 0 && sampled_old)
    old = pprofd__heap_sampled_size(p);
  memcpy(q, p, old < n ? old : n);
  if (sampled_old)
    (void)pprofd__heap_forget(p, NULL);
  real.free(p);
  return q;
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void *realloc(void *p, size_t n) {
  if (PPROFD__UNLIKELY(pprofd__heap_take(n) |
                       (((uintptr_t)p & ALIGN_MASK) == 0)))
    return realloc_slow(p, n);
  return real.realloc(p, n);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void *reallocarray(void *p, size_t n,
                                                      size_t m) {
  size_t t;
  if (__builtin_mul_overflow(n, m, &t)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(p, t);
}

/* The aligned allocators: which real function an unsampled call uses. */
enum akind { K_POSIX, K_MEMALIGN, K_ALIGNED_ALLOC };

/* An aligned allocation of n bytes; the countdown has been charged. */
static PPROFD__HOOK void *aligned_slow(enum akind k, size_t a, size_t n) {
  if (pprofd__heap_slow(n) && pow2(a))
    return sample_alloc(n, a, 0);
  switch (k) {
  case K_ALIGNED_ALLOC:
    if (real.aligned_alloc != NULL)
      return real.aligned_alloc(a, n);
    return real.memalign(a, n);
  default:
    return real.memalign(a, n);
  }
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST int posix_memalign(void **out, size_t a,
                                                      size_t n) {
  if (a == 0 || (a & (a - 1)) != 0 || a % sizeof(void *) != 0)
    return EINVAL;
  if (PPROFD__UNLIKELY(pprofd__heap_take(n))) {
    int saved = errno;
    void *p = aligned_slow(K_POSIX, a, n);
    int e = p == NULL ? ENOMEM : 0;
    errno = saved;
    if (p != NULL)
      *out = p;
    return e;
  }
  if (real.posix_memalign == NULL) {
    void *p = real.memalign(a, n);
    if (p == NULL)
      return ENOMEM;
    *out = p;
    return 0;
  }
  return real.posix_memalign(out, a, n);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void *aligned_alloc(size_t a, size_t n) {
  if (PPROFD__UNLIKELY(pprofd__heap_take(n)))
    return aligned_slow(K_ALIGNED_ALLOC, a, n);
  if (real.aligned_alloc != NULL)
    return real.aligned_alloc(a, n);
  return real.memalign(a, n);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void *memalign(size_t a, size_t n) {
  if (PPROFD__UNLIKELY(pprofd__heap_take(n)))
    return aligned_slow(K_MEMALIGN, a, n);
  return real.memalign(a, n);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void *valloc(size_t n) {
  size_t pg = (size_t)getpagesize();
  if (PPROFD__UNLIKELY(pprofd__heap_take(n)))
    return aligned_slow(K_MEMALIGN, pg, n);
  return real.memalign(pg, n);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST void *pvalloc(size_t n) {
  size_t pg = (size_t)getpagesize();
  if (n > SIZE_MAX - pg) {
    errno = ENOMEM;
    return NULL;
  }
  n = (n + pg - 1) & ~(pg - 1);
  if (PPROFD__UNLIKELY(pprofd__heap_take(n)))
    return aligned_slow(K_MEMALIGN, pg, n);
  return real.memalign(pg, n);
}

PPROFD_INTERPOSE PPROFD__HOOK_FAST size_t malloc_usable_size(void *p) {
  if (p == NULL)
    return 0;
  if (in_boot(p))
    return boot_block_size(p);
  return real.usable != NULL ? real.usable(p) : 0;
}

int pprofd__malloc_interposed(void) {
  static atomic_int cached; /* 0 unknown, 1 yes, 2 no */
  /* Relaxed: the answer is the same whichever thread computes it. */
  int c = atomic_load_explicit(&cached, memory_order_relaxed);
  if (c == 0) {
    pprofd__guard_enter();
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    pprofd__guard_exit();
    c = m == (void *)malloc ? 1 : 2;
    atomic_store_explicit(&cached, c, memory_order_relaxed);
  }
  return c == 1;
}

#else /* !PPROFD_ENABLE_INTERPOSE */

#include "base/libc.h"
#include "interpose/malloc.h"

int pprofd__malloc_interposed(void) { return -1; }

size_t pprofd__malloc_boot_bytes(void) { return 0; }

#endif
