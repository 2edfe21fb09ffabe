/*
 * pprofd.h - the whole public API of pprofd.
 *
 * pprofd serves Go's /debug/pprof/ endpoints from inside a C or C++ program,
 * with Go's query parameters and wire formats, so that `go tool pprof`,
 * continuous-profiling scrapers, curl and browsers work against it exactly
 * as against a Go server.
 *
 * Three ways to use it:
 *   - link with -lpprofd and call pprofd_start(NULL);
 *   - LD_PRELOAD=libpprofd.so PPROFD_ADDR=127.0.0.1:6060 ./daemon;
 *   - pprofd_write_profile() to a file descriptor, without HTTP, or
 *     pprofd_mhd_dispatch() inside an application's own libmicrohttpd daemon.
 *
 * Conventions: functions returning int return 0 on success and a negative
 * PPROFD_E* code on failure (pprofd_strerror() explains it). Pointer returns
 * are NULL only when memory is exhausted. A few functions differ, and each
 * says so: pprofd_profile_new() and pprofd_profile_lookup() also return NULL
 * for a bad or unknown name; pprofd_mhd_dispatch() returns 0 or 1, never an
 * error code; the getters (pprofd_mem_profile_rate(), pprofd_trace_enabled(),
 * pprofd_profile_count(), ...) return a value, and the trace annotations
 * return nothing. Types are opaque; fields are set with typed setters so
 * that they can grow without an ABI break. Unless said otherwise, every
 * function is thread-safe and none is async-signal-safe.
 */
#ifndef PPROFD_H
#define PPROFD_H

#include <stddef.h>
#include <stdint.h>

#include "pprofd_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(PPROFD_BUILDING)
#define PPROFD_EXTERN __attribute__((visibility("default")))
#else
#define PPROFD_EXTERN
#endif

/*
 * The error space. Values only grow; each number is written once and kept.
 * XX(name, value, message). PPROFD_ERRNO_LAST is one past the last code;
 * the build checks that it and the codes (-1, -2, ... in this order) stay
 * in step.
 */
#define PPROFD_ERRNO_MAP(XX)                                                   \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(EALREADY, -3, "pprofd is already running")                                \
  XX(ENOTRUNNING, -4, "pprofd is not running")                                 \
  XX(EADDR, -5, "invalid listen address (want HOST:PORT)")                     \
  XX(ELISTEN, -6, "cannot listen on the address")                              \
  XX(EHTTP, -7, "the HTTP server failed to start")                             \
  XX(ENOPROFILE, -8, "unknown profile name")                                   \
  XX(EUNAVAILABLE, -9, "this profile is unavailable")                          \
  XX(EIO, -10, "input/output error")                                           \
  XX(ELIMIT, -11, "a configured limit was exceeded")                           \
  XX(EEXIST, -12, "the name is already in use")                                \
  XX(ENOTFOUND, -13, "no such entry")                                          \
  XX(EBUSY, -14, "the resource is busy")                                       \
  XX(EAUTH, -15,                                                               \
     "authentication is misconfigured (a credential file cannot be read or "   \
     "holds none, or a basic credential is not user:password)")                \
  XX(EINSECURE, -16,                                                           \
     "refusing to listen on a non-loopback address without authentication "    \
     "(set PPROFD_AUTH_TOKEN or PPROFD_BASIC_AUTH, or "                        \
     "PPROFD_ALLOW_INSECURE=1)")                                               \
  XX(ETLS, -17,                                                                \
     "TLS cannot start: a certificate, key or CA file cannot be read or "      \
     "parsed, or the key does not match the certificate")

typedef enum {
#define PPROFD_ERR_ENUM(name, val, msg) PPROFD_##name = (val),
  PPROFD_ERRNO_MAP(PPROFD_ERR_ENUM)
#undef PPROFD_ERR_ENUM
      PPROFD_ERRNO_LAST = -18
} pprofd_errno;

/* A static English message for `err`; "unknown error" for unknown codes.
 * Since 0.1.0. */
PPROFD_EXTERN const char *pprofd_strerror(int err);
/* The code's name, e.g. "PPROFD_EINVAL"; "PPROFD_UNKNOWN" otherwise.
 * Since 0.1.0. */
PPROFD_EXTERN const char *pprofd_err_name(int err);

/* The version as "MAJOR.MINOR.PATCH", and as 0xMMmmpp. Since 0.1.0. */
PPROFD_EXTERN const char *pprofd_version(void);
PPROFD_EXTERN unsigned pprofd_version_hex(void);

