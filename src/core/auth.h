/*
 * auth.h - authentication of HTTP requests: bearer tokens and HTTP basic
 * credentials, from the configuration or from files that are re-read when
 * they change, so that a credential rotates without a restart.
 *
 * Configured credentials (any of them turns authentication on):
 *   - auth_token (PPROFD_AUTH_TOKEN): one token, sent as
 *     "Authorization: Bearer TOKEN";
 *   - auth_token_file (PPROFD_AUTH_TOKEN_FILE): a file of tokens;
 *   - basic_auth (PPROFD_BASIC_AUTH): one "user:password";
 *   - basic_auth_file (PPROFD_BASIC_AUTH_FILE): a file of them.
 * A file holds one credential per line; blank lines and lines starting
 * with '#' are skipped, and trailing spaces and CR are not part of it.
 * Before each check the file is stat()ed and read again when its device,
 * inode, size or modification time changed; one that cannot be read or
 * holds nothing fails closed (every request is refused, 503).
 *
 * Comparisons take time that depends on the length of what the client
 * sent, never on where it first differs from a credential, and every
 * credential is compared, so the time does not tell which one matched.
 *
 * Refusals are counted for the index page; at most one line a minute goes
 * to stderr. Any thread may call these; one leaf lock (PPROFD__RANK_AUTH)
 * guards the files' cache. Nothing here is async-signal-safe.
 */
#ifndef PPROFD_CORE_AUTH_H
#define PPROFD_CORE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "core/conf.h"

/* What a check found. */
typedef enum pprofd__auth_result {
  PPROFD__AUTH_OK = 0,      /* a credential matched, or none is needed */
  PPROFD__AUTH_MISSING,     /* no Authorization header */
  PPROFD__AUTH_WRONG,       /* a credential that matches none */
  PPROFD__AUTH_SCHEME,      /* a scheme that is not configured, or bad */
  PPROFD__AUTH_UNAVAILABLE, /* a credential file cannot be read */
} pprofd__auth_result;

/* Which schemes cfg configures: bits PPROFD__AUTH_BEARER and
 * PPROFD__AUTH_BASIC; 0 when authentication is off. */
enum { PPROFD__AUTH_BEARER = 1, PPROFD__AUTH_BASIC = 2 };
unsigned pprofd__auth_schemes(const struct pprofd_config *cfg);

/* Checks that cfg's credentials can be used: basic_auth has a colon, each
 * file reads and holds at least one credential (a basic one with a
 * colon). PPROFD_EAUTH otherwise, with what is wrong in why (of size
 * whylen, when not NULL), naming no secret. Loads the files' cache. */
int pprofd__auth_validate(const struct pprofd_config *cfg, char *why,
                          size_t whylen) PPROFD__WARN_UNUSED;

/* Checks a request's Authorization header (NULL when absent) against
 * cfg's credentials. A refusal is counted and, at most once a minute,
 * said on stderr with the method, path and peer (any of which may be
 * NULL). */
pprofd__auth_result pprofd__auth_check(const struct pprofd_config *cfg,
                                       const char *authorization,
                                       const char *method, const char *path,
                                       const char *peer);

/* Requests refused since the process started. Lock-free. */
uint64_t pprofd__auth_failures(void);

/* Describes cfg's authentication for the index page without its secrets
 * ("bearer token (from file /etc/x), HTTP basic (from PPROFD_BASIC_AUTH
 * or the API)" or "off"). */
void pprofd__auth_describe(const struct pprofd_config *cfg, char *out,
                           size_t len);

/* Fork hooks: the cache's lock. */
void pprofd__auth_prefork(void);
void pprofd__auth_postfork(void);

#endif
