/*
 * vars.c - application variables (see vars.h).
 *
 * Each variable is one ialloc'd block: the atomic value first (its own
 * block, so two variables updated by different threads do not share a
 * cache line more than the allocator makes them), then what never
 * changes after creation (kind, name, HELP text, callback). Creation
 * allocates before taking the lock and checks the name under it, so the
 * lock is held for a scan of the names and one store.
 *
 * Names are valid Prometheus metric names without colons (those are for
 * recording rules), and `_total` is the mark of a counter: the
 * OpenMetrics family of counter x_total is x, so x and x_total may not
 * both exist, and only a counter's name may end in `_total`.
 */
#include "config.h"

#include "sample/vars.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"

struct pprofd_var {
  _Atomic int64_t i;  /* INT, COUNTER */
  _Atomic uint64_t f; /* FLOAT: the double's bits */
  enum pprofd__varkind kind;
  double (*fn)(void *arg); /* FUNC */
  void *arg;
  char *s;    /* STRING: the text, under reg.lock; never NULL */
  char *help; /* NULL: none */
  char name[PPROFD__VAR_NAME_MAX + 1];
};

/* The registry: vars[0..n) are published. */
static struct {
  pthread_mutex_t lock; /* appending; the strings' texts */
  _Atomic size_t n;
  pprofd_var *vars[PPROFD__VARS_MAX];
} reg = {.lock = PTHREAD_MUTEX_INITIALIZER};
PPROFD__LOCK_RANK(vars, &reg.lock, PPROFD__RANK_VARS);

/* Whether s ends in suffix. */
static int ends_with(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n > k && memcmp(s + n - k, suffix, k) == 0;
}

/* Whether name is a valid name for a variable of kind k. */
static int name_ok(const char *name, enum pprofd__varkind k) {
  size_t n = strlen(name);
  if (n == 0 || n > PPROFD__VAR_NAME_MAX || (name[0] >= '0' && name[0] <= '9'))
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  if (strcmp(name, "cmdline") == 0 || strcmp(name, "memstats") == 0 ||
      strncmp(name, "pprofd_", 7) == 0 || strncmp(name, "process_", 8) == 0 ||
      strncmp(name, "go_", 3) == 0)
    return 0;
  return (k == PPROFD__VAR_COUNTER) == ends_with(name, n, "_total");
}

/* The published variable named name (len bytes), or NULL. Lock-free. */
static pprofd_var *find(const char *name, size_t len) {
  /* Acquire: pairs with the release in create(), so the slots below the
   * count and the variables they point at are fully written. */
  size_t n = atomic_load_explicit(&reg.n, memory_order_acquire);
  for (size_t i = 0; i < n; i++) {
    pprofd_var *v = reg.vars[i];
    if (strncmp(v->name, name, len) == 0 && v->name[len] == '\0')
      return v;
  }
  return NULL;
}

/* Whether name, or its counter or gauge twin (with or without _total),
 * is taken. Called with reg.lock held (no other writer). */
static int taken_locked(const char *name) {
  size_t n = strlen(name);
  if (find(name, n) != NULL)
    return 1;
  if (ends_with(name, n, "_total"))
    return find(name, n - 6) != NULL;
  char twin[PPROFD__VAR_NAME_MAX + 8];
  memcpy(twin, name, n);
  memcpy(twin + n, "_total", 7);
  return find(twin, n + 6) != NULL;
}

/* Creates and publishes a variable; *err as pprofd.h says. */
static pprofd_var *create(const char *name, const char *help,
                          enum pprofd__varkind kind, double (*fn)(void *),
                          void *arg, int *err) {
  int e = 0;
  pprofd_var *v = NULL;
  if (name == NULL || !name_ok(name, kind) ||
      (help != NULL && strlen(help) > PPROFD__VAR_HELP_MAX) ||
      (kind == PPROFD__VAR_FUNC && fn == NULL)) {
    e = PPROFD_EINVAL;
    goto out;
  }
  v = pprofd__icalloc(1, sizeof *v);
  if (v == NULL ||
      (help != NULL && (v->help = pprofd__istrdup(help)) == NULL) ||
      (kind == PPROFD__VAR_STRING && (v->s = pprofd__istrdup("")) == NULL)) {
    e = PPROFD_ENOMEM;
    goto out;
  }
  strcpy(v->name, name);
  v->kind = kind;
  v->fn = fn;
  v->arg = arg;
  pprofd__mutex_lock(&reg.lock);
  size_t n = atomic_load_explicit(&reg.n, memory_order_relaxed);
  if (n == PPROFD__VARS_MAX) {
    e = PPROFD_ELIMIT;
  } else if (taken_locked(name)) {
    e = PPROFD_EEXIST;
  } else {
    reg.vars[n] = v;
    /* Release: a reader that sees the new count sees the slot and the
     * variable's fields written above. */
    atomic_store_explicit(&reg.n, n + 1, memory_order_release);
  }
  pprofd__mutex_unlock(&reg.lock);
out:
  if (e != 0 && v != NULL) {
    pprofd__ifree(v->help);
    pprofd__ifree(v->s);
    pprofd__ifree(v);
    v = NULL;
  }
  if (err != NULL)
    *err = e;
  return v;
}

pprofd_var *pprofd_var_int_new(const char *name, const char *help, int *err) {
  return create(name, help, PPROFD__VAR_INT, NULL, NULL, err);
}

pprofd_var *pprofd_var_counter_new(const char *name, const char *help,
                                   int *err) {
  return create(name, help, PPROFD__VAR_COUNTER, NULL, NULL, err);
}

