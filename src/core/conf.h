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

/*
 * X(name, KIND, min, max, default, env, shown, shown_0, description)
 *
 * name     the struct field, the setter's suffix (pprofd_config_set_NAME)
 *          and the key on the index page;
 * KIND     ADDR: a "HOST:PORT" string (char[PPROFD__ADDR_MAX]);
 *          BOOL: int, 0 or 1 (the setter takes any int, the variable
 *          1/0, true/false, on/off, yes/no); UINT: unsigned; SIZE: size_t;
 * min, max the inclusive range the setter and the variable accept (ADDR
 *          is checked by its parser instead);
 * default  the value of pprofd_config_new() and pprofd_start(NULL);
 * env      the environment variable pprofd_config_from_env() reads;
 * shown    the value's text on the index page, a printf format given the
 *          value as a long long, twice; NULL keeps the knob off the page
 *          (the page shows the bound address rather than addr);
 * shown_0  the text for the value 0, or NULL for `shown`;
 * description  one line for people, as in the README's table.
 *
 * Shown rows come in the index page's order.
 */
/* clang-format off */
#define PPROFD__CONF_TABLE(X)                                                  \
  X(addr, ADDR, 0, 0, "127.0.0.1:6060", "PPROFD_ADDR", NULL, NULL,             \
    "listen address, HOST:PORT or [V6]:PORT; port 0 picks a free port")       \
  X(http, BOOL, 0, 1, 1, "PPROFD_HTTP", NULL, NULL,                            \
    "run the HTTP server")                                                     \
  X(symbolize, BOOL, 0, 1, 1, "PPROFD_SYMBOLIZE",                              \
    "on: profiles carry functions, files and lines",                           \
    "off: profiles carry addresses only",                                      \
    "serve profiles with functions, files and lines (0: addresses only)")      \
  X(max_connections, UINT, 1, 1024, 16, "PPROFD_MAX_CONNECTIONS",              \
    "%lld concurrent requests", NULL,                                          \
    "requests served at once; more get 503")                                   \
  X(request_timeout, UINT, 1, 3600, 30, "PPROFD_REQUEST_TIMEOUT",              \
    "%lld s", NULL,                                                            \
    "seconds an idle or stalled client may hold a connection")                 \
  X(max_seconds, UINT, 1, 86400, 3600, "PPROFD_MAX_SECONDS",                   \
    "%lld s (longest profile, delta or trace)", NULL,                          \
    "longest seconds= a profile, delta or trace may ask for (400 beyond)")     \
  X(max_body, SIZE, 1024, 64 << 20, 1 << 20, "PPROFD_MAX_BODY",                \
    "%lld bytes", NULL,                                                        \
    "largest request body (POST /symbol; 413 beyond)")                         \
  X(max_cpu_profiles, UINT, 1, 64, 4, "PPROFD_MAX_CPU_PROFILES",               \
    "%lld concurrent CPU profiles", NULL,                                      \
    "CPU profile requests served at once, each with its own window")
/* clang-format on */

/* The C type of each kind's field. */
#define PPROFD__CONF_FIELD_ADDR(name) char name[PPROFD__ADDR_MAX];
#define PPROFD__CONF_FIELD_BOOL(name) int name;
#define PPROFD__CONF_FIELD_UINT(name) unsigned name;
#define PPROFD__CONF_FIELD_SIZE(name) size_t name;
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

/* Reads the environment variable name as a whole decimal number >= 0,
 * for the samplers' own variables (read from their constructors).
 * Returns -1 when it is unset or empty; when it is malformed, also says
 * so once on stderr ("pprofd: ignoring NAME=VALUE: ...") so a typo does
 * not silently leave a profile off. Not thread-safe (getenv). */
int64_t pprofd__config_env_count(const char *name);

/* Splits "HOST:PORT" / "[V6]:PORT" into host (without brackets) and port.
 * PPROFD_EADDR when malformed. */
int pprofd__config_split_addr(const char *addr, char *host, size_t hostlen,
                              unsigned *port) PPROFD__WARN_UNUSED;

#endif
