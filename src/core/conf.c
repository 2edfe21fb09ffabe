/*
 * conf.c - defaults, setters, PPROFD_* environment variables and the
 * index page's rows, all generated from PPROFD__CONF_TABLE (conf.h).
 *
 * Every setter checks its range and leaves the config unchanged on a bad
 * value, so that a config is always valid; pprofd_config_from_env()
 * applies the variables one by one through the same checks. The ranges
 * exist once, in the table, as the rows of `entries` below.
 */
#include "config.h"

#include "core/conf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/ialloc.h"
#include "sample/contention.h"
#include "sample/heap.h"

enum kind {
  KIND_ADDR,
  KIND_BOOL,
  KIND_UINT,
  KIND_SIZE,
  KIND_RATE,
  KIND_LIST,
  KIND_PATH,
  KIND_TEXT
};

/* One knob, as the generic code below needs it. */
typedef struct {
  const char *name;
  enum kind kind;
  long long min, max;
  const char *env;
  int64_t (*get)(void); /* a RATE's sampler, NULL otherwise */
  int (*set)(int64_t);
  const char *shown, *shown_0;
} entry;

static const entry entries[PPROFD__CONF_NKEYS] = {
#define ENTRY(name_, KIND, min_, max_, def, env_, get_, set_, shown_,          \
              shown_0_, desc)                                                  \
  [PPROFD__CONF_##name_] = {.name = #name_,                                    \
                            .kind = KIND_##KIND,                               \
                            .min = (min_),                                     \
                            .max = (max_),                                     \
                            .env = (env_),                                     \
                            .get = (get_),                                     \
                            .set = (set_),                                     \
                            .shown = (shown_),                                 \
                            .shown_0 = (shown_0_)},
    PPROFD__CONF_TABLE(ENTRY)
#undef ENTRY
};

