/*
 * lockrank.c - the lock-order check of debug builds (see lockrank.h).
 *
 * The registry is a fixed array filled with compare-and-swap (locks
 * register from constructors and when custom profiles are made), read
 * without locks. Each thread keeps the locks it holds in an initial-exec
 * thread-local array, so a first touch inside malloc allocates nothing.
 */
#include "config.h"

#include "base/lockrank.h"

#ifdef PPROFD_DEBUG
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"

#define MAX_LOCKS 128
#define MAX_HELD 32

static struct {
  _Atomic(pthread_mutex_t *) lock;
  int rank;
  const char *name;
} reg[MAX_LOCKS];
static atomic_int nreg;

static __thread struct {
  int n;
  pthread_mutex_t *lock[MAX_HELD];
  int rank[MAX_HELD];
} held __attribute__((tls_model("initial-exec")));

/* A slot whose lock is FREE was unregistered and may be taken again. */
#define FREE ((pthread_mutex_t *)1)

void pprofd__lock_rank(pthread_mutex_t *m, enum pprofd__lock_rank r,
                       const char *name) {
  int n = atomic_load(&nreg), i;
  for (i = 0; i < n && i < MAX_LOCKS; i++) {
    pthread_mutex_t *free_slot = FREE;
    if (atomic_load(&reg[i].lock) == FREE &&
        atomic_compare_exchange_strong(&reg[i].lock, &free_slot, NULL))
      break;
  }
  if (i == n || i == MAX_LOCKS)
    i = atomic_fetch_add(&nreg, 1);
  if (i >= MAX_LOCKS)
    return;
  reg[i].rank = (int)r;
  reg[i].name = name;
  atomic_store_explicit(&reg[i].lock, m, memory_order_release);
}

void pprofd__lock_unrank(pthread_mutex_t *m) {
  int n = atomic_load(&nreg);
  for (int i = 0; i < n && i < MAX_LOCKS; i++) {
    pthread_mutex_t *want = m;
    if (atomic_compare_exchange_strong(&reg[i].lock, &want, FREE))
      return;
  }
}

/* The registry index of m, or -1. */
static int find(const pthread_mutex_t *m) {
  int n = atomic_load(&nreg);
  for (int i = 0; i < n && i < MAX_LOCKS; i++)
    if (atomic_load_explicit(&reg[i].lock, memory_order_acquire) == m)
      return i;
  return -1;
}

/* Writes a string to stderr with write(2) (signal-safe). */
static void say(const char *s) {
  ssize_t r = write(2, s, strlen(s));
  (void)r;
}

void pprofd__rank_acquire(pthread_mutex_t *m) {
  int i = find(m);
  if (i < 0)
    return;
  for (int h = 0; h < held.n; h++) {
    if (held.rank[h] <= reg[i].rank)
      continue;
    int j = find(held.lock[h]);
    say("pprofd: lock order violated: taking ");
    say(reg[i].name);
    say(" while holding ");
    say(j >= 0 ? reg[j].name : "?");
    say(", which ranks after it (base/lockrank.h)\n");
    abort(); /* debug builds only: the test that did this must fail */
  }
  if (held.n < MAX_HELD) {
    held.lock[held.n] = m;
    held.rank[held.n] = reg[i].rank;
    held.n++;
  }
}

void pprofd__rank_release(pthread_mutex_t *m) {
  for (int h = held.n - 1; h >= 0; h--)
    if (held.lock[h] == m) {
      memmove(&held.lock[h], &held.lock[h + 1],
              (size_t)(held.n - h - 1) * sizeof held.lock[0]);
      memmove(&held.rank[h], &held.rank[h + 1],
              (size_t)(held.n - h - 1) * sizeof held.rank[0]);
      held.n--;
      return;
    }
}
#endif
