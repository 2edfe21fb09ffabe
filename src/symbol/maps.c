/*
 * maps.c - the executable mappings of this process, with GNU build-ids.
 *
 * A read is one pass over the maps file with read(2) into a 64 KiB buffer
 * (no stdio, so nothing is allocated behind ialloc's back). Each complete
 * line is parsed in place; a line longer than MAX_LINE bytes is skipped
 * whole, a line that does not parse is skipped, and at most MAX_ENTRIES
 * executable entries are kept, so odd input costs bounded memory and never
 * a crash. Entries are collected in file order together with the device
 * and inode of their maps line, which only this file needs.
 *
 * After parsing, three passes finish the snapshot: build-ids, the main
 * executable moved to slot 0, and a check that slots 1..n-1 are in address
 * order. The kernel always lists mappings in address order and removing
 * one element keeps that order, so for a real maps file the check passes
 * and file order is kept; a crafted file that is out of order is sorted
 * (stably) so that lookups stay O(log n): slot 0 is tried first, then a
 * binary search runs over the rest.
 *
 * Build-ids are read from the ELF file itself by a small reader of program
 * headers (PT_NOTE) and, failing that, section headers (SHT_NOTE); it reads
 * through pread(2) or from memory, which is how the vDSO's build-id is read
 * (its image is at getauxval(AT_SYSINFO_EHDR)). Every offset and size is
 * checked before use. A file whose path now names a different inode on the
 * same device (replaced or deleted since it was mapped) is read through
 * /proc/self/map_files/<start>-<limit> when the kernel allows it, and
 * otherwise gets no build-id rather than a wrong one. Results are cached
 * by (device, inode, path hash) of the maps line in an open-addressing
 * table guarded by a mutex that is never held across I/O. The table
 * doubles up to BID_SLOTS_MAX slots (about 1.3 MB, for thousands of
 * objects); past that it is cleared, which only costs re-reads. It lives
 * as long as the process. An entry could go stale only if its file were
 * unmapped and deleted and the freed inode number reused by another file
 * mapped later under the same path, which the key makes unlikely rather
 * than impossible. The cache lock is a leaf: pprofd__sym_begin calls in
 * here with the symbolizer lock held, never the other way round.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "symbol/maps.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "pprofd.h"

const char *PPROFD__SEAM pprofd__maps_path = "/proc/self/maps";
const char *PPROFD__SEAM pprofd__exe_path = "/proc/self/exe";

#define MAX_LINE 4096      /* longer maps lines are skipped */
#define MAX_ENTRIES 65536  /* executable entries kept per snapshot */
#define READ_BUF 65536     /* read(2) buffer; must exceed MAX_LINE */
#define MAX_NOTES 65536    /* bytes of one note segment or section read */
#define MAX_PHNUM 1024     /* program headers examined */
#define MAX_SHNUM 4096     /* section headers examined */
#define MAX_BID 64         /* build-id bytes kept (129 hex chars) */
#define BID_SLOTS_MIN 64   /* first size of the build-id cache */
#define BID_SLOTS_MAX 8192 /* at 3/4 of this the cache is cleared */

#define DELETED " (deleted)"

#if __SIZEOF_POINTER__ == 8
#define NATIVE_CLASS ELFCLASS64
#else
#define NATIVE_CLASS ELFCLASS32
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif

/* The part of a maps line that only this file needs. */
struct lineinfo {
  uint64_t dev; /* major << 32 | minor, as printed in the line */
  uint64_t ino;
};

/* Entries under construction, in file order. */
struct builder {
  pprofd__mapping *v;
  struct lineinfo *li;
  size_t n, cap;
};

/* One build-id cache slot; path_hash 0 marks an empty slot. */
struct bid_slot {
  uint64_t dev, ino, path_hash;
  char hex[2 * MAX_BID + 1];
};

static struct {
  pthread_mutex_t lock;  /* guards everything below */
  struct bid_slot *slot; /* from ialloc, nslots entries (power of two) */
  size_t nslots, count;
} bid_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A source of ELF bytes: a file descriptor, or an image in memory. */
struct elfsrc {
  int fd;                   /* used when mem is NULL */
  const unsigned char *mem; /* memory image of `size` bytes */
  uint64_t size;
};