/*
 * Configuration. Every knob has a PPROFD_* environment variable of the same
 * name; pprofd_start(NULL) reads them, and pprofd_config_from_env() applies
 * them to a config. The index page shows the configuration in force. Each
 * setter returns 0, or PPROFD_EINVAL (PPROFD_EADDR for the address) when
 * cfg is NULL or the value is out of range, and then leaves cfg unchanged.
 * The sampling rates (heap, block, mutex) are process-wide and set at once
 * by their own functions below, not through a config.
 */
typedef struct pprofd_config pprofd_config;

/* A new config holding the defaults. NULL when out of memory.
 * Since 0.1.0. */
PPROFD_EXTERN pprofd_config *pprofd_config_new(void);
/* Frees a config; NULL is ignored. Since 0.1.0. */
PPROFD_EXTERN void pprofd_config_free(pprofd_config *cfg);

/* Applies the PPROFD_* environment variables that are set. A bad value
 * returns PPROFD_EINVAL naming nothing (but PPROFD_DISABLE's, named on
 * stderr); the config keeps the values that parsed. PPROFD_EINVAL for a NULL
 * cfg. Variables: PPROFD_ADDR, PPROFD_HTTP, PPROFD_MAX_CONNECTIONS,
 * PPROFD_REQUEST_TIMEOUT, PPROFD_MAX_SECONDS, PPROFD_MAX_BODY,
 * PPROFD_SYMBOLIZE, PPROFD_MAX_CPU_PROFILES, PPROFD_DISABLE,
 * PPROFD_ALLOWED_HOSTS, PPROFD_AUTH_TOKEN, PPROFD_AUTH_TOKEN_FILE,
 * PPROFD_BASIC_AUTH, PPROFD_BASIC_AUTH_FILE, PPROFD_ALLOW_INSECURE,
 * PPROFD_TLS_CERT, PPROFD_TLS_KEY, PPROFD_TLS_CLIENT_CA.
 * (PPROFD_MEM_PROFILE_RATE, PPROFD_BLOCK_PROFILE_RATE and
 * PPROFD_MUTEX_PROFILE_FRACTION are read once, when the library loads, and a
 * malformed one is reported on stderr and ignored.) Not safe against a
 * concurrent setenv(). Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_from_env(pprofd_config *cfg);

/* The listen address as "HOST:PORT" (IPv4 literal, "[IPv6]" literal or
 * "localhost"); port 0 picks a free port, readable after start with
 * pprofd_get_addr(). Default "127.0.0.1:6060". PPROFD_EADDR when cfg or
 * addr is NULL, or addr is malformed or 256 bytes or longer. PPROFD_ADDR.
 * Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_addr(pprofd_config *cfg, const char *addr);
/* Whether to run the HTTP server at all (default 1). PPROFD_HTTP.
 * Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_http(pprofd_config *cfg, int enabled);
/* The most requests served at once (1..1024, default 16); more get 503.
 * PPROFD_MAX_CONNECTIONS. Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_max_connections(pprofd_config *cfg,
                                                    unsigned n);
/* Seconds an idle or slow client may keep a connection (1..3600, default
 * 30). PPROFD_REQUEST_TIMEOUT. Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_request_timeout(pprofd_config *cfg,
                                                    unsigned seconds);
/* The longest `seconds` a profile, delta or trace request may ask for
 * (1..86400, default 3600); longer asks get 400. PPROFD_MAX_SECONDS.
 * Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_max_seconds(pprofd_config *cfg,
                                                unsigned seconds);
/* The largest request body (POST /debug/pprof/symbol) in bytes
 * (1 KiB..64 MiB, default 1 MiB); larger bodies get 413.
 * PPROFD_MAX_BODY. Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_max_body(pprofd_config *cfg, size_t bytes);
/* Whether binary profiles carry function names, files and lines (default 1).
 * With 0, locations hold addresses only and clients symbolize through
 * /debug/pprof/symbol or their own binaries. PPROFD_SYMBOLIZE.
 * Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_symbolize(pprofd_config *cfg, int enabled);

/* How many CPU profile requests may run at once, each getting the samples
 * of its own window (1..64, default 4): a scraper and a person overlap.
 * One more gets Go's 500 "cpu profiling already in use".
 * PPROFD_MAX_CPU_PROFILES. Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_max_cpu_profiles(pprofd_config *cfg,
                                                     unsigned n);
/* Endpoints to switch off, as comma-separated names (spaces and case
 * ignored; "" turns none off): "metrics" (/metrics) and "vars"
 * (/debug/vars), which pprofd's server answers with 404 and
 * pprofd_mhd_dispatch() leaves to the application; "cmdline", "symbol"
 * and "trace", which answer Go's 404 "Unknown profile" and leave the index
 * page; and "gc", which makes heap?gc=1 run nothing. Default: none.
 * PPROFD_EINVAL for an unknown name. PPROFD_DISABLE, where an unknown
 * name is reported on stderr and the names known are still switched
 * off. Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_disable(pprofd_config *cfg,
                                            const char *names);
/* Host header values the server accepts besides loopback names and
 * addresses (localhost, 127.0.0.0/8, ::1) and the address it is bound to,
 * as a comma-separated list (at most 1023 bytes; "" or NULL: none):
 * NAME (any port), NAME:PORT, [V6]:PORT, .SUFFIX (the name and its
 * subdomains) or * (any Host). Other requests get 421 Misdirected
 * Request: a web page cannot reach pprofd through DNS rebinding. When
 * bound to every interface (0.0.0.0, ::), any IP literal is accepted too.
 * Mounted with pprofd_mhd_dispatch(), the application's server owns the
 * Host policy and pprofd checks nothing unless this list is set; then
 * loopback names and the list pass. PPROFD_EINVAL when cfg is NULL or the
 * list too long. PPROFD_ALLOWED_HOSTS. Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_allowed_hosts(pprofd_config *cfg,
                                                  const char *hosts);

/*
 * Authentication. Any credential set here turns it on for every path
 * pprofd serves, the index page, /debug/vars and /metrics included (and,
 * mounted with pprofd_mhd_dispatch(), for the paths pprofd claims). A
 * request without a matching credential gets 401 with a WWW-Authenticate
 * challenge (`Bearer realm="pprofd"`, `Basic realm="pprofd"`) and a body
 * saying what is wanted; bearer and basic may be set together, and
 * either then passes. Comparisons take constant time. Refusals are
 * counted on the index page and said on stderr at most once a minute.
 * The index page names the kinds in force and their files, never a
 * secret. A credential file holds one credential a line (blank lines and
 * lines starting with '#' skipped, trailing spaces and CR dropped) and
 * is read again whenever its inode, size or modification time changes,
 * so a credential rotates without a restart (replace the file with a
 * rename); a file that cannot be read or holds none refuses every
 * request with 503. pprofd_start() returns PPROFD_EAUTH when a file
 * cannot be read or holds none, or a basic credential lacks its colon.
 * Each setter takes NULL or "" for none and returns PPROFD_EINVAL when
 * cfg is NULL or the value is 1024 bytes or longer. Since 0.1.0.
 */
