/*
 * buildid.c - build-ids from ELF files and memory images, and their cache.
 *
 * The reader looks for NT_GNU_BUILD_ID in PT_NOTE segments first, then in
 * SHT_NOTE sections. It reads through pread(2) or from memory, which is
 * how the vDSO's build-id is read (its image is at
 * getauxval(AT_SYSINFO_EHDR), and its extent comes from its own PT_LOAD
 * headers, not from the maps line). Every offset and size is checked
 * before use, and header counts and note sizes are capped. A file whose
 * path now names a different inode on the same device (replaced or
 * deleted since it was mapped) is read through
 * /proc/self/map_files/<start>-<limit> when the kernel allows it, and
 * otherwise gets no build-id rather than a wrong one.
 *
 * Results are cached by (device, inode, path hash) of the maps line in an
 * open-addressing table guarded by a mutex that is never held across I/O.
 * The table doubles up to BID_SLOTS_MAX slots (about 1.3 MB, for
 * thousands of objects); past that it is cleared, which only costs
 * re-reads. It lives as long as the process. An entry could go stale only
 * if its file were unmapped and deleted and the freed inode number reused
 * by another file mapped later under the same path, which the key makes
 * unlikely rather than impossible. The cache lock is a leaf: the
 * symbolizer calls in here with its own lock held, never the other way
 * round. Any thread outside signal context.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "symbol/buildid.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
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
#include "base/lockrank.h"

#define MAX_NOTES 65536    /* bytes of one note segment or section read */
#define MAX_PHNUM 1024     /* program headers examined */
#define MAX_SHNUM 4096     /* section headers examined */
#define MAX_BID 64         /* build-id bytes kept (129 hex chars) */
#define BID_SLOTS_MIN 64   /* first size of the build-id cache */
#define BID_SLOTS_MAX 8192 /* at 3/4 of this the cache is cleared */

_Static_assert(2 * MAX_BID + 1 == PPROFD__BUILDID_HEX, "hex of MAX_BID");

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

/* The object a build-id is wanted for, as its maps line gives it. */
struct obj {
  const char *path;
  uint64_t start, limit;
  uint64_t dev; /* major << 32 | minor, as printed in the line */
  uint64_t ino;
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
PPROFD__LOCK_RANK(buildid_cache, &bid_cache.lock, PPROFD__RANK_MAPS);

/* A source of ELF bytes: a file descriptor, or an image in memory. */
struct elfsrc {
  int fd;                   /* used when mem is NULL */
  const unsigned char *mem; /* memory image of `size` bytes */
  uint64_t size;
};

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

/* Reads the note ranges of the n headers in the table at off, program
 * headers (PT_NOTE) or section headers (SHT_NOTE); returns 1 and fills
 * out when one holds the build-id. */
static int table_notes(const struct elfsrc *s, uint64_t off, unsigned n,
                       int sections, char *out) {
  for (unsigned i = 0; i < n; i++) {
    uint64_t at, size, align;
    if (sections) {
      ElfW(Shdr) sh;
      if (src_read(s, off + (uint64_t)i * sizeof sh, &sh, sizeof sh) != 0)
        return 0;
      if (sh.sh_type != SHT_NOTE)
        continue;
      at = sh.sh_offset, size = sh.sh_size, align = sh.sh_addralign;
    } else {
      ElfW(Phdr) ph;
      if (src_read(s, off + (uint64_t)i * sizeof ph, &ph, sizeof ph) != 0)
        return 0;
      if (ph.p_type != PT_NOTE)
        continue;
      at = ph.p_offset, size = ph.p_filesz, align = ph.p_align;
    }
    if (notes_at(s, at, size, align, out))
      return 1;
  }
  return 0;
}

/* Finds the build-id of the ELF image in s: PT_NOTE segments first, then
 * SHT_NOTE sections. Returns 1 and fills out when found. */
static int elf_build_id(const struct elfsrc *s, char *out) {
  ElfW(Ehdr) eh;
  if (src_read(s, 0, &eh, sizeof eh) != 0 || !ehdr_ok(&eh))
    return 0;
  if (eh.e_phentsize == sizeof(ElfW(Phdr)) && eh.e_phnum <= MAX_PHNUM &&
      table_notes(s, eh.e_phoff, eh.e_phnum, 0, out))
    return 1;
  if (eh.e_shentsize == sizeof(ElfW(Shdr)) && eh.e_shnum <= MAX_SHNUM &&
      table_notes(s, eh.e_shoff, eh.e_shnum, 1, out))
    return 1;
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
static int open_mapped(const char *path, const struct obj *o) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return -1;
  }
  uint64_t sdev = (uint64_t)major(st.st_dev) << 32 | minor(st.st_dev);
  if (sdev == o->dev && (uint64_t)st.st_ino != o->ino) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads the build-id of a file-backed entry from disk, falling back to
 * /proc/self/map_files when the path no longer names the mapped file. */
static void file_build_id(const struct obj *o, char *out) {
  int fd = open_mapped(o->path, o);
  if (fd < 0) {
    char mf[64];
    snprintf(mf, sizeof mf, "/proc/self/map_files/%llx-%llx",
             (unsigned long long)o->start, (unsigned long long)o->limit);
    fd = open_mapped(mf, o);
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

/* Anonymous and special entries (inode 0) are not cached; the vDSO is
 * read from memory. */
void pprofd__buildid_get(const char *path, uint64_t start, uint64_t limit,
                         uint64_t dev, uint64_t ino, char *out) {
  const struct obj o = {
      .path = path, .start = start, .limit = limit, .dev = dev, .ino = ino};
  out[0] = '\0';
  if (path[0] != '/') {
    if (strcmp(path, "[vdso]") == 0)
      vdso_build_id(start, out);
    return;
  }
  if (ino == 0) {
    file_build_id(&o, out);
    return;
  }
  /* A zero hash marks an empty slot, so real hashes are made odd. */
  uint64_t ph = pprofd__fnv1a(PPROFD__FNV_INIT, path, strlen(path)) | 1;
  pprofd__mutex_lock(&bid_cache.lock);
  if (bid_cache.slot != NULL) {
    struct bid_slot *s =
        bid_probe(bid_cache.slot, bid_cache.nslots, dev, ino, ph);
    if (s->path_hash != 0) {
      memcpy(out, s->hex, sizeof s->hex);
      pprofd__mutex_unlock(&bid_cache.lock);
      return;
    }
  }
  pprofd__mutex_unlock(&bid_cache.lock);

  file_build_id(&o, out);

  pprofd__mutex_lock(&bid_cache.lock);
  if (bid_reserve() == 0) {
    struct bid_slot *s =
        bid_probe(bid_cache.slot, bid_cache.nslots, dev, ino, ph);
    if (s->path_hash == 0) {
      s->dev = dev;
      s->ino = ino;
      s->path_hash = ph;
      memcpy(s->hex, out, sizeof s->hex);
      bid_cache.count++;
    }
  }
  pprofd__mutex_unlock(&bid_cache.lock);
}

/* fork() does not wait for the cache either (a request reads build-ids
 * under its lock): a child forked while a thread held it starts with an
 * empty cache, leaking the parent's. */
void pprofd__buildid_postfork_child(void) {
  if (pprofd__mutex_reclaim_in_child(&bid_cache.lock))
    return;
  bid_cache.slot = NULL;
  bid_cache.nslots = bid_cache.count = 0;
}
