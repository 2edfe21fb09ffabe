/*
 * conf.c - defaults, setters and PPROFD_* environment variables.
 *
 * Every setter validates its range and leaves the config unchanged on a
 * bad value, so that a config is always valid; pprofd_config_from_env()
 * applies the variables one by one through the same setters.
 */
#include "config.h"

#include "core/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ialloc.h"

void pprofd__config_defaults(struct pprofd_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  strcpy(cfg->addr, "127.0.0.1:6060");
  cfg->http = 1;
  cfg->max_connections = 16;
  cfg->request_timeout = 30;
  cfg->max_seconds = 3600;
  cfg->max_body = (size_t)1 << 20;
  cfg->symbolize = 1;
  cfg->max_cpu_profiles = 4;
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

int pprofd_config_set_http(pprofd_config *cfg, int enabled) {
  if (cfg == NULL)
    return PPROFD_EINVAL;
  cfg->http = enabled != 0;
  return 0;
}

int pprofd_config_set_max_connections(pprofd_config *cfg, unsigned n) {
  if (cfg == NULL || n < 1 || n > 1024)
    return PPROFD_EINVAL;
  cfg->max_connections = n;
  return 0;
}

int pprofd_config_set_request_timeout(pprofd_config *cfg, unsigned seconds) {
  if (cfg == NULL || seconds < 1 || seconds > 3600)
    return PPROFD_EINVAL;
  cfg->request_timeout = seconds;
  return 0;
}

int pprofd_config_set_max_seconds(pprofd_config *cfg, unsigned seconds) {
  if (cfg == NULL || seconds < 1 || seconds > 86400)
    return PPROFD_EINVAL;
  cfg->max_seconds = seconds;
  return 0;
}

int pprofd_config_set_max_body(pprofd_config *cfg, size_t bytes) {
  if (cfg == NULL || bytes < 1024 || bytes > ((size_t)64 << 20))
    return PPROFD_EINVAL;
  cfg->max_body = bytes;
  return 0;
}

int pprofd_config_set_symbolize(pprofd_config *cfg, int enabled) {
  if (cfg == NULL)
    return PPROFD_EINVAL;
  cfg->symbolize = enabled != 0;
  return 0;
}

int pprofd_config_set_max_cpu_profiles(pprofd_config *cfg, unsigned n) {
  if (cfg == NULL || n < 1 || n > 64)
    return PPROFD_EINVAL;
  cfg->max_cpu_profiles = n;
  return 0;
}

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

/* Parses a whole unsigned decimal environment value. */
static int env_uint(const char *v, unsigned long long *out) {
  char *end;
  if (v[0] < '0' || v[0] > '9')
    return PPROFD_EINVAL;
  errno = 0;
  *out = strtoull(v, &end, 10);
  return (*end != '\0' || errno != 0) ? PPROFD_EINVAL : 0;
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

int pprofd_config_from_env(pprofd_config *cfg) {
  if (cfg == NULL)
    return PPROFD_EINVAL;
  int err = 0;
  const char *v;
  unsigned long long n;
  int b;
  if ((v = getenv("PPROFD_ADDR")) != NULL && *v &&
      pprofd_config_set_addr(cfg, v) != 0)
    err = PPROFD_EINVAL;
  if ((v = getenv("PPROFD_HTTP")) != NULL && *v &&
      (env_bool(v, &b) != 0 || pprofd_config_set_http(cfg, b) != 0))
    err = PPROFD_EINVAL;
  if ((v = getenv("PPROFD_MAX_CONNECTIONS")) != NULL && *v &&
      (env_uint(v, &n) != 0 || n > 1024 ||
       pprofd_config_set_max_connections(cfg, (unsigned)n) != 0))
    err = PPROFD_EINVAL;
  if ((v = getenv("PPROFD_REQUEST_TIMEOUT")) != NULL && *v &&
      (env_uint(v, &n) != 0 || n > 3600 ||
       pprofd_config_set_request_timeout(cfg, (unsigned)n) != 0))
    err = PPROFD_EINVAL;
  if ((v = getenv("PPROFD_MAX_SECONDS")) != NULL && *v &&
      (env_uint(v, &n) != 0 || n > 86400 ||
       pprofd_config_set_max_seconds(cfg, (unsigned)n) != 0))
    err = PPROFD_EINVAL;
  if ((v = getenv("PPROFD_MAX_BODY")) != NULL && *v &&
      (env_uint(v, &n) != 0 || n > ((size_t)64 << 20) ||
       pprofd_config_set_max_body(cfg, (size_t)n) != 0))
    err = PPROFD_EINVAL;
  if ((v = getenv("PPROFD_MAX_CPU_PROFILES")) != NULL && *v &&
      (env_uint(v, &n) != 0 || n > 64 ||
       pprofd_config_set_max_cpu_profiles(cfg, (unsigned)n) != 0))
    err = PPROFD_EINVAL;
  if ((v = getenv("PPROFD_SYMBOLIZE")) != NULL && *v &&
      (env_bool(v, &b) != 0 || pprofd_config_set_symbolize(cfg, b) != 0))
    err = PPROFD_EINVAL;
  return err;
}