/* The bearer token (Authorization: Bearer TOKEN). PPROFD_AUTH_TOKEN. */
PPROFD_EXTERN int pprofd_config_set_auth_token(pprofd_config *cfg,
                                               const char *token);
/* A file of bearer tokens. PPROFD_AUTH_TOKEN_FILE. */
PPROFD_EXTERN int pprofd_config_set_auth_token_file(pprofd_config *cfg,
                                                    const char *path);
/* "USER:PASSWORD" for HTTP basic authentication (curl -u, or
 * http://USER:PASSWORD@HOST:PORT/ for go tool pprof). PPROFD_BASIC_AUTH.
 */
PPROFD_EXTERN int pprofd_config_set_basic_auth(pprofd_config *cfg,
                                               const char *user_password);
/* A file of USER:PASSWORD lines. PPROFD_BASIC_AUTH_FILE. */
PPROFD_EXTERN int pprofd_config_set_basic_auth_file(pprofd_config *cfg,
                                                    const char *path);
/* The exposure guard: pprofd_start() refuses to serve an address that is
 * not loopback (127.0.0.0/8, ::1) without authentication (a credential
 * above, or mutual TLS: see pprofd_config_set_tls_client_ca()), with
 * PPROFD_EINSECURE, unless this is 1 (default 0); the index page then
 * shows a warning. PPROFD_ALLOW_INSECURE. Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_set_allow_insecure(pprofd_config *cfg,
                                                   int allow);

/*
 * HTTPS, through libmicrohttpd's GnuTLS support: the server speaks TLS
 * only when both a certificate (chain) and its private key are set, as
 * PEM files read at start. With a client CA too, every request must come
 * with a client certificate that CA signed (mutual TLS), or it gets 403.
 * pprofd_start() returns PPROFD_ETLS when a file cannot be read or
 * parsed, the key does not match the certificate, or only one of the
 * pair (or only the CA) is set; under LD_PRELOAD, one stderr line says
 * which. TLS alone does not authenticate anyone; mutual TLS does, and
 * satisfies the exposure guard as credentials do.
 * Each setter takes NULL or "" for none; PPROFD_EINVAL when cfg is NULL
 * or the path is 1024 bytes or longer. Since 0.1.0.
 */
