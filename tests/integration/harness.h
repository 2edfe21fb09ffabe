/*
 * harness.h - what the end-to-end tests share: starting a daemon and
 * reading its address, requests through the real curl binary, decoding
 * profiles with the generated protobuf-c code, running go tool pprof, and
 * the demo daemon with the assertions every end-to-end test makes.
 */
#ifndef PPROFD_TESTS_HARNESS_H
#define PPROFD_TESTS_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "encode/profile.pb-c.h"

typedef struct h_daemon {
  pid_t pid;
  int err_fd;     /* the daemon's stderr */
  char addr[128]; /* HOST:PORT it listens on */
  char base[192]; /* http://HOST:PORT */
} h_daemon;

/* Starts argv with extra environment entries ("K=V", NULL-terminated) and
 * waits up to 10 s for "pprofd: listening on http://ADDR/debug/pprof/" on
 * its stderr. Returns 0 or -1 (the process is then reaped). */
int h_start(h_daemon *d, char *const argv[], char *const env[]);
/* Reads the daemon's stderr until `needle` appears or timeout_ms passes;
 * returns 1 if found. The text read is appended to out (if not NULL). */
int h_wait_stderr(h_daemon *d, const char *needle, int timeout_ms, char *out,
                  size_t outlen);
/* Sends SIGTERM, waits up to 5 s (then SIGKILL); returns the exit status
 * as waitpid reports it. */
int h_stop(h_daemon *d);

typedef struct h_resp {
  int status;
  char *headers; /* raw header block of the last response */
  char *body;
  size_t len;
} h_resp;

/* Runs curl: method ("GET", "HEAD", "POST", ...), full URL, optional body
 * (POSTed as application/octet-stream). Returns 0 if curl ran and a
 * status was read. */
int h_http(const char *method, const char *url, const char *body,
           size_t bodylen, h_resp *r);
/* The same with one extra request header ("Name: value", no single
 * quotes), or none when header is NULL. */
int h_http_hdr(const char *method, const char *url, const char *header,
               const char *body, size_t bodylen, h_resp *r);
/* The same with extra curl arguments, passed to the shell as they are
 * ("-u 'user:pass' -H 'Host: x'"), or none when args is NULL. */
int h_http_args(const char *method, const char *url, const char *args,
                const char *body, size_t bodylen, h_resp *r);
void h_resp_free(h_resp *r);
/* The value of header `name` (case-insensitive) in a copy, or NULL. */
char *h_header(const h_resp *r, const char *name);

/* Gunzips and unpacks a profile body; NULL if it does not decode. */
Perftools__Profiles__Profile *h_profile(const char *data, size_t len);
/* Checks the Parca/pprof invariants every profile must meet; returns NULL
 * or a static message saying what is wrong. */
const char *h_profile_invariants(const Perftools__Profiles__Profile *p);
/* String table lookup with bounds checking ("<bad>" if out of range). */
const char *h_str(const Perftools__Profiles__Profile *p, int64_t i);
/* Whether any Function in p is named `name`. */
int h_has_function(const Perftools__Profiles__Profile *p, const char *name);

/* Runs a shell command with a timeout; returns its exit status and its
 * combined output in *out (malloc'ed). */
int h_run(const char *cmd, int timeout_s, char **out);
/* Whether go is on PATH. */
int h_have_go(void);
/* Path of a built file: $PPROFD_TOP_BUILDDIR/rel. */
const char *h_build_path(const char *rel);

/* The demo daemon (examples/pprofd-demo) that most test cases talk to,
 * and assertions on its responses. They fail the running test, so call
 * them only from inside a Check test or fixture. */
extern h_daemon demo;

/* Starts the demo on an ephemeral loopback port with extra environment
 * (NULL-terminated "K=V" entries, which must include PPROFD_ADDR). */
void start_demo_env(char *const env[]);
/* Starts the demo on 127.0.0.1:0; stops it. The fixtures below use them. */
void start_demo(void);
void stop_demo(void);
/* A test case whose tests share one demo daemon: started before the first
 * test and stopped after the last (an unchecked fixture), timeout_s
 * seconds per test. */
TCase *demo_tcase(const char *name, int timeout_s);
/* A test case whose tests each restart the demo with settings of their
 * own: a fresh daemon is started around every test (a checked fixture),
 * timeout_s seconds per test. */
TCase *demo_tcase_each(const char *name, int timeout_s);

/* GET base+path into r, asserting curl worked. */
void get(const char *path, h_resp *r);
/* Asserts header name has exactly value; asserts it is absent. */
void assert_header(const h_resp *r, const char *name, const char *value);
void assert_no_header(const h_resp *r, const char *name);
/* Asserts a Go pprof error response. */
void assert_go_error(const h_resp *r, int status, const char *body);
/* Fetches path, asserts a binary profile named filename, decodes it. */
Perftools__Profiles__Profile *fetch_profile(const char *path,
                                            const char *filename);
/* Sums value[0] of the samples whose stack contains function fn. */
int64_t sum_in(const Perftools__Profiles__Profile *p, const char *fn);
/* Runs go tool pprof with a private home so nothing leaks out. */
int pprof_run(const char *args, char **out);
/* go tool pprof -raw on a path of the demo, which must succeed and whose
 * output must name want; call only when Go is there. */
void pprof_raw_has(const char *path, const char *want);

#endif
