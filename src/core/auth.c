/*
 * auth.c - bearer and basic authentication (see auth.h).
 *
 * The configuration's own credentials are checked in place. Each
 * credential file has a cache: the file's identity (device, inode, size,
 * modification time) and its text, split into lines. A check stat()s the
 * file first, and reads it again only when the identity changed, so the
 * cost per request is one stat() and the comparisons; a rotation is seen
 * by the first request after the file was replaced. The cache is keyed by
 * the path too, so a restart with another file starts afresh.
 *
 * Refusals: an atomic counter, and the time of the last stderr line in
 * an atomic too, claimed with a compare-and-swap so that two threads
 * refused in the same second print one line between them.
 */
#include "config.h"

#include "core/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "pprofd.h"

/* The largest credential file read (a few credentials in practice). */
#define FILE_MAX (64 << 10)
/* The longest Authorization value considered. */
#define HEADER_MAX 4096

/* One credential file's cache. */
typedef struct {
  char path[PPROFD__PATH_MAX];
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  char *text; /* the lines, NUL-separated; NULL when not loaded */
  size_t len;
  int ok; /* the last read worked and found a credential */
} cred_file;

static struct {
  pthread_mutex_t lock; /* the two caches */
  cred_file token, basic;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};
PPROFD__LOCK_RANK(auth, &cache.lock, PPROFD__RANK_AUTH);

/* Refusals, and when stderr last heard of one (CLOCK_MONOTONIC seconds,
 * 0 never). Relaxed: counters, read without ordering other memory. */
static atomic_uint_fast64_t failures;
static atomic_llong last_log;

/* Whether a and b (the client's, of length an, and a credential, of
 * length bn) are equal, in time that depends on an only. */
static int ct_equal(const char *a, size_t an, const char *b, size_t bn) {
  volatile unsigned char d = an != bn;
  for (size_t i = 0; i < an; i++) {
    unsigned char bc = i < bn ? (unsigned char)b[i] : 0;
    d |= (unsigned char)a[i] ^ bc;
  }
  return d == 0;
}

/* Splits text in place into lines, dropping blank ones, '#' comments and
 * trailing spaces and CRs; returns how many remain (NUL-separated, in
 * *len bytes). */
static size_t split_lines(char *text, size_t *len) {
  size_t w = 0, n = 0;
  for (size_t r = 0; r < *len;) {
    char *line = text + r;
    char *nl = memchr(line, '\n', *len - r);
    size_t ll = nl != NULL ? (size_t)(nl - line) : *len - r;
    r += ll + (nl != NULL);
    while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' ' ||
                      line[ll - 1] == '\t'))
      ll--;
    if (ll == 0 || line[0] == '#')
      continue;
    memmove(text + w, line, ll);
    w += ll;
    text[w++] = '\0';
    n++;
  }
  *len = w;
  return n;
}

/* Marks f unusable and to be read again next time; returns err. */
static int forget(cred_file *f, int err) {
  f->ok = 0;
  f->path[0] = '\0';
  return err;
}

/* Reads path into f when its identity changed (or f holds another
 * path). Returns 0 when f holds credentials, else an errno-style code
 * (ENOENT..., or ENODATA for a file without any). Call with cache.lock. */
