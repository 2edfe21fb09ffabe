/*
 * conf.h - the configuration: one table, three faces.
 *
 * PPROFD__CONF_TABLE is the one list of knobs. From it come the fields of
 * struct pprofd_config (the opaque public type), the defaults, the typed
 * setters and their range checks, the PPROFD_* environment variables and
 * the rows of the index page's configuration table; a knob is added, or
 * its range changed, in this one place. Values are checked here, once, so
 * every other module can trust them. A config is a plain value: the
 * runtime keeps its own copy while running.
 *
 * Everything here may be called from any thread; pprofd_config_from_env
 * and pprofd__config_env_count read the environment (getenv), which is not
 * safe against a concurrent setenv. Nothing here is async-signal-safe.
 */
#ifndef PPROFD_CORE_CONF_H
#define PPROFD_CORE_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "pprofd.h"

#define PPROFD__ADDR_MAX 256
#define PPROFD__PATH_MAX 1024
/* The largest byte count a SIZE knob takes (1 PiB). */
#define PPROFD__BYTES_MAX (1LL << 50)

/*
 * X(name, KIND, min, max, default, env, get, set, shown, shown_0,
 *   description)
 *
 * name     the struct field, the setter's suffix (pprofd_config_set_NAME)
 *          and the key on the index page;
 * KIND     ADDR: a "HOST:PORT" string (char[PPROFD__ADDR_MAX]);
 *          BOOL: int, 0 or 1 (the setter takes any int, the variable
 *          1/0, true/false, on/off, yes/no); UINT: unsigned; SIZE: size_t;
 *          RATE: int64_t, a process-wide sampling rate (below);
 *          LIST: unsigned, a set of PPROFD__DISABLE_NAMES bits, written
 *          as comma-separated names (the setter takes the names too);
 *          PATH: a file system path (char[PPROFD__PATH_MAX]), "" for none;
 *          TEXT: any other string, as a PATH (a list of names, a secret);
 *          a SIZE's variable may end in K, M, G or T (powers of 1024);
 * min, max the inclusive range the setter and the variable accept (ADDR
 *          is checked by its parser instead);
 * default  the value of pprofd_config_new() and pprofd_start(NULL);
 * env      the environment variable pprofd_config_from_env() reads, or,
 *          for a RATE, that is read once when the library loads;
 * get, set for a RATE, the sampler's functions that hold its value in
 *          force (NULL otherwise);
 * shown    the value's text on the index page, a printf format given the
 *          value as a long long, twice (a LIST's: its names, as one
 *          string); NULL keeps the knob off the page (the page shows the
 *          bound address rather than addr);
 * shown_0  the text for the value 0, or NULL for `shown`;
 * description  one line for people, as in the README's table.
 *
 * Shown rows come in the index page's order.
 *
 * A RATE is Go's MemProfileRate, SetBlockProfileRate or
 * SetMutexProfileFraction: process-wide, it takes effect at once through
 * its old public setter (pprofd_set_NAME, getter pprofd_NAME), which
 * checks the range here and pushes the value to its sampler. The sampler
 * keeps it in a plain atomic that its hot path (malloc's, a lock wait's)
 * reads, so that path gains no lock and no indirection.
 * pprofd__runtime_config() reads the rates back into the config in force;
 * pprofd_start() leaves them alone, as it always has.
 */
/*
 * What PPROFD_DISABLE can switch off: X(bit, name). A disabled /metrics or
 * /debug/vars answers 404 (Go's "404 page not found") on pprofd's own
 * server, and pprofd_mhd_dispatch() leaves it to the application; a
 * disabled cmdline, symbol or trace answers Go's 404 "Unknown profile"
 * and leaves the index page; a disabled gc makes ?gc=1 do nothing, for
 * teams that must not expose argv or let a GET run the collection hooks.
 */
#define PPROFD__DISABLE_NAMES(X)                                               \
  X(PPROFD__DISABLE_METRICS, "metrics") /* /metrics */                         \
  X(PPROFD__DISABLE_VARS, "vars")       /* /debug/vars */                      \
  X(PPROFD__DISABLE_CMDLINE, "cmdline") /* /debug/pprof/cmdline */             \
  X(PPROFD__DISABLE_SYMBOL, "symbol")   /* /debug/pprof/symbol */              \
  X(PPROFD__DISABLE_TRACE, "trace")     /* /debug/pprof/trace */               \
  X(PPROFD__DISABLE_GC, "gc")           /* heap?gc=1 */