/* Every numeric default lies in its range (ADDR's is parsed in a test). */
#define CHECK_DEFAULT_ADDR(name, min, max, def)
#define CHECK_DEFAULT_PATH(name, min, max, def)
#define CHECK_DEFAULT_TEXT(name, min, max, def)
#define CHECK_DEFAULT_NUM(name, min, max, def)                                 \
  _Static_assert((def) >= (min) && (def) <= (max),                             \
                 "the default of " #name " is out of its range");
#define CHECK_DEFAULT_BOOL CHECK_DEFAULT_NUM
#define CHECK_DEFAULT_UINT CHECK_DEFAULT_NUM
#define CHECK_DEFAULT_SIZE CHECK_DEFAULT_NUM
#define CHECK_DEFAULT_RATE CHECK_DEFAULT_NUM
#define CHECK_DEFAULT_LIST CHECK_DEFAULT_NUM
#define CHECK_DEFAULT(name, KIND, min, max, def, ...)                          \
  CHECK_DEFAULT_##KIND(name, min, max, def)
PPROFD__CONF_TABLE(CHECK_DEFAULT)

/* Reads knob key of cfg as a long long (0 for addr). */
static long long get(const struct pprofd_config *cfg,
                     enum pprofd__conf_key key) {
#define GET_ADDR(field) 0
#define GET_PATH(field) 0
#define GET_TEXT(field) 0
#define GET_BOOL(field) (field)
#define GET_UINT(field) (field)
#define GET_SIZE(field) (long long)(field)
#define GET_RATE(field) (long long)(field)
#define GET_LIST(field) (long long)(field)
#define GET(name, KIND, ...)                                                   \
  case PPROFD__CONF_##name:                                                    \
    return GET_##KIND(cfg->name);
  switch (key) {
    PPROFD__CONF_TABLE(GET)
  default:
    return 0;
  }
#undef GET
}

/* Stores v in knob key of cfg after checking its range: PPROFD_EINVAL,
 * and cfg unchanged, when cfg is NULL or v out of range. */
static int put(struct pprofd_config *cfg, enum pprofd__conf_key key,
               long long v) {
  const entry *e = &entries[key];
  if (cfg == NULL || v < e->min || v > e->max)
    return PPROFD_EINVAL;
#define PUT_ADDR(field, v) (void)(v)
#define PUT_PATH(field, v) (void)(v)
#define PUT_TEXT(field, v) (void)(v)
#define PUT_BOOL(field, v) (field) = (int)(v)
#define PUT_UINT(field, v) (field) = (unsigned)(v)
#define PUT_SIZE(field, v) (field) = (size_t)(v)
#define PUT_RATE(field, v) (field) = (int64_t)(v)
#define PUT_LIST(field, v) (field) = (unsigned)(v)
#define PUT(name, KIND, ...)                                                   \
  case PPROFD__CONF_##name:                                                    \
    PUT_##KIND(cfg->name, v);                                                  \
    break;
  switch (key) {
    PPROFD__CONF_TABLE(PUT)
  default:
    return PPROFD_EINVAL;
  }
#undef PUT
  return 0;
}

void pprofd__config_defaults(struct pprofd_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
#define DEFAULT_ADDR(field, def) snprintf(field, sizeof field, "%s", def)
#define DEFAULT_PATH DEFAULT_ADDR
#define DEFAULT_TEXT DEFAULT_ADDR
#define DEFAULT_NUM(field, def) (field) = (def)
#define DEFAULT_BOOL DEFAULT_NUM
#define DEFAULT_UINT DEFAULT_NUM
#define DEFAULT_SIZE DEFAULT_NUM
#define DEFAULT_RATE DEFAULT_NUM
#define DEFAULT_LIST DEFAULT_NUM
#define DEFAULT(name, KIND, min, max, def, ...) DEFAULT_##KIND(cfg->name, def);
  PPROFD__CONF_TABLE(DEFAULT)
#undef DEFAULT
}

pprofd_config *pprofd_config_new(void) {
  pprofd_config *cfg = pprofd__ialloc(sizeof *cfg);
  if (cfg != NULL)
    pprofd__config_defaults(cfg);
  return cfg;
}

void pprofd_config_free(pprofd_config *cfg) { pprofd__ifree(cfg); }

int pprofd__config_split_addr(const char *addr, char *host, size_t hostlen,
                              unsigned *port) {
  if (addr == NULL)
    return PPROFD_EADDR;
  const char *colon = strrchr(addr, ':');
  if (colon == NULL || colon[1] == '\0')
    return PPROFD_EADDR;
  const char *h = addr;
  size_t hl = (size_t)(colon - addr);
  if (hl > 0 && h[0] == '[') {
    if (hl < 2 || h[hl - 1] != ']')
      return PPROFD_EADDR;
    h++;
    hl -= 2;
  } else if (memchr(h, ':', hl) != NULL) {
    return PPROFD_EADDR; /* an IPv6 literal needs brackets */
  }
  if (hl == 0 || hl >= hostlen)
    return PPROFD_EADDR;
  char *end;
  errno = 0;
  unsigned long p = strtoul(colon + 1, &end, 10);
  if (*end != '\0' || errno != 0 || p > 65535 || colon[1] == '-' ||
      colon[1] == '+')
    return PPROFD_EADDR;
  memcpy(host, h, hl);
  host[hl] = '\0';
  *port = (unsigned)p;
  return 0;
}

int pprofd_config_set_addr(pprofd_config *cfg, const char *addr) {
  char host[PPROFD__ADDR_MAX];
  unsigned port;
  if (cfg == NULL || addr == NULL || strlen(addr) >= sizeof cfg->addr)
    return PPROFD_EADDR;
  if (pprofd__config_split_addr(addr, host, sizeof host, &port) != 0)
    return PPROFD_EADDR;
  strcpy(cfg->addr, addr);
  return 0;
}

/* The names PPROFD_DISABLE knows, by bit. */
static const struct {
  unsigned bit;
  const char *name;
} disable_names[] = {
#define DISABLE_NAME(bit, name) {bit, name},
    PPROFD__DISABLE_NAMES(DISABLE_NAME)
#undef DISABLE_NAME
};

int pprofd__conf_parse_disable(const char *list, unsigned *bits, char *bad,
                               size_t badlen) {
  int err = 0;
  *bits = 0;
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    if (e == NULL)
      e = p + strlen(p);
    const char *s = p, *t = e;
    while (s < t && (*s == ' ' || *s == '\t'))
      s++;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
      t--;
    size_t n = (size_t)(t - s), i = 0;
    for (; n > 0 && i < PPROFD__ARRAY_SIZE(disable_names); i++)
      if (strlen(disable_names[i].name) == n &&
          strncasecmp(disable_names[i].name, s, n) == 0)
        break;
    if (n > 0 && i < PPROFD__ARRAY_SIZE(disable_names)) {
      *bits |= disable_names[i].bit;
    } else if (n > 0 && err == 0) {
      err = PPROFD_EINVAL;
      if (bad != NULL && badlen > 0)
        snprintf(bad, badlen, "%.*s", (int)n, s);
    }
    p = *e ? e + 1 : e;
  }
  return err;
}

