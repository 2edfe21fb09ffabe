/*
 * check_json.h - a strict little JSON reader for the tests: parses a
 * whole document (RFC 8259: no trailing commas, no comments, escapes
 * decoded to UTF-8, unpaired surrogates rejected) into a tree, so a test
 * can assert on what a JSON body says rather than on its bytes.
 */
#ifndef PPROFD_TESTS_CHECK_JSON_H
#define PPROFD_TESTS_CHECK_JSON_H

#include <stdlib.h>
#include <string.h>

enum { JNULL, JBOOL, JNUM, JSTR, JARR, JOBJ };

typedef struct jv {
  int t;
  double n;      /* JNUM, JBOOL */
  char *s;       /* JSTR, NUL-terminated */
  size_t len;    /* JSTR bytes; JARR/JOBJ items */
  struct jv **v; /* JARR/JOBJ items */
  char **k;      /* JOBJ keys */
} jv;

typedef struct jp {
  const char *p;
  int depth;
} jp;

static void json_free(jv *v) {
  if (v == NULL)
    return;
  for (size_t i = 0; (v->t == JARR || v->t == JOBJ) && i < v->len; i++) {
    json_free(v->v[i]);
    if (v->k != NULL)
      free(v->k[i]);
  }
  free(v->v);
  free(v->k);
  free(v->s);
  free(v);
}

static void jp_ws(jp *j) {
  while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
    j->p++;
}

static int jp_hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

/* Parses a string at j->p (on the opening quote) into a new buffer. */
static char *jp_str(jp *j, size_t *len) {
  const char *p = j->p + 1;
  size_t cap = 16, n = 0;
  char *o = malloc(cap);
  for (;;) {
    if (n + 8 > cap)
      o = realloc(o, cap *= 2);
    unsigned char c = (unsigned char)*p;
    if (c == '"')
      break;
    if (c < 0x20) { /* unescaped control character, or the end */
      free(o);
      return NULL;
    }
    if (c != '\\') {
      o[n++] = (char)c;
      p++;
      continue;
    }
    p++;
    unsigned cp;
    switch (*p) {
    case '"':
    case '\\':
    case '/':
      o[n++] = *p++;
      continue;
    case 'b':
      o[n++] = '\b';
      p++;
      continue;
    case 'f':
      o[n++] = '\f';
      p++;
      continue;
    case 'n':
      o[n++] = '\n';
      p++;
      continue;
    case 'r':
      o[n++] = '\r';
      p++;
      continue;
    case 't':
      o[n++] = '\t';
      p++;
      continue;
    case 'u':
      if (jp_hex4(p + 1, &cp) != 0)
        goto bad;
      p += 5;
      if (cp >= 0xdc00 && cp <= 0xdfff)
        goto bad;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        unsigned lo;
        if (p[0] != '\\' || p[1] != 'u' || jp_hex4(p + 2, &lo) != 0 ||
            lo < 0xdc00 || lo > 0xdfff)
          goto bad;
        p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      if (cp < 0x80) {
        o[n++] = (char)cp;
      } else if (cp < 0x800) {
        o[n++] = (char)(0xc0 | cp >> 6);
        o[n++] = (char)(0x80 | (cp & 0x3f));
      } else if (cp < 0x10000) {
        o[n++] = (char)(0xe0 | cp >> 12);
        o[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[n++] = (char)(0x80 | (cp & 0x3f));
      } else {
        o[n++] = (char)(0xf0 | cp >> 18);
        o[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[n++] = (char)(0x80 | (cp & 0x3f));
      }
      continue;
    default:
      goto bad;
    }
  }
  o[n] = '\0';
  *len = n;
  j->p = p + 1;
  return o;
bad:
  free(o);
  return NULL;
}

static jv *jp_value(jp *j);

/* Appends item (and key) to an array or object. */
static void jp_push(jv *v, jv *item, char *key) {
  v->v = realloc(v->v, (v->len + 1) * sizeof *v->v);
  if (v->t == JOBJ)
    v->k = realloc(v->k, (v->len + 1) * sizeof *v->k);
  v->v[v->len] = item;
  if (v->t == JOBJ)
    v->k[v->len] = key;
  v->len++;
}

static jv *jp_container(jp *j, jv *v, char close) {
  j->p++;
  jp_ws(j);
  if (*j->p == close) {
    j->p++;
    return v;
  }
  for (;;) {
    char *key = NULL;
    jp_ws(j);
    if (v->t == JOBJ) {
      size_t kl;
      if (*j->p != '"' || (key = jp_str(j, &kl)) == NULL)
        goto bad;
      jp_ws(j);
      if (*j->p++ != ':') {
        free(key);
        goto bad;
      }
    }
    jv *item = jp_value(j);
    if (item == NULL) {
      free(key);
      goto bad;
    }
    jp_push(v, item, key);
    jp_ws(j);
    if (*j->p == ',') {
      j->p++;
      continue;
    }
    if (*j->p == close) {
      j->p++;
      return v;
    }
    goto bad;
  }
bad:
  json_free(v);
  return NULL;
}

static jv *jp_value(jp *j) {
  jp_ws(j);
  if (++j->depth > 200)
    return NULL;
  jv *v = calloc(1, sizeof *v);
  const char *p = j->p;
  if (*p == '{' || *p == '[') {
    v->t = *p == '{' ? JOBJ : JARR;
    v = jp_container(j, v, *p == '{' ? '}' : ']');
  } else if (*p == '"') {
    v->t = JSTR;
    if ((v->s = jp_str(j, &v->len)) == NULL) {
      free(v);
      v = NULL;
    }
  } else if (strncmp(p, "null", 4) == 0) {
    v->t = JNULL;
    j->p += 4;
  } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
    v->t = JBOOL;
    v->n = *p == 't';
    j->p += *p == 't' ? 4 : 5;
  } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
    /* JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *q = p + (*p == '-');
    if (*q == '0')
      q++;
    else if (*q >= '1' && *q <= '9')
      while (*q >= '0' && *q <= '9')
        q++;
    else
      goto bad;
    if (*q == '.') {
      if (*++q < '0' || *q > '9')
        goto bad;
      while (*q >= '0' && *q <= '9')
        q++;
    }
    if (*q == 'e' || *q == 'E') {
      q++;
      if (*q == '+' || *q == '-')
        q++;
      if (*q < '0' || *q > '9')
        goto bad;
      while (*q >= '0' && *q <= '9')
        q++;
    }
    v->t = JNUM;
    v->n = strtod(p, NULL);
    j->p = q;
  } else {
    goto bad;
  }
  j->depth--;
  return v;
bad:
  free(v);
  return NULL;
}

/* Parses the whole of s; NULL when it is not exactly one JSON value. */
static jv *json_parse(const char *s) {
  jp j = {s, 0};
  jv *v = jp_value(&j);
  if (v == NULL)
    return NULL;
  jp_ws(&j);
  if (*j.p != '\0') {
    json_free(v);
    return NULL;
  }
  return v;
}

/* The member `key` of object o, or NULL. */
static const jv *json_get(const jv *o, const char *key) {
  if (o == NULL || o->t != JOBJ)
    return NULL;
  for (size_t i = 0; i < o->len; i++)
    if (strcmp(o->k[i], key) == 0)
      return o->v[i];
  return NULL;
}

/* The string member `key` of o, or NULL. */
static const char *json_str(const jv *o, const char *key) {
  const jv *v = json_get(o, key);
  return v != NULL && v->t == JSTR ? v->s : NULL;
}

#endif
