/*
 * tls.h - HTTPS for pprofd's own server: the certificate, key and
 * optional client CA (PEM files) read at start, checked with GnuTLS (the
 * library libmicrohttpd serves TLS with) so that a bad file or a key that
 * does not match is refused with a clear reason before the daemon starts,
 * and the client certificate check of mutual TLS. GnuTLS's only home.
 *
 * libmicrohttpd asks the client for a certificate when it has a trust
 * list but does not insist; pprofd insists, per request, through
 * pprofd__tls_client_verified().
 *
 * Any thread; no locks. Not async-signal-safe.
 */
#ifndef PPROFD_HTTP_TLS_H
#define PPROFD_HTTP_TLS_H

#include <stddef.h>

#include <microhttpd.h>

#include "base/common.h"
#include "core/conf.h"

/* The PEM texts of a TLS configuration (ialloc'ed; NULL when unset). */
typedef struct pprofd__tls {
  char *cert, *key, *ca;
} pprofd__tls;

/* Reads cfg's tls_cert, tls_key and tls_client_ca into t and checks them:
 * both of cert and key or neither, each file readable, the certificate
 * and key parse and match, the CA file holds a certificate. 0 (t all
 * NULL when TLS is off), or PPROFD_ETLS with the reason in why (when not
 * NULL), naming the variable and file; PPROFD_ENOMEM. On failure t holds
 * nothing. */
int pprofd__tls_load(const struct pprofd_config *cfg, pprofd__tls *t, char *why,
                     size_t whylen) PPROFD__WARN_UNUSED;
/* Frees t's texts, wiping the key first. */
void pprofd__tls_free(pprofd__tls *t);
/* Whether the client of conn presented a certificate that verifies
 * against the daemon's trust list (the client CA). */
int pprofd__tls_client_verified(struct MHD_Connection *conn);

#endif
