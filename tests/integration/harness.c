/*
 * harness.c - the end-to-end test harness (see harness.h).
 *
 * Requests go through the curl binary, as a user's would; responses are
 * captured with -D (headers) and -o (body) into temporary files.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <check.h>
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
  return h_http_hdr(method, url, NULL, body, bodylen, r);
}

int h_http_hdr(const char *method, const char *url, const char *header,
               const char *body, size_t bodylen, h_resp *r) {
  char extra[512] = "";
  if (header != NULL)
    snprintf(extra, sizeof extra, "-H '%s'", header);
  return h_http_args(method, url, extra, body, bodylen, r);
}

int h_http_args(const char *method, const char *url, const char *args,
                const char *body, size_t bodylen, h_resp *r) {
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
  if (asprintf(&cmd, "curl -s -S -g --max-time 60 %s %s %s %s -D %s -o %s '%s'",
               m, strcmp(method, "HEAD") == 0 ? "" : method, data,
               args != NULL ? args : "", hdr, out, url) < 0)
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

/* The demo daemon, its fixtures and the assertions on its responses. */
h_daemon demo;

void start_demo_env(char *const env[]) {
  char *argv[] = {(char *)h_build_path("examples/pprofd-demo"), NULL};
  ck_assert_msg(h_start(&demo, argv, env) == 0, "demo daemon did not start");
}

void start_demo(void) {
  char *env[] = {"PPROFD_ADDR=127.0.0.1:0", NULL};
  start_demo_env(env);
}

void stop_demo(void) { h_stop(&demo); }

TCase *demo_tcase(const char *name, int timeout_s) {
  TCase *tc = tcase_create(name);
  tcase_set_timeout(tc, timeout_s);
  tcase_add_unchecked_fixture(tc, start_demo, stop_demo);
  return tc;
}

TCase *demo_tcase_each(const char *name, int timeout_s) {
  TCase *tc = tcase_create(name);
  tcase_set_timeout(tc, timeout_s);
  tcase_add_checked_fixture(tc, start_demo, stop_demo);
  return tc;
}

void get(const char *path, h_resp *r) {
  char *url;
  ck_assert_int_gt(asprintf(&url, "%s%s", demo.base, path), 0);
  ck_assert_msg(h_http("GET", url, NULL, 0, r) == 0, "curl failed: %.200s",
                url);
  free(url);
}

void assert_header(const h_resp *r, const char *name, const char *value) {
  char *v = h_header(r, name);
  ck_assert_msg(v != NULL, "missing header %s", name);
  ck_assert_str_eq(v, value);
  free(v);
}

void assert_no_header(const h_resp *r, const char *name) {
  char *v = h_header(r, name);
  ck_assert_msg(v == NULL, "unexpected header %s: %s", name, v);
}

void assert_go_error(const h_resp *r, int status, const char *body) {
  ck_assert_int_eq(r->status, status);
  assert_header(r, "Content-Type", "text/plain; charset=utf-8");
  assert_header(r, "X-Go-Pprof", "1");
  assert_header(r, "X-Content-Type-Options", "nosniff");
  assert_no_header(r, "Content-Disposition");
  assert_no_header(r, "Content-Encoding");
  ck_assert_str_eq(r->body, body);
}

Perftools__Profiles__Profile *fetch_profile(const char *path,
                                            const char *filename) {
  h_resp r;
  get(path, &r);
  ck_assert_msg(r.status == 200, "%s: %d %s", path, r.status, r.body);
  assert_header(&r, "Content-Type", "application/octet-stream");
  char cd[128];
  snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", filename);
  assert_header(&r, "Content-Disposition", cd);
  Perftools__Profiles__Profile *p = h_profile(r.body, r.len);
  ck_assert_msg(p != NULL, "%s: body is not one gzipped profile", path);
  h_resp_free(&r);
  const char *bad = h_profile_invariants(p);
  ck_assert_msg(bad == NULL, "%s: invariant: %s", path, bad);
  return p;
}

int64_t sum_in(const Perftools__Profiles__Profile *p, const char *fn) {
  int64_t total = 0;
  for (size_t i = 0; i < p->n_sample; i++) {
    const Perftools__Profiles__Sample *s = p->sample[i];
    int hit = 0;
    for (size_t j = 0; j < s->n_location_id && !hit; j++) {
      const Perftools__Profiles__Location *l =
          p->location[s->location_id[j] - 1];
      for (size_t k = 0; k < l->n_line; k++)
        if (strcmp(h_str(p, p->function[l->line[k]->function_id - 1]->name),
                   fn) == 0)
          hit = 1;
    }
    if (hit)
      total += s->value[0];
  }
  return total;
}

int pprof_run(const char *args, char **out) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "export HOME=/tmp PPROF_TMPDIR=$(mktemp -d); go tool pprof %s",
           args);
  return h_run(cmd, 120, out);
}

void pprof_raw_has(const char *path, const char *want) {
  char args[512], *out;
  snprintf(args, sizeof args, "-raw '%s%s'", demo.base, path);
  int st = pprof_run(args, &out);
  ck_assert_msg(st == 0, "pprof -raw %s failed: %s", path, out);
  ck_assert_msg(want == NULL || strstr(out, want) != NULL, "%s: %s", path, out);
  free(out);
}
