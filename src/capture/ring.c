/*
 * ring.c - the lock-free sample ring (see ring.h). Producers run in
 * SIGPROF handlers on any thread; the consumer is the CPU sampler's
 * collector (or an opening or closing session), under the sampler's lock.
 */
#include "config.h"

#include "capture/ring.h"

#include "base/ialloc.h"
#include "pprofd.h"

int pprofd__ring_alloc(pprofd__ring *r) {
  if (r->slots != NULL)
    return 0;
  pprofd__ring_slot *s = pprofd__icalloc(PPROFD__RING_SLOTS, sizeof *s);
  if (s == NULL)
    return PPROFD_ENOMEM;
  for (uint64_t i = 0; i < PPROFD__RING_SLOTS; i++)
    atomic_init(&s[i].seq, i);
  r->slots = s;
  return 0;
}

pprofd__ring_slot *pprofd__ring_reserve_sigsafe(pprofd__ring *r,
                                                uint32_t weight) {
  /* Relaxed: tail only hands out positions; the slot's seq (acquire)
   * says whether the position is free. */
  uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
  for (;;) {
    pprofd__ring_slot *s = &r->slots[pos & (PPROFD__RING_SLOTS - 1)];
    /* Acquire pairs with the consumer's release of the slot: its reads
     * of the previous sample are done before we overwrite it. */
    uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
    int64_t d = (int64_t)(seq - pos);
    if (d == 0) {
      /* Relaxed: winning the position is all the CAS decides. */
      if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, pos + 1,
                                                memory_order_relaxed,
                                                memory_order_relaxed))
        return s;
    } else if (d < 0) {
      /* Full. Relaxed: counters read by the consumer under its lock,
       * approximate by nature. */
      atomic_fetch_add_explicit(&r->lost_count, 1, memory_order_relaxed);
      atomic_fetch_add_explicit(&r->lost_weight, weight, memory_order_relaxed);
      return NULL;
    } else {
      pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
    }
  }
}

void pprofd__ring_publish_sigsafe(pprofd__ring_slot *s) {
  /* Relaxed: seq still holds the position this producer reserved, and
   * only the owner writes it until the store below. */
  uint64_t pos = atomic_load_explicit(&s->seq, memory_order_relaxed);
  /* Release: the sample's fields are visible before the consumer sees
   * the slot as published. */
  atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
}

const pprofd__ring_slot *pprofd__ring_peek(pprofd__ring *r) {
  if (r->slots == NULL)
    return NULL;
  pprofd__ring_slot *s = &r->slots[r->head & (PPROFD__RING_SLOTS - 1)];
  /* Acquire pairs with the producer's release: the fields are complete. */
  uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
  return seq == r->head + 1 ? s : NULL;
}

void pprofd__ring_pop(pprofd__ring *r) {
  pprofd__ring_slot *s = &r->slots[r->head & (PPROFD__RING_SLOTS - 1)];
  /* Release: our reads of the slot happen before a producer reuses it. */
  atomic_store_explicit(&s->seq, r->head + PPROFD__RING_SLOTS,
                        memory_order_release);
  r->head++;
}