pprofd_var *pprofd_var_float_new(const char *name, const char *help, int *err) {
  return create(name, help, PPROFD__VAR_FLOAT, NULL, NULL, err);
}

pprofd_var *pprofd_var_string_new(const char *name, const char *help,
                                  int *err) {
  return create(name, help, PPROFD__VAR_STRING, NULL, NULL, err);
}

pprofd_var *pprofd_var_func_new(const char *name, const char *help,
                                double (*fn)(void *arg), void *arg, int *err) {
  return create(name, help, PPROFD__VAR_FUNC, fn, arg, err);
}

pprofd_var *pprofd_var_lookup(const char *name) {
  return name != NULL ? find(name, strlen(name)) : NULL;
}

/* Whether v holds an integer. */
static int is_int(const pprofd_var *v) {
  return v != NULL &&
         (v->kind == PPROFD__VAR_INT || v->kind == PPROFD__VAR_COUNTER);
}

/* The values are statistics that no other memory depends on: relaxed
 * atomics make each update indivisible, which is all a reader needs. */

int pprofd_var_int_add(pprofd_var *v, int64_t delta) {
  if (!is_int(v) || (v->kind == PPROFD__VAR_COUNTER && delta < 0))
    return PPROFD_EINVAL;
  atomic_fetch_add_explicit(&v->i, delta, memory_order_relaxed);
  return 0;
}

int pprofd_var_int_set(pprofd_var *v, int64_t value) {
  if (!is_int(v) || (v->kind == PPROFD__VAR_COUNTER && value < 0))
    return PPROFD_EINVAL;
  atomic_store_explicit(&v->i, value, memory_order_relaxed);
  return 0;
}

int64_t pprofd_var_int_value(const pprofd_var *v) {
  if (!is_int(v))
    return 0;
  return atomic_load_explicit(&((pprofd_var *)v)->i, memory_order_relaxed);
}

/* A double's bits and back. */
static uint64_t bits_of(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static double double_of(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

int pprofd_var_float_add(pprofd_var *v, double delta) {
  if (v == NULL || v->kind != PPROFD__VAR_FLOAT)
    return PPROFD_EINVAL;
  uint64_t old = atomic_load_explicit(&v->f, memory_order_relaxed);
  /* A failed exchange reloads old; relaxed as above. */
  while (!atomic_compare_exchange_weak_explicit(
      &v->f, &old, bits_of(double_of(old) + delta), memory_order_relaxed,
      memory_order_relaxed))
    ;
  return 0;
}

int pprofd_var_float_set(pprofd_var *v, double value) {
  if (v == NULL || v->kind != PPROFD__VAR_FLOAT)
    return PPROFD_EINVAL;
  atomic_store_explicit(&v->f, bits_of(value), memory_order_relaxed);
  return 0;
}

double pprofd_var_float_value(const pprofd_var *v) {
  if (v == NULL)
    return 0;
  if (v->kind == PPROFD__VAR_FUNC)
    return v->fn(v->arg);
  if (v->kind != PPROFD__VAR_FLOAT)
    return 0;
  return double_of(
      atomic_load_explicit(&((pprofd_var *)v)->f, memory_order_relaxed));
}

int pprofd_var_string_set(pprofd_var *v, const char *s) {
  if (v == NULL || s == NULL || v->kind != PPROFD__VAR_STRING ||
      strlen(s) > PPROFD__VAR_STRING_MAX)
    return PPROFD_EINVAL;
  char *copy = pprofd__istrdup(s);
  if (copy == NULL)
    return PPROFD_ENOMEM;
  pprofd__mutex_lock(&reg.lock);
  char *old = v->s;
  v->s = copy;
  pprofd__mutex_unlock(&reg.lock);
  pprofd__ifree(old);
  return 0;
}

size_t pprofd__vars_count(void) {
  return atomic_load_explicit(&reg.n, memory_order_relaxed);
}

/* Orders values by name, byte-wise, as Go's expvar sorts its keys. */
static int cmp_name(const void *a, const void *b) {
  return strcmp(((const pprofd__varval *)a)->name,
                ((const pprofd__varval *)b)->name);
}

int pprofd__vars_read(pprofd__varval **out, size_t *np) {
  *out = NULL;
  *np = 0;
  /* Acquire: as in find(). */
  size_t n = atomic_load_explicit(&reg.n, memory_order_acquire);
  if (n == 0)
    return 0;
  pprofd__varval *vals = pprofd__icalloc(n, sizeof *vals);
  if (vals == NULL)
    return PPROFD_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    pprofd_var *v = reg.vars[i];
    pprofd__varval *o = &vals[i];
    *o = (pprofd__varval){.name = v->name, .help = v->help, .kind = v->kind};
    switch (v->kind) {
    case PPROFD__VAR_INT:
    case PPROFD__VAR_COUNTER:
      o->i = atomic_load_explicit(&v->i, memory_order_relaxed);
      break;
    case PPROFD__VAR_FLOAT:
    case PPROFD__VAR_FUNC:
      o->d = pprofd_var_float_value(v);
      break;
    case PPROFD__VAR_STRING:
      pprofd__mutex_lock(&reg.lock);
      o->s = pprofd__istrdup(v->s);
      pprofd__mutex_unlock(&reg.lock);
      if (o->s == NULL) {
        pprofd__varvals_free(vals, i);
        return PPROFD_ENOMEM;
      }
      break;
    }
  }
  qsort(vals, n, sizeof *vals, cmp_name);
  *out = vals;
  *np = n;
  return 0;
}

void pprofd__vars_prefork(void) { pprofd__mutex_lock(&reg.lock); }

void pprofd__vars_postfork(void) { pprofd__mutex_unlock(&reg.lock); }