/* Writes the names of bits, comma-separated, into out. */
static void disable_text(unsigned bits, char *out, size_t len) {
  size_t k = 0;
  out[0] = '\0';
  for (size_t i = 0; i < PPROFD__ARRAY_SIZE(disable_names) && k < len; i++)
    if (bits & disable_names[i].bit)
      k += (size_t)snprintf(out + k, len - k, "%s%s", k ? ", " : "",
                            disable_names[i].name);
}

/* Checks v against process-wide knob key's range and, if it is in, hands
 * it to the knob's sampler, where it takes effect at once. */
static int set_live(enum pprofd__conf_key key, long long v) {
  const entry *e = &entries[key];
  if (v < e->min || v > e->max)
    return PPROFD_EINVAL;
  return e->set((int64_t)v);
}

void pprofd__conf_live(struct pprofd_config *cfg) {
  for (int k = 0; k < PPROFD__CONF_NKEYS; k++)
    if (entries[k].kind == KIND_RATE)
      (void)put(cfg, (enum pprofd__conf_key)k, entries[k].get());
}

/*
 * The typed setters, one per knob: pprofd_config_set_http,
 * pprofd_config_set_symbolize, pprofd_config_set_max_connections,
 * pprofd_config_set_request_timeout, pprofd_config_set_max_seconds,
 * pprofd_config_set_max_body, pprofd_config_set_max_cpu_profiles and
 * pprofd_config_set_disable (pprofd_config_set_addr parses, above). A size_t
 * too large for a long long is out of every range. For the RATEs, the
 * process-wide setters and getters of the public API:
 * pprofd_set_mem_profile_rate, pprofd_mem_profile_rate,
 * pprofd_set_block_profile_rate, pprofd_block_profile_rate,
 * pprofd_set_mutex_profile_fraction and pprofd_mutex_profile_fraction.
 */
#define SETTER_ADDR(name)
#define SETTER_PATH(name)                                                      \
  int pprofd_config_set_##name(pprofd_config *cfg, const char *path) {         \
    if (cfg == NULL || (path != NULL && strlen(path) >= sizeof cfg->name))     \
      return PPROFD_EINVAL;                                                    \
    snprintf(cfg->name, sizeof cfg->name, "%s", path != NULL ? path : "");     \
    return 0;                                                                  \
  }
#define SETTER_BOOL(name)                                                      \
  int pprofd_config_set_##name(pprofd_config *cfg, int enabled) {              \
    return put(cfg, PPROFD__CONF_##name, enabled != 0);                        \
  }
#define SETTER_UINT(name)                                                      \
  int pprofd_config_set_##name(pprofd_config *cfg, unsigned n) {               \
    return put(cfg, PPROFD__CONF_##name, n);                                   \
  }
#define SETTER_SIZE(name)                                                      \
  int pprofd_config_set_##name(pprofd_config *cfg, size_t n) {                 \
    return put(cfg, PPROFD__CONF_##name,                                       \
               n > (size_t)LLONG_MAX ? LLONG_MAX : (long long)n);              \
  }
