/*
 * ring.h - the bounded lock-free ring that carries CPU samples from the
 * SIGPROF handler to the CPU sampler's collector.
 *
 * Vyukov's bounded MPMC queue used with one consumer: each slot has a
 * sequence number; a producer owns slot pos once it finds seq == pos and
 * wins the compare-and-swap on tail, fills the slot and publishes it with
 * seq = pos + 1; the consumer recycles it with seq = pos + SLOTS. When the
 * slot at tail is still unconsumed the ring is full: the sample is
 * dropped and counted (weight included), never waited for, so that the
 * profile can report it (Go's lost_profile_event).
 *
 * Contexts: reserve and publish run in signal handlers on any thread
 * (async-signal-safe: no lock, no allocation); alloc, peek and pop run
 * on one consumer at a time, serialized by the caller's lock. The slots
 * are allocated on first use and never freed, so a late signal can never
 * write freed memory.
 */
#ifndef PPROFD_CAPTURE_RING_H
#define PPROFD_CAPTURE_RING_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/common.h"

#define PPROFD__RING_SLOTS 4096u /* a power of two; ~2.2 MiB */
#define PPROFD__RING_STACK_MAX 64

/* One sample: written by one handler between reservation and
 * publication, read by the consumer after publication. */
typedef struct pprofd__ring_slot {
  _Atomic uint64_t seq;
  int64_t mono;       /* CLOCK_MONOTONIC at the signal */
  const void *labels; /* the producer's label set, opaque here */
  int32_t tid;
  uint32_t weight; /* 1 + si_overrun */
  uint16_t nlocs;
  uint16_t truncated;
  uint64_t locs[PPROFD__RING_STACK_MAX];
} pprofd__ring_slot;

typedef struct pprofd__ring {
  pprofd__ring_slot *slots; /* set once, before producers may run */
  _Atomic uint64_t tail;    /* producers */
  uint64_t head;            /* the consumer */
  /* Samples (and their weight) dropped because the ring was full;
   * relaxed: statistics. */
  _Atomic uint64_t lost_count, lost_weight;
} pprofd__ring;

/* Allocates the slots on first use (a no-op later). Publish r->slots to
 * producers with a release store of the flag they check. 0 or
 * PPROFD_ENOMEM. Consumer side, outside signal context. */
int pprofd__ring_alloc(pprofd__ring *r) PPROFD__WARN_UNUSED;

/* Reserves the next slot for a sample of the given weight; NULL when the
 * ring is full (the sample is then counted as lost). The caller fills
 * the slot and calls pprofd__ring_publish_sigsafe. */
pprofd__ring_slot *
pprofd__ring_reserve_sigsafe(pprofd__ring *r, uint32_t weight) PPROFD__SIGSAFE;

/* Hands a filled slot to the consumer. */
void pprofd__ring_publish_sigsafe(pprofd__ring_slot *s) PPROFD__SIGSAFE;

/* The oldest published slot, or NULL when there is none (empty, or the
 * next producer has not published yet). Consumer side. */
const pprofd__ring_slot *pprofd__ring_peek(pprofd__ring *r);

/* Recycles the slot pprofd__ring_peek returned. Consumer side. */
void pprofd__ring_pop(pprofd__ring *r);

#endif
