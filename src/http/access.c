/*
 * access.c - the Host header check (see access.h).
 *
 * A Host value is split into a name and a port the way Go's
 * net.SplitHostPort does ("[v6]:port", "name:port", or a bare name or
 * bracketed v6 literal), the name lowered and stripped of one trailing
 * dot, then compared with the loopback names, the bound address and the
 * allowed list, in that order. IP literals are compared as addresses, so
 * "[0:0::1]" is "::1".
 */
#include "config.h"

#include "http/access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 256

/* A Host value taken apart. */
typedef struct {
  char name[NAME_MAX_LEN]; /* lower case, no brackets, no trailing dot */
  char port[8];            /* digits, "" when absent */
} hostport;

/* Splits s (n bytes) into hp; returns 0, or -1 when malformed. */
static int split(const char *s, size_t n, hostport *hp) {
  const char *name = s, *port = NULL;
  size_t nl = n;
  if (n > 0 && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (close == NULL)
      return -1;
    name = s + 1;
    nl = (size_t)(close - name);
    size_t rest = n - (size_t)(close + 1 - s);
    if (rest > 0) {
      if (close[1] != ':')
        return -1;
      port = close + 2;
    }
  } else {
    const char *colon = memchr(s, ':', n);
    if (colon != NULL) {
      if (memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)) != NULL)
        return -1; /* a bare IPv6 literal needs brackets */
      nl = (size_t)(colon - s);
      port = colon + 1;
    }
  }
  if (nl > 0 && name[nl - 1] == '.')
    nl--;
  if (nl == 0 || nl >= sizeof hp->name)
    return -1;
  for (size_t i = 0; i < nl; i++) {
    char ch = name[i];
    hp->name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    if ((unsigned char)ch <= ' ' || ch == '/' || ch == '\\' || ch == '@')
      return -1;
  }
  hp->name[nl] = '\0';
  hp->port[0] = '\0';
  if (port != NULL) {
    size_t pl = n - (size_t)(port - s);
    if (pl == 0 || pl >= sizeof hp->port)
      return -1;
    for (size_t i = 0; i < pl; i++)
      if (port[i] < '0' || port[i] > '9')
        return -1;
    memcpy(hp->port, port, pl);
    hp->port[pl] = '\0';
  }
  return 0;
}

/* An IP literal's address: family AF_INET or AF_INET6, 0 for a name. */
typedef struct {
  int family;
  unsigned char a[16];
} ipaddr;

static ipaddr parse_ip(const char *name) {
  ipaddr ip = {0, {0}};
  if (inet_pton(AF_INET, name, ip.a) == 1)
    ip.family = AF_INET;
  else if (inet_pton(AF_INET6, name, ip.a) == 1)
    ip.family = AF_INET6;
  return ip;
}

static int is_loopback(const hostport *hp) {
  if (strcmp(hp->name, "localhost") == 0)
    return 1;
  ipaddr ip = parse_ip(hp->name);
  static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};
  if (ip.family == AF_INET)
    return ip.a[0] == 127;
  if (ip.family == AF_INET6)
    return IN6_IS_ADDR_LOOPBACK((struct in6_addr *)ip.a) ||
           (memcmp(ip.a, v4mapped, 12) == 0 && ip.a[12] == 127);
  return 0;
}

/* Whether two names are the same host: equal addresses for IP literals,
 * equal text for names. */
static int same_host(const char *x, const char *y) {
  ipaddr a = parse_ip(x), b = parse_ip(y);
  if (a.family != 0 || b.family != 0)
    return a.family == b.family && memcmp(a.a, b.a, sizeof a.a) == 0;
  return strcmp(x, y) == 0;
}

/* Whether hp is the bound address's host, or an IP literal when the
 * server is bound to every interface. */
static int is_bound(const hostport *hp, const char *bound) {
  hostport b;
  if (bound == NULL || split(bound, strlen(bound), &b) != 0)
    return 0;
  ipaddr ip = parse_ip(b.name);
  static const unsigned char zero[16] = {0};
  if (ip.family != 0 && memcmp(ip.a, zero, sizeof zero) == 0)
    return parse_ip(hp->name).family != 0;
  return same_host(hp->name, b.name);
}

/* Whether hp matches one entry of the allowed list (n bytes at e, no
 * commas, trimmed). */
static int entry_matches(const hostport *hp, const char *e, size_t n) {
  if (n == 1 && e[0] == '*')
    return 1;
  if (n > 1 && e[0] == '.') {
    size_t sl = n - 1, nl = strlen(hp->name);
    if (sl == nl && strncasecmp(hp->name, e + 1, sl) == 0)
      return 1;
    return nl > sl && hp->name[nl - sl - 1] == '.' &&
           strncasecmp(hp->name + nl - sl, e + 1, sl) == 0;
  }
  hostport want;
  if (split(e, n, &want) != 0 || !same_host(hp->name, want.name))
    return 0;
  return want.port[0] == '\0' || strcmp(want.port, hp->port) == 0;
}

/* Whether hp matches an entry of the comma-separated list. */
static int listed(const hostport *hp, const char *list) {
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ',');
    if (end == NULL)
      end = p + strlen(p);
    const char *s = p, *t = end;
    while (s < t && (*s == ' ' || *s == '\t'))
      s++;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
      t--;
    if (t > s && entry_matches(hp, s, (size_t)(t - s)))
      return 1;
    p = *end ? end + 1 : end;
  }
  return 0;
}

int pprofd__host_allowed(const char *host, const char *bound,
                         const char *allowed) {
  if (allowed == NULL)
    allowed = "";
  if (bound == NULL && allowed[0] == '\0')
    return 1; /* mounted: the application's server owns Host policy */
  if (host == NULL)
    return 1;
  hostport hp;
  if (split(host, strlen(host), &hp) != 0)
    return 0;
  return is_loopback(&hp) || is_bound(&hp, bound) || listed(&hp, allowed);
}

int pprofd__addr_is_loopback(const char *addr) {
  hostport hp;
  return addr != NULL && split(addr, strlen(addr), &hp) == 0 &&
         parse_ip(hp.name).family != 0 && is_loopback(&hp);
}
