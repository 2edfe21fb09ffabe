/*
 * check_maps.c - unit tests for symbol/maps.c.
 *
 * Crafted maps files are written to a temporary directory and read through
 * the pprofd__maps_path seam (the library is compiled with
 * PPROFD_TEST_BUILD); the main executable is faked by pointing
 * pprofd__exe_path at a symbolic link. The real /proc/self/maps is checked
 * against what the dynamic loader reports about this very program: its
 * path and the NT_GNU_BUILD_ID note of its loaded image. Each test runs in
 * its own process (CK_FORK), so seam changes do not leak between tests.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pprofd.h"
#include "symbol/maps.h"

#include "../check_run.h"

static char tmpdir[PATH_MAX];
static char maps_file[PATH_MAX + 16];
static char exe_link[PATH_MAX + 16];

/* Creates the temporary directory and points both seams into it. */
static void setup(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/check_maps.XXXXXX",
           base != NULL && base[0] != '\0' ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  snprintf(maps_file, sizeof maps_file, "%s/maps", tmpdir);
  snprintf(exe_link, sizeof exe_link, "%s/exe", tmpdir);
  ck_assert_int_eq(symlink("/opt/fake/app", exe_link), 0);
  pprofd__maps_path = maps_file;
  pprofd__exe_path = exe_link;
}

/* Removes what setup and the tests created. */
static void teardown(void) {
  char p[PATH_MAX + 16];
  unlink(maps_file);
  unlink(exe_link);
  snprintf(p, sizeof p, "%s/elf", tmpdir);
  unlink(p);
  rmdir(tmpdir);
}

/* Writes len bytes to path, replacing the file's contents in place (the
 * inode stays the same when the file exists). */
static void write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge(fd, 0);
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    ck_assert_int_gt(w, 0);
    off += (size_t)w;
  }
  close(fd);
}

/* A growable string for building crafted maps files. */
struct sbuf {
  char *p;
  size_t n, cap;
};

/* Appends formatted text to b. */
static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int need = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(need, 0);
    if ((size_t)need < b->cap - b->n) {
      b->n += (size_t)need;
      return;
    }
    b->cap = (b->cap + (size_t)need + 1) * 2;
    b->p = realloc(b->p, b->cap);
    ck_assert_ptr_nonnull(b->p);
  }
}

/* Appends n copies of c. */
static void sb_repeat(struct sbuf *b, char c, size_t n) {
  if (b->cap - b->n < n + 1) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    ck_assert_ptr_nonnull(b->p);
  }
  memset(b->p + b->n, c, n);
  b->n += n;
  b->p[b->n] = '\0';
}

/* Which loaded object note_cb examines, and where the build-id goes. */
struct note_query {
  const char *name; /* substring of dlpi_name; NULL: the main program */
  char *out;
};

/* Writes the lowercase hex build-id found in the PT_NOTE segments of the
 * queried object's loaded image (left "" if it has none). */
static int note_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  struct note_query *q = arg;
  if (q->name != NULL &&
      (info->dlpi_name == NULL || strstr(info->dlpi_name, q->name) == NULL))
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE)
      continue;
    const unsigned char *p =
        (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
    size_t align = ph->p_align == 8 ? 8 : 4, off = 0;
    while (off + sizeof(ElfW(Nhdr)) <= ph->p_memsz) {
      ElfW(Nhdr) nh;
      memcpy(&nh, p + off, sizeof nh);
      off += sizeof nh;
      const unsigned char *name = p + off;
      off += (nh.n_namesz + align - 1) & ~(align - 1);
      const unsigned char *desc = p + off;
      off += (nh.n_descsz + align - 1) & ~(align - 1);
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
          memcmp(name, "GNU", 4) == 0) {
        for (size_t k = 0; k < nh.n_descsz; k++)
          sprintf(q->out + 2 * k, "%02x", desc[k]);
        return 1;
      }
    }
  }
  return 1; /* the first matching object is the only one examined */
}

/* The build-id of a loaded object as the loader sees it: the main program
 * when name is NULL, else the first object whose name contains it. */
static void loader_build_id(const char *name, char *out) {
  struct note_query q = {name, out};
  out[0] = '\0';
  dl_iterate_phdr(note_cb, &q);
}

