/*
 * conf.h - the configuration: one set of knobs, three faces.
 *
 * struct pprofd_config is the opaque public type behind the typed setters;
 * the same names are read from PPROFD_* environment variables and shown
 * (read-only) on the index page. Limits are checked here, once, so every
 * other module can trust the values. A config is a plain value: the
 * runtime keeps its own copy while running.
 */
#ifndef PPROFD_CORE_CONF_H
#define PPROFD_CORE_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "pprofd.h"

#define PPROFD__ADDR_MAX 256

struct pprofd_config {
  char addr[PPROFD__ADDR_MAX];
  int http;
  unsigned max_connections;
  unsigned request_timeout;
  unsigned max_seconds;
  size_t max_body;
  int symbolize;
  unsigned max_cpu_profiles;
};

/* Fills cfg with the defaults. */
void pprofd__config_defaults(struct pprofd_config *cfg);

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