/* Value of one hex digit, or -1. */
static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Parses 1-16 hex digits at *p and advances; -1 if there are none or too
 * many (which would overflow). */
static int parse_hex(const char **p, uint64_t *out) {
  const char *s = *p;
  uint64_t v = 0;
  int nd = 0;
  int d;
  while ((d = hexval(*s)) >= 0) {
    if (++nd > 16)
      return -1;
    v = v << 4 | (uint64_t)d;
    s++;
  }
  if (nd == 0)
    return -1;
  *p = s;
  *out = v;
  return 0;
}

/* Parses a decimal number at *p without overflow and advances; -1 if none
 * or too large. */
static int parse_dec(const char **p, uint64_t *out) {
  const char *s = *p;
  uint64_t v = 0;
  if (*s < '0' || *s > '9')
    return -1;
  while (*s >= '0' && *s <= '9') {
    uint64_t d = (uint64_t)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
    s++;
  }
  *p = s;
  *out = v;
  return 0;
}

/* Expects one space at *p and advances past it. */
static int expect_space(const char **p) {
  if (**p != ' ')
    return -1;
  (*p)++;
  return 0;
}

/* Parses one NUL-terminated maps line. Returns 1 for a well-formed
 * executable entry (e, *path and *pathlen filled; the path points into
 * the line), 0 for anything else. */
static int parse_line(const char *s, pprofd__mapping *e, struct lineinfo *li,
                      const char **path, size_t *pathlen) {
  const char *p = s;
  uint64_t start, limit, off, maj, min, ino;
  if (parse_hex(&p, &start) != 0 || *p++ != '-')
    return 0;
  if (parse_hex(&p, &limit) != 0 || expect_space(&p) != 0)
    return 0;
  const char *perms = p;
  for (int i = 0; i < 4; i++)
    if (p[i] == '\0' || p[i] == ' ')
      return 0;
  p += 4;
  if (expect_space(&p) != 0 || parse_hex(&p, &off) != 0 ||
      expect_space(&p) != 0)
    return 0;
  if (parse_hex(&p, &maj) != 0 || *p++ != ':' || parse_hex(&p, &min) != 0 ||
      expect_space(&p) != 0)
    return 0;
  if (parse_dec(&p, &ino) != 0 || (*p != ' ' && *p != '\0'))
    return 0;
  if (memchr(perms, 'x', 4) == NULL || start >= limit)
    return 0;
  while (*p == ' ')
    p++;
  size_t len = strlen(p);
  size_t dl = sizeof DELETED - 1;
  if (len >= dl && memcmp(p + len - dl, DELETED, dl) == 0)
    len -= dl;
  memset(e, 0, sizeof *e);
  e->start = start;
  e->limit = limit;
  e->offset = off;
  li->dev = (maj & 0xffffffffu) << 32 | (min & 0xffffffffu);
  li->ino = ino;
  *path = p;
  *pathlen = len;
  return 1;
}

/* Appends an entry, copying its path. Entries past MAX_ENTRIES are
 * dropped silently. */
static int builder_add(struct builder *b, const pprofd__mapping *e,
                       const struct lineinfo *li, const char *path,
                       size_t pathlen) {
  if (b->n == MAX_ENTRIES)
    return 0;
  if (b->n == b->cap) {
    size_t ncap = b->cap ? b->cap * 2 : 64;
    pprofd__mapping *nv = pprofd__irealloc(b->v, ncap * sizeof *nv);
    if (nv == NULL)
      return PPROFD_ENOMEM;
    b->v = nv;
    struct lineinfo *nli = pprofd__irealloc(b->li, ncap * sizeof *nli);
    if (nli == NULL)
      return PPROFD_ENOMEM;
    b->li = nli;
    b->cap = ncap;
  }
  char *copy = pprofd__istrndup(path, pathlen);
  if (copy == NULL)
    return PPROFD_ENOMEM;
  b->v[b->n] = *e;
  b->v[b->n].path = copy;
  b->li[b->n] = *li;
  b->n++;
  return 0;
}

/* Handles one NUL-terminated line of the maps file. */
static int take_line(struct builder *b, const char *line) {
  pprofd__mapping e;
  struct lineinfo li;
  const char *path;
  size_t pathlen;
  if (!parse_line(line, &e, &li, &path, &pathlen))
    return 0;
  return builder_add(b, &e, &li, path, pathlen);
}