enum {
  PPROFD__DISABLE_METRICS = 1,
  PPROFD__DISABLE_VARS = 2,
  PPROFD__DISABLE_CMDLINE = 4,
  PPROFD__DISABLE_SYMBOL = 8,
  PPROFD__DISABLE_TRACE = 16,
  PPROFD__DISABLE_GC = 32,
  PPROFD__DISABLE_ALL = 63,
};

/* clang-format off */
#define PPROFD__CONF_TABLE(X)                                                  \
  X(addr, ADDR, 0, 0, "127.0.0.1:6060",                                        \
    "PPROFD_ADDR", NULL, NULL,                                                 \
    NULL, NULL,                                                                \
    "listen address, HOST:PORT or [V6]:PORT; port 0 picks a free port")       \
  X(http, BOOL, 0, 1, 1,                                                       \
    "PPROFD_HTTP", NULL, NULL,                                                 \
    NULL, NULL,                                                                \
    "run the HTTP server")                                                     \
  X(symbolize, BOOL, 0, 1, 1,                                                  \
    "PPROFD_SYMBOLIZE", NULL, NULL,                                            \
    "on: profiles carry functions, files and lines",                           \
    "off: profiles carry addresses only",                                      \
    "serve profiles with functions, files and lines (0: addresses only)")      \
  X(max_connections, UINT, 1, 1024, 16,                                        \
    "PPROFD_MAX_CONNECTIONS", NULL, NULL,                                      \
    "%lld concurrent requests", NULL,                                          \
    "requests served at once; more get 503")                                   \
  X(request_timeout, UINT, 1, 3600, 30,                                        \
    "PPROFD_REQUEST_TIMEOUT", NULL, NULL,                                      \
    "%lld s", NULL,                                                            \
    "seconds an idle or stalled client may hold a connection")                 \
  X(max_seconds, UINT, 1, 86400, 3600,                                         \
    "PPROFD_MAX_SECONDS", NULL, NULL,                                          \
    "%lld s (longest profile, delta or trace)", NULL,                          \
    "longest seconds= a profile, delta or trace may ask for (400 beyond)")     \
  X(max_body, SIZE, 1024, 64 << 20, 1 << 20,                                   \
    "PPROFD_MAX_BODY", NULL, NULL,                                             \
    "%lld bytes", NULL,                                                        \
    "largest request body (POST /symbol; 413 beyond)")                         \
  X(max_cpu_profiles, UINT, 1, 64, 4,                                          \
    "PPROFD_MAX_CPU_PROFILES", NULL, NULL,                                     \
    "%lld concurrent CPU profiles", NULL,                                      \
    "CPU profile requests served at once, each with its own window")          \
  X(disable, LIST, 0, PPROFD__DISABLE_ALL, 0,                                  \
    "PPROFD_DISABLE", NULL, NULL,                                              \
    "off: %s", "nothing (PPROFD_DISABLE=metrics,vars,cmdline,... turns "      \
    "endpoints off)",                                                          \
    "endpoints switched off (404), comma-separated: metrics, vars, cmdline, " \
    "symbol, trace; gc makes ?gc=1 do nothing")                                \
  X(allowed_hosts, TEXT, 0, 0, "",                                             \
    "PPROFD_ALLOWED_HOSTS", NULL, NULL, NULL, NULL,                            \
    "Host header values accepted besides loopback names and addresses and "   \
    "the bound address (DNS rebinding guard; 421 for others), "                \
    "comma-separated: NAME, NAME:PORT, .SUFFIX or *")                          \
  X(auth_token, TEXT, 0, 0, "",                                                \
    "PPROFD_AUTH_TOKEN", NULL, NULL, NULL, NULL,                               \
    "bearer token every request must carry (Authorization: Bearer TOKEN)")     \
  X(auth_token_file, PATH, 0, 0, "",                                           \
    "PPROFD_AUTH_TOKEN_FILE", NULL, NULL, NULL, NULL,                          \
    "file of bearer tokens, one a line; re-read when it changes")              \
  X(basic_auth, TEXT, 0, 0, "",                                                \
    "PPROFD_BASIC_AUTH", NULL, NULL, NULL, NULL,                               \
    "USER:PASSWORD every request must carry (HTTP basic authentication)")      \
  X(basic_auth_file, PATH, 0, 0, "",                                           \
    "PPROFD_BASIC_AUTH_FILE", NULL, NULL, NULL, NULL,                          \
    "file of USER:PASSWORD lines; re-read when it changes")                    \
  X(allow_insecure, BOOL, 0, 1, 0,                                             \
    "PPROFD_ALLOW_INSECURE", NULL, NULL, NULL, NULL,                           \
    "serve a non-loopback address without authentication (refused "           \
    "otherwise)")                                                              \
  X(tls_cert, PATH, 0, 0, "",                                                  \
    "PPROFD_TLS_CERT", NULL, NULL, NULL, NULL,                                 \
    "PEM certificate (chain) to serve HTTPS with; needs PPROFD_TLS_KEY")       \
  X(tls_key, PATH, 0, 0, "",                                                   \
    "PPROFD_TLS_KEY", NULL, NULL, NULL, NULL,                                  \
    "PEM private key of PPROFD_TLS_CERT")                                      \
  X(tls_client_ca, PATH, 0, 0, "",                                             \
    "PPROFD_TLS_CLIENT_CA", NULL, NULL, NULL, NULL,                            \
    "PEM CA certificates: clients must present a certificate they signed "    \
    "(mutual TLS)")                                                            \
  X(autodump_dir, PATH, 0, 0, "",                                              \
    "PPROFD_AUTODUMP_DIR", NULL, NULL, NULL, NULL,                             \
    "directory for automatic captures; unset: off")                            \
  X(autodump_rss, SIZE, 0, PPROFD__BYTES_MAX, 0,                               \
    "PPROFD_AUTODUMP_RSS", NULL, NULL, NULL, NULL,                             \
    "capture when RSS reaches this many bytes (K, M, G accepted); 0 off")      \
  X(autodump_rss_growth, UINT, 0, 100000, 0,                                   \
    "PPROFD_AUTODUMP_RSS_GROWTH", NULL, NULL, NULL, NULL,                      \
    "capture when RSS grows this many percent within the window; 0 off")       \
  X(autodump_window, UINT, 1, 3600, 60,                                        \
    "PPROFD_AUTODUMP_WINDOW", NULL, NULL, NULL, NULL,                          \
    "seconds the growth, CPU and contention rules look back")                  \
  X(autodump_cpu, UINT, 0, 100000, 0,                                          \
    "PPROFD_AUTODUMP_CPU", NULL, NULL, NULL, NULL,                             \
    "capture when CPU use stays at this percent of one core for the window")   \
  X(autodump_threads, UINT, 0, 10000000, 0,                                    \
    "PPROFD_AUTODUMP_THREADS", NULL, NULL, NULL, NULL,                         \
    "capture when the process has this many threads; 0 off")                   \
  X(autodump_heap, SIZE, 0, PPROFD__BYTES_MAX, 0,                              \
    "PPROFD_AUTODUMP_HEAP", NULL, NULL, NULL, NULL,                            \
    "capture when the sampled heap in use reaches this many bytes; 0 off")     \
  X(autodump_contention, UINT, 0, 1000000, 0,                                  \
    "PPROFD_AUTODUMP_CONTENTION", NULL, NULL, NULL, NULL,                      \
    "capture when lock waits add up to this many ms per second over the "     \
    "window (needs the block or mutex profile on); 0 off")                     \
  X(autodump_cooldown, UINT, 0, 86400, 300,                                    \
    "PPROFD_AUTODUMP_COOLDOWN", NULL, NULL, NULL, NULL,                        \
    "seconds before a rule that fired may fire again")                         \
  X(autodump_max_per_hour, UINT, 1, 3600, 12,                                  \
    "PPROFD_AUTODUMP_MAX_PER_HOUR", NULL, NULL, NULL, NULL,                    \
    "firings of all rules per hour at most")                                   \
  X(autodump_seconds, UINT, 1, 300, 10,                                        \
    "PPROFD_AUTODUMP_SECONDS", NULL, NULL, NULL, NULL,                         \
    "length of a CPU rule's profile and of a contention rule's deltas")        \
  X(autodump_max_bytes, SIZE, 1 << 20, PPROFD__BYTES_MAX, 256 << 20,           \
    "PPROFD_AUTODUMP_MAX_BYTES", NULL, NULL, NULL, NULL,                       \
    "disk budget of the captures (K, M, G accepted); oldest removed first")    \
  X(autodump_max_files, UINT, 1, 100000, 200,                                  \
    "PPROFD_AUTODUMP_MAX_FILES", NULL, NULL, NULL, NULL,                       \
    "captures kept at most; oldest removed first")                             \
  X(mem_profile_rate, RATE, 0, INT64_MAX, 524288,                              \
    "PPROFD_MEM_PROFILE_RATE", pprofd__heap_rate, pprofd__heap_set_rate,       \
    "%lld bytes (heap sampling)", "%lld bytes (heap sampling off)",            \
    "heap sampling: one sample per this many bytes on average; 1 records "     \
    "all, 0 off")                                                              \
  X(block_profile_rate, RATE, 0, INT64_MAX, 0,                                 \
    "PPROFD_BLOCK_PROFILE_RATE",                                               \
    pprofd__contention_block_rate, pprofd__contention_set_block_rate,          \
    "%lld ns (every wait that long is recorded, shorter ones in proportion)", \
    "0: off (pprofd_set_block_profile_rate or PPROFD_BLOCK_PROFILE_RATE=N "    \
    "ns turns it on)",                                                         \
    "block profile: every wait of at least N ns is recorded, shorter ones "    \
    "in proportion; 1 records all, 0 off")                                     \
  X(mutex_profile_fraction, RATE, 0, INT64_MAX, 0,                             \
    "PPROFD_MUTEX_PROFILE_FRACTION",                                           \
    pprofd__contention_mutex_fraction, pprofd__contention_set_mutex_fraction,  \
    "%lld (1 in %lld contended releases recorded)",                            \
    "0: off (pprofd_set_mutex_profile_fraction or "                            \
    "PPROFD_MUTEX_PROFILE_FRACTION=N turns it on)",                            \
    "mutex profile: 1 in N contended releases recorded; 0 off")
