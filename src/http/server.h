/*
 * server.h - the embedded HTTP server (libmicrohttpd's only home).
 *
 * One libmicrohttpd daemon, thread per connection, on a socket pprofd
 * binds itself (so a taken port is a clear PPROFD_ELISTEN and port 0 can
 * be read back). Requests are routed exactly as Go's ServeMux and
 * net/http/pprof route them; see request.c for the rules and the limits.
 * The same request handler serves pprofd_mhd_dispatch(), which mounts
 * pprofd inside an application's own daemon.
 *
 * Threads: start/stop are called with rt.lock held; handlers run on the
 * daemon's connection threads.
 */
#ifndef PPROFD_HTTP_SERVER_H
#define PPROFD_HTTP_SERVER_H

#include <stddef.h>

#include "base/common.h"
#include "core/conf.h"

struct pprofd__http;

/* Binds cfg->addr and starts serving. Writes the bound address into addr
 * ("127.0.0.1:40123"). PPROFD_EADDR, PPROFD_ELISTEN, PPROFD_EHTTP,
 * PPROFD_EINSECURE (not loopback, no authentication, no allow_insecure),
 * PPROFD_ETLS (see http/tls.h), PPROFD_ENOMEM. */
int pprofd__http_start(const struct pprofd_config *cfg,
                       struct pprofd__http **out, char *addr,
                       size_t addrlen) PPROFD__WARN_UNUSED;
/* Wakes requests that are waiting (profile windows, deltas), stops the
 * daemon, waits for its threads and frees h. */
void pprofd__http_stop(struct pprofd__http *h);

/* Fork hooks (see core/runtime.h). In the child, h (the parent's server,
 * whose threads did not survive fork) is abandoned: its listening socket
 * and pipe are closed, nothing else is touched, and the child does not
 * serve. */
void pprofd__http_prefork(void);
void pprofd__http_postfork_parent(void);
void pprofd__http_postfork_child(struct pprofd__http *h);

#endif