/* The certificate (chain), PEM. PPROFD_TLS_CERT. */
PPROFD_EXTERN int pprofd_config_set_tls_cert(pprofd_config *cfg,
                                             const char *path);
/* Its private key, PEM (unencrypted). PPROFD_TLS_KEY. */
PPROFD_EXTERN int pprofd_config_set_tls_key(pprofd_config *cfg,
                                            const char *path);
/* CA certificates for client certificates, PEM. PPROFD_TLS_CLIENT_CA. */
PPROFD_EXTERN int pprofd_config_set_tls_client_ca(pprofd_config *cfg,
                                                  const char *path);

/*
 * Automatic captures: when a rule about the process holds, the matching
 * profiles are written to a directory, named
 * <UTC time>-<pid>-<rule>-<kind>.pb.gz (or .txt), with a JSON line per
 * firing in its events.log, and listed at /debug/pprof/dumps/. Each rule
 * is off at 0; the feature is off while the directory is unset. RSS and
 * heap rules write `heap`; the CPU rule a `profile` of
 * pprofd_config_set_autodump_seconds() seconds; the thread rule
 * `goroutine?debug=2` and `threadcreate`; the contention rule `mutex` and
 * `block` deltas of as many seconds; every firing also a `goroutine`
 * proto. Bad values: PPROFD_EINVAL, and the setting stays as it was.
 * Each setter has the variable of the same name in capitals
 * (PPROFD_AUTODUMP_DIR, ...), whose byte counts may end in K, M, G or T.
 * Since 0.1.0.
 */
/* Where captures go ("" or NULL: off; at most 1023 bytes). Created when
 * missing; a directory that cannot be written is reported once on stderr
 * and on the index page, and the program runs on. */
PPROFD_EXTERN int pprofd_config_set_autodump_dir(pprofd_config *cfg,
                                                 const char *dir);
/* RSS at or above this many bytes (up to 2^50). */
PPROFD_EXTERN int pprofd_config_set_autodump_rss(pprofd_config *cfg,
                                                 size_t bytes);
/* RSS grown by this many percent within the window (0..100000). */
PPROFD_EXTERN int pprofd_config_set_autodump_rss_growth(pprofd_config *cfg,
                                                        unsigned percent);
/* The window the growth, CPU and contention rules look back over, in
 * seconds (1..3600, default 60). */
PPROFD_EXTERN int pprofd_config_set_autodump_window(pprofd_config *cfg,
                                                    unsigned seconds);
/* CPU use of at least this percent of one core, over the whole window
 * (0..100000: 250 is two and a half cores). */
PPROFD_EXTERN int pprofd_config_set_autodump_cpu(pprofd_config *cfg,
                                                 unsigned percent);
/* At least this many threads (0..10000000). */
PPROFD_EXTERN int pprofd_config_set_autodump_threads(pprofd_config *cfg,
                                                     unsigned n);
/* Sampled heap in use at or above this many bytes (needs heap
 * sampling). */
PPROFD_EXTERN int pprofd_config_set_autodump_heap(pprofd_config *cfg,
                                                  size_t bytes);
/* Lock waits adding up to this many ms per second over the window
 * (0..1000000; needs the block or the mutex profile on). */
PPROFD_EXTERN int pprofd_config_set_autodump_contention(pprofd_config *cfg,
                                                        unsigned ms);
/* Seconds before a rule that fired may fire again (0..86400, default
 * 300). */
PPROFD_EXTERN int pprofd_config_set_autodump_cooldown(pprofd_config *cfg,
                                                      unsigned seconds);
/* Firings of all rules per hour at most (1..3600, default 12). */
PPROFD_EXTERN int pprofd_config_set_autodump_max_per_hour(pprofd_config *cfg,
                                                          unsigned n);
/* Length of a CPU rule's profile and of a contention rule's deltas, in
 * seconds (1..300, default 10). */
PPROFD_EXTERN int pprofd_config_set_autodump_seconds(pprofd_config *cfg,
                                                     unsigned seconds);
/* Disk budget of the captures in bytes (1 MiB..2^50, default 256 MiB)
 * and their number (1..100000, default 200): the oldest are removed
 * first. */
PPROFD_EXTERN int pprofd_config_set_autodump_max_bytes(pprofd_config *cfg,
                                                       size_t bytes);