/* Reads the maps file into b, line by line. The buffer holds READ_BUF
 * bytes plus a NUL; a partial line longer than MAX_LINE is discarded and
 * the rest of it skipped up to its newline. */
static int read_lines(int fd, struct builder *b) {
  char *buf = pprofd__ialloc(READ_BUF + 1);
  if (buf == NULL)
    return PPROFD_ENOMEM;
  size_t have = 0;
  int skipping = 0;
  int rc = 0;
  for (;;) {
    ssize_t r = read(fd, buf + have, READ_BUF - have);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      rc = PPROFD_EIO;
      break;
    }
    if (r == 0) {
      if (have > 0 && !skipping) {
        buf[have] = '\0';
        rc = take_line(b, buf);
      }
      break;
    }
    have += (size_t)r;
    char *p = buf;
    char *end = buf + have;
    char *nl;
    while (rc == 0 && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
      *nl = '\0';
      if (skipping)
        skipping = 0;
      else if ((size_t)(nl - p) <= MAX_LINE)
        rc = take_line(b, p);
      p = nl + 1;
    }
    if (rc != 0)
      break;
    have = (size_t)(end - p);
    memmove(buf, p, have);
    if (have > MAX_LINE) {
      skipping = 1;
      have = 0;
    }
  }
  pprofd__ifree(buf);
  return rc;
}

/* Reads n bytes at off from the source; 0 on success, -1 if out of range
 * or short. */
static int src_read(const struct elfsrc *s, uint64_t off, void *dst, size_t n) {
  if (s->mem != NULL) {
    if (off > s->size || n > s->size - off)
      return -1;
    memcpy(dst, s->mem + off, n);
    return 0;
  }
  if (off > (uint64_t)INT64_MAX - n)
    return -1;
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(s->fd, (char *)dst + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    got += (size_t)r;
  }
  return 0;
}

/* Rounds v up to a multiple of align (a power of two); SIZE_MAX on
 * overflow. */
static size_t align_up(size_t v, size_t align) {
  if (v > SIZE_MAX - (align - 1))
    return SIZE_MAX;
  return (v + align - 1) & ~(align - 1);
}

/* Writes n bytes as lowercase hex into out (2n+1 bytes). */
static void to_hex(const unsigned char *b, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = '\0';
}

/* Looks for NT_GNU_BUILD_ID among the notes in p[0..len); notes are padded
 * to `align` (4 or 8). Returns 1 and fills out when found. */
static int scan_notes(const unsigned char *p, size_t len, size_t align,
                      char *out) {
  size_t off = 0;
  while (len - off >= sizeof(ElfW(Nhdr))) {
    ElfW(Nhdr) nh;
    memcpy(&nh, p + off, sizeof nh);
    off += sizeof nh;
    size_t namesz = nh.n_namesz, descsz = nh.n_descsz;
    size_t nadv = align_up(namesz, align);
    if (nadv > len - off)
      return 0;
    const unsigned char *name = p + off;
    off += nadv;
    if (descsz > len - off)
      return 0;
    const unsigned char *desc = p + off;
    if (nh.n_type == NT_GNU_BUILD_ID && namesz == 4 &&
        memcmp(name, "GNU", 4) == 0 && descsz > 0 && descsz <= MAX_BID) {
      to_hex(desc, descsz, out);
      return 1;
    }
    size_t dadv = align_up(descsz, align);
    if (dadv > len - off)
      return 0;
    off += dadv;
  }
  return 0;
}

/* Reads `size` bytes of notes at `off` and scans them. */
static int notes_at(const struct elfsrc *s, uint64_t off, uint64_t size,
                    uint64_t align, char *out) {
  if (size == 0 || size > MAX_NOTES)
    return 0;
  unsigned char *buf = pprofd__ialloc((size_t)size);
  if (buf == NULL)
    return 0;
  int found = 0;
  if (src_read(s, off, buf, (size_t)size) == 0)
    found = scan_notes(buf, (size_t)size, align == 8 ? 8 : 4, out);
  pprofd__ifree(buf);
  return found;
}

/* Checks that the ELF header is one this process could have mapped. */
static int ehdr_ok(const ElfW(Ehdr) * eh) {
  return memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
         eh->e_ident[EI_CLASS] == NATIVE_CLASS &&
         eh->e_ident[EI_DATA] == NATIVE_DATA;
}