/* The crafted file: odd lines of every kind around a sorted core. */
static char *crafted(size_t *len) {
  struct sbuf b = {0};
  sb_printf(&b, "00400000-00401000 r-xp 00000000 08:02 11 "
                "/usr/lib/liba.so\n");
  sb_printf(&b, "555500000000-555500001000 r--p 00000000 08:02 22 "
                "         /opt/fake/app\n");
  sb_printf(&b, "555500001000-555500005000 r-xp 00001000 08:02 22 "
                "         /opt/fake/app\n");
  sb_printf(&b, "555500005000-555500006000 r-xp 00005000 08:02 22 "
                "/opt/fake/app\n");
  sb_printf(&b, "7f0000100000-7f0000101000 r-xp 00000000 00:00 0 \n");
  sb_printf(&b, "7f0000200000-7f0000201000 r-xp 00002000 08:02 33    "
                "/tmp/gone.so (deleted)\n");
  sb_printf(&b, "this is not a maps line\n");
  sb_printf(&b, "\n");
  sb_printf(&b, "7f0000300000-7f0000301000 r-xp\n");
  sb_printf(&b, "7f0000310000-7f0000311000 r-xp 00000000 08:02\n");
  sb_printf(&b, "7f0000400000-7f0000401000 r-xp 00000000 08:02 44 /");
  sb_repeat(&b, 'a', 5000);
  sb_printf(&b, "\n7f0000500000-7f0000501000 r-xp 00000000 08:02 55 /");
  sb_repeat(&b, 'b', 3000);
  sb_printf(&b, "\n7f0000600000-7f0000601000 r-xp 00000000 08:02 66 "
                "/lib/with spaces/lib x.so\n");
  sb_printf(&b, "7f0000700000-7f0000600000 r-xp 00000000 08:02 77 "
                "/bad/order\n");
  sb_printf(&b, "zzzz-7f0000801000 r-xp 00000000 08:02 88 /bad/hex\n");
  sb_printf(&b, "7f0000900000-7f0000901000 rw-p 00000000 00:00 0 "
                "[stack]\n");
  sb_printf(&b, "7f0000a00000-7f0000a01000 r-xp 00000000 08:02 "
                "99999999999999999999999 /bad/inode\n");
  sb_printf(&b, "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
                "                  [vsyscall]");
  *len = b.n;
  return b.p;
}

/* Reads the crafted file and returns the snapshot. */
static void read_crafted(pprofd__maps *m) {
  size_t len;
  char *s = crafted(&len);
  write_file(maps_file, s, len);
  free(s);
  ck_assert_int_eq(pprofd__maps_read(m), 0);
}

START_TEST(test_crafted_entries) {
  pprofd__maps m;
  read_crafted(&m);
  ck_assert_uint_eq(m.n, 8);
  ck_assert_uint_eq(m.v[0].start, 0x555500001000ull);
  ck_assert_uint_eq(m.v[0].limit, 0x555500005000ull);
  ck_assert_uint_eq(m.v[0].offset, 0x1000);
  ck_assert_str_eq(m.v[0].path, "/opt/fake/app");
  ck_assert_int_eq(m.v[0].is_main, 1);

  ck_assert_uint_eq(m.v[1].start, 0x400000);
  ck_assert_str_eq(m.v[1].path, "/usr/lib/liba.so");
  ck_assert_int_eq(m.v[1].is_main, 0);

  ck_assert_uint_eq(m.v[2].start, 0x555500005000ull);
  ck_assert_uint_eq(m.v[2].offset, 0x5000);
  ck_assert_int_eq(m.v[2].is_main, 1);

  ck_assert_uint_eq(m.v[3].start, 0x7f0000100000ull);
  ck_assert_str_eq(m.v[3].path, "");
  ck_assert_int_eq(m.v[3].is_main, 0);

  ck_assert_str_eq(m.v[4].path, "/tmp/gone.so");
  ck_assert_uint_eq(m.v[4].offset, 0x2000);

  ck_assert_uint_eq(m.v[5].start, 0x7f0000500000ull);
  ck_assert_uint_eq(strlen(m.v[5].path), 3001);

  ck_assert_str_eq(m.v[6].path, "/lib/with spaces/lib x.so");

  ck_assert_uint_eq(m.v[7].start, 0xffffffffff600000ull);
  ck_assert_str_eq(m.v[7].path, "[vsyscall]");

  for (size_t i = 0; i < m.n; i++)
    ck_assert_str_eq(m.v[i].build_id, "");
  pprofd__maps_free(&m);
  ck_assert_ptr_null(m.v);
  ck_assert_uint_eq(m.n, 0);
}
END_TEST

