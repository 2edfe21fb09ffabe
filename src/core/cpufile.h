/*
 * cpufile.h - the CPU profile to a file descriptor: pprofd_cpu_start(fd)
 * and pprofd_cpu_stop() (include/pprofd.h), Go's StartCPUProfile and
 * StopCPUProfile. Core runs open session -> close -> encode -> write,
 * between the CPU sampler (sample/cpu.c) and the protobuf encoder.
 *
 * Threads: any thread outside signal context. One lock (the file lock)
 * guards the one file session; it ranks above the CPU sampler's locks
 * (core/runtime.h), so core's fork handlers take it first.
 */
#ifndef PPROFD_CORE_CPUFILE_H
#define PPROFD_CORE_CPUFILE_H

/* Fork hooks, called by core's pthread_atfork handlers in lock order. */
void pprofd__cpufile_prefork(void);
void pprofd__cpufile_postfork_parent(void);
void pprofd__cpufile_postfork_child(void);

#endif