static int refresh(cred_file *f, const char *path, int need_colon) {
  struct stat st;
  int same_path = strcmp(f->path, path) == 0;
  if (stat(path, &st) != 0)
    return forget(f, errno);
  if (same_path && f->text != NULL && st.st_dev == f->dev &&
      st.st_ino == f->ino && st.st_size == f->size &&
      st.st_mtim.tv_sec == f->mtime.tv_sec &&
      st.st_mtim.tv_nsec == f->mtime.tv_nsec)
    return f->ok ? 0 : ENODATA;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return forget(f, errno);
  char *buf = pprofd__ialloc(FILE_MAX + 1);
  size_t len = 0;
  int err = buf == NULL ? ENOMEM : 0;
  if (err == 0 && fstat(fd, &st) != 0)
    err = errno;
  while (err == 0 && len < FILE_MAX) {
    ssize_t n = read(fd, buf + len, FILE_MAX - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      err = errno;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  if (err != 0) {
    pprofd__ifree(buf);
    return forget(f, err);
  }
  size_t lines = split_lines(buf, &len);
  int colons = 1;
  for (size_t i = 0; need_colon && i < len; i += strlen(buf + i) + 1)
    colons &= strchr(buf + i, ':') != NULL;
  if (f->text != NULL) {
    memset(f->text, 0, f->len); /* no stale secret left in the heap */
    pprofd__ifree(f->text);
  }
  snprintf(f->path, sizeof f->path, "%s", path);
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  f->size = st.st_size;
  f->mtime = st.st_mtim;
  f->text = buf;
  f->len = len;
  f->ok = lines > 0 && colons;
  return f->ok ? 0 : ENODATA;
}

/* Whether cred (n bytes) equals one of f's lines; every line is compared.
 * Call with cache.lock. */
static int file_has(const cred_file *f, const char *cred, size_t n) {
  int found = 0;
  for (size_t i = 0; f->ok && i < f->len; i += strlen(f->text + i) + 1)
    found |= ct_equal(cred, n, f->text + i, strlen(f->text + i));
  return found;
}

unsigned pprofd__auth_schemes(const struct pprofd_config *cfg) {
  return (cfg->auth_token[0] || cfg->auth_token_file[0] ? PPROFD__AUTH_BEARER
                                                        : 0) |
         (cfg->basic_auth[0] || cfg->basic_auth_file[0] ? PPROFD__AUTH_BASIC
                                                        : 0);
}

int pprofd__auth_validate(const struct pprofd_config *cfg, char *why,
                          size_t whylen) {
  char tmp[8];
  if (why == NULL || whylen == 0) {
    why = tmp;
    whylen = sizeof tmp;
  }
  why[0] = '\0';
  if (cfg->basic_auth[0] && strchr(cfg->basic_auth, ':') == NULL) {
    snprintf(why, whylen, "PPROFD_BASIC_AUTH is not USER:PASSWORD");
    return PPROFD_EAUTH;
  }
  int err = 0;
  pprofd__mutex_lock(&cache.lock);
  if (cfg->auth_token_file[0] &&
      (err = refresh(&cache.token, cfg->auth_token_file, 0)) != 0)
    snprintf(why, whylen, "PPROFD_AUTH_TOKEN_FILE %s: %s", cfg->auth_token_file,
             err == ENODATA ? "holds no token" : strerror(err));
  else if (cfg->basic_auth_file[0] &&
           (err = refresh(&cache.basic, cfg->basic_auth_file, 1)) != 0)
    snprintf(why, whylen, "PPROFD_BASIC_AUTH_FILE %s: %s", cfg->basic_auth_file,
             err == ENODATA ? "holds no USER:PASSWORD line" : strerror(err));
  pprofd__mutex_unlock(&cache.lock);
  return err != 0 ? PPROFD_EAUTH : 0;
}

/* Decodes standard base64 (padding optional) into out; returns the
 * length, or -1 when malformed or longer than cap. */
static long b64_decode(const char *s, size_t n, char *out, size_t cap) {
  unsigned acc = 0, bits = 0;
  size_t w = 0;
  while (n > 0 && s[n - 1] == '=')
    n--;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (v < 0)
      return -1;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (w == cap)
        return -1;
      out[w++] = (char)((acc >> bits) & 0xff);
    }
  }
  return (long)w;
}

/* Writes s into out for a log line: at most 120 bytes, control bytes
 * as '?'. */
static void printable(const char *s, char *out, size_t len) {
  size_t w = 0;
  for (; s != NULL && *s && w + 1 < len && w < 120; s++)
    out[w++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
  out[w] = '\0';
}

/* Counts a refusal and says so on stderr unless it did in the last
 * minute. */
static void refused(const char *what, const char *method, const char *path,
                    const char *peer) {
  uint64_t n =
      atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed) + 1;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long t = (long long)now.tv_sec + 1; /* never 0 */
  long long last = atomic_load_explicit(&last_log, memory_order_relaxed);
  if (last != 0 && t - last < 60)
    return;
  if (!atomic_compare_exchange_strong_explicit(
          &last_log, &last, t, memory_order_relaxed, memory_order_relaxed))
    return; /* another thread is printing this minute's line */
  char m[128], p[128], a[128];
  printable(method, m, sizeof m);
  printable(path, p, sizeof p);
  printable(peer, a, sizeof a);
  fprintf(stderr,
          "pprofd: refused %s %s from %s: %s (%llu refused so far; at most "
          "one such line a minute)\n",
          m[0] ? m : "?", p[0] ? p : "?", a[0] ? a : "?", what,
          (unsigned long long)n);
}

