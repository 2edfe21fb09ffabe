/*
 * harness.c - the end-to-end test harness (see harness.h).
 *
 * Requests go through the curl binary, as a user's would; responses are
 * captured with -D (headers) and -o (body) into temporary files.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

extern char **environ;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *h_build_path(const char *rel) {
  static char buf[8][1024];
  static int next;
  const char *top = getenv("PPROFD_TOP_BUILDDIR");
  char *b = buf[next++ % 8];
  snprintf(b, sizeof buf[0], "%s/%s", top ? top : ".", rel);
  return b;
}

int h_wait_stderr(h_daemon *d, const char *needle, int timeout_ms, char *out,
                  size_t outlen) {
  static char acc[65536];
  size_t n = 0;
  acc[0] = '\0';
  long long end = now_ms() + timeout_ms;
  for (;;) {
    if (strstr(acc, needle) != NULL)
      break;
    long long left = end - now_ms();
    if (left <= 0)
      break;
    struct pollfd p = {d->err_fd, POLLIN, 0};
    if (poll(&p, 1, (int)left) <= 0)
      continue;
    ssize_t k = read(d->err_fd, acc + n, sizeof acc - 1 - n);
    if (k <= 0)
      break;
    n += (size_t)k;
    acc[n] = '\0';
  }
  if (out != NULL && outlen > 0) {
    size_t have = strlen(out);
    snprintf(out + have, outlen - have, "%s", acc);
  }
  return strstr(acc, needle) != NULL;
}

int h_start(h_daemon *d, char *const argv[], char *const env[]) {
  memset(d, 0, sizeof *d);
  int pfd[2];
  if (pipe(pfd) != 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    dup2(pfd[1], 2);
    close(pfd[0]);
    close(pfd[1]);
    for (int i = 0; env != NULL && env[i] != NULL; i++)
      putenv(env[i]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(pfd[1]);
  d->pid = pid;
  d->err_fd = pfd[0];
  char text[65536] = "";
  if (!h_wait_stderr(d, "/debug/pprof/\n", 10000, text, sizeof text)) {
    fprintf(stderr, "daemon did not start; stderr: %s\n", text);
    h_stop(d);
    return -1;
  }
  const char *p = strstr(text, "listening on http://");
  if (p == NULL)
    return h_stop(d), -1;
  p += strlen("listening on http://");
  const char *e = strstr(p, "/debug/pprof/");
  snprintf(d->addr, sizeof d->addr, "%.*s", (int)(e - p), p);
  snprintf(d->base, sizeof d->base, "http://%s", d->addr);
  return 0;
}

int h_stop(h_daemon *d) {
  int status = -1;
  if (d->pid <= 0)
    return -1;
  kill(d->pid, SIGTERM);
  long long end = now_ms() + 5000;
  while (now_ms() < end) {
    if (waitpid(d->pid, &status, WNOHANG) == d->pid)
      goto done;
    usleep(10000);
  }
  kill(d->pid, SIGKILL);
  waitpid(d->pid, &status, 0);
done:
  close(d->err_fd);
  d->pid = 0;
  return status;
}

/* Reads a whole file into a malloc'ed buffer. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap + 1);
  size_t k;
  while ((k = fread(b + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap)
      b = realloc(b, (cap *= 2) + 1);
  }
  fclose(f);
  b[n] = '\0';
  if (len != NULL)
    *len = n;
  return b;
}

int h_run(const char *cmd, int timeout_s, char **out) {
  char tmp[] = "/tmp/pprofd-run-XXXXXX";
  int fd = mkstemp(tmp);
  if (fd < 0)
    return -1;
  close(fd);
  char *full;
  if (asprintf(&full, "timeout -k 5 %d sh -c '%s' >%s 2>&1", timeout_s, cmd,
               tmp) < 0)
    return -1;
  int st = system(full);
  free(full);
  *out = slurp(tmp, NULL);
  unlink(tmp);
  if (*out == NULL)
    *out = strdup("");
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int h_http(const char *method, const char *url, const char *body,
           size_t bodylen, h_resp *r) {
  memset(r, 0, sizeof *r);
  char hdr[] = "/tmp/pprofd-h-XXXXXX", out[] = "/tmp/pprofd-b-XXXXXX",
       in[] = "/tmp/pprofd-i-XXXXXX";
  int fh = mkstemp(hdr), fo = mkstemp(out), fi = mkstemp(in);
  close(fh);
  close(fo);
  if (body != NULL && write(fi, body, bodylen) != (ssize_t)bodylen)
    return -1;
  close(fi);
  char *cmd;
  const char *m = strcmp(method, "HEAD") == 0 ? "-I" : "-X";
  char data[128] = "";
  if (body != NULL)
    snprintf(data, sizeof data,
             "-H 'Content-Type: application/octet-stream' --data-binary @%s",
             in);
  if (asprintf(&cmd, "curl -s -S -g --max-time 60 %s %s %s -D %s -o %s '%s'", m,
               strcmp(method, "HEAD") == 0 ? "" : method, data, hdr, out,
               url) < 0)
    return -1;
  int st = system(cmd);
  free(cmd);
  r->headers = slurp(hdr, NULL);
  /* curl -I writes the headers to -o as well: a HEAD has no body. */
  r->body = strcmp(method, "HEAD") == 0 ? NULL : slurp(out, &r->len);
  if (r->body == NULL) {
    r->body = strdup("");
    r->len = 0;
  }
  unlink(hdr);
  unlink(out);
  unlink(in);
  if (r->headers == NULL || st != 0)
    return -1;
  /* The last status line wins (curl -D keeps every response). */
  const char *p = r->headers, *last = NULL;
  while ((p = strstr(p, "HTTP/")) != NULL) {
    if (p == r->headers || p[-1] == '\n')
      last = p;
    p++;
  }
  if (last == NULL || sscanf(strchr(last, ' '), " %d", &r->status) != 1)
    return -1;
  return 0;
}

