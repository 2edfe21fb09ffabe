/*
 * preload_target.c - an unmodified program for the LD_PRELOAD tests: it
 * knows nothing of pprofd, works for the given number of seconds and
 * exits 0.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 5;
  time_t end = time(NULL) + seconds;
  while (time(NULL) < end)
    usleep(10000);
  return 0;
}
