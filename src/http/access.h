/*
 * access.h - who may ask: the Host header check (a guard against DNS
 * rebinding) of pprofd's HTTP server, and whether a bound address is
 * loopback (for the exposure guard in server.c).
 *
 * A web page can reach a loopback server through DNS rebinding: its own
 * name is made to resolve to 127.0.0.1, and the browser then sends the
 * page's requests, Host header and all, to pprofd. Checking the Host
 * header closes that door: a rebinding attack always carries the
 * attacker's name, never a loopback name or an IP literal (a browser
 * that sends an IP literal connected to that very address). So pprofd
 * answers only requests whose Host is
 *   - localhost, an address in 127.0.0.0/8, ::1 (or ::ffff:127.x.y.z),
 *     with or without a port;
 *   - the host part of the address it is bound to, with any port; when
 *     bound to every interface (0.0.0.0 or ::), any IP literal, since the
 *     machine's own addresses are not known in advance;
 *   - an entry of allowed_hosts (PPROFD_ALLOWED_HOSTS): NAME (any port),
 *     NAME:PORT, [V6]:PORT, .SUFFIX (the name and its subdomains) or *
 *     (anything);
 *   - absent (HTTP/1.0 clients; browsers always send it).
 * Names compare without case and without a trailing dot.
 *
 * Pure functions of their arguments: any thread, no locks, no
 * allocation. Not async-signal-safe (inet_pton).
 */
#ifndef PPROFD_HTTP_ACCESS_H
#define PPROFD_HTTP_ACCESS_H

/* Whether a request whose Host header is host (NULL when absent) may be
 * served by a server bound to bound ("127.0.0.1:6060", "[::]:0"), given
 * the allowed list allowed (comma-separated, "" for none). With bound
 * NULL (pprofd mounted in the application's own server, which owns its
 * Host policy) the check applies only when allowed is not empty: then
 * loopback names and the allowed list pass. A malformed Host fails. */
int pprofd__host_allowed(const char *host, const char *bound,
                         const char *allowed);

/* Whether a bound address ("127.0.0.1:6060", "[::1]:0") is loopback:
 * 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
int pprofd__addr_is_loopback(const char *addr);

#endif
