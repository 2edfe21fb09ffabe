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
 * Conventions: functions return 0 on success and a negative PPROFD_E* code
 * on failure (pprofd_strerror() explains it). Pointer returns are NULL only
 * when memory is exhausted. Types are opaque; fields are set with typed
 * setters so that they can grow without an ABI break. Unless said otherwise,
 * every function is thread-safe and none is async-signal-safe.
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
 * XX(name, value, message)
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
  XX(EBUSY, -14, "the resource is busy")

typedef enum {
#define PPROFD_ERR_ENUM(name, val, msg) PPROFD_##name = (val),
  PPROFD_ERRNO_MAP(PPROFD_ERR_ENUM)
#undef PPROFD_ERR_ENUM
      PPROFD_ERRNO_LAST = -15
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
 * them to a config. The index page shows the configuration in force.
 */
typedef struct pprofd_config pprofd_config;

/* A new config holding the defaults. NULL when out of memory.
 * Since 0.1.0. */
PPROFD_EXTERN pprofd_config *pprofd_config_new(void);
/* Frees a config; NULL is ignored. Since 0.1.0. */
PPROFD_EXTERN void pprofd_config_free(pprofd_config *cfg);

/* Applies the PPROFD_* environment variables that are set. A bad value
 * returns PPROFD_EINVAL naming nothing; the config keeps the values that
 * parsed. Variables: PPROFD_ADDR, PPROFD_HTTP, PPROFD_MAX_CONNECTIONS,
 * PPROFD_REQUEST_TIMEOUT, PPROFD_MAX_SECONDS, PPROFD_MAX_BODY,
 * PPROFD_SYMBOLIZE, PPROFD_MAX_CPU_PROFILES. Since 0.1.0. */
PPROFD_EXTERN int pprofd_config_from_env(pprofd_config *cfg);

/* The listen address as "HOST:PORT" (IPv4 literal, "[IPv6]" literal or
 * "localhost"); port 0 picks a free port, readable after start with
 * pprofd_get_addr(). Default "127.0.0.1:6060". PPROFD_ADDR.
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

/*
 * Starts pprofd with `cfg` (copied; NULL means the defaults plus the
 * environment). Returns PPROFD_EALREADY when running, PPROFD_EADDR for a
 * malformed address, PPROFD_ELISTEN when the port is taken.
 * Since 0.1.0.
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
 * Writes the named profile ("heap", "goroutine", a custom name, ...) to fd
 * in the format `debug` selects, as GET /debug/pprof/<name>?debug=<debug>
 * would: 0 is gzipped protobuf, 1 is Go's legacy text. Works whether or
 * not pprofd_start() was called. PPROFD_ENOPROFILE, PPROFD_EUNAVAILABLE,
 * PPROFD_EIO. Since 0.1.0.
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
 * so `go tool pprof -tagfocus` works on them. PPROFD_EINVAL (NULL or empty
 * key, NULL value, more than 8 pairs or 256 bytes, the reserved key
 * "thread"), PPROFD_ELIMIT after 4096 distinct label sets (they are
 * interned and never freed), PPROFD_ENOMEM. Since 0.1.0. */
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
/* The heap sampling rate in force (default 524288). Since 0.1.0. */
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
 * threads, and returns its id for pprofd_trace_task_end; 0 when no trace
 * records (ending 0 does nothing). Since 0.1.0. */
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
 * name). NULL on a bad or taken name or when out of memory; *err (if not
 * NULL) tells which. Since 0.1.0. */
PPROFD_EXTERN pprofd_profile *pprofd_profile_new(const char *name, int *err);
/* Looks up a custom profile by name; NULL if none. Since 0.1.0. */
PPROFD_EXTERN pprofd_profile *pprofd_profile_lookup(const char *name);
/* Records `key` with the caller's stack, skipping `skip` extra frames.
 * PPROFD_EEXIST if the key is present, PPROFD_ELIMIT past 1,000,000 keys.
 * Since 0.1.0. */
PPROFD_EXTERN int pprofd_profile_add(pprofd_profile *p, const void *key,
                                     int skip);
/* Forgets `key`; PPROFD_ENOTFOUND if absent. Since 0.1.0. */
PPROFD_EXTERN int pprofd_profile_remove(pprofd_profile *p, const void *key);
/* The number of keys. Since 0.1.0. */
PPROFD_EXTERN size_t pprofd_profile_count(const pprofd_profile *p);

/*
 * Mounting into an application's own libmicrohttpd daemon. Call this first
 * from the daemon's access handler with the handler's arguments. It returns
 * 0 when the URL is not under /debug/pprof (the application handles it),
 * 1 when pprofd handled it, with *mhd_result set to what the access handler
 * must return. Register pprofd_mhd_completed() as (or call it from) the
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