void h_resp_free(h_resp *r) {
  free(r->headers);
  free(r->body);
  memset(r, 0, sizeof *r);
}

char *h_header(const h_resp *r, const char *name) {
  size_t n = strlen(name);
  for (const char *p = r->headers; p != NULL && *p;) {
    const char *eol = strchr(p, '\n');
    if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
      const char *v = p + n + 1;
      while (*v == ' ')
        v++;
      size_t l = eol ? (size_t)(eol - v) : strlen(v);
      while (l > 0 && (v[l - 1] == '\r' || v[l - 1] == '\n'))
        l--;
      return strndup(v, l);
    }
    p = eol ? eol + 1 : NULL;
  }
  return NULL;
}

Perftools__Profiles__Profile *h_profile(const char *data, size_t len) {
  if (len < 2 || (unsigned char)data[0] != 0x1f ||
      (unsigned char)data[1] != 0x8b)
    return NULL;
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 16) != Z_OK)
    return NULL;
  size_t cap = len * 8 + 4096, n = 0;
  unsigned char *out = malloc(cap);
  zs.next_in = (unsigned char *)data;
  zs.avail_in = (unsigned)len;
  int rc;
  do {
    if (n == cap)
      out = realloc(out, cap *= 2);
    zs.next_out = out + n;
    zs.avail_out = (unsigned)(cap - n);
    rc = inflate(&zs, Z_NO_FLUSH);
    n = cap - zs.avail_out;
  } while (rc == Z_OK);
  /* A second member would mean concatenated profiles: reject it. */
  int ok = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  Perftools__Profiles__Profile *p =
      ok ? perftools__profiles__profile__unpack(NULL, n, out) : NULL;
  free(out);
  return p;
}

const char *h_str(const Perftools__Profiles__Profile *p, int64_t i) {
  if (i < 0 || (size_t)i >= p->n_string_table)
    return "<bad>";
  return p->string_table[i];
}

int h_has_function(const Perftools__Profiles__Profile *p, const char *name) {
  for (size_t i = 0; i < p->n_function; i++)
    if (strcmp(h_str(p, p->function[i]->name), name) == 0)
      return 1;
  return 0;
}

const char *h_profile_invariants(const Perftools__Profiles__Profile *p) {
  if (p->n_string_table == 0 || p->string_table[0][0] != '\0')
    return "string_table[0] is not \"\"";
  if (p->time_nanos <= 0)
    return "time_nanos is not set";
  for (size_t i = 0; i < p->n_mapping; i++)
    if (p->mapping[i]->id != i + 1)
      return "mapping ids are not 1..n";
  for (size_t i = 0; i < p->n_location; i++) {
    const Perftools__Profiles__Location *l = p->location[i];
    if (l->id != i + 1)
      return "location ids are not 1..n";
    if (l->mapping_id > p->n_mapping)
      return "location refers to a missing mapping";
    if (l->address == 0)
      return "location address is 0";
    for (size_t j = 0; j < l->n_line; j++)
      if (l->line[j]->function_id == 0 ||
          l->line[j]->function_id > p->n_function)
        return "line refers to a missing function";
  }
  for (size_t i = 0; i < p->n_location; i++)
    for (size_t j = i + 1; j < p->n_location; j++)
      if (p->location[i]->address == p->location[j]->address)
        return "two locations share an address";
  for (size_t i = 0; i < p->n_function; i++) {
    if (p->function[i]->id != i + 1)
      return "function ids are not 1..n";
    if ((size_t)p->function[i]->name >= p->n_string_table)
      return "function name out of range";
  }
  for (size_t i = 0; i < p->n_sample; i++) {
    const Perftools__Profiles__Sample *s = p->sample[i];
    if (s->n_value != p->n_sample_type)
      return "sample value count differs from sample_type count";
    for (size_t j = 0; j < s->n_location_id; j++)
      if (s->location_id[j] == 0 || s->location_id[j] > p->n_location)
        return "sample refers to a missing location";
    for (size_t j = 0; j < s->n_label; j++)
      if ((size_t)s->label[j]->key >= p->n_string_table ||
          (size_t)s->label[j]->str >= p->n_string_table)
        return "label string out of range";
  }
  return NULL;
}

int h_have_go(void) { return system("command -v go >/dev/null 2>&1") == 0; }
