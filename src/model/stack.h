/*
 * stack.h - what a captured stack's `truncated` flag says.
 *
 * Capturers (capture/unwind, capture/stackcopy) set it; samplers keep it
 * with the stack; encoders print it (the thread dump's "...additional
 * frames elided..." lines, the CPU profile's synthetic frames).
 */
#ifndef PPROFD_MODEL_STACK_H
#define PPROFD_MODEL_STACK_H

/* 0: the whole stack; 1: cut at the caller's maximum depth. */
#define PPROFD__STACK_CUT 1
/* Only the leaf, because the stack could not be walked then (the unwinder
 * was busy or unloaded, or the thread was not warmed, or was inside
 * libunwind itself). */
#define PPROFD__UNWIND_INCOMPLETE 2

#endif
