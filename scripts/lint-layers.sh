#!/usr/bin/env bash
# Keeps src/ layered (DESIGN 3): fails when a file includes a header from
# a folder its own folder may not depend on, or when modules (a .c and
# its .h, named by path without the extension) include each other in a
# cycle. Prints the folder-to-folder include matrix with -v.
#
# Who may include whom (a row's folder includes the listed folders):
#   base       base only: depends on nothing internal
#   model      base
#   capture    base model (never sample, encode, symbol, http)
#   symbol     base model
#   sample     base model capture symbol (never encode or http)
#   interpose  base model capture sample
#   encode     base model symbol (never sample or http)
#   core       everything but itself being included from below
#   http       base model core (only core and http include http)
set -euo pipefail
cd "$(dirname "$0")/.."
verbose=0
[ "${1:-}" = -v ] && verbose=1

declare -A allowed=(
  [base]="base"
  [model]="base model"
  [capture]="base model capture"
  [symbol]="base model symbol"
  [sample]="base model capture symbol sample"
  [interpose]="base model capture sample interpose"
  [encode]="base model symbol encode"
  [core]="base model capture symbol sample interpose encode core http"
  [http]="base model core http"
)

files=$(find src -name '*.[ch]' ! -name '*.pb-c.*' ! -name 'syscall_names.h' |
  sort)
status=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in $files; do
  from=${f#src/}
  from=${from%%/*}
  if [ -z "${allowed[$from]+x}" ]; then
    echo "lint-layers: $f: folder '$from' has no row in the layer table"
    status=1
  fi
done
# One line per quoted include of the form "folder/name.h":
# includer (relative to src/), header, line number.
# shellcheck disable=SC2086
awk 'match($0, /^[ \t]*#[ \t]*include[ \t]+"[a-z]+\/[a-z0-9_.-]+\.h"/) {
       h = $0; sub(/^[^"]*"/, "", h); sub(/".*/, "", h)
       f = FILENAME; sub(/^src\//, "", f)
       print f, h, FNR }' $files >"$edges"

while read -r rel hdr lineno; do
  from=${rel%%/*}
  to=${hdr%%/*}
  case " ${allowed[$from]} " in
  *" $to "*) ;;
  *)
    echo "lint-layers: src/$rel:$lineno: $from/ may not include $hdr"
    status=1
    ;;
  esac
done <"$edges"

if [ "$verbose" = 1 ]; then
  echo "include matrix (row includes column, count of #include lines):"
  awk '{ split($1, a, "/"); split($2, b, "/"); n[a[1] " " b[1]]++;
         d[a[1]] = 1; d[b[1]] = 1 }
       END { for (x in d) printf "%s ", x; printf "\n";
             for (k in n) print k, n[k] }' "$edges"
fi

# Module cycles: a module is a path without its extension (core/api for
# core/api.c); an edge runs from the includer's module to the header's.
cycle=$(awk '{ a = $1; sub(/\.[ch]$/, "", a); b = $2; sub(/\.h$/, "", b);
               if (a != b) print a, b }' "$edges" | sort -u | tsort 2>&1 >/dev/null |
  grep -E 'cycle|^tsort: ' || true)
if [ -n "$cycle" ]; then
  echo "lint-layers: modules include each other in a cycle:"
  sed 's/^/  /' <<<"$cycle"
  status=1
fi

[ "$status" = 0 ] && echo "lint-layers: ok"
exit $status