PPROFD_EXTERN int pprofd_config_set_autodump_max_files(pprofd_config *cfg,
                                                       unsigned n);

/*
 * Starts pprofd with `cfg` (copied; NULL means the defaults plus the
 * environment, where a bad variable keeps its default). The sampling rates
 * are left as they are. Returns PPROFD_EALREADY when running, PPROFD_EADDR
 * for a malformed address or a host that does not resolve, PPROFD_ELISTEN
 * when the port is taken or the address cannot be bound, PPROFD_EHTTP
 * when libmicrohttpd fails to start, PPROFD_EAUTH for credentials that
 * cannot be used (see Authentication), PPROFD_EINSECURE for an address
 * that is not loopback without authentication (see
 * pprofd_config_set_allow_insecure()), PPROFD_ETLS (see HTTPS),
 * PPROFD_ENOMEM. On failure nothing is
 * left running. Since 0.1.0.
 */
PPROFD_EXTERN int pprofd_start(const pprofd_config *cfg);
/* Stops the server and the samplers; waits for requests in flight to end.
 * PPROFD_ENOTRUNNING when not started. Since 0.1.0. */
PPROFD_EXTERN int pprofd_stop(void);
/* Writes the address actually listened on ("127.0.0.1:40123") into buf.
 * PPROFD_ENOTRUNNING without a server, PPROFD_EINVAL if buf is too small.
 * Since 0.1.0. */
PPROFD_EXTERN int pprofd_get_addr(char *buf, size_t len);

/*
 * Writes the named profile ("heap", "allocs", "goroutine", "threadcreate",
 * "block", "mutex", "cmdline" or a custom name) to fd in the format `debug`
 * selects, as GET /debug/pprof/<name>?debug=<debug> would:
 *   - 0 is a gzipped pprof protobuf;
 *   - 1 (any value > 0; for heap and allocs, any value other than 0) is
 *     Go's legacy text;
 *   - for goroutine, 2 or more is instead the full dump of every thread,
 *     for people (like Go's, pprof cannot parse it): the calling thread
 *     first, then the others by thread id, one block each, separated by
 *     a blank line. A block opens with `thread TID "NAME" [STATE]:`, STATE
 *     being the kernel's ("running", "sleeping", ...), and after it,
 *     comma-separated, the system call the thread is blocked in, its
 *     kernel wait channel (`wchan NAME`) and `stack not captured: the
 *     thread did not answer`, when they apply. Then, innermost first,
 *     each frame is `function+0xoffset` and, on the next line after a
 *     tab, `file:line` (an inlined call gets a pair of its own; an unknown
 *     function shows as its address, an unknown file as `?`); a stack cut
 *     short ends with a `...` line that says so. A thread created through
 * pprofd's pthread_create ends with `created by FUNCTION in thread N` and the
 *     `file:line` of that call.
 * "profile" and "trace" need a duration and are PPROFD_ENOPROFILE here
 * (see pprofd_cpu_start()). Works whether or not pprofd_start() was
 * called. PPROFD_EINVAL (name NULL, fd < 0), PPROFD_ENOPROFILE,
 * PPROFD_EUNAVAILABLE, PPROFD_EIO (the write failed), PPROFD_ENOMEM,
 * PPROFD_ELIMIT (the output would exceed its size cap). Since 0.1.0.
 */
PPROFD_EXTERN int pprofd_write_profile(const char *name, int fd, int debug);

/*
 * CPU profiling without HTTP, and labels on CPU samples.
 */

/* Starts a CPU profile at 100 Hz that pprofd_cpu_stop() writes to fd as
 * a gzipped pprof profile (runtime/pprof.StartCPUProfile). It counts as
 * one of the concurrent CPU profiles. PPROFD_EINVAL for fd < 0,
 * PPROFD_EALREADY when a file profile is running, PPROFD_EBUSY when the
 * limit is reached, PPROFD_EUNAVAILABLE when the application owns SIGPROF
 * (the index page says why), PPROFD_ENOMEM. Since 0.1.0. */
PPROFD_EXTERN int pprofd_cpu_start(int fd);
/* Stops it and writes the profile (symbolized). PPROFD_ENOTRUNNING when
 * no file profile is running, PPROFD_EIO when the write fails,
 * PPROFD_ENOMEM / PPROFD_ELIMIT from encoding. Since 0.1.0. */