pprofd__auth_result pprofd__auth_check(const struct pprofd_config *cfg,
                                       const char *authorization,
                                       const char *method, const char *path,
                                       const char *peer) {
  unsigned schemes = pprofd__auth_schemes(cfg);
  if (schemes == 0)
    return PPROFD__AUTH_OK;
  const char *what = NULL;
  pprofd__auth_result res = PPROFD__AUTH_OK;
  const char *v = authorization;
  size_t vl = v != NULL ? strlen(v) : 0;
  while (vl > 0 && (*v == ' ' || *v == '\t'))
    v++, vl--;
  while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
    vl--;
  int bearer = vl > 7 && strncasecmp(v, "Bearer ", 7) == 0;
  int basic = vl > 6 && strncasecmp(v, "Basic ", 6) == 0;
  if (vl == 0) {
    res = PPROFD__AUTH_MISSING;
    what = "no credentials";
  } else if (vl > HEADER_MAX || (bearer && !(schemes & PPROFD__AUTH_BEARER)) ||
             (basic && !(schemes & PPROFD__AUTH_BASIC)) ||
             (!bearer && !basic)) {
    res = PPROFD__AUTH_SCHEME;
    what = "an Authorization scheme that is not configured";
  }
  if (res != PPROFD__AUTH_OK) {
    refused(what, method, path, peer);
    return res;
  }
  /* The credential itself: the token, or the decoded user:password. */
  char decoded[HEADER_MAX];
  const char *cred = v + (bearer ? 7 : 6);
  size_t cl = vl - (bearer ? 7 : 6);
  while (cl > 0 && *cred == ' ')
    cred++, cl--;
  if (basic) {
    long dl = b64_decode(cred, cl, decoded, sizeof decoded);
    if (dl < 0) {
      refused("malformed basic credentials", method, path, peer);
      return PPROFD__AUTH_SCHEME;
    }
    cred = decoded;
    cl = (size_t)dl;
  }
  const char *inline_cred = bearer ? cfg->auth_token : cfg->basic_auth;
  const char *file = bearer ? cfg->auth_token_file : cfg->basic_auth_file;
  int found = 0, unreadable = 0, err = 0;
  if (inline_cred[0])
    found |= ct_equal(cred, cl, inline_cred, strlen(inline_cred));
  if (file[0]) {
    pprofd__mutex_lock(&cache.lock);
    cred_file *f = bearer ? &cache.token : &cache.basic;
    err = refresh(f, file, basic);
    unreadable = err != 0;
    found |= file_has(f, cred, cl);
    pprofd__mutex_unlock(&cache.lock);
  }
  memset(decoded, 0, sizeof decoded);
  if (found)
    return PPROFD__AUTH_OK;
  if (unreadable && !inline_cred[0]) {
    char why[PPROFD__PATH_MAX + 96];
    snprintf(why, sizeof why, "credential file %s: %s", file,
             err == ENODATA ? "holds no credential" : strerror(err));
    refused(why, method, path, peer);
    return PPROFD__AUTH_UNAVAILABLE;
  }
  refused(bearer ? "wrong bearer token" : "wrong user or password", method,
          path, peer);
  return PPROFD__AUTH_WRONG;
}

uint64_t pprofd__auth_failures(void) {
  return atomic_load_explicit(&failures, memory_order_relaxed);
}

void pprofd__auth_describe(const struct pprofd_config *cfg, char *out,
                           size_t len) {
  size_t k = 0;
  out[0] = '\0';
#define PUT(...)                                                               \
  do {                                                                         \
    if (k < len)                                                               \
      k += (size_t)snprintf(out + k, len - k, __VA_ARGS__);                    \
  } while (0)
  if (cfg->auth_token[0])
    PUT("bearer token (set by PPROFD_AUTH_TOKEN or the API)");
  if (cfg->auth_token_file[0])
    PUT("%sbearer tokens (from file %s)", k ? ", " : "", cfg->auth_token_file);
  if (cfg->basic_auth[0])
    PUT("%sHTTP basic (set by PPROFD_BASIC_AUTH or the API)", k ? ", " : "");
  if (cfg->basic_auth_file[0])
    PUT("%sHTTP basic (from file %s)", k ? ", " : "", cfg->basic_auth_file);
  if (k == 0)
    PUT("off: anyone who reaches the address may read every page");
  else
    PUT("; %llu requests refused since the process started",
        (unsigned long long)pprofd__auth_failures());
#undef PUT
}

void pprofd__auth_prefork(void) { pprofd__mutex_lock(&cache.lock); }

void pprofd__auth_postfork(void) { pprofd__mutex_unlock(&cache.lock); }