START_TEST(test_find_index) {
  pprofd__maps m;
  read_crafted(&m);
  for (size_t i = 0; i < m.n; i++) {
    ck_assert_int_eq(pprofd__maps_index(&m, m.v[i].start), (long)i);
    ck_assert_int_eq(pprofd__maps_index(&m, m.v[i].limit - 1), (long)i);
    ck_assert_ptr_eq(pprofd__maps_find(&m, m.v[i].start + 1), &m.v[i]);
  }
  ck_assert_int_eq(pprofd__maps_index(&m, 0), -1);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x3fffff), -1);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x401000), -1);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x555500000800ull), -1);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x555500003000ull), 0);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x555500006000ull), -1);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x7f0000300000ull), -1);
  ck_assert_int_eq(pprofd__maps_index(&m, 0xffffffffff601000ull), -1);
  ck_assert_int_eq(pprofd__maps_index(&m, UINT64_MAX), -1);
  ck_assert_ptr_null(pprofd__maps_find(&m, 0x10));
  ck_assert_ptr_null(pprofd__maps_find(NULL, 0x10));
  pprofd__maps_free(&m);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x400000), -1);
}
END_TEST

START_TEST(test_unsorted_input) {
  /* Out of address order: the rest is sorted so lookups stay correct. */
  const char *s = "7f0000300000-7f0000301000 r-xp 00000000 00:00 0 \n"
                  "7f0000100000-7f0000101000 r-xp 00000000 00:00 0 \n"
                  "555500001000-555500002000 r-xp 00000000 08:02 22 "
                  "/opt/fake/app\n"
                  "7f0000200000-7f0000201000 r-xp 00000000 00:00 0 \n"
                  "00001000-00002000 r-xp 00000000 00:00 0 \n";
  write_file(maps_file, s, strlen(s));
  pprofd__maps m;
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_uint_eq(m.n, 5);
  ck_assert_int_eq(m.v[0].is_main, 1);
  for (size_t i = 2; i < m.n; i++)
    ck_assert_uint_lt(m.v[i - 1].start, m.v[i].start);
  for (size_t i = 0; i < m.n; i++)
    ck_assert_int_eq(pprofd__maps_index(&m, m.v[i].start + 5), (long)i);
  pprofd__maps_free(&m);
}
END_TEST

START_TEST(test_no_main) {
  /* Without the main executable the file order is kept as it is. */
  pprofd__exe_path = "/nonexistent/exe/link";
  const char *s = "00001000-00002000 r-xp 00000000 00:00 0 \n"
                  "00003000-00004000 r-xp 00000000 08:02 9 /x\n";
  write_file(maps_file, s, strlen(s));
  pprofd__maps m;
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_uint_eq(m.n, 2);
  ck_assert_uint_eq(m.v[0].start, 0x1000);
  ck_assert_int_eq(m.v[0].is_main, 0);
  ck_assert_int_eq(m.v[1].is_main, 0);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x3fff), 1);
  pprofd__maps_free(&m);
}
END_TEST

START_TEST(test_empty_and_missing) {
  pprofd__maps m;
  write_file(maps_file, "", 0);
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_uint_eq(m.n, 0);
  ck_assert_ptr_null(pprofd__maps_find(&m, 0x1000));
  pprofd__maps_free(&m);

  pprofd__maps_path = "/nonexistent/maps";
  ck_assert_int_eq(pprofd__maps_read(&m), PPROFD_EIO);
  ck_assert_uint_eq(m.n, 0);
  ck_assert_ptr_null(m.v);
}
END_TEST