PPROFD_EXTERN int pprofd_cpu_stop(void);
/* Replaces the calling thread's profiler labels (Go's pprof.Do /
 * SetGoroutineLabels): kv holds npairs key/value strings, copied; npairs
 * 0 clears them. CPU samples of this thread carry them next to `thread`,
 * so `go tool pprof -tagfocus` works on them. PPROFD_EINVAL (kv NULL with
 * npairs > 0, NULL or empty key, NULL value, a key or value longer than
 * 256 bytes, more than 8 pairs, the reserved key "thread"), PPROFD_ELIMIT
 * after 4096 distinct label sets (they are interned and never freed),
 * PPROFD_ENOMEM. Since 0.1.0. */
PPROFD_EXTERN int pprofd_set_labels(const char *const *kv, size_t npairs);

/*
 * Heap profiling. Every allocation through the malloc family is counted
 * against a per-thread byte countdown; on average one allocation per
 * `rate` bytes is sampled with its stack (Go's runtime.MemProfileRate).
 * /debug/pprof/heap and /allocs serve the result, unsampled as Go does.
 */

/* Sets the heap sampling rate in bytes: on average one sample per `rate`
 * bytes allocated; 1 records every allocation, 0 turns heap sampling off.
 * Takes effect at once for the calling thread and at each other thread's
 * next sample (within 64 MiB of its allocations when the rate was 0).
 * PPROFD_MEM_PROFILE_RATE sets it at load. Returns 0 or PPROFD_EINVAL
 * (rate < 0). Since 0.1.0. */
PPROFD_EXTERN int pprofd_set_mem_profile_rate(long rate);
/* The heap sampling rate in force (default 524288). Lock-free.
 * Since 0.1.0. */
PPROFD_EXTERN long pprofd_mem_profile_rate(void);
/* Registers fn(arg), run by /debug/pprof/heap?gc=1 before malloc_trim(0):
 * the application's chance to drop its caches, the C equivalent of
 * runtime.GC(). Up to 16 hooks. PPROFD_EINVAL (fn NULL), PPROFD_ELIMIT
 * (full). Since 0.1.0. */
PPROFD_EXTERN int pprofd_register_gc_hook(void (*fn)(void *), void *arg);

/*
 * Contention profiling (Go's block and mutex profiles), both off by
 * default. pprofd's pthread_mutex_*, pthread_rwlock_*, pthread_cond_*,
 * sem_*wait, pthread_join, pthread_barrier_wait and pthread_spin_lock see
 * every wait; C++ std::mutex, std::shared_mutex and
 * std::condition_variable go through them. Needs libpprofd linked or
 * preloaded (not dlopen'ed).
 */

/* Sets the block profile rate in nanoseconds (Go's
 * runtime.SetBlockProfileRate): a wait of at least `ns` is always
 * recorded with the waiting thread's stack; a shorter wait d with
 * probability d/ns, re-weighted so totals stay unbiased. 1 records every
 * wait; 0 turns it off (the default). PPROFD_BLOCK_PROFILE_RATE sets it
 * at load. Returns 0 or PPROFD_EINVAL (ns < 0). Since 0.1.0. */
PPROFD_EXTERN int pprofd_set_block_profile_rate(long ns);
/* The block profile rate in force (0: off). Since 0.1.0. */
PPROFD_EXTERN long pprofd_block_profile_rate(void);
/* Sets the mutex profile fraction (Go's runtime.SetMutexProfileFraction):
 * on average 1 in `fraction` releases of a contended mutex or rwlock is
 * recorded with the releasing thread's stack and the delay its holding
 * caused the waiters, scaled by `fraction`. 1 records all; 0 turns it off
 * (the default). PPROFD_MUTEX_PROFILE_FRACTION sets it at load. Returns 0
 * or PPROFD_EINVAL (fraction < 0). Since 0.1.0. */
PPROFD_EXTERN int pprofd_set_mutex_profile_fraction(long fraction);
/* The mutex profile fraction in force (0: off). Since 0.1.0. */
PPROFD_EXTERN long pprofd_mutex_profile_fraction(void);

/*
 * Execution traces: GET /debug/pprof/trace?seconds=S records a timeline of
 * every thread (CPU samples, lock waits, thread starts and exits, counters)
 * as Chrome trace-event JSON for Perfetto UI or chrome://tracing. These
 * calls add the application's own annotations, in the spirit of Go's
 * runtime/trace. Each costs one load and a branch when no trace records.
 */

/* Nonzero while a trace records (Go's trace.IsEnabled). Since 0.1.0. */
PPROFD_EXTERN int pprofd_trace_enabled(void);
/* Begins a task named `name` (copied; up to 255 bytes), which may span
 * threads, and returns its id for pprofd_trace_task_end; 0, not an error
 * code, when no trace records, name is NULL or the trace is full (ending
 * 0 does nothing). Since 0.1.0. */
