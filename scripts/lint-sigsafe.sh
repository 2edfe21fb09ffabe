#!/usr/bin/env bash
# Fails if a function that may run in a signal handler (its name ends in
# _sigsafe, STYLE 8) calls something that is not async-signal-safe: the
# allocator, stdio, locks, or pprofd's own allocating helpers. Function
# bodies are taken from a definition line at column 0 to the next "}" at
# column 0, which is how clang-format lays out every function here. Reads
# the tree the script sits in, so it also runs from make check in a VPATH
# build and from make distcheck's read-only sources.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='malloc|calloc|realloc|free|strdup|strndup|printf|fprintf|sprintf|snprintf|vsnprintf|puts|fputs|fopen|fclose|fwrite|fread|fflush|syslog|pthread_mutex_lock|pthread_mutex_trylock|pthread_mutex_unlock|pthread_rwlock_[a-z]+|pthread_cond_[a-z]+|pthread_once|pthread_create|dlopen|dlsym|dlclose|dl_iterate_phdr|getenv|setenv|exit|abort|pprofd__ialloc|pprofd__icalloc|pprofd__irealloc|pprofd__ifree|pprofd__istrdup|pprofd__buf_[a-z_]+|pprofd__snap_[a-z_]+|pprofd__sym_[a-z_]+|pprofd__mutex_[a-z]+|pprofd__cond_[a-z]+'
status=0
for f in $(find src -name '*.c' | sort); do
  awk -v file="$f" -v banned="$banned" '
    /^[A-Za-z].*_sigsafe\(/ && !/;[[:space:]]*$/ { infn = 1; name = $0 }
    infn {
      line = $0
      sub(/\/\/.*/, "", line)
      if (match(line, "(^|[^A-Za-z0-9_])(" banned ")[[:space:]]*\\(")) {
        printf "%s:%d: banned call in signal-safe function: %s\n", file, NR, $0
        bad = 1
      }
    }
    infn && /^}/ { infn = 0 }
    END { exit bad }
  ' "$f" || status=1
done
[ "$status" = 0 ] && echo "lint-sigsafe: ok"
exit $status