/* Finds the build-id of the ELF image in s: PT_NOTE segments first, then
 * SHT_NOTE sections. Returns 1 and fills out when found. */
static int elf_build_id(const struct elfsrc *s, char *out) {
  ElfW(Ehdr) eh;
  if (src_read(s, 0, &eh, sizeof eh) != 0 || !ehdr_ok(&eh))
    return 0;
  if (eh.e_phentsize == sizeof(ElfW(Phdr)) && eh.e_phnum <= MAX_PHNUM) {
    for (unsigned i = 0; i < eh.e_phnum; i++) {
      ElfW(Phdr) ph;
      if (src_read(s, eh.e_phoff + (uint64_t)i * sizeof ph, &ph, sizeof ph) !=
          0)
        break;
      if (ph.p_type == PT_NOTE &&
          notes_at(s, ph.p_offset, ph.p_filesz, ph.p_align, out))
        return 1;
    }
  }
  if (eh.e_shentsize == sizeof(ElfW(Shdr)) && eh.e_shnum <= MAX_SHNUM) {
    for (unsigned i = 0; i < eh.e_shnum; i++) {
      ElfW(Shdr) sh;
      if (src_read(s, eh.e_shoff + (uint64_t)i * sizeof sh, &sh, sizeof sh) !=
          0)
        break;
      if (sh.sh_type == SHT_NOTE &&
          notes_at(s, sh.sh_offset, sh.sh_size, sh.sh_addralign, out))
        return 1;
    }
  }
  return 0;
}

/* The build-id of the vDSO, read from its image in memory. The image's
 * extent is taken from its own PT_LOAD headers, not from the maps line,
 * so a crafted maps file cannot make this read past the mapping. */
static void vdso_build_id(uint64_t start, char *out) {
  unsigned long base = getauxval(AT_SYSINFO_EHDR);
  if (base == 0 || base != start)
    return;
  /* The ELF and program headers of the vDSO lie in its first page. */
  struct elfsrc s = {
      .fd = -1, .mem = (const unsigned char *)base, .size = 4096};
  ElfW(Ehdr) eh;
  if (src_read(&s, 0, &eh, sizeof eh) != 0 || !ehdr_ok(&eh) ||
      eh.e_phentsize != sizeof(ElfW(Phdr)))
    return;
  uint64_t extent = 0;
  for (unsigned i = 0; i < eh.e_phnum && i < MAX_PHNUM; i++) {
    ElfW(Phdr) ph;
    if (src_read(&s, eh.e_phoff + (uint64_t)i * sizeof ph, &ph, sizeof ph) != 0)
      return;
    if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > extent)
      extent = ph.p_offset + ph.p_filesz;
  }
  if (extent < sizeof eh)
    return;
  s.size = extent;
  elf_build_id(&s, out);
}

/* Opens path if it is a regular file that can be the one mapped by a line
 * with this device and inode: same inode, or a different device number
 * (overlay file systems report another device in stat than in maps, so
 * nothing can be compared there). Returns the fd or -1. */
static int open_mapped(const char *path, const struct lineinfo *li) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return -1;
  }
  uint64_t sdev = (uint64_t)major(st.st_dev) << 32 | minor(st.st_dev);
  if (sdev == li->dev && (uint64_t)st.st_ino != li->ino) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads the build-id of a file-backed entry from disk, falling back to
 * /proc/self/map_files when the path no longer names the mapped file. */
static void file_build_id(const pprofd__mapping *e, const struct lineinfo *li,
                          char *out) {
  int fd = open_mapped(e->path, li);
  if (fd < 0) {
    char mf[64];
    snprintf(mf, sizeof mf, "/proc/self/map_files/%llx-%llx",
             (unsigned long long)e->start, (unsigned long long)e->limit);
    fd = open_mapped(mf, li);
  }
  if (fd < 0)
    return;
  struct elfsrc s = {.fd = fd};
  elf_build_id(&s, out);
  close(fd);
}

/* The hash of a build-id cache key. */
static uint64_t bid_hash(uint64_t dev, uint64_t ino, uint64_t ph) {
  uint64_t h = pprofd__fnv1a(PPROFD__FNV_INIT, &dev, sizeof dev);
  return pprofd__fnv1a(h, &ino, sizeof ino) ^ ph;
}