PPROFD_EXTERN uint64_t pprofd_trace_task_begin(const char *name);
/* Ends the task begun with `id`. Since 0.1.0. */
PPROFD_EXTERN void pprofd_trace_task_end(uint64_t id);
/* Begins a region named `name` on the calling thread's track; regions
 * nest and each is ended by pprofd_trace_region_end on the same thread.
 * Since 0.1.0. */
PPROFD_EXTERN void pprofd_trace_region_begin(const char *name);
/* Ends the calling thread's innermost region. Since 0.1.0. */
PPROFD_EXTERN void pprofd_trace_region_end(void);
/* Logs `message` (up to 4 KiB) under `category` (up to 255 bytes) as an
 * instant on the calling thread's track. Since 0.1.0. */
PPROFD_EXTERN void pprofd_trace_log(const char *category, const char *message);

/*
 * Custom profiles: the equivalent of Go's pprof.NewProfile. A custom
 * profile is a set of keys, each remembered with the stack that added it
 * (say, open sessions and where they were opened). It is listed on the
 * index page and served at /debug/pprof/<name> as a count profile.
 */
typedef struct pprofd_profile pprofd_profile;

/* Creates the profile `name` ([A-Za-z0-9._-], 1..64 bytes, not a built-in
 * name nor "symbol"); it lives as long as the process. Unlike other
 * pointer returns, NULL is not only "out of memory": *err (if err is not
 * NULL) gets PPROFD_EINVAL for a NULL or bad name, PPROFD_EEXIST for a
 * taken one, PPROFD_ENOMEM, and 0 on success. Since 0.1.0. */
PPROFD_EXTERN pprofd_profile *pprofd_profile_new(const char *name, int *err);
/* Looks up a custom profile by name; NULL if there is none (or name is
 * NULL), never for want of memory. Since 0.1.0. */
PPROFD_EXTERN pprofd_profile *pprofd_profile_lookup(const char *name);
/* Records `key` with the caller's stack, skipping `skip` extra frames.
 * PPROFD_EINVAL (p or key NULL, skip < 0), PPROFD_EEXIST if the key is
 * present, PPROFD_ELIMIT past 1,000,000 keys, PPROFD_ENOMEM.
 * Since 0.1.0. */
PPROFD_EXTERN int pprofd_profile_add(pprofd_profile *p, const void *key,
                                     int skip);
/* Forgets `key`; PPROFD_ENOTFOUND if absent, PPROFD_EINVAL for a NULL p
 * or key. Since 0.1.0. */
PPROFD_EXTERN int pprofd_profile_remove(pprofd_profile *p, const void *key);
/* The number of keys (0 for NULL). Since 0.1.0. */
PPROFD_EXTERN size_t pprofd_profile_count(const pprofd_profile *p);

/*
 * Application variables: the equivalent of Go's expvar.NewInt, NewFloat,
 * NewString and Func, served at /debug/vars (sorted by name next to
 * `cmdline` and `memstats`, as Go does) and at /metrics (integers and
 * floats as gauges, counters as counters; strings only in /debug/vars,
 * since Prometheus values are numbers). A variable lives as long as the
 * process; at most 4096 of them.
 *
 * A name is 1..128 bytes of [A-Za-z0-9_], not starting with a digit (a
 * valid Prometheus metric name), and is a counter's only when it ends in
 * `_total`, which the other kinds may not. The names `cmdline` and
 * `memstats`, the prefixes `pprofd_`, `process_` and `go_`, and a name
 * that differs from a taken one only by a `_total` suffix are reserved.
 * `help` (NULL for none; at most 1024 bytes, copied) becomes the
 * metric's HELP text.
 *
 * The constructors, like pprofd_profile_new(), return NULL not only when
 * memory is exhausted: *err (if err is not NULL) gets PPROFD_EINVAL for a
 * bad name or help, PPROFD_EEXIST for a taken name, PPROFD_ELIMIT past
 * 4096 variables, PPROFD_ENOMEM, and 0 on success.
 *
 * Updating a number is one atomic instruction (a compare-and-swap loop
 * for floats) and never waits; readers never stop the threads that
 * update. A string's update takes a lock that a reader holds only while
 * it copies that one string.
 */
typedef struct pprofd_var pprofd_var;

/* A 64-bit integer gauge, starting at 0 (expvar.NewInt). Since 0.1.0. */
PPROFD_EXTERN pprofd_var *pprofd_var_int_new(const char *name, const char *help,
                                             int *err);