#define SETTER_LIST(name)                                                      \
  int pprofd_config_set_##name(pprofd_config *cfg, const char *names) {        \
    unsigned bits;                                                             \
    if (names == NULL ||                                                       \
        pprofd__conf_parse_disable(names, &bits, NULL, 0) != 0)                \
      return PPROFD_EINVAL;                                                    \
    return put(cfg, PPROFD__CONF_##name, bits);                                \
  }
#define SETTER_RATE(name)                                                      \
  int pprofd_set_##name(long v) { return set_live(PPROFD__CONF_##name, v); }   \
  long pprofd_##name(void) { return (long)entries[PPROFD__CONF_##name].get(); }
#define SETTER_TEXT SETTER_PATH
#define SETTER(name, KIND, ...) SETTER_##KIND(name)
PPROFD__CONF_TABLE(SETTER)
#undef SETTER

int64_t pprofd__config_env_count(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0')
    return -1;
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (*v < '0' || *v > '9' || errno != 0 || *end != '\0') {
    fprintf(stderr, "pprofd: ignoring %s=%s: want a whole number >= 0\n", name,
            v);
    return -1;
  }
  return n;
}

int64_t pprofd__conf_env_at_load(enum pprofd__conf_key key) {
  return pprofd__config_env_count(entries[key].env);
}

/* Applies the contention rates' variables when the library loads, so a
 * preloaded program records from its start. (The heap's rate is applied
 * by core/heapfile.c right after the heap sampler's first constructor.) */
__attribute__((constructor)) static void rates_at_load(void) {
  static const enum pprofd__conf_key keys[] = {
      PPROFD__CONF_block_profile_rate, PPROFD__CONF_mutex_profile_fraction};
  for (size_t i = 0; i < PPROFD__ARRAY_SIZE(keys); i++) {
    int64_t v = pprofd__conf_env_at_load(keys[i]);
    if (v > 0)
      (void)entries[keys[i]].set(v); /* v is in range: cannot fail */
  }
}

/* Parses a whole unsigned decimal environment value. */
static int env_uint(const char *v, unsigned long long *out) {
  char *end;
  if (v[0] < '0' || v[0] > '9')
    return PPROFD_EINVAL;
  errno = 0;
  *out = strtoull(v, &end, 10);
  return (*end != '\0' || errno != 0) ? PPROFD_EINVAL : 0;
}

/* Parses a byte count: a whole number, optionally followed by K, M, G or
 * T (powers of 1024, either case). */
static int env_size(const char *v, unsigned long long *out) {
  char num[32];
  size_t len = strlen(v);
  if (len == 0 || len >= sizeof num)
    return PPROFD_EINVAL;
  static const char units[] = "KMGT";
  const char *u = strchr(units, v[len - 1] & ~0x20);
  unsigned shift = 0;
  if (v[len - 1] >= 'A' && u != NULL && *u != '\0') {
    shift = 10 * (unsigned)(u - units + 1);
    len--;
  }
  memcpy(num, v, len);
  num[len] = '\0';
  if (env_uint(num, out) != 0 || (shift > 0 && *out > (~0ULL >> shift)))
    return PPROFD_EINVAL;
  *out <<= shift;
  return 0;
}

/* Parses a boolean environment value: 1/0, true/false, on/off, yes/no. */
static int env_bool(const char *v, int *out) {
  static const char *yes[] = {"1", "true", "on", "yes"};
  static const char *no[] = {"0", "false", "off", "no"};
  for (size_t i = 0; i < PPROFD__ARRAY_SIZE(yes); i++) {
    if (strcasecmp(v, yes[i]) == 0)
      return *out = 1, 0;
    if (strcasecmp(v, no[i]) == 0)
      return *out = 0, 0;
  }
  return PPROFD_EINVAL;
}