/* The slot holding a key in table t (n slots), or the empty slot where it
 * would go. t always has an empty slot. Called with the lock held. */
static struct bid_slot *bid_probe(struct bid_slot *t, size_t n, uint64_t dev,
                                  uint64_t ino, uint64_t ph) {
  size_t j = (size_t)bid_hash(dev, ino, ph) & (n - 1);
  while (t[j].path_hash != 0 &&
         !(t[j].dev == dev && t[j].ino == ino && t[j].path_hash == ph))
    j = (j + 1) & (n - 1);
  return &t[j];
}

/* Makes room for one more entry: doubles the table, or clears it at its
 * largest size. Returns -1 (the entry is then not cached) when out of
 * memory. Called with the lock held. */
static int bid_reserve(void) {
  if (bid_cache.slot != NULL && bid_cache.count + 1 <= bid_cache.nslots / 4 * 3)
    return 0;
  if (bid_cache.nslots >= BID_SLOTS_MAX) {
    memset(bid_cache.slot, 0, bid_cache.nslots * sizeof *bid_cache.slot);
    bid_cache.count = 0;
    return 0;
  }
  size_t n = bid_cache.nslots ? bid_cache.nslots * 2 : BID_SLOTS_MIN;
  struct bid_slot *t = pprofd__icalloc(n, sizeof *t);
  if (t == NULL)
    return -1;
  for (size_t i = 0; i < bid_cache.nslots; i++) {
    struct bid_slot *o = &bid_cache.slot[i];
    if (o->path_hash != 0)
      *bid_probe(t, n, o->dev, o->ino, o->path_hash) = *o;
  }
  pprofd__ifree(bid_cache.slot);
  bid_cache.slot = t;
  bid_cache.nslots = n;
  return 0;
}

/* Fills e->build_id, from the cache when possible. Anonymous and special
 * entries (inode 0) are not cached; the vDSO is read from memory. */
static void set_build_id(pprofd__mapping *e, const struct lineinfo *li) {
  e->build_id[0] = '\0';
  if (e->path[0] != '/') {
    if (strcmp(e->path, "[vdso]") == 0)
      vdso_build_id(e->start, e->build_id);
    return;
  }
  if (li->ino == 0) {
    file_build_id(e, li, e->build_id);
    return;
  }
  /* A zero hash marks an empty slot, so real hashes are made odd. */
  uint64_t ph = pprofd__fnv1a(PPROFD__FNV_INIT, e->path, strlen(e->path)) | 1;
  pprofd__mutex_lock(&bid_cache.lock);
  if (bid_cache.slot != NULL) {
    struct bid_slot *s =
        bid_probe(bid_cache.slot, bid_cache.nslots, li->dev, li->ino, ph);
    if (s->path_hash != 0) {
      memcpy(e->build_id, s->hex, sizeof s->hex);
      pprofd__mutex_unlock(&bid_cache.lock);
      return;
    }
  }
  pprofd__mutex_unlock(&bid_cache.lock);

  file_build_id(e, li, e->build_id);

  pprofd__mutex_lock(&bid_cache.lock);
  if (bid_reserve() == 0) {
    struct bid_slot *s =
        bid_probe(bid_cache.slot, bid_cache.nslots, li->dev, li->ino, ph);
    if (s->path_hash == 0) {
      s->dev = li->dev;
      s->ino = li->ino;
      s->path_hash = ph;
      memcpy(s->hex, e->build_id, sizeof s->hex);
      bid_cache.count++;
    }
  }
  pprofd__mutex_unlock(&bid_cache.lock);
}

/* Resolves the main executable's path into buf ("" when unknown). A path
 * that is not a symbolic link is taken as it is. */
static void exe_path(char *buf, size_t len) {
  buf[0] = '\0';
  const char *p = pprofd__exe_path;
  if (p == NULL)
    return;
  ssize_t r = readlink(p, buf, len - 1);
  if (r < 0) {
    if (errno == EINVAL && strlen(p) < len)
      memcpy(buf, p, strlen(p) + 1);
    return;
  }
  buf[r] = '\0';
  size_t dl = sizeof DELETED - 1;
  if ((size_t)r >= dl && memcmp(buf + r - dl, DELETED, dl) == 0)
    buf[r - dl] = '\0';
}