/* A 64-bit integer counter, starting at 0: a name ending in `_total`,
 * a value that only grows. Since 0.1.0. */
PPROFD_EXTERN pprofd_var *pprofd_var_counter_new(const char *name,
                                                 const char *help, int *err);
/* A double gauge, starting at 0 (expvar.NewFloat). Since 0.1.0. */
PPROFD_EXTERN pprofd_var *pprofd_var_float_new(const char *name,
                                               const char *help, int *err);
/* A string, starting empty (expvar.NewString); /debug/vars only.
 * Since 0.1.0. */
PPROFD_EXTERN pprofd_var *pprofd_var_string_new(const char *name,
                                                const char *help, int *err);
/* A gauge whose value fn(arg) computes each time the variable is read
 * (expvar.Func), on the thread serving /debug/vars or /metrics, with no
 * pprofd lock held; fn must be thread-safe and quick. PPROFD_EINVAL also
 * for a NULL fn. Since 0.1.0. */
PPROFD_EXTERN pprofd_var *pprofd_var_func_new(const char *name,
                                              const char *help,
                                              double (*fn)(void *arg),
                                              void *arg, int *err);
/* The variable named name, or NULL (expvar.Get). Since 0.1.0. */
PPROFD_EXTERN pprofd_var *pprofd_var_lookup(const char *name);

/* Adds delta to an integer or counter variable (a counter refuses a
 * negative delta). PPROFD_EINVAL for NULL, another kind, or a negative
 * delta on a counter. Lock-free. Since 0.1.0. */
PPROFD_EXTERN int pprofd_var_int_add(pprofd_var *v, int64_t delta);
/* Sets an integer or counter variable (a counter refuses a negative
 * value; setting it lower reads as a counter reset). PPROFD_EINVAL as
 * for pprofd_var_int_add. Lock-free. Since 0.1.0. */
PPROFD_EXTERN int pprofd_var_int_set(pprofd_var *v, int64_t value);
/* An integer or counter variable's value; 0 for NULL or another kind.
 * Since 0.1.0. */
PPROFD_EXTERN int64_t pprofd_var_int_value(const pprofd_var *v);
/* Adds delta to, or sets, a float variable. PPROFD_EINVAL for NULL or
 * another kind. Lock-free. Since 0.1.0. */
PPROFD_EXTERN int pprofd_var_float_add(pprofd_var *v, double delta);
PPROFD_EXTERN int pprofd_var_float_set(pprofd_var *v, double value);
/* A float variable's value (a func variable's: fn(arg), computed now);
 * 0 for NULL or another kind. Since 0.1.0. */
PPROFD_EXTERN double pprofd_var_float_value(const pprofd_var *v);
/* Sets a string variable to a copy of s (at most 4096 bytes).
 * PPROFD_EINVAL for NULL v or s, another kind or a longer s,
 * PPROFD_ENOMEM. Since 0.1.0. */
PPROFD_EXTERN int pprofd_var_string_set(pprofd_var *v, const char *s);

/*
 * Mounting into an application's own libmicrohttpd daemon. Call this first
 * from the daemon's access handler with the handler's arguments. Unlike the
 * rest of the API it never returns an error code: it returns 0 when the
 * URL is neither under /debug/pprof nor /debug/vars or /metrics (the
 * application handles it, and those two when pprofd_config_set_disable()
 * or PPROFD_DISABLE names them), also when conn, url, method,
 * upload_data_size, req_cls or mhd_result is NULL or *req_cls holds the
 * application's own request; and 1 when pprofd handled
 * it, with *mhd_result set to what the access handler must return (MHD_NO,
 * which closes the connection, when pprofd is out of memory). Works
 * whether or not pprofd_start() was called, with the configuration in
 * force. Register pprofd_mhd_completed() as (or call it from) the
 * daemon's MHD_OPTION_NOTIFY_COMPLETED callback. Long requests
 * (profile?seconds=N) occupy the calling thread: use a thread-per-connection
 * or thread-pool daemon. Since 0.1.0.
 */
struct MHD_Connection;
PPROFD_EXTERN int pprofd_mhd_dispatch(struct MHD_Connection *conn,
                                      const char *url, const char *method,
                                      const char *upload_data,
                                      size_t *upload_data_size, void **req_cls,
                                      int *mhd_result);
/* Frees what pprofd_mhd_dispatch() kept in *req_cls; safe on requests
 * pprofd did not handle. Since 0.1.0. */
PPROFD_EXTERN void pprofd_mhd_completed(void **req_cls);

#ifdef __cplusplus
}
#endif
#endif /* PPROFD_H */