/* Sets PATH or TEXT knob key of cfg to v. */
static int put_path(struct pprofd_config *cfg, enum pprofd__conf_key key,
                    const char *v) {
  switch (key) {
#define PUT_PATH_ROW_PATH(name)                                                \
  case PPROFD__CONF_##name:                                                    \
    return pprofd_config_set_##name(cfg, v);
#define PUT_PATH_ROW_TEXT PUT_PATH_ROW_PATH
#define PUT_PATH_ROW_ADDR(name)
#define PUT_PATH_ROW_BOOL(name)
#define PUT_PATH_ROW_UINT(name)
#define PUT_PATH_ROW_SIZE(name)
#define PUT_PATH_ROW_RATE(name)
#define PUT_PATH_ROW_LIST(name)
#define PUT_PATH_ROW(name, KIND, ...) PUT_PATH_ROW_##KIND(name)
    PPROFD__CONF_TABLE(PUT_PATH_ROW)
#undef PUT_PATH_ROW
  default:
    return PPROFD_EINVAL;
  }
}

/* Applies the text v of knob key's variable to cfg. */
static int env_apply(struct pprofd_config *cfg, enum pprofd__conf_key key,
                     const char *v) {
  const entry *e = &entries[key];
  unsigned long long n;
  int b;
  switch (e->kind) {
  case KIND_ADDR:
    return pprofd_config_set_addr(cfg, v);
  case KIND_BOOL:
    if (env_bool(v, &b) != 0)
      return PPROFD_EINVAL;
    return put(cfg, key, b);
  case KIND_LIST: {
    /* What it names is switched off even when another name is wrong:
     * a typo must not leave an endpoint on that was meant to be off. */
    unsigned bits;
    char bad[64];
    int err = pprofd__conf_parse_disable(v, &bits, bad, sizeof bad);
    if (err != 0) {
      char known[120];
      disable_text(PPROFD__DISABLE_ALL, known, sizeof known);
      fprintf(stderr,
              "pprofd: %s=%s: ignoring unknown name \"%s\" (known: %s)\n",
              e->env, v, bad, known);
    }
    (void)put(cfg, key, bits);
    return err;
  }
  case KIND_PATH:
  case KIND_TEXT:
    if (strlen(v) >= PPROFD__PATH_MAX) {
      fprintf(stderr, "pprofd: ignoring %s: longer than %d bytes\n", e->env,
              PPROFD__PATH_MAX - 1);
      return PPROFD_EINVAL;
    }
    return put_path(cfg, key, v);
  default:
    if ((e->kind == KIND_SIZE ? env_size(v, &n) : env_uint(v, &n)) != 0 ||
        n < (unsigned long long)e->min || n > (unsigned long long)e->max) {
      fprintf(stderr,
              "pprofd: ignoring %s=%s: want a whole number from %lld to "
              "%lld%s\n",
              e->env, v, e->min, e->max,
              e->kind == KIND_SIZE ? " (K, M, G or T accepted)" : "");
      return PPROFD_EINVAL;
    }
    return put(cfg, key, (long long)n);
  }
}

int pprofd_config_from_env(pprofd_config *cfg) {
  if (cfg == NULL)
    return PPROFD_EINVAL;
  int err = 0;
  for (int k = 0; k < PPROFD__CONF_NKEYS; k++) {
    if (entries[k].kind == KIND_RATE)
      continue; /* read at load, by pprofd__conf_env_at_load */
    const char *v = getenv(entries[k].env);
    if (v != NULL && *v && env_apply(cfg, (enum pprofd__conf_key)k, v) != 0)
      err = PPROFD_EINVAL;
  }
  return err;
}

void pprofd__conf_rows(const struct pprofd_config *cfg,
                       void (*row)(void *ctx, const char *key,
                                   const char *value),
                       void *ctx) {
  for (int k = 0; k < PPROFD__CONF_NKEYS; k++) {
    const entry *e = &entries[k];
    if (e->shown == NULL)
      continue;
    long long v = get(cfg, (enum pprofd__conf_key)k);
    const char *fmt = v == 0 && e->shown_0 != NULL ? e->shown_0 : e->shown;
    char text[160];
    if (e->kind == KIND_LIST && v != 0) {
      char names[120];
      disable_text((unsigned)v, names, sizeof names);
      snprintf(text, sizeof text, fmt, names);
    } else {
      /* Each format takes the value once or twice; a surplus argument is
       * evaluated and ignored (C11 7.21.6.1p2). */
      snprintf(text, sizeof text, fmt, v, v);
    }
    row(ctx, e->name, text);
  }
}