START_TEST(test_many_lines) {
  /* 70,000 short lines cross many read buffers; 65,536 are kept. One
   * line longer than the read buffer is skipped whole. */
  struct sbuf b = {0};
  sb_printf(&b, "00001000-00002000 r-xp 00000000 00:00 0 /");
  sb_repeat(&b, 'z', 200000);
  sb_printf(&b, "\n");
  for (unsigned i = 0; i < 70000; i++)
    sb_printf(&b, "%x-%x r-xp 00000000 00:00 0 \n", 0x10000u + i * 0x1000u,
              0x10800u + i * 0x1000u);
  write_file(maps_file, b.p, b.n);
  free(b.p);
  pprofd__maps m;
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_uint_eq(m.n, 65536);
  ck_assert_uint_eq(m.v[0].start, 0x10000);
  ck_assert_uint_eq(m.v[65535].start, 0x10000u + 65535u * 0x1000u);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x10000u + 1234u * 0x1000u + 7),
                   1234);
  ck_assert_int_eq(pprofd__maps_index(&m, 0x10000u + 1234u * 0x1000u + 0x900),
                   -1);
  pprofd__maps_free(&m);
}
END_TEST

START_TEST(test_signature) {
  pprofd__maps a, b;
  read_crafted(&a);
  read_crafted(&b);
  ck_assert_uint_eq(a.signature, b.signature);
  pprofd__maps_free(&b);
  const char *s = "00400000-00401000 r-xp 00000000 08:02 11 /usr/lib/liba.so\n";
  const char *t = "00400000-00401000 r-xp 00000000 08:02 11 /usr/lib/libb.so\n";
  write_file(maps_file, s, strlen(s));
  ck_assert_int_eq(pprofd__maps_read(&b), 0);
  ck_assert_uint_ne(a.signature, b.signature);
  pprofd__maps c;
  write_file(maps_file, t, strlen(t));
  ck_assert_int_eq(pprofd__maps_read(&c), 0);
  ck_assert_uint_ne(b.signature, c.signature);
  pprofd__maps_free(&a);
  pprofd__maps_free(&b);
  pprofd__maps_free(&c);
}
END_TEST

/* Writes a maps line for `path` with its real device and inode (plus
 * ino_delta) to the crafted maps file. */
static void line_for(const char *path, long ino_delta, char *buf, size_t len) {
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  snprintf(buf, len, "10000000-10001000 r-xp 00000000 %02x:%02x %llu %s\n",
           major(st.st_dev), minor(st.st_dev),
           (unsigned long long)st.st_ino + (unsigned long long)ino_delta, path);
  write_file(maps_file, buf, strlen(buf));
}

START_TEST(test_real_maps) {
  pprofd__maps_path = "/proc/self/maps";
  pprofd__exe_path = "/proc/self/exe";
  char exe[PATH_MAX];
  ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
  ck_assert_int_gt(r, 0);
  exe[r] = '\0';
  char want[129];
  loader_build_id(NULL, want);

  pprofd__maps m;
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_uint_gt(m.n, 2);
  ck_assert_int_eq(m.v[0].is_main, 1);
  ck_assert_str_eq(m.v[0].path, exe);
  ck_assert_str_eq(m.v[0].build_id, want);
  /* Debian's gcc links with --build-id (SHA-1, 40 hex digits). */
  ck_assert_uint_eq(strlen(m.v[0].build_id), 40);

  int libc = 0;
  for (size_t i = 0; i < m.n; i++) {
    if (i > 0)
      ck_assert_int_eq(m.v[i].is_main, strcmp(m.v[i].path, exe) == 0);
    if (i > 1)
      ck_assert_uint_lt(m.v[i - 1].start, m.v[i].start);
    if (strstr(m.v[i].path, "/libc.so") != NULL) {
      libc = 1;
      ck_assert_uint_ge(strlen(m.v[i].build_id), 16);
    }
    for (const char *c = m.v[i].build_id; *c; c++)
      ck_assert(strchr("0123456789abcdef", *c) != NULL);
  }
  ck_assert_int_eq(libc, 1);
  ck_assert_int_eq(pprofd__maps_index(&m, (uint64_t)(uintptr_t)&setup), 0);
  long li = pprofd__maps_index(&m, (uint64_t)(uintptr_t)&getpid);
  ck_assert_int_gt(li, 0);
  ck_assert(strstr(m.v[li].path, "libc") != NULL);

  /* Equal snapshots hash equal. Under valgrind the anonymous executable
   * mappings of its translation cache may change between two reads, and
   * then the hashes must differ. */
  pprofd__maps again;
  ck_assert_int_eq(pprofd__maps_read(&again), 0);
  int same = again.n == m.n;
  for (size_t i = 0; same && i < m.n; i++)
    same = again.v[i].start == m.v[i].start &&
           again.v[i].limit == m.v[i].limit &&
           again.v[i].offset == m.v[i].offset &&
           strcmp(again.v[i].path, m.v[i].path) == 0;
  ck_assert_int_eq(again.signature == m.signature, same);
  pprofd__maps_free(&again);
  pprofd__maps_free(&m);
}
END_TEST

