/*
 * minimal.c - the smallest program that serves /debug/pprof/.
 *
 *   cc minimal.c $(pkg-config --cflags --libs pprofd) -o minimal
 *   PPROFD_ADDR=127.0.0.1:6060 ./minimal
 *
 * pprofd_start(NULL) reads the PPROFD_* environment variables; the
 * program then goes about its business (here: sleeping) while the
 * embedded server answers pprof clients.
 */
#include <stdio.h>
#include <unistd.h>

#include <pprofd.h>

int main(void) {
  int err = pprofd_start(NULL);
  if (err != 0) {
    fprintf(stderr, "pprofd_start: %s\n", pprofd_strerror(err));
    return 1;
  }
  char addr[128];
  if (pprofd_get_addr(addr, sizeof addr) == 0)
    fprintf(stderr, "pprofd: listening on http://%s/debug/pprof/\n", addr);
  for (;;)
    pause();
}