/* Moves the first main-executable entry to slot 0, shifting the entries
 * before it up by one. */
static void main_first(pprofd__mapping *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!v[i].is_main)
      continue;
    if (i > 0) {
      pprofd__mapping m = v[i];
      memmove(v + 1, v, i * sizeof *v);
      v[0] = m;
    }
    return;
  }
}

/* Stable merge sort of v[0..n) by start, using tmp[0..n) as scratch. */
static void sort_by_start(pprofd__mapping *v, pprofd__mapping *tmp, size_t n) {
  if (n < 2)
    return;
  size_t h = n / 2;
  sort_by_start(v, tmp, h);
  sort_by_start(v + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n)
    tmp[k++] = v[j].start < v[i].start ? v[j++] : v[i++];
  while (i < h)
    tmp[k++] = v[i++];
  while (j < n)
    tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

/* Puts v[1..n) in address order if a crafted file left it unsorted. */
static int order_rest(pprofd__mapping *v, size_t n) {
  size_t i;
  for (i = 2; i < n; i++)
    if (v[i].start < v[i - 1].start)
      break;
  if (i >= n)
    return 0;
  pprofd__mapping *tmp = pprofd__ialloc((n - 1) * sizeof *tmp);
  if (tmp == NULL)
    return PPROFD_ENOMEM;
  sort_by_start(v + 1, tmp, n - 1);
  pprofd__ifree(tmp);
  return 0;
}

/* The hash of all entries' start, limit, offset and path. */
static uint64_t signature(const pprofd__mapping *v, size_t n) {
  uint64_t h = PPROFD__FNV_INIT;
  for (size_t i = 0; i < n; i++) {
    h = pprofd__fnv1a(h, &v[i].start, sizeof v[i].start);
    h = pprofd__fnv1a(h, &v[i].limit, sizeof v[i].limit);
    h = pprofd__fnv1a(h, &v[i].offset, sizeof v[i].offset);
    h = pprofd__fnv1a(h, v[i].path, strlen(v[i].path) + 1);
  }
  return pprofd__fnv1a(h, &n, sizeof n);
}

int pprofd__maps_read(pprofd__maps *out) {
  memset(out, 0, sizeof *out);
  struct builder b = {0};
  int rc;
  int fd = open(pprofd__maps_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return PPROFD_EIO;
  rc = read_lines(fd, &b);
  close(fd);
  if (rc != 0)
    goto fail;

  char exe[PATH_MAX];
  exe_path(exe, sizeof exe);
  for (size_t i = 0; i < b.n; i++) {
    b.v[i].is_main = exe[0] != '\0' && strcmp(b.v[i].path, exe) == 0;
    set_build_id(&b.v[i], &b.li[i]);
  }
  main_first(b.v, b.n);
  rc = order_rest(b.v, b.n);
  if (rc != 0)
    goto fail;

  pprofd__ifree(b.li);
  out->v = b.v;
  out->n = b.n;
  out->signature = signature(b.v, b.n);
  return 0;

fail:
  for (size_t i = 0; i < b.n; i++)
    pprofd__ifree(b.v[i].path);
  pprofd__ifree(b.v);
  pprofd__ifree(b.li);
  return rc;
}

long pprofd__maps_index(const pprofd__maps *m, uint64_t addr) {
  if (m == NULL || m->n == 0)
    return -1;
  const pprofd__mapping *v = m->v;
  if (addr >= v[0].start && addr < v[0].limit)
    return 0;
  /* The last entry in v[1..n) that starts at or below addr. */
  size_t lo = 1, hi = m->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid].start <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 1)
    return -1;
  size_t i = lo - 1;
  return addr < v[i].limit ? (long)i : -1;
}

const pprofd__mapping *pprofd__maps_find(const pprofd__maps *m, uint64_t addr) {
  long i = pprofd__maps_index(m, addr);
  return i < 0 ? NULL : &m->v[i];
}

void pprofd__maps_free(pprofd__maps *m) {
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n; i++)
    pprofd__ifree(m->v[i].path);
  pprofd__ifree(m->v);
  memset(m, 0, sizeof *m);
}

void pprofd__maps_prefork(void) { pprofd__mutex_lock(&bid_cache.lock); }

void pprofd__maps_postfork(void) { pprofd__mutex_unlock(&bid_cache.lock); }