/* clang-format on */

/* The C type of each kind's field. */
#define PPROFD__CONF_FIELD_ADDR(name) char name[PPROFD__ADDR_MAX];
#define PPROFD__CONF_FIELD_PATH(name) char name[PPROFD__PATH_MAX];
#define PPROFD__CONF_FIELD_TEXT(name) char name[PPROFD__PATH_MAX];
#define PPROFD__CONF_FIELD_BOOL(name) int name;
#define PPROFD__CONF_FIELD_UINT(name) unsigned name;
#define PPROFD__CONF_FIELD_SIZE(name) size_t name;
#define PPROFD__CONF_FIELD_RATE(name) int64_t name;
#define PPROFD__CONF_FIELD_LIST(name) unsigned name;
#define PPROFD__CONF_FIELD(name, KIND, ...) PPROFD__CONF_FIELD_##KIND(name)

struct pprofd_config {
  PPROFD__CONF_TABLE(PPROFD__CONF_FIELD)
};

/* Each knob's number: its row in the table. */
enum pprofd__conf_key {
#define PPROFD__CONF_KEY(name, ...) PPROFD__CONF_##name,
  PPROFD__CONF_TABLE(PPROFD__CONF_KEY)
#undef PPROFD__CONF_KEY
      PPROFD__CONF_NKEYS
};

