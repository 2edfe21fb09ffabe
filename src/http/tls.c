/*
 * tls.c - the TLS files and the client certificate check (see tls.h).
 *
 * The files are read whole (at most 1 MiB each) and handed to a scratch
 * GnuTLS credential set, which parses the certificate chain and the key
 * and, since GnuTLS 3.5, checks that they belong together; libmicrohttpd
 * then builds its own credentials from the same texts.
 */
#include "config.h"

#include "http/tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "base/buf.h"
#include "base/ialloc.h"
#include "pprofd.h"

#define PEM_MAX (1 << 20)

/* Reads path into *out (NUL-terminated); 0 or an errno value. */
static int read_pem(const char *path, char **out) {
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return errno;
  char *buf = pprofd__ialloc(PEM_MAX + 1);
  if (buf == NULL) {
    fclose(f);
    return ENOMEM;
  }
  size_t n = fread(buf, 1, PEM_MAX, f);
  int err = ferror(f) ? EIO : n == PEM_MAX ? EFBIG : 0;
  fclose(f);
  if (err != 0 || n == 0) {
    pprofd__ifree(buf);
    return err != 0 ? err : ENODATA;
  }
  buf[n] = '\0';
  *out = buf;
  return 0;
}

void pprofd__tls_free(pprofd__tls *t) {
  if (t->key != NULL)
    memset(t->key, 0, strlen(t->key));
  pprofd__ifree(t->cert);
  pprofd__ifree(t->key);
  pprofd__ifree(t->ca);
  t->cert = t->key = t->ca = NULL;
}

/* Parses the texts with GnuTLS; 0 or PPROFD_ETLS with why. */
static int check(const struct pprofd_config *cfg, const pprofd__tls *t,
                 char *why, size_t whylen) {
  gnutls_certificate_credentials_t cred;
  if (gnutls_certificate_allocate_credentials(&cred) < 0)
    return PPROFD_ENOMEM;
  int err = 0;
  gnutls_datum_t cert = {(unsigned char *)t->cert, (unsigned)strlen(t->cert)};
  gnutls_datum_t key = {(unsigned char *)t->key, (unsigned)strlen(t->key)};
  int rc = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key,
                                                GNUTLS_X509_FMT_PEM, NULL, 0);
  if (rc < 0) {
    snprintf(why, whylen, "PPROFD_TLS_CERT %s and PPROFD_TLS_KEY %s: %s",
             cfg->tls_cert, cfg->tls_key, gnutls_strerror(rc));
    err = PPROFD_ETLS;
  }
  if (err == 0 && t->ca != NULL) {
    gnutls_datum_t ca = {(unsigned char *)t->ca, (unsigned)strlen(t->ca)};
    rc = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
    if (rc <= 0) {
      snprintf(why, whylen, "PPROFD_TLS_CLIENT_CA %s: %s", cfg->tls_client_ca,
               rc < 0 ? gnutls_strerror(rc) : "holds no certificate");
      err = PPROFD_ETLS;
    }
  }
  gnutls_certificate_free_credentials(cred);
  return err;
}

int pprofd__tls_load(const struct pprofd_config *cfg, pprofd__tls *t, char *why,
                     size_t whylen) {
  char tmp[8];
  if (why == NULL || whylen == 0) {
    why = tmp;
    whylen = sizeof tmp;
  }
  why[0] = '\0';
  memset(t, 0, sizeof *t);
  if (!cfg->tls_cert[0] && !cfg->tls_key[0]) {
    if (!cfg->tls_client_ca[0])
      return 0;
    snprintf(why, whylen,
             "PPROFD_TLS_CLIENT_CA needs PPROFD_TLS_CERT and PPROFD_TLS_KEY");
    return PPROFD_ETLS;
  }
  if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
    snprintf(why, whylen, "PPROFD_TLS_CERT and PPROFD_TLS_KEY go together");
    return PPROFD_ETLS;
  }
  const struct {
    const char *var, *path;
    char **out;
  } files[] = {{"PPROFD_TLS_CERT", cfg->tls_cert, &t->cert},
               {"PPROFD_TLS_KEY", cfg->tls_key, &t->key},
               {"PPROFD_TLS_CLIENT_CA", cfg->tls_client_ca, &t->ca}};
  for (size_t i = 0; i < PPROFD__ARRAY_SIZE(files); i++) {
    if (!files[i].path[0])
      continue;
    int e = read_pem(files[i].path, files[i].out);
    if (e != 0) {
      snprintf(why, whylen, "%s %s: %s", files[i].var, files[i].path,
               e == ENODATA ? "empty" : strerror(e));
      pprofd__tls_free(t);
      return e == ENOMEM ? PPROFD_ENOMEM : PPROFD_ETLS;
    }
  }
  int err = check(cfg, t, why, whylen);
  if (err != 0)
    pprofd__tls_free(t);
  return err;
}

int pprofd__tls_client_verified(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (ci == NULL || ci->tls_session == NULL)
    return 0;
  unsigned status = 0;
  int rc = gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session,
                                            &status);
  return rc == GNUTLS_E_SUCCESS && status == 0;
}