START_TEST(test_build_id_files) {
  char exe[PATH_MAX], line[PATH_MAX + 128], want[129];
  ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
  ck_assert_int_gt(r, 0);
  exe[r] = '\0';
  loader_build_id(NULL, want);
  pprofd__maps m;

  /* The right inode gives the file's build-id. */
  line_for(exe, 0, line, sizeof line);
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_uint_eq(m.n, 1);
  ck_assert_str_eq(m.v[0].build_id, want);
  pprofd__maps_free(&m);

  /* Another inode on the same device: the path names another file. */
  line_for(exe, 1, line, sizeof line);
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_str_eq(m.v[0].build_id, "");
  pprofd__maps_free(&m);

  /* A file that is not ELF has none. */
  line_for(maps_file, 0, line, sizeof line);
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_str_eq(m.v[0].build_id, "");
  pprofd__maps_free(&m);
}
END_TEST

START_TEST(test_build_id_cache) {
  /* A copy of this program is read once; after its contents are replaced
   * in place (same device and inode), the cached build-id is returned,
   * which shows the file was not opened again. */
  char exe[PATH_MAX], copy[PATH_MAX + 16], line[PATH_MAX + 128];
  char want[129];
  ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
  ck_assert_int_gt(r, 0);
  exe[r] = '\0';
  loader_build_id(NULL, want);
  snprintf(copy, sizeof copy, "%s/elf", tmpdir);
  int in = open(exe, O_RDONLY);
  ck_assert_int_ge(in, 0);
  struct stat st;
  ck_assert_int_eq(fstat(in, &st), 0);
  char *data = malloc((size_t)st.st_size);
  ck_assert_ptr_nonnull(data);
  ck_assert_int_eq(pread(in, data, (size_t)st.st_size, 0), st.st_size);
  close(in);
  write_file(copy, data, (size_t)st.st_size);
  free(data);

  pprofd__maps m;
  line_for(copy, 0, line, sizeof line);
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_str_eq(m.v[0].build_id, want);
  pprofd__maps_free(&m);

  /* Two hundred other files make the cache grow (and rehash) a few
   * times; the entry read above survives that. */
  struct sbuf b = {0};
  for (unsigned i = 0; i < 200; i++)
    sb_printf(&b, "%x-%x r-xp 00000000 08:02 %u /nonexistent/lib%u.so\n",
              0x10000u + i * 0x1000u, 0x10800u + i * 0x1000u, 1000 + i, i);
  write_file(maps_file, b.p, b.n);
  free(b.p);
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_uint_eq(m.n, 200);
  pprofd__maps_free(&m);

  write_file(copy, "not an ELF file", 15);
  line_for(copy, 0, line, sizeof line);
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  ck_assert_str_eq(m.v[0].build_id, want);
  pprofd__maps_free(&m);
}
END_TEST

START_TEST(test_vdso) {
  /* The vDSO's build-id is read from memory; it matches what the loader
   * sees in the vDSO's notes (both "" when the kernel gave it none). */
  pprofd__maps_path = "/proc/self/maps";
  char want[129];
  loader_build_id("linux-vdso", want);
  pprofd__maps m;
  ck_assert_int_eq(pprofd__maps_read(&m), 0);
  for (size_t i = 0; i < m.n; i++)
    if (strcmp(m.v[i].path, "[vdso]") == 0)
      ck_assert_str_eq(m.v[i].build_id, want);
  pprofd__maps_free(&m);
}
END_TEST

static Suite *maps_suite(void) {
  Suite *s = suite_create("maps");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_crafted_entries);
  tcase_add_test(tc, test_find_index);
  tcase_add_test(tc, test_unsorted_input);
  tcase_add_test(tc, test_no_main);
  tcase_add_test(tc, test_empty_and_missing);
  tcase_add_test(tc, test_many_lines);
  tcase_add_test(tc, test_signature);
  tcase_add_test(tc, test_real_maps);
  tcase_add_test(tc, test_build_id_files);
  tcase_add_test(tc, test_build_id_cache);
  tcase_add_test(tc, test_vdso);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pprofd_check_run(maps_suite()); }