/* Fills cfg with the defaults. */
void pprofd__config_defaults(struct pprofd_config *cfg);

/* Calls row(ctx, key, value) for every knob the index page shows, in the
 * table's order, with the value's text as the page prints it (say
 * "max_connections", "16 concurrent requests"). The strings live only for
 * the call. Allocates nothing. */
void pprofd__conf_rows(const struct pprofd_config *cfg,
                       void (*row)(void *ctx, const char *key,
                                   const char *value),
                       void *ctx);

/* Fills cfg's process-wide knobs (the RATEs) with the values in force,
 * read from their samplers. Lock-free. */
void pprofd__conf_live(struct pprofd_config *cfg);

/* The value the environment gives the process-wide knob key (a RATE) at
 * load, for its sampler's constructor to apply: as
 * pprofd__config_env_count() on the knob's variable, -1 when unset or
 * malformed (and then said once on stderr). Not thread-safe (getenv). */
int64_t pprofd__conf_env_at_load(enum pprofd__conf_key key);

/* Reads the environment variable name as a whole decimal number >= 0,
 * for the samplers' own variables (read from their constructors).
 * Returns -1 when it is unset or empty; when it is malformed, also says
 * so once on stderr ("pprofd: ignoring NAME=VALUE: ...") so a typo does
 * not silently leave a profile off. Not thread-safe (getenv). */
int64_t pprofd__config_env_count(const char *name);

/* Parses a comma-separated list of PPROFD__DISABLE_NAMES (spaces around
 * names and empty items ignored, case ignored) into *bits. PPROFD_EINVAL
 * when a name is unknown: *bits still gets the names that are known, and
 * bad (when not NULL, of size badlen) the first unknown name. */
int pprofd__conf_parse_disable(const char *list, unsigned *bits, char *bad,
                               size_t badlen) PPROFD__WARN_UNUSED;

/* Splits "HOST:PORT" / "[V6]:PORT" into host (without brackets) and port.
 * PPROFD_EADDR when malformed. */
int pprofd__config_split_addr(const char *addr, char *host, size_t hostlen,
                              unsigned *port) PPROFD__WARN_UNUSED;

#endif
